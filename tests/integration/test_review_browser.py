"""The review page in a real browser: Debian's headless Chromium opens it from file://
(no server, no network) and a person's checks are made by script — nothing fails in the
console, every picture and video loads, every generation is there, the lightbox plays a
clip large, moves with the arrow keys and closes with Esc. A screenshot is kept in
``tests/artifacts/`` for a person to look at.

Playwright drives the browser the machine has (``.ci/run`` installs Debian's chromium
when it is missing); it never downloads one.
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import ConsoleMessage, sync_playwright

from .conftest import Project, Rendered

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"

# every <img> decoded, every video's metadata loaded (readyState >= 1) — or why not
_LOADS = """async () => {
  const images = Array.from(document.images).map(i => ({src: i.getAttribute("src"),
      ok: i.complete && i.naturalWidth > 0}));
  const sources = Array.from(document.querySelectorAll("video[src]"))
      .map(v => v.getAttribute("src"))
      .concat(Array.from(document.querySelectorAll("[data-video]"))
      .map(e => e.getAttribute("data-video")));
  const videos = await Promise.all(sources.map(src => new Promise(done => {
    const v = document.createElement("video");
    v.preload = "metadata"; v.muted = true;
    v.onloadedmetadata = () => done({src, ok: v.readyState >= 1 && v.videoWidth > 0});
    v.onerror = () => done({src, ok: false});
    v.src = src;
  })));
  return {images, videos};
}"""


def test_the_review_page_works_offline_in_chromium(launch_rendered: Rendered) -> None:
    result = launch_rendered.result  # `run launch.yaml` through a sandbox, with its cuts
    assert result.exit_code == 0, result.stdout + result.stderr
    project = Project(launch_rendered.root)  # only read: the browser writes nothing there
    page_file = project.renders("aurora-launch") / "report" / "index.html"
    assert f"report: {page_file}" in result.stdout.splitlines()
    ids = [g["id"] for g in project.manifest("aurora-launch")["generations"]]
    assert len(ids) == 12

    problems: list[str] = []
    requests: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})

            def on_console(message: ConsoleMessage) -> None:
                if message.type == "error":
                    problems.append(message.text)

            page.on("console", on_console)
            page.on("pageerror", lambda error: problems.append(str(error)))
            page.on("request", lambda request: requests.append(request.url))
            page.goto(page_file.as_uri())
            page.wait_for_load_state("load")

            loads = page.evaluate(_LOADS)
            assert len(loads["images"]) == 2 * 12  # a poster and a sprite per generation
            assert [i["src"] for i in loads["images"] if not i["ok"]] == []
            assert len(loads["videos"]) == 4 + 12  # the final cuts, then every clip
            assert [v["src"] for v in loads["videos"] if not v["ok"]] == []
            text = page.inner_text("main")
            assert [i for i in ids if i not in text] == []

            lightbox = page.locator("#lightbox")
            assert lightbox.is_hidden()
            page.click("#gen-us-wide\\/teaser img.poster")
            assert lightbox.is_visible()
            assert lightbox.get_attribute("data-current") == "us-wide/teaser · candidate 1"
            page.wait_for_function("document.getElementById('lightbox-video').readyState >= 1")
            page.keyboard.press("ArrowRight")
            assert lightbox.get_attribute("data-current") == "us-wide/montage · candidate 1"
            page.keyboard.press("ArrowLeft")
            page.keyboard.press("ArrowLeft")
            assert lightbox.get_attribute("data-current") == "us-wide/hero · candidate 1"
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "review-lightbox.png"))
            page.keyboard.press("Escape")
            assert lightbox.is_hidden()
            page.screenshot(path=str(ARTIFACTS / "review.png"), full_page=True)
        finally:
            browser.close()
    print(f"screenshots: {ARTIFACTS / 'review.png'}, {ARTIFACTS / 'review-lightbox.png'}")
    assert problems == []
    assert [u for u in requests if not u.startswith("file://")] == []  # no network at all
