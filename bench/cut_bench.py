"""Final-cut benchmark: a 10-clip variant of real-size clips, cut two ways, against ffmpeg.

It generates (PyAV, fixed seed) ten 1080p clips — what Kling's pro mode delivers — of
3–8 s at 24 fps, half of them with an AAC track, plus 720p (std) versions of four of
them, then measures, each in a fresh subprocess:

* **copy** — the ten 1080p clips joined with plain cuts: ``storyboard.media.assemble``
  stream-copies the picture and rebuilds the sound on the timeline (silence where a
  clip has none) as AAC;
* **crossfade** — the same variant with four clips in 720p (a std/pro mix) and a 0.5 s
  crossfade at every join: every frame scaled and padded to 1080p where needed,
  dissolved, and encoded with libx264 (preset ``veryfast``, crf 20: the product's
  settings), sound crossfaded, AAC;
* **ffmpeg** — the same joins done by the plain ``ffmpeg`` command line (the binary in
  the imageio-ffmpeg wheel, never a system one): the concat demuxer with ``-c:v copy``
  and a filter graph for the sound; and ``scale``/``pad``/``xfade``/``acrossfade`` with
  the same encoder settings.

For each it prints wall time, × realtime (seconds of video made per second of wall
time), peak memory (the child's peak RSS; for ffmpeg the ffmpeg process's), and
storyboard's time as a ratio to ffmpeg's (target ≤ 1.2×), best of ``--repeat`` runs
alternating between the two (the machine is shared: CPU seconds are shown too). PyAV is
imported before storyboard's clock starts, as ffmpeg's libraries are loaded before its
work. The clips' generation uses libx264 ``ultrafast`` (a stand-in for the model's
files; not measured).

    python bench/cut_bench.py            # needs: pip install -e '.[bench]'
    python bench/cut_bench.py --check    # exit 1 if a ratio misses its target
    python bench/cut_bench.py --json
    python bench/cut_bench.py --repeat 5 --clips /tmp/clips   # keep and reuse the clips
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from array import array
from fractions import Fraction
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

SEED = 20240917
CLIPS = 10
FPS = 24
RATE = 48_000
CROSSFADE = Fraction(1, 2)
STD_AT = (1, 4, 6, 9)  # the clips the crossfade variant takes in 720p
TARGET_RATIO = 1.2


# --- the clips ---------------------------------------------------------------------------


def clip_specs(seed: int = SEED) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [{"seconds": rng.randint(3, 8), "sound": n % 2 == 0,
             "hue": rng.random(), "tone": rng.choice((220, 330, 440, 550))}
            for n in range(CLIPS)]


def make_clip(path: Path, size: tuple[int, int], spec: dict[str, Any]) -> None:
    """A moving picture (a gradient with a sweeping bar and a frame counter) at 24 fps,
    with a tone when ``sound``: enough motion that the encoder has real work."""
    import av
    from PIL import Image, ImageDraw

    width, height = size
    base = Image.linear_gradient("L").resize(size).convert("RGB")
    tint = Image.new("RGB", size, tuple(int(255 * abs(math.sin(spec["hue"] * 6 + k)))
                                        for k in range(3)))
    base = Image.blend(base, tint, 0.5)
    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=FPS, options={"preset": "ultrafast"})
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        audio = out.add_stream("aac", rate=RATE, layout="stereo") if spec["sound"] else None
        frames = spec["seconds"] * FPS
        for n in range(frames):
            picture = base.copy()
            draw = ImageDraw.Draw(picture)
            x = int(width * n / frames)
            draw.rectangle((x, 0, x + width // 12, height), fill=(240, 240, 240))
            draw.text((20, 20), f"frame {n}", fill=(0, 0, 0))
            frame = av.VideoFrame.from_image(picture)
            frame.pts, frame.time_base = n, Fraction(1, FPS)
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
        if audio is not None:
            total = spec["seconds"] * RATE
            for start in range(0, total, 1024):
                count = min(1024, total - start)
                pcm = array("h", (int(9000 * math.sin(2 * math.pi * spec["tone"] * (start + i)
                                                      / RATE))
                                  for i in range(count) for _ in (0, 1)))
                chunk = av.AudioFrame(format="s16", layout="stereo", samples=count)
                chunk.planes[0].update(pcm.tobytes())
                chunk.sample_rate, chunk.pts = RATE, start
                chunk.time_base = Fraction(1, RATE)
                out.mux(audio.encode(chunk))
            out.mux(audio.encode(None))


def make_clips(folder: Path, log: Any) -> dict[str, list[Path]]:
    specs = clip_specs()
    pro, mixed = [], []
    for n, spec in enumerate(specs):
        hd = folder / f"clip{n}-1080p.mp4"
        make_clip(hd, (1920, 1080), spec)
        pro.append(hd)
        if n in STD_AT:
            sd = folder / f"clip{n}-720p.mp4"
            make_clip(sd, (1280, 720), spec)
            mixed.append(sd)
        else:
            mixed.append(hd)
        log(f"  made clip {n + 1}/{CLIPS}: {spec['seconds']} s"
            f"{', sound' if spec['sound'] else ''}{', + 720p' if n in STD_AT else ''}")
    return {"copy": pro, "crossfade": mixed}


# --- storyboard ----------------------------------------------------------------------------


def timeline_for(files: list[Path], crossfade: bool) -> tuple[Any, dict[str, Path]]:
    from storyboard.media.timeline import Part, Span, Timeline, Transition, layout
    from storyboard.model import CROSSFADE as KIND
    from storyboard.model import CutSpec

    specs = clip_specs()
    spans = []
    for n, spec in enumerate(specs):
        transition = Transition(KIND, CROSSFADE) if crossfade and n else Transition()
        spans.append(Span(f"clip{n}", (Part(f"bench/clip{n}", f"h{n}",
                                            Fraction(spec["seconds"]), spec["sound"]),),
                          transition, Fraction(0)))
    starts, runtime = layout([s.seconds for s in spans], [s.transition for s in spans])
    spans = [Span(s.clip, s.parts, s.transition, t) for s, t in zip(spans, starts, strict=True)]
    return (Timeline("bench", tuple(spans), runtime, CutSpec()),
            {f"bench/clip{n}": path for n, path in enumerate(files)})


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def run_storyboard(kind: str, files: list[Path], out: Path) -> dict[str, Any]:
    import av  # noqa: F401 (imported before the clock starts, as ffmpeg's libraries are)

    from storyboard.media.assemble import assemble

    line, by_id = timeline_for(files, crossfade=kind == "crossfade")
    cpu, started = _cpu(resource.RUSAGE_SELF), time.perf_counter()
    done = assemble(line, by_id, out)
    wall = time.perf_counter() - started
    return {"wall": wall, "cpu": _cpu(resource.RUSAGE_SELF) - cpu, "method": done.method,
            "seconds": float(line.runtime),
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


# --- ffmpeg --------------------------------------------------------------------------------


def ffmpeg_command(kind: str, files: list[Path], out: Path, folder: Path) -> list[str]:
    import imageio_ffmpeg

    exe = imageio_ffmpeg.get_ffmpeg_exe()
    specs = clip_specs()
    inputs: list[str] = []
    for path in files:
        inputs += ["-i", str(path)]
    sound = []
    for n, spec in enumerate(specs):
        if spec["sound"]:
            sound.append(f"[{n}:a]aresample={RATE},apad,atrim=0:{spec['seconds']},"
                         f"aformat=sample_fmts=fltp:channel_layouts=stereo[a{n}]")
        else:
            sound.append(f"anullsrc=r={RATE}:cl=stereo,atrim=0:{spec['seconds']},"
                         f"aformat=sample_fmts=fltp:channel_layouts=stereo[a{n}]")
    audio_out = ["-c:a", "aac", "-b:a", "192k"]
    if kind == "copy":
        listing = folder / "concat.txt"
        listing.write_text("".join(f"file '{p}'\n" for p in files))
        joined = "".join(f"[a{n}]" for n in range(CLIPS)) + f"concat=n={CLIPS}:v=0:a=1[aout]"
        return [exe, "-y", "-v", "error", "-f", "concat", "-safe", "0", "-i", str(listing),
                *inputs, "-filter_complex", ";".join([*(s.replace(f"[{n}:a]", f"[{n + 1}:a]")
                                                        for n, s in enumerate(sound)), joined]),
                "-map", "0:v", "-c:v", "copy", "-map", "[aout]", *audio_out,
                "-movflags", "+faststart", str(out)]
    video = [f"[{n}:v]scale=1920:1080:force_original_aspect_ratio=decrease,"
             f"pad=1920:1080:(ow-iw)/2:(oh-ih)/2,fps={FPS},format=yuv420p,settb=AVTB[v{n}]"
             for n in range(CLIPS)]
    chain, audio_chain = [], []
    offset = Fraction(0)
    last_v, last_a = "[v0]", "[a0]"
    for n in range(1, CLIPS):
        offset += specs[n - 1]["seconds"] - CROSSFADE
        chain.append(f"{last_v}[v{n}]xfade=transition=fade:duration={float(CROSSFADE)}:"
                     f"offset={float(offset)}[x{n}]")
        audio_chain.append(f"{last_a}[a{n}]acrossfade=d={float(CROSSFADE)}:c1=tri:c2=tri[y{n}]")
        last_v, last_a = f"[x{n}]", f"[y{n}]"
    graph = ";".join([*video, *sound, *chain, *audio_chain])
    return [exe, "-y", "-v", "error", *inputs, "-filter_complex", graph,
            "-map", last_v, "-map", last_a, "-c:v", "libx264", "-preset", "veryfast",
            "-crf", "20", "-pix_fmt", "yuv420p", *audio_out, "-movflags", "+faststart",
            str(out)]


def run_ffmpeg(kind: str, files: list[Path], out: Path) -> dict[str, Any]:
    command = ffmpeg_command(kind, files, out, out.parent)
    cpu, started = _cpu(resource.RUSAGE_CHILDREN), time.perf_counter()
    subprocess.run(command, check=True)
    wall = time.perf_counter() - started
    return {"wall": wall, "cpu": _cpu(resource.RUSAGE_CHILDREN) - cpu, "seconds": _duration(out),
            "peak_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}


def _duration(path: Path) -> float:
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return float(stream.duration * stream.time_base)


# --- running it all ----------------------------------------------------------------------


def child(who: str, kind: str, folder: Path) -> None:
    clips = json.loads((folder / "clips.json").read_text())[kind]
    files = [Path(p) for p in clips]
    out = folder / f"{who}-{kind}.mp4"
    result = (run_storyboard if who == "storyboard" else run_ffmpeg)(kind, files, out)
    print(json.dumps(result))


def spawn(who: str, kind: str, folder: Path) -> dict[str, Any]:
    done = subprocess.run([sys.executable, __file__, "--child", who, kind, str(folder)],
                          check=True, capture_output=True, text=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of each, alternating; the best counts (default 3)")
    parser.add_argument("--clips", type=Path, default=None,
                        help="keep the generated clips in this folder and reuse them")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child[0], args.child[1], Path(args.child[2]))
        return 0
    log = (lambda text: print(text, file=sys.stderr)) if args.json else print
    with tempfile.TemporaryDirectory(prefix="cut-bench-") as tmp:
        folder = args.clips or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        if not (folder / "clips.json").is_file():
            log(f"generating {CLIPS} clips (seed {SEED}) ...")
            clips = make_clips(folder, log)
            (folder / "clips.json").write_text(json.dumps(
                {k: [str(p) for p in v] for k, v in clips.items()}))
        results: dict[str, dict[str, dict[str, Any]]] = {}
        for kind in ("copy", "crossfade"):
            runs: dict[str, list[dict[str, Any]]] = {"storyboard": [], "ffmpeg": []}
            for n in range(args.repeat):  # alternating, so both see the same machine
                for who in runs:
                    runs[who].append(spawn(who, kind, folder))
                    log(f"  {kind} {who} run {n + 1}: {runs[who][-1]['wall']:.2f} s")
            results[kind] = {who: min(r, key=lambda x: x["wall"]) for who, r in runs.items()}
    checks = []
    log("")
    log(f"best of {args.repeat}, load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    log(f"{'cut':<10} {'by':<11} {'method':<7} {'video s':>8} {'wall s':>7} {'cpu s':>6} "
        f"{'× realtime':>11} {'peak MB':>8}")
    for kind, pair in results.items():
        for who, r in pair.items():
            method = r.get("method", "cli")
            log(f"{kind:<10} {who:<11} {method:<7} {r['seconds']:>8.2f} {r['wall']:>7.2f} "
                f"{r['cpu']:>6.2f} {r['seconds'] / r['wall']:>10.1f}× {r['peak_mb']:>8.0f}")
        ratio = pair["storyboard"]["wall"] / pair["ffmpeg"]["wall"]
        ok = ratio <= TARGET_RATIO
        checks.append({"cut": kind, "ratio": ratio, "ok": ok})
    log("")
    for c in checks:
        log(f"{c['cut']:<10} storyboard / ffmpeg = {c['ratio']:.2f}×  "
            f"(target ≤ {TARGET_RATIO}×)  {'PASS' if c['ok'] else 'FAIL'}")
    if args.json:
        print(json.dumps({"results": results, "checks": checks}, indent=2))
    return 1 if args.check and not all(c["ok"] for c in checks) else 0


if __name__ == "__main__":
    sys.exit(main())
