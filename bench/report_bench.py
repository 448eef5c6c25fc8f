"""Review-page benchmark: thumbnail size and build time per generation, cold and reused.

Two cases, each through the product's own functions:

* **sandbox** — the campaign example (``examples/campaign.yaml``) run against the built-in
  sandbox (``storyboard run FILE --sandbox --yes``, in a child process: not measured),
  then its report built three times in this process: **cold** (the report folder
  removed: every poster, sprite and flag made by decoding), **rerun** (nothing changed:
  everything reused by sha256) — each the whole ``build_report`` (journal read, page
  written);
* **real-size** — ``--clips`` clips (default 6) of 1080p, 24 fps, 5–10 s with moving
  content and an AAC track, the size Kling's pro mode delivers, generated with PyAV
  (libx264 ultrafast; not measured), each put through the report's one decoding pass
  (``flags.measure`` keeping the sprite's frames, ``judge``, ``thumbnails``) cold
  and then again (reused).

It prints, per case: generations, thumbnail bytes per generation (max and median; the
target is ≤ 100 KB), build time per generation (cold and rerun; target ≤ 1 s), and
PASS/FAIL. The machine is shared: CPU seconds are shown beside wall time.

    python bench/report_bench.py             # needs: pip install -e '.[media]'
    python bench/report_bench.py --check     # exit 1 when a target is missed
    python bench/report_bench.py --json
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from array import array
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
TARGET_BYTES = 100_000
TARGET_SECONDS = 1.0


def timed(work: Callable[[], Any]) -> tuple[float, float, Any]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def sandbox_case(folder: Path) -> dict[str, Any]:
    from storyboard.compile import plan_file
    from storyboard.execute.workspace import Workspace
    from storyboard.journal.sqlite import Journal
    from storyboard.report.html import build_report
    from storyboard.report.review import report_folder

    for name in ("campaign.yaml", "markets.csv"):
        shutil.copy(REPO / "examples" / name, folder / name)
    storyboard = folder / "campaign.yaml"
    subprocess.run([sys.executable, "-m", "storyboard", "run", str(storyboard), "--sandbox",
                    "--yes"], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    plan = plan_file(storyboard)
    workspace = Workspace.beside(Path(plan.root), plan.name, sandbox=True)
    shutil.rmtree(report_folder(workspace))

    def build() -> Any:
        with Journal.open(workspace.state_dir, exclusive=False) as journal:
            return build_report(plan, journal, workspace)[1]

    cold = timed(build)
    rerun = timed(build)
    review = cold[2]
    sizes = [c.thumbnail_bytes for v in review.variants for card in v.clips
             for c in card.candidates if c.video]
    reused = all(c.thumbnails_reused for v in rerun[2].variants for card in v.clips
                 for c in card.candidates if c.video)
    return _figures("sandbox (campaign.yaml)", len(plan.items), sizes, cold, rerun, reused)


def real_size_case(folder: Path, clips: int) -> dict[str, Any]:
    from storyboard.media.flags import judge, measure
    from storyboard.media.frames import SPRITE_FRAMES, thumbnails

    videos = [(_clip(folder / f"clip{n}.mp4", 5 + n % 6), 5 + n % 6) for n in range(clips)]
    thumbs = folder / "thumbs"

    def build() -> list[Any]:
        made = []
        for n, (video, seconds) in enumerate(videos):
            sha = f"{n:02d}" + "0" * 62
            picture = measure(video, SPRITE_FRAMES)  # one pass, as the report makes it
            judge(picture, video, seconds=seconds, sound=True, aspect="16:9")
            made.append(thumbnails(video, sha, thumbs, picture.samples))
        return made

    cold = timed(build)

    def reuse() -> list[Any]:
        return [thumbnails(video, f"{n:02d}" + "0" * 62, thumbs)
                for n, (video, _) in enumerate(videos)]

    rerun = timed(reuse)
    return _figures(f"real-size ({clips} × 1080p 5–10 s, AAC)", clips,
                    [t.size for t in cold[2]], cold, rerun, all(t.reused for t in rerun[2]))


def _figures(case: str, generations: int, sizes: list[int], cold: tuple[float, float, Any],
             rerun: tuple[float, float, Any], reused: bool) -> dict[str, Any]:
    per_cold, per_rerun = cold[0] / generations, rerun[0] / generations
    return {
        "case": case, "generations": generations, "videos": len(sizes),
        "thumbnail_bytes_max": max(sizes), "thumbnail_bytes_median": statistics.median(sizes),
        "cold_s": round(cold[0], 3), "cold_cpu_s": round(cold[1], 3),
        "cold_s_per_generation": round(per_cold, 3),
        "rerun_s": round(rerun[0], 3), "rerun_cpu_s": round(rerun[1], 3),
        "rerun_s_per_generation": round(per_rerun, 4),
        "rerun_reused_everything": reused,
        "pass": max(sizes) <= TARGET_BYTES and per_cold <= TARGET_SECONDS and reused,
    }


def _clip(path: Path, seconds: int, size: tuple[int, int] = (1920, 1080)) -> Path:
    """Moving gradient bars and a sine tone: something a decoder has to work on."""
    import av
    from PIL import Image, ImageDraw

    fps, rate = 24, 48_000
    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=fps, options={"preset": "ultrafast"})
        video.width, video.height, video.pix_fmt = size[0], size[1], "yuv420p"
        audio = out.add_stream("aac", rate=rate, layout="stereo")
        for n in range(seconds * fps):
            image = Image.new("RGB", size, (20, 40 + n % 100, 90))
            draw = ImageDraw.Draw(image)
            x = (n * 37) % size[0]
            draw.rectangle((x, 200, x + 300, 800), fill=(240, 200, 40))
            frame = av.VideoFrame.from_image(image)
            frame.pts, frame.time_base = n, Fraction(1, fps)
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
        for start in range(0, seconds * rate, 1024):
            count = min(1024, seconds * rate - start)
            pcm = array("h", (round(8000 * math.sin(2 * math.pi * 440 * (start + i) / rate))
                              for i in range(count) for _ in (0, 1)))
            chunk = av.AudioFrame(format="s16", layout="stereo", samples=count)
            chunk.planes[0].update(pcm.tobytes())
            chunk.sample_rate, chunk.pts, chunk.time_base = rate, start, Fraction(1, rate)
            out.mux(audio.encode(chunk))
        out.mux(audio.encode(None))
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clips", type=int, default=6, help="real-size clips (default 6)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="report-bench-") as tmp:
        sandbox_dir, real_dir = Path(tmp) / "sandbox", Path(tmp) / "real"
        sandbox_dir.mkdir()
        real_dir.mkdir()
        results = [sandbox_case(sandbox_dir), real_size_case(real_dir, args.clips)]
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for r in results:
            print(f"{r['case']}: {r['generations']} generations, {r['videos']} videos")
            print(f"  thumbnails per generation: max {r['thumbnail_bytes_max'] / 1000:.1f} KB,"
                  f" median {r['thumbnail_bytes_median'] / 1000:.1f} KB "
                  f"(target ≤ {TARGET_BYTES // 1000} KB)")
            print(f"  build, cold: {r['cold_s']:.2f} s ({r['cold_cpu_s']:.2f} s CPU) = "
                  f"{r['cold_s_per_generation']:.3f} s per generation (target ≤ "
                  f"{TARGET_SECONDS:g} s)")
            print(f"  build, rerun: {r['rerun_s']:.3f} s ({r['rerun_cpu_s']:.3f} s CPU) = "
                  f"{r['rerun_s_per_generation']:.4f} s per generation; everything reused: "
                  f"{r['rerun_reused_everything']}")
            print(f"  {'PASS' if r['pass'] else 'FAIL'}")
    return 1 if args.check and not all(r["pass"] for r in results) else 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    sys.exit(main())
