// The lightbox: click a clip to play it large; Left/Right move between clips, Esc closes.
(function () {
  "use strict";
  var clips = Array.prototype.slice.call(document.querySelectorAll("[data-video]"));
  var box = document.getElementById("lightbox");
  var player = document.getElementById("lightbox-video");
  var title = document.getElementById("lightbox-title");
  var current = -1;
  function show(index) {
    if (!clips.length) { return; }
    current = (index + clips.length) % clips.length;
    var clip = clips[current];
    player.src = clip.getAttribute("data-video");
    title.textContent = clip.getAttribute("data-title");
    box.hidden = false;
    box.setAttribute("data-current", clip.getAttribute("data-title"));
    var playing = player.play();
    if (playing && playing.catch) { playing.catch(function () {}); }
  }
  function close() {
    box.hidden = true;
    current = -1;
    player.pause();
    player.removeAttribute("src");
    box.removeAttribute("data-current");
  }
  clips.forEach(function (clip, index) {
    clip.addEventListener("click", function () { show(index); });
  });
  document.addEventListener("keydown", function (event) {
    if (current < 0) { return; }
    if (event.key === "ArrowRight") { show(current + 1); event.preventDefault(); }
    else if (event.key === "ArrowLeft") { show(current - 1); event.preventDefault(); }
    else if (event.key === "Escape") { close(); }
  });
  box.addEventListener("click", function (event) { if (event.target === box) { close(); } });
}());
