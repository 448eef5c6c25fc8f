"""Shared-state benchmark (issue 13): K runners x the same storyboard, one sandbox.

Several machines running the same storyboard with shared state (``--state
postgresql://…``, one ``--store`` folder) must create each generation once and all end
with every render. This runs that on one machine, with real processes and a real server:

* a sandbox (``python -m storyboard sandbox --port 0 --latency SPEC --seed N``, started
  by ``bench/run_bench.py``'s helpers, whose generated storyboard of N distinct
  single-shot clips is used too) and a throwaway PostgreSQL cluster
  (``tests/pgserver.py``);
* **shared** — K runner processes started together, each ``storyboard run
  storyboard.yaml --yes --no-cut --api-base URL --state postgresql://…/shared --store
  DIR …`` in its own copy of the project folder (as separate machines would be),
  sharing the database and the store;
* **single** — ONE runner doing all N the same way against a fresh database, a fresh
  store and a fresh sandbox (same seed, so the same latencies).

Figures, side by side: creates and API calls (the sandbox's ``/_sandbox/ledger``),
duplicates (creates of a request body already created), per runner its exit code, its
summary's counts (delivered, reused, …) and the videos in its ``renders/``, and the
makespan (the runners' launch to the last one's exit, start-up and planning included)
with the ratio shared / single. Latencies and poll settings are run_bench's (real ones
divided by 30).

    python bench/shared_bench.py                       # 8 runners x 200 generations
    python bench/shared_bench.py --generations 50 --runners 4
    python bench/shared_bench.py --json                # machine-readable results
    python bench/shared_bench.py --check               # exit 1 unless creates = N, 0 dups
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, TextIO

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path[:0] = [str(REPO), str(HERE), str(REPO / "tests")]

try:
    from pgserver import PgCluster, PgUnavailable  # tests/pgserver.py
except ImportError as exc:  # psycopg: the postgres extra
    raise SystemExit(f"shared_bench needs {exc.name}: pip install -e '.[bench,postgres]'") from None
from run_bench import (  # noqa: E402  (bench/run_bench.py)
    JOB_TIMEOUT,
    KEY,
    LATENCY,
    POLL_MAX,
    POLL_START,
    SCALE,
    SEED,
    _env,
    ideal_makespan,
    latency_of,
    ledger,
    plan_hashes,
    process_cpu,
    start_sandbox,
    stop_sandbox,
    write_storyboard,
)

DEFAULT_GENERATIONS = 200
DEFAULT_RUNNERS = 8
DEFAULT_CONCURRENCY = 20  # jobs in flight per runner
RUNNER_TIMEOUT = 1800.0  # seconds before the benchmark gives up on a runner
SUMMARY_COUNT = re.compile(r"^  ([a-z][a-z ]*): (\d+)$")


# --- one phase: K runners against one sandbox, one database, one store ------------------------


def runner_args(base_url: str, state_url: str, store: Path, concurrency: int) -> list[str]:
    return ["run", "storyboard.yaml", "--yes", "--no-cut", "--api-base", base_url,
            "--concurrency", str(concurrency), "--poll-start", f"{POLL_START:g}",
            "--poll-max", f"{POLL_MAX:g}", "--job-timeout", f"{JOB_TIMEOUT:g}",
            "--state", state_url, "--store", str(store)]


def summary_counts(stdout: str) -> dict[str, int]:
    """The run summary's ``  delivered: N`` lines (whatever results the runner names)."""
    counts: dict[str, int] = {}
    in_summary = False
    for line in stdout.splitlines():
        if line == "Summary":
            in_summary = True
        elif in_summary and (match := SUMMARY_COUNT.match(line)):
            counts[match.group(1)] = int(match.group(2))
    return counts


def run_runners(project: Path, folder: Path, runners: int, args: list[str],
                log: TextIO) -> dict[str, Any]:
    """Start ``runners`` processes together, each in its own copy of ``project``; wait."""
    copies = []
    for i in range(runners):
        copy = folder / f"runner-{i + 1}"
        shutil.copytree(project, copy)
        copies.append(copy)
    env = _env()
    env["SHORTAPI_KEY"] = KEY
    env.pop("STORYBOARD_STATE", None)
    env.pop("STORYBOARD_STORE", None)
    command = [sys.executable, "-m", "storyboard", *args]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)  # the sandbox is reaped later
    ended: dict[int, float] = {}
    procs: list[subprocess.Popen[bytes]] = []
    started = time.perf_counter()
    try:
        for copy in copies:
            with open(copy / "runner.stdout", "wb") as out, \
                    open(copy / "runner.stderr", "wb") as err:
                procs.append(subprocess.Popen(command, cwd=copy, stdout=out, stderr=err,
                                              env=env))

        def wait(i: int) -> None:
            procs[i].wait()
            ended[i] = time.perf_counter()

        waiters = [threading.Thread(target=wait, args=(i,), daemon=True)
                   for i in range(len(procs))]
        for waiter in waiters:
            waiter.start()
        for waiter in waiters:
            waiter.join(max(0.0, started + RUNNER_TIMEOUT - time.perf_counter()))
        if len(ended) < runners:
            raise SystemExit(f"{runners - len(ended)} runner(s) still running after "
                             f"{RUNNER_TIMEOUT:.0f} s; their output is in {folder}")
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    results = []
    for i, copy in enumerate(copies):
        stdout = (copy / "runner.stdout").read_text(errors="replace")
        stderr = (copy / "runner.stderr").read_text(errors="replace")
        renders = copy / "renders"
        videos = sorted(renders.rglob("*.mp4")) if renders.is_dir() else []
        results.append({
            "runner": i + 1, "exit_code": procs[i].returncode,
            "seconds": ended[i] - started, "summary": summary_counts(stdout),
            "videos": len(videos),
            "error_tail": "" if procs[i].returncode == 0 else
            (stdout[-600:] + stderr[-1200:]).strip(),
        })
        print(f"    runner {i + 1}: exit {procs[i].returncode} after "
              f"{ended[i] - started:.1f} s, {len(videos)} videos", file=log, flush=True)
    return {"makespan_s": max(ended.values()) - started, "runners": results,
            "runners_cpu_s": cpu}


def phase(label: str, project: Path, folder: Path, pg: PgCluster, runners: int,
          concurrency: int, spec: str, seed: int, log: TextIO) -> dict[str, Any]:
    """A fresh sandbox, database and store; ``runners`` runners of the whole storyboard."""
    import httpx

    folder.mkdir()
    state_url = pg.create_database(label)
    store = folder / "store"
    store.mkdir()
    proc, base_url = start_sandbox(spec, seed)
    try:
        print(f"  {label}: {runners} runner(s), sandbox {base_url}, state {state_url}",
              file=log, flush=True)
        cpu0 = process_cpu(proc.pid)
        ran = run_runners(project, folder, runners,
                          runner_args(base_url, state_url, store, concurrency), log)
        sandbox_cpu = process_cpu(proc.pid) - cpu0
        with httpx.Client(timeout=30) as http:
            led = ledger(http, base_url)
    finally:
        stop_sandbox(proc)
    per_hash: dict[str, int] = led["creates_per_hash"]
    calls = led["calls"]
    return {
        **ran, "label": label, "concurrency": concurrency,
        "creates": len(led["creates"]), "distinct_requests": len(per_hash),
        "duplicates": sum(n - 1 for n in per_hash.values() if n > 1),
        "paid_duplicates": len(led["duplicates"]),
        "calls": {k: calls.get(k, 0) for k in ("create", "query", "download")},
        "sandbox_cpu_s": sandbox_cpu,
        "command": "storyboard " + " ".join(
            runner_args("URL", pg.url(label), Path("STORE"), concurrency)),
    }


def measure(n: int, runners: int, concurrency: int, spec: str, seed: int,
            log: TextIO) -> dict[str, Any]:
    try:
        cluster = PgCluster()
    except PgUnavailable as exc:
        raise SystemExit(f"shared_bench: {exc}") from None
    with tempfile.TemporaryDirectory(prefix="storyboard-shared-bench-") as tmp, cluster as pg:
        folder = Path(tmp)
        project = folder / "project"
        project.mkdir()
        path = write_storyboard(project, n)
        hashes = plan_hashes(path)
        if len(set(hashes)) != n:
            raise SystemExit(f"the storyboard has {len(set(hashes))} distinct requests, not {n}")
        print(f"  PostgreSQL {pg.bindir} on port {pg.port}; {n} generations", file=log,
              flush=True)
        single = phase("single", project, folder / "single", pg, 1, concurrency, spec, seed,
                       log)
        shared = phase("shared", project, folder / "shared", pg, runners, concurrency, spec,
                       seed, log)
    latencies = [latency_of(spec, seed)(h) for h in hashes]
    single["ideal_makespan_s"] = ideal_makespan(latencies, concurrency)
    shared["ideal_makespan_s"] = ideal_makespan(latencies, runners * concurrency)
    return {"generations": n, "runners": runners, "single": single, "shared": shared,
            "makespan_ratio": shared["makespan_s"] / single["makespan_s"]}


# --- the report -------------------------------------------------------------------------------


def verdicts(r: dict[str, Any]) -> list[tuple[str, bool, str]]:
    n = r["generations"]
    checks = []
    for key in ("single", "shared"):
        p = r[key]
        name = f"{len(p['runners'])} runner(s)"
        checks.append((f"{name}: creates = {n}", p["creates"] == n, f"{p['creates']}"))
        checks.append((f"{name}: 0 duplicates", p["duplicates"] == 0, f"{p['duplicates']}"))
        every = all(x["exit_code"] == 0 and x["videos"] == n for x in p["runners"])
        checks.append((f"{name}: each exits 0 with {n} videos", every,
                       ", ".join(f"{x['exit_code']}/{x['videos']}" for x in p["runners"])))
    return checks


def report(r: dict[str, Any], checks: list[tuple[str, bool, str]], spec: str, seed: int,
           load: tuple[float, float]) -> str:
    one, many = r["single"], r["shared"]

    def calls(p: dict[str, Any]) -> str:
        return " / ".join(f"{v:,}" for v in p["calls"].values())

    rows = [
        ("", "1 runner", f"{r['runners']} runners"),
        ("makespan (launch → last exit)", f"{one['makespan_s']:.1f} s",
         f"{many['makespan_s']:.1f} s"),
        ("ideal (list schedule on the slots, no overhead)", *(
            f"{p['ideal_makespan_s']:.1f} s" for p in (one, many))),
        ("runner wall, min / max", *(
            f"{min(x['seconds'] for x in p['runners']):.1f} / "
            f"{max(x['seconds'] for x in p['runners']):.1f} s" for p in (one, many))),
        ("creates (sandbox ledger)", f"{one['creates']:,}", f"{many['creates']:,}"),
        ("duplicates (body created again)", f"{one['duplicates']}", f"{many['duplicates']}"),
        ("  of which paid twice (hashes)", f"{one['paid_duplicates']}",
         f"{many['paid_duplicates']}"),
        ("API calls create / query / download", calls(one), calls(many)),
        ("runners' CPU, all together (user + sys)", f"{one['runners_cpu_s']:.1f} s",
         f"{many['runners_cpu_s']:.1f} s"),
        ("sandbox CPU", f"{one['sandbox_cpu_s']:.1f} s", f"{many['sandbox_cpu_s']:.1f} s"),
        ("exit codes", *(" ".join(str(x["exit_code"]) for x in p["runners"])
                         for p in (one, many))),
        ("videos in renders/ per runner", *(" ".join(str(x["videos"]) for x in p["runners"])
                                            for p in (one, many))),
        ("delivered (summary), all runners", *(
            f"{sum(x['summary'].get('delivered', 0) for x in p['runners']):,}"
            for p in (one, many))),
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = [
        f"shared-state benchmark — Python {sys.version.split()[0]}, {os.cpu_count()} CPUs; "
        f"{r['generations']:,} generations, {r['runners']} runners x concurrency "
        f"{many['concurrency']} vs 1 runner",
        f"sandbox latency {spec} (seed {seed}), real times / {SCALE:g}; poll start "
        f"{POLL_START:.3f} s, max {POLL_MAX:.3f} s",
        f"each runner: {many['command']}",
        f"1-min load average {load[0]:.2f} before, {load[1]:.2f} after",
        "",
    ]
    lines += [f"{a:<{widths[0]}}  {b:>{widths[1]}}  {c}" for a, b, c in rows]
    lines += ["", "per runner: exit code, wall time, its summary's counts, videos in renders/"]
    for p in (one, many):
        for x in p["runners"]:
            counts = ", ".join(f"{k} {v}" for k, v in x["summary"].items()) or "no summary"
            lines.append(f"  {p['label']} {x['runner']}: exit {x['exit_code']}, "
                         f"{x['seconds']:.1f} s, {counts}, {x['videos']} videos")
    lines += [
        "",
        f"makespan ratio {r['runners']} runners / 1 runner: {r['makespan_ratio']:.2f}x "
        f"({1 / r['makespan_ratio']:.2f}x faster)",
        "",
    ]
    lines += [f"{'PASS' if ok else 'FAIL'}  {what}  ({value})" for what, ok, value in checks]
    for p in (one, many):
        for x in p["runners"]:
            if x["error_tail"]:
                lines += ["", f"{p['label']} runner {x['runner']} (exit {x['exit_code']}):",
                          x["error_tail"]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--generations", type=int, default=DEFAULT_GENERATIONS)
    parser.add_argument("--runners", type=int, default=DEFAULT_RUNNERS)
    parser.add_argument("--concurrency", type=int, default=DEFAULT_CONCURRENCY,
                        help="jobs in flight per runner")
    parser.add_argument("--latency", default=LATENCY, help="sandbox latency spec")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--json", action="store_true", help="print results as JSON")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 unless creates = generations, 0 duplicates, all delivered")
    args = parser.parse_args(argv)
    if args.generations < 1 or args.runners < 1 or args.concurrency < 1:
        parser.error("--generations, --runners and --concurrency must be ≥ 1")
    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    result = measure(args.generations, args.runners, args.concurrency, args.latency,
                     args.seed, sys.stderr)
    load = (load_before, os.getloadavg()[0])
    checks = verdicts(result)
    if args.json:
        print(json.dumps({"python": sys.version.split()[0], "cpus": os.cpu_count(),
                          "latency": args.latency, "seed": args.seed, "scale": SCALE,
                          "load_average_1min": load, "result": result,
                          "checks": [{"check": w, "ok": ok, "value": v} for w, ok, v in checks],
                          "elapsed_s": time.perf_counter() - started}, indent=2))
    else:
        print(report(result, checks, args.latency, args.seed, load))
        print(f"\n(total benchmark time {time.perf_counter() - started:.0f} s)")
    return 1 if args.check and not all(ok for _, ok, _ in checks) else 0


if __name__ == "__main__":
    sys.exit(main())
