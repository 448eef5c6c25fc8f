"""Compile benchmark: a generated campaign of 1k, 10k and 50k generations.

For each size it measures, each run in a fresh Python subprocess:

* **storyboard** — what ``storyboard plan --format json`` does: ``plan_file(path)`` on
  the generated YAML (load, validate, expand variants, render in the sandbox, budget,
  emit + check every request, hash, price), then the plan as JSON (``plan_as_json``).
  ``compile_lines`` (what ``storyboard compile`` prints) is timed separately and shown
  as a phase, not added to the compared time;
* **floor** — the same template strings compiled once with a plain (unsandboxed)
  ``jinja2.Environment``, rendered for the same variant contexts, each request dict
  built and ``json.dumps``-ed. Nothing else.

Wall time covers the work only (interpreter start-up and imports are excluded and
reported separately in ``--json``). Peak memory is the child's peak resident set size
(``getrusage(RUSAGE_SELF).ru_maxrss``), which includes the interpreter and imports.

    python bench/compile_bench.py                      # 1k, 10k, 50k; best of 3
    python bench/compile_bench.py --sizes 1000,10000 --repeat 5
    python bench/compile_bench.py --json               # machine-readable results
    python bench/compile_bench.py --check              # exit 1 if a target is missed
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

_STARTED = time.perf_counter()  # for the child's start-up (import) time

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DEFAULT_SIZES = (1_000, 10_000, 50_000)
SEED = 20240917
CLIPS_PER_VARIANT = 5
MODEL = "kwaivgi/kling-o3/text-to-video"

# targets from the issue (2-core machine)
TARGET_SECONDS_AT = 10_000
TARGET_SECONDS = 2.0
TARGET_RATIO = 2.0
TARGET_PEAK_MB = 300.0
TARGET_GROWTH = 1.5

# --- the campaign ------------------------------------------------------------------------
# Every template string lives here once: the YAML is written from these, and the floor
# renders exactly these strings.

VARS = {
    "look": "warm tungsten practicals, 50mm, gentle handheld, film grain",
    "frame": "{{ {'tall': 'vertical framing, subject centred', 'square': "
             "'centred square framing'}.get(format, 'wide cinematic framing') }}",
    "hero_name": "Aurora {{ product | title }}",
    "locale": "{{ language }} ({{ market | upper }})",
}
ASPECT = "{{ '9:16' if format == 'tall' else ('1:1' if format == 'square' else '16:9') }}"
VARIANT_ID = "{{ market }}-{{ product }}-{{ format }}"
HERO_SHOTS = (
    "Snow falling past a window in {{ city }} at dusk, {{ look }}, {{ frame }}",
    "A family in {{ city }} unwraps the {{ hero_name }}; it glows amber, {{ look }}, {{ frame }}",
    "Close on the {{ hero_name }} as the room settles, warm light on faces, {{ look }}",
)
TEASER = ("The {{ hero_name }} turning slowly on a turntable"
          "{% if format == 'tall' %}, framed for phones{% endif %}, {{ look }}.\n\n"
          "{{ tagline }}\n")
MONTAGE = ("Three quick cuts of people in {{ city }} using the {{ hero_name }}: at work, "
           "on a train, at home; {{ look }}, {{ frame }}")
ENDCARD = ("The {{ hero_name }} alone on a table, soft glow, the words '{{ tagline }}' in "
           "{{ locale }} appear in clean type, {{ frame }}")
SOCIAL_SHOTS = (
    "{{ city | upper }} street at night, neon reflections, {{ look }}",
    "The {{ hero_name }} lights a doorway, caption '{{ tagline | truncate(40) }}', {{ frame }}",
)

CITIES = [
    ("Chicago", "English"), ("London", "English"), ("Berlin", "German"),
    ("São Paulo", "Portuguese"), ("Tokyo", "Japanese"), ("Paris", "French"),
    ("Madrid", "Spanish"), ("Milan", "Italian"), ("Seoul", "Korean"),
    ("Mexico City", "Spanish"), ("Toronto", "English"), ("Stockholm", "Swedish"),
    ("Warsaw", "Polish"), ("Istanbul", "Turkish"), ("Mumbai", "Hindi"),
    ("Sydney", "English"), ("Amsterdam", "Dutch"), ("Lisbon", "Portuguese"),
    ("Zürich", "German"), ("Kraków", "Polish"),
]
TAGLINES = [
    "Light that keeps up", "Light that keeps pace", "Glow for every evening",
    "Warmth you can carry", "The evening, brighter", "Made for long nights",
    "Bring the glow home", "Quiet light, loud moments",
]
FORMATS = ("wide", "tall")
PRODUCTS = ("lamp", "lantern")
EXTRA_MARKETS = [  # added with `include`, replacing the excluded ones
    {"market": "xa", "city": "Reykjavík", "language": "Icelandic",
     "tagline": "Light for the long dark", "product": "lamp", "format": "square"},
    {"market": "xa", "city": "Reykjavík", "language": "Icelandic",
     "tagline": "Light for the long dark", "product": "lantern", "format": "square"},
]


def _q(text: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(text, ensure_ascii=False)


def campaign(n: int, seed: int = SEED) -> dict[str, Any]:
    """Markets, excludes and the variant values (in storyboard order) for ``n`` generations."""
    if n % CLIPS_PER_VARIANT or n < 20 * CLIPS_PER_VARIANT:
        raise SystemExit(f"size {n}: must be a multiple of {CLIPS_PER_VARIANT} and ≥ 100")
    variants = n // CLIPS_PER_VARIANT
    combos = len(FORMATS) * len(PRODUCTS)
    # the excluded market-format pair removes 2 variants, EXTRA_MARKETS adds them back
    rows = math.ceil(variants / combos)
    pad = rows * combos - variants  # full combos excluded from the last market
    rng = random.Random(seed)
    markets = []
    for i in range(rows):
        city, language = CITIES[rng.randrange(len(CITIES))]
        markets.append({"market": f"m{i:05d}", "city": city, "language": language,
                        "tagline": f"{rng.choice(TAGLINES)}, {city}"})
    exclude = [{"market": markets[0]["market"], "format": "tall"}]
    combo_list = [(f, p) for f in FORMATS for p in PRODUCTS]
    exclude += [{"market": markets[-1]["market"], "format": f, "product": p}
                for f, p in combo_list[combos - pad:]]
    values = []
    for m in markets:
        for f, p in combo_list:
            v = {**m, "format": f, "product": p}
            if not any(all(v[k] == x for k, x in ex.items()) for ex in exclude):
                values.append(v)
    values += [dict(e) for e in EXTRA_MARKETS]
    assert len(values) == variants, (len(values), variants)
    return {"markets": markets, "exclude": exclude, "values": values}


def write_campaign(folder: Path, n: int) -> Path:
    data = campaign(n)
    with open(folder / "markets.csv", "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["market", "city", "language", "tagline"])
        writer.writeheader()
        writer.writerows(data["markets"])

    def flow(mapping: dict[str, Any]) -> str:
        return "{" + ", ".join(f"{k}: {_q(v)}" for k, v in mapping.items()) + "}"

    lines = [
        "storyboard: 1",
        f"name: bench-campaign-{n}",
        "vars:",
        *(f"  {k}: {_q(v)}" for k, v in VARS.items()),
        "defaults:",
        "  mode: std",
        f"  aspect_ratio: {_q(ASPECT)}",
        '  sound: "off"',
        "variants:",
        f"  id: {_q(VARIANT_ID)}",
        "  rows: markets.csv",
        "  matrix:",
        f"    format: [{', '.join(FORMATS)}]",
        f"    product: [{', '.join(PRODUCTS)}]",
        "  exclude:",
        *(f"    - {flow(e)}" for e in data["exclude"]),
        "  include:",
        *(f"    - {flow(e)}" for e in EXTRA_MARKETS),
        "budget:",
        "  max_cost_usd: 100000000",
        "  max_seconds: 1000000000",
        "clips:",
        "  - id: hero",
        "    duration: 12",
        "    shots:",
        f"      - prompt: {_q(HERO_SHOTS[0])}",
        "        duration: 4",
        f"      - prompt: {_q(HERO_SHOTS[1])}",
        f"      - prompt: {_q(HERO_SHOTS[2])}",
        "        weight: 0.5",
        "  - id: teaser",
        "    prompt: |",
        *(f"      {line}".rstrip() for line in TEASER.rstrip("\n").split("\n")),
        "    duration: 5",
        '    sound: "on"',
        "  - id: montage",
        "    shots: auto",
        f"    prompt: {_q(MONTAGE)}",
        "    duration: 10",
        "    mode: pro",
        "  - id: endcard",
        f"    prompt: {_q(ENDCARD)}",
        "    duration: 3",
        "  - id: social",
        "    duration: 6",
        "    shots:",
        *(f"      - prompt: {_q(s)}" for s in SOCIAL_SHOTS),
    ]
    path = folder / "storyboard.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# --- the two measured workloads (run in a child process) -----------------------------------


def _rss_now_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def run_storyboard(path: Path) -> dict[str, Any]:
    sys.path.insert(0, str(REPO))  # the working tree, even when not installed
    from storyboard.compile import plan_file
    from storyboard.report.reporters import compile_lines, plan_as_json

    startup = time.perf_counter() - _STARTED
    baseline = _rss_now_mb()
    t0 = time.perf_counter()
    plan = plan_file(path)
    t1 = time.perf_counter()
    plan_text = plan_as_json(plan)
    t2 = time.perf_counter()
    # `storyboard compile` prints the same generations as JSON lines instead: timed
    # apart, reported, not part of the compared wall time
    lines = compile_lines(plan)
    t3 = time.perf_counter()
    takes = sum(1 for i in plan.items if i.generation.take is not None)
    return {"generations": len(plan.items), "split_takes": takes,
            "lines": lines.count("\n"), "bytes": len(plan_text),
            "wall": t2 - t0, "phases": {"plan_file": t1 - t0, "compile_lines": t3 - t2,
                                        "plan_as_json": t2 - t1},
            "startup": startup, "baseline_mb": baseline, "peak_mb": _peak_rss_mb()}


def floor_templates() -> dict[str, Any]:
    return {"id": VARIANT_ID, "vars": VARS, "aspect": ASPECT, "hero": HERO_SHOTS,
            "teaser": TEASER, "montage": MONTAGE, "endcard": ENDCARD, "social": SOCIAL_SHOTS}


def floor_requests(values: list[dict[str, Any]]) -> list[str]:
    """The floor: precompiled plain Jinja2 + request dicts + ``json.dumps``. Nothing else."""
    import jinja2

    env = jinja2.Environment(autoescape=False, trim_blocks=True, lstrip_blocks=True)
    t = env.from_string
    vid = t(VARIANT_ID)
    # plain strings are not templates (storyboard does not render them either)
    var_templates = [(k, t(v)) for k, v in VARS.items() if "{" in v]
    plain_vars = {k: v for k, v in VARS.items() if "{" not in v}
    aspect = t(ASPECT)
    hero = [t(s) for s in HERO_SHOTS]
    teaser, montage, endcard = t(TEASER), t(MONTAGE), t(ENDCARD)
    social = [t(s) for s in SOCIAL_SHOTS]
    dumps = json.dumps
    out = []
    for v in values:
        ctx = dict(v)
        ctx["variant"] = {**v, "id": vid.render(ctx)}
        ctx.update(plain_vars)
        for k, tmpl in var_templates:
            ctx[k] = tmpl.render(ctx)
        ar = aspect.render(ctx)
        out.append(dumps({"model": MODEL, "args": {
            "prompt": "", "mode": "std", "duration": 12, "aspect_ratio": ar, "sound": "off",
            "multi_shot": True, "shot_type": "customize", "multi_prompt": [
                {"prompt": s.render(ctx), "duration": d}
                for s, d in zip(hero, (4, 5, 3), strict=True)]}}, ensure_ascii=False))
        out.append(dumps({"model": MODEL, "args": {
            "prompt": teaser.render(ctx), "mode": "std", "duration": 5, "aspect_ratio": ar,
            "sound": "on", "multi_shot": False}}, ensure_ascii=False))
        out.append(dumps({"model": MODEL, "args": {
            "prompt": montage.render(ctx), "mode": "pro", "duration": 10, "aspect_ratio": ar,
            "sound": "off", "multi_shot": True, "shot_type": "intelligence"}},
            ensure_ascii=False))
        out.append(dumps({"model": MODEL, "args": {
            "prompt": endcard.render(ctx), "mode": "std", "duration": 3, "aspect_ratio": ar,
            "sound": "off", "multi_shot": False}}, ensure_ascii=False))
        out.append(dumps({"model": MODEL, "args": {
            "prompt": "", "mode": "std", "duration": 6, "aspect_ratio": ar, "sound": "off",
            "multi_shot": True, "shot_type": "customize", "multi_prompt": [
                {"prompt": s.render(ctx), "duration": d}
                for s, d in zip(social, (3, 3), strict=True)]}}, ensure_ascii=False))
    return out


def run_floor(n: int) -> dict[str, Any]:
    import jinja2  # noqa: F401  (imported before the clock starts, as storyboard is)

    values = campaign(n)["values"]  # the same contexts; built before the clock starts
    startup = time.perf_counter() - _STARTED
    baseline = _rss_now_mb()
    t0 = time.perf_counter()
    out = floor_requests(values)
    t1 = time.perf_counter()
    return {"generations": len(out), "bytes": sum(map(len, out)), "wall": t1 - t0,
            "startup": startup, "baseline_mb": baseline, "peak_mb": _peak_rss_mb()}


def child(kind: str, path: Path, n: int) -> None:
    result = run_storyboard(path) if kind == "storyboard" else run_floor(n)
    print(json.dumps(result))


def spawn(kind: str, path: Path, n: int) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", kind, str(path), str(n)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{kind} child for {n} failed:\n{proc.stderr}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


# --- the report ----------------------------------------------------------------------------


def self_check(folder: Path) -> None:
    """The floor does the same work: its requests equal storyboard's (prompts unfolded)."""
    sys.path.insert(0, str(REPO))
    from storyboard.compile import plan_file
    from storyboard.compile.render import fold

    n = 100
    plan = plan_file(write_campaign(folder, n))
    ours = [json.dumps(i.generation.request(), sort_keys=True, ensure_ascii=False)
            for i in plan.items]
    floor = []
    for line in floor_requests(campaign(n)["values"]):
        request = json.loads(line)
        args = request["args"]
        args["prompt"] = fold(args["prompt"])
        for shot in args.get("multi_prompt", ()):
            shot["prompt"] = fold(shot["prompt"])
        floor.append(json.dumps(request, sort_keys=True, ensure_ascii=False))
    if ours != floor:
        diff = next(i for i, (a, b) in enumerate(zip(ours, floor, strict=False)) if a != b)
        raise SystemExit(f"self-check failed: the floor's request {diff} differs from "
                         f"storyboard's:\n  storyboard: {ours[diff]}\n  floor:      {floor[diff]}")


def measure(sizes: list[int], repeat: int, log: Any) -> list[dict[str, Any]]:
    results = []
    with tempfile.TemporaryDirectory(prefix="storyboard-bench-") as tmp:
        self_check(Path(tmp))
        for n in sizes:
            folder = Path(tmp) / str(n)
            folder.mkdir()
            path = write_campaign(folder, n)
            sb_runs, floor_runs = [], []
            for _ in range(repeat):  # interleaved, so drift hits both alike
                sb_runs.append(spawn("storyboard", path, n))
                floor_runs.append(spawn("floor", path, n))
            produced = {r["generations"] for r in sb_runs}
            assert produced == {n}, f"storyboard produced {produced} generations, wanted {n}"
            assert all(r["split_takes"] == 0 for r in sb_runs), "a clip was split into takes"
            assert {r["generations"] for r in floor_runs} == {n}
            sb_walls = [r["wall"] for r in sb_runs]
            fl_walls = [r["wall"] for r in floor_runs]
            best = min(sb_runs, key=lambda r: r["wall"])
            row = {
                "size": n, "generations": best["generations"],
                "floor_generations": floor_runs[0]["generations"], "repeat": repeat,
                "storyboard_best_s": min(sb_walls),
                "storyboard_median_s": statistics.median(sb_walls),
                "floor_best_s": min(fl_walls), "floor_median_s": statistics.median(fl_walls),
                "ratio": min(sb_walls) / min(fl_walls),
                "generations_per_s": n / min(sb_walls),
                "floor_generations_per_s": n / min(fl_walls),
                "peak_rss_mb": max(r["peak_mb"] for r in sb_runs),
                "baseline_rss_mb": best["baseline_mb"],
                "floor_peak_rss_mb": max(r["peak_mb"] for r in floor_runs),
                "phases_best_s": best["phases"],
                "startup_s": statistics.median(r["startup"] for r in sb_runs),
                "output_bytes": best["bytes"],
            }
            results.append(row)
            print(f"  {n:,}: storyboard produced {best['generations']:,} generations "
                  f"(target {n:,}), floor {floor_runs[0]['generations']:,}; {repeat} runs each",
                  file=log, flush=True)
    return results


def verdicts(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Time, ratio and memory are judged at 10k (the issue's targets are for 10k
    generations; the largest measured size stands in when 10k is not measured);
    growth across the smallest and largest sizes."""
    by_size = {r["size"]: r for r in results}
    at = by_size.get(TARGET_SECONDS_AT)
    judged = at or results[-1]
    size = f"{judged['size'] // 1000:,}k" if judged["size"] % 1000 == 0 else f"{judged['size']:,}"
    out = [
        {"target": f"wall at {TARGET_SECONDS_AT // 1000}k (best)",
         "value": at["storyboard_best_s"] if at else None,
         "limit": TARGET_SECONDS, "unit": "s",
         "ok": (at["storyboard_best_s"] <= TARGET_SECONDS) if at else None},
        {"target": f"ratio to floor at {size}", "value": judged["ratio"],
         "limit": TARGET_RATIO, "unit": "x", "ok": judged["ratio"] <= TARGET_RATIO},
        {"target": f"peak RSS at {size}", "value": judged["peak_rss_mb"],
         "limit": TARGET_PEAK_MB, "unit": " MB", "ok": judged["peak_rss_mb"] <= TARGET_PEAK_MB},
    ]
    if len(results) > 1:
        small, large = results[0], results[-1]
        growth = (large["storyboard_best_s"] / large["size"]) / (
            small["storyboard_best_s"] / small["size"])
        out.append({"target": f"growth (s/gen {large['size']:,} / {small['size']:,})",
                    "value": growth, "limit": TARGET_GROWTH, "unit": "",
                    "ok": growth <= TARGET_GROWTH})
    else:
        out.append({"target": "growth (needs 2+ sizes)", "value": None, "limit": TARGET_GROWTH,
                    "unit": "", "ok": None})
    return out


def report(results: list[dict[str, Any]], checks: list[dict[str, Any]],
           load: tuple[float, float]) -> str:
    head = (f"{'size':>7}  {'storyboard s':>17}  {'floor s':>15}  {'ratio':>6}  "
            f"{'gen/s':>7}  {'floor gen/s':>11}  {'peak RSS MB':>11}")
    lines = [
        f"storyboard compile benchmark — Python {sys.version.split()[0]}, "
        f"{os.cpu_count()} CPUs; times best (median) of {results[0]['repeat']} fresh "
        "processes, work only (no start-up)",
        "storyboard = plan_file(yaml) + plan_as_json (= `plan --format json`); "
        "floor = plain Jinja2 (precompiled) + json.dumps",
        "peak RSS = getrusage(RUSAGE_SELF).ru_maxrss of the child (includes interpreter and "
        "imports)",
        f"1-min load average {load[0]:.2f} before, {load[1]:.2f} after (other processes on "
        "the machine inflate times)",
        "",
        head,
        "-" * len(head),
    ]
    for r in results:
        lines.append(
            f"{r['size']:>7,}  {r['storyboard_best_s']:>7.3f} ({r['storyboard_median_s']:7.3f})"
            f"  {r['floor_best_s']:>6.3f} ({r['floor_median_s']:6.3f})  {r['ratio']:>5.2f}x"
            f"  {r['generations_per_s']:>7,.0f}  {r['floor_generations_per_s']:>11,.0f}"
            f"  {r['peak_rss_mb']:>11.1f}")
    lines.append("")
    lines.append("generations produced (storyboard, floor); storyboard phases (best run): "
                 "plan_file / plan_as_json (+ compile_lines, not counted); RSS before work; "
                 "floor peak RSS")
    for r in results:
        p = r["phases_best_s"]
        lines.append(f"{r['size']:>7,}  produced {r['generations']:,}, {r['floor_generations']:,};"
                     f"  {p['plan_file']:.3f} / {p['plan_as_json']:.3f} "
                     f"(+ {p['compile_lines']:.3f}) s;  baseline {r['baseline_rss_mb']:.1f} MB;  "
                     f"floor peak {r['floor_peak_rss_mb']:.1f} MB;  "
                     f"output {r['output_bytes'] / 2**20:.1f} MiB")
    if len(results) > 1:
        small, large = results[0], results[-1]
        per_k = (large["peak_rss_mb"] - small["peak_rss_mb"]) / ((large["size"] - small["size"])
                                                                 / 1000)
        lines.append(f"memory grows {per_k:.1f} MB per 1,000 generations "
                     f"({small['size']:,} → {large['size']:,})")
    lines.append("")
    for c in checks:
        value = "n/a" if c["value"] is None else f"{c['value']:.2f}{c['unit']}"
        verdict = {True: "PASS", False: "FAIL", None: "SKIP"}[c["ok"]]
        lines.append(f"{verdict}  {c['target']:<30} {value:>10}   (target ≤ {c['limit']:g}"
                     f"{c['unit']})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)),
                        help="comma-separated generation counts (multiples of 5, ≥ 100)")
    parser.add_argument("--repeat", type=int, default=3, help="fresh runs per measurement")
    parser.add_argument("--json", action="store_true", help="print results as JSON")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--child", nargs=3, metavar=("KIND", "PATH", "N"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        kind, path, n = args.child
        child(kind, Path(path), int(n))
        return 0
    sizes = sorted({int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()})
    for n in sizes:
        campaign(n)  # validates the size
    if args.repeat < 1:
        parser.error("--repeat must be ≥ 1")
    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    results = measure(sizes, args.repeat, sys.stderr)
    load = (load_before, os.getloadavg()[0])
    checks = verdicts(results)
    if args.json:
        print(json.dumps({"python": sys.version.split()[0], "cpus": os.cpu_count(),
                          "seed": SEED, "load_average_1min": load, "results": results,
                          "targets": checks, "elapsed_s": time.perf_counter() - started},
                         indent=2))
    else:
        print(report(results, checks, load))
        print(f"\n(total benchmark time {time.perf_counter() - started:.0f} s)")
    missed = any(c["ok"] is False for c in checks)
    return 1 if (args.check and missed) else 0


if __name__ == "__main__":
    sys.exit(main())
