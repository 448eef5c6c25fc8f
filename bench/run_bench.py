"""Run benchmark: 1,000 generations against the sandbox with 100 jobs in flight.

A sandbox (``python -m storyboard sandbox --port 0``) runs in its own process, with
job latencies drawn per request hash from a fixed-seed log-normal, so that the
client's CPU time and memory are the client's alone. Then:

* **storyboard** — a generated storyboard of N distinct single-shot 5 s clips (a
  ``rows:`` CSV, one variant per row) is run through the real command,
  ``storyboard run FILE --yes --api-base URL --concurrency C --poll-start …``, in a
  fresh child process (``cli.main`` in-process there, so ``storyboard.execute.entry.execute``
  can be wrapped to timestamp every executor event; nothing else is changed).
* **storyboard with callbacks** — the same run again (a fresh sandbox) with
  ``--callback-listen 127.0.0.1:0``: the sandbox POSTs to each job's callback URL when it
  ends, storyboard queries that job at once, and polls are only a sparse safety net.
  ``--ways`` picks one of the two; by default both run and are printed side by side.
* **baseline** — the API usage example's approach on 20 other generations from the
  same distribution: create, poll at a fixed interval until done, download, then the
  next one (sync ``httpx``, in this process).

Latencies are real-world ones scaled down by ``SCALE`` (a 3 s median stands for the
~90 s a 5 s std clip takes), and so are the poll settings on both sides: storyboard's
defaults (5 s start, 30 s max, 10 % of elapsed) and the 2–6 s fixed interval public
clients of this API use (we use 4 s).

Figures:

* **makespan** — first ``creating`` event to the last generation delivered (client side);
* **ideal makespan** — the same per-request latencies list-scheduled in plan order on
  C slots with zero overhead (what the executor's semaphore does with a perfect client);
* **noticing delay** — per job, the instant the client's query saw status 2 (its
  ``downloading`` event) minus the instant the job finished (the sandbox ledger's
  ``created_at`` + the job's latency); judged as a share of the job's latency;
* **API calls per generation** — create + query + download calls in the ledger / N;
* **client CPU** — ``time.process_time()`` of the child around ``execute`` (and for
  the whole process, start-up and planning included); **peak RSS** — the child's
  ``ru_maxrss``.

    python bench/run_bench.py                         # 1,000 generations, 100 in flight
    python bench/run_bench.py --generations 200 --concurrency 20 --baseline 5
    python bench/run_bench.py --json                  # machine-readable results
    python bench/run_bench.py --ways polling          # only one way (polling|callbacks)
    python bench/run_bench.py --check                 # exit 1 if a target is missed
    python bench/run_bench.py --profile               # + cProfile of the client (slower)
    python bench/run_bench.py --against /tmp/old      # + another checkout, side by side
"""

from __future__ import annotations

import argparse
import csv
import heapq
import json
import os
import re
import resource
import selectors
import signal
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
SEED = 20240917
LATENCY = "lognormal:3,0.5,max=15"  # median 3 s, sigma 0.5, capped at 15 s
SCALE = 30.0  # real seconds per benchmark second: 3 s median ~ a 90 s std 5 s clip
MODEL = "kwaivgi/kling-o3/text-to-video"
DEFAULT_GENERATIONS = 1_000
DEFAULT_CONCURRENCY = 100
DEFAULT_BASELINE = 20

# storyboard's PollPolicy defaults and this API's public clients, scaled like the latencies
POLL_START = 5.0 / SCALE
POLL_MAX = 30.0 / SCALE
JOB_TIMEOUT = 3600.0 / SCALE
BASELINE_POLL = 4.0 / SCALE  # "poll every 2–6 s with fixed intervals": the middle

# targets from the issue (9, item 5)
TARGET_RATIO = 1.05  # makespan / ideal makespan
TARGET_NOTICE = 0.05  # median noticing delay / the job's latency
TARGET_CPU = 0.012  # client CPU seconds per generation (execute)
TARGET_CALLS = 8.0  # API calls per generation
WAYS = {"both": ("polling", "callbacks"), "polling": ("polling",),
        "callbacks": ("callbacks",)}
CALLBACK_ARGS = ["--callback-listen", "127.0.0.1:0"]  # the sandbox calls each job back

SUBJECTS = ("a lighthouse in fog", "a red kite over dunes", "a night market in rain",
            "a glacier at dawn", "a cyclist on a ridge", "a tram in snow",
            "a potter at the wheel", "fireflies in a meadow")
KEY = "bench-key-not-a-secret"


# --- the storyboard -------------------------------------------------------------------------


def write_storyboard(folder: Path, n: int) -> Path:
    """N variants (one CSV row each) x one single-shot 5 s clip: N distinct requests."""
    with open(folder / "shots.csv", "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["n", "subject"])
        for i in range(n):
            writer.writerow([f"{i:05d}", SUBJECTS[i % len(SUBJECTS)]])
    path = folder / "storyboard.yaml"
    path.write_text("\n".join([
        "storyboard: 1",
        f"name: bench-run-{n}",
        "defaults:",
        "  mode: std",
        '  aspect_ratio: "16:9"',
        '  sound: "off"',
        "variants:",
        '  id: "g{{ n }}"',
        "  rows: shots.csv",
        "clips:",
        "  - id: clip",
        '    prompt: "Take {{ n }}: {{ subject }}, slow push-in, natural light"',
        "    duration: 5",
    ]) + "\n", encoding="utf-8")
    return path


def plan_hashes(path: Path) -> list[str]:
    """Request hashes in plan order (the order the executor submits new jobs in)."""
    from storyboard.compile import plan_file

    return [item.generation.hash for item in plan_file(path).items]


def latency_of(spec: str, seed: int) -> Any:
    from storyboard.api.sandbox import parse_latency
    from storyboard.errors import UsageError

    try:
        latency = parse_latency(spec, seed=seed)
    except UsageError as exc:
        raise SystemExit(f"--latency: {exc}") from None
    return latency if callable(latency) else (lambda _hash: float(latency))


def ideal_makespan(latencies: list[float], slots: int) -> float:
    """List scheduling in submission order on ``slots`` slots, zero overhead."""
    free = [0.0] * min(slots, max(1, len(latencies)))
    end = 0.0
    for seconds in latencies:
        start = heapq.heappop(free)
        heapq.heappush(free, start + seconds)
        end = max(end, start + seconds)
    return end


# --- the sandbox process --------------------------------------------------------------------


def _env(tree: Path = REPO) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(tree), env.get("PYTHONPATH")]))
    env.pop("SHORTAPI_BASE_URL", None)
    return env


def start_sandbox(spec: str, seed: int, tree: Path = REPO,
                  python: str = sys.executable) -> tuple[subprocess.Popen[str], str]:
    cmd = [python, "-m", "storyboard", "sandbox", "--port", "0", "--latency", spec,
           "--seed", str(seed)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=_env(tree), cwd=tree)
    assert proc.stdout is not None
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        if not sel.select(timeout=30):
            stop_sandbox(proc)
            raise SystemExit("the sandbox did not start within 30 s")
    line = proc.stdout.readline()
    match = re.search(r"listening on (http://\S+)", line)
    if match is None:
        stop_sandbox(proc)
        raise SystemExit(f"unexpected sandbox output: {line!r}")
    return proc, match.group(1)


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of a running process, from /proc."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


def stop_sandbox(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)  # serve() ends cleanly on Ctrl-C
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    for stream in (proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()


def ledger(http: Any, base_url: str) -> dict[str, Any]:
    reply = http.get(f"{base_url}/_sandbox/ledger", timeout=30)
    reply.raise_for_status()
    data: dict[str, Any] = reply.json()
    return data


# --- storyboard, in a child process ---------------------------------------------------------


def child(spec_file: Path) -> None:
    """Run ``storyboard run`` through the CLI, timestamping every executor event."""
    spec = json.loads(spec_file.read_text())
    import storyboard.execute.executor as executor_mod
    from storyboard.cli import cli

    try:  # where the command line finds ``execute`` (executor.py before it was split)
        import storyboard.execute.entry as run_mod
    except ImportError:
        run_mod = executor_mod

    startup = time.perf_counter() - _STARTED
    events: list[tuple[str, str, str, float]] = []
    measured: dict[str, float] = {}
    original = run_mod.execute
    profiler = None
    if spec["profile"]:
        import cProfile

        profiler = cProfile.Profile(time.process_time)  # CPU, not time spent waiting

    def traced(prepared: Any, **kwargs: Any) -> Any:
        shown = kwargs.pop("on_event")
        if spec.get("fraction") is not None:  # --fraction: another point of the trade-off
            import dataclasses

            options = kwargs["options"]
            kwargs["options"] = dataclasses.replace(options, poll=dataclasses.replace(
                options.poll, fraction=spec["fraction"]))
        now = time.time
        append = events.append

        def on_event(event: Any) -> None:
            append((event.generation_id, event.phase, event.detail, now()))
            shown(event)

        measured["cpu0"], measured["wall0"] = time.process_time(), time.perf_counter()
        if profiler is not None:
            profiler.enable()
        try:
            return original(prepared, on_event=on_event, **kwargs)
        finally:
            if profiler is not None:
                profiler.disable()
            measured["cpu1"], measured["wall1"] = time.process_time(), time.perf_counter()

    run_mod.execute = traced
    journal_time = _time_journal_writes()
    lags = _watch_event_loop(executor_mod)
    try:
        cli.main(args=spec["args"], prog_name="storyboard", standalone_mode=False)
        code: Any = 0
    except SystemExit as exc:
        code = exc.code
    usage = resource.getrusage(resource.RUSAGE_SELF)
    if "cpu1" not in measured:
        raise SystemExit(f"storyboard run stopped before executing anything (exit {code})")
    if profiler is not None:
        profiler.dump_stats(spec["profile"])
    Path(spec["result"]).write_text(json.dumps({
        "exit_code": code, "events": events, "startup_s": startup,
        "execute_cpu_s": measured["cpu1"] - measured["cpu0"],
        "execute_wall_s": measured["wall1"] - measured["wall0"],
        "process_cpu_s": usage.ru_utime + usage.ru_stime,
        "process_wall_s": time.perf_counter() - _STARTED,
        "peak_rss_mb": usage.ru_maxrss / 1024,  # KiB on Linux
        "voluntary_switches": usage.ru_nvcsw, "involuntary_switches": usage.ru_nivcsw,
        "journal_calls": journal_time["loop_calls"], "journal_s": journal_time["loop_s"],
        "journal_thread_calls": journal_time["thread_calls"],
        "journal_thread_s": journal_time["thread_s"],
        "journal_thread_cpu_s": journal_time["thread_cpu_s"],
        "journal_batches": journal_time["batches"],
        "loop_lags": lags,
    }))


JOURNAL_CALLS = ("begin", "created", "done", "get", "latest", "note", "failed", "rejected",
                 "unknown")
LAG_TICK = 0.01  # seconds between event-loop lag samples


def _time_journal_writes() -> dict[str, float]:
    """Wrap the journal calls the executor makes, timing them where they run: on the event
    loop's thread, each call (time the loop could serve nothing else: all of them, before
    the journal thread), or in the journal thread, each batch of calls it hands to the
    journal together (``run_batch``: one transaction, its commit included), in wall and
    CPU time of that thread."""
    import asyncio
    import functools
    import threading

    from storyboard.journal.sqlite import Journal

    total = {"loop_calls": 0.0, "loop_s": 0.0, "thread_calls": 0.0, "thread_s": 0.0,
             "thread_cpu_s": 0.0, "batches": 0.0}
    depth = threading.local()  # a call made by another (begin's rejected) counts once

    def timing(name: str, method: Any) -> Any:
        @functools.wraps(method)
        def timed(*args: Any, **kwargs: Any) -> Any:
            if getattr(depth, "n", 0):
                return method(*args, **kwargs)
            on_loop = asyncio._get_running_loop() is not None
            if name != "run_batch" and not on_loop:
                total["thread_calls"] += 1  # (timed with its batch)
                return method(*args, **kwargs)
            t0, c0 = time.perf_counter(), time.thread_time()
            depth.n = name != "run_batch"
            try:
                return method(*args, **kwargs)
            finally:
                depth.n = 0
                if name == "run_batch":
                    total["batches"] += 1
                    total["thread_s"] += time.perf_counter() - t0
                    total["thread_cpu_s"] += time.thread_time() - c0
                else:
                    total["loop_calls"] += 1
                    total["loop_s"] += time.perf_counter() - t0

        return timed

    for name in (*JOURNAL_CALLS, "run_batch"):
        if hasattr(Journal, name):  # (no run_batch before the journal thread)
            setattr(Journal, name, timing(name, getattr(Journal, name)))
    return total


def _watch_event_loop(run_mod: Any) -> list[float]:
    """Sample how late a ``LAG_TICK`` sleep wakes up while the executor runs."""
    import asyncio

    lags: list[float] = []
    original = run_mod.Executor.run

    async def watch() -> None:
        while True:
            t0 = time.perf_counter()
            await asyncio.sleep(LAG_TICK)
            lags.append(time.perf_counter() - t0 - LAG_TICK)

    async def run(self: Any) -> Any:
        watcher = asyncio.create_task(watch())
        try:
            return await original(self)
        finally:
            watcher.cancel()

    run_mod.Executor.run = run
    return lags


def run_storyboard(folder: Path, path: Path, base_url: str, concurrency: int,
                   profile: Path | None, tree: Path = REPO, python: str = sys.executable,
                   fraction: float | None = None, callbacks: bool = False) -> dict[str, Any]:
    args = ["run", str(path), "--yes", "--api-base", base_url, "--concurrency",
            str(concurrency), "--poll-start", f"{POLL_START:g}", "--poll-max", f"{POLL_MAX:g}",
            "--job-timeout", f"{JOB_TIMEOUT:g}", *(CALLBACK_ARGS if callbacks else [])]
    spec_file, result = folder / "child.json", folder / "child-result.json"
    spec_file.write_text(json.dumps({"args": args, "result": str(result), "fraction": fraction,
                                     "profile": str(profile) if profile else None}))
    env = _env(tree)
    env["SHORTAPI_KEY"] = KEY
    with open(folder / "child.stdout", "w") as out, open(folder / "child.stderr", "w") as err:
        proc = subprocess.run([python, str(tree / "bench" / "run_bench.py"), "--child",
                               str(spec_file)], stdout=out, stderr=err, env=env, check=False,
                              cwd=folder)
    if proc.returncode != 0 or not result.exists():
        tail = ((folder / "child.stdout").read_text()[-1500:]
                + (folder / "child.stderr").read_text()[-3000:])
        raise SystemExit(f"storyboard child failed (exit {proc.returncode}):\n{tail}")
    data: dict[str, Any] = json.loads(result.read_text())
    data["command"] = "storyboard " + " ".join(
        a if a != str(path) else "storyboard.yaml" for a in args)
    return data


# --- the baseline: the API usage example, one job at a time -----------------------------------


def run_baseline(http: Any, base_url: str, n: int, interval: float,
                 latency: Any, folder: Path) -> dict[str, Any]:
    """Create, poll every ``interval`` s until done, download, then the next."""
    from storyboard.model import request_hash

    headers = {"Authorization": f"Bearer {KEY}"}
    noticed_after: list[float] = []
    latencies: list[float] = []
    started = time.perf_counter()
    for i in range(n):
        args = {"prompt": f"Baseline take {i:05d}: {SUBJECTS[i % len(SUBJECTS)]}, slow push-in",
                "mode": "std", "duration": 5, "aspect_ratio": "16:9", "sound": "off",
                "multi_shot": False}
        seconds = latency(request_hash(MODEL, args))
        latencies.append(seconds)
        reply = http.post(f"{base_url}/api/v1/job/create", headers=headers,
                          json={"model": MODEL, "args": args}).json()
        created = time.perf_counter()  # the job's clock started at most this long ago
        job_id = reply["data"]["job_id"]
        while True:
            time.sleep(interval)
            data = http.get(f"{base_url}/api/v1/job/query", params={"id": job_id},
                            headers=headers).json()["data"]
            if data["status"] == 2:
                noticed_after.append(time.perf_counter() - created - seconds)
                url = data["result"]["videos"][0]["url"]
                break
            if data["status"] not in (0, 1):
                raise SystemExit(f"baseline job {job_id} failed: {data}")
        video = http.get(url)
        video.raise_for_status()
        (folder / f"baseline-{i}.mp4").write_bytes(video.content)
    makespan = time.perf_counter() - started
    return {"generations": n, "makespan_s": makespan, "poll_interval_s": interval,
            "sum_latency_s": sum(latencies), "mean_latency_s": statistics.fmean(latencies),
            "median_notice_s": statistics.median(noticed_after),
            "median_notice_share": statistics.median(
                d / s for d, s in zip(noticed_after, latencies, strict=True))}


# --- putting it together --------------------------------------------------------------------


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def analyse(n: int, concurrency: int, hashes: list[str], latency: Any,
            child_data: dict[str, Any], led: dict[str, Any]) -> dict[str, Any]:
    latencies = [latency(h) for h in hashes]
    first: dict[tuple[str, str], float] = {}
    job_of: dict[str, str] = {}
    results: dict[str, int] = {}
    finals = {"delivered", "reused", "failed", "unknown", "pending", "not started"}
    for gid, phase, detail, t in child_data["events"]:
        first.setdefault((gid, phase), t)
        if phase == "submitted":
            job_of[gid] = detail
        if phase in finals:
            results[phase] = results.get(phase, 0) + 1
    creating = [t for (_, phase), t in first.items() if phase == "creating"]
    final_times = [t for (_, phase), t in first.items() if phase in finals]
    makespan = max(final_times) - min(creating)
    by_job = {c["job_id"]: c for c in led["creates"]}
    delays, shares = [], []
    for gid, job_id in job_of.items():
        record = by_job[job_id]
        seconds = latency(record["request_hash"])
        finished = record["created_at"] + seconds
        delay = first[(gid, "downloading")] - finished
        delays.append(delay)
        shares.append(delay / seconds)
    create_s = [first[(g, "submitted")] - first[(g, "creating")] for g in job_of]
    download_s = [first[(g, "delivered")] - first[(g, "downloading")]
                  for g in job_of if (g, "delivered") in first]
    lags = child_data["loop_lags"] or [0.0]
    calls = led["calls"]
    api_calls = sum(calls.get(k, 0) for k in ("create", "query", "download"))
    ideal = ideal_makespan(latencies, concurrency)
    return {
        "generations": n, "concurrency": concurrency,
        "delivered": results.get("delivered", 0), "results": results,
        "exit_code": child_data["exit_code"],
        "creates": len(led["creates"]), "duplicates": len(led["duplicates"]),
        "makespan_s": makespan, "ideal_makespan_s": ideal, "ratio": makespan / ideal,
        "lower_bound_s": max(sum(latencies) / concurrency, max(latencies)),
        "mean_latency_s": statistics.fmean(latencies),
        "median_latency_s": statistics.median(latencies), "max_latency_s": max(latencies),
        "calls": {k: calls.get(k, 0) for k in ("create", "query", "download")},
        "api_calls_per_generation": api_calls / n,
        "connections": led["connections"],
        "median_notice_s": statistics.median(delays),
        "p90_notice_s": _percentile(delays, 0.9), "max_notice_s": max(delays),
        "median_notice_share": statistics.median(shares),
        "p90_notice_share": _percentile(shares, 0.9),
        "execute_cpu_s": child_data["execute_cpu_s"],
        "cpu_per_generation_s": child_data["execute_cpu_s"] / n,
        "process_cpu_s": child_data["process_cpu_s"],
        "execute_wall_s": child_data["execute_wall_s"],
        "process_wall_s": child_data["process_wall_s"], "startup_s": child_data["startup_s"],
        "peak_rss_mb": child_data["peak_rss_mb"],
        "involuntary_switches": child_data["involuntary_switches"],
        "median_create_s": statistics.median(create_s),
        "median_download_s": statistics.median(download_s) if download_s else None,
        "journal_calls": int(child_data["journal_calls"]), "journal_s": child_data["journal_s"],
        # (a tree before the journal thread times only the loop's)
        "journal_thread_calls": int(child_data.get("journal_thread_calls", 0)),
        "journal_thread_s": child_data.get("journal_thread_s", 0.0),
        "journal_thread_cpu_s": child_data.get("journal_thread_cpu_s", 0.0),
        "journal_batches": int(child_data.get("journal_batches", 0)),
        "loop_lag_p50_s": statistics.median(lags), "loop_lag_p99_s": _percentile(lags, 0.99),
        "loop_lag_max_s": max(lags),
        "command": child_data["command"],
    }


def measure(n: int, concurrency: int, baseline_n: int, spec: str, seed: int,
            profile: bool, log: Any, tree: Path = REPO, python: str = sys.executable,
            fraction: float | None = None, callbacks: bool = False) -> dict[str, Any]:
    """One storyboard run (and the baseline) against a fresh sandbox, both from ``tree``;
    with ``callbacks``, ``--callback-listen`` on loopback (the sandbox calls jobs back)."""
    sys.path.insert(0, str(REPO))
    import httpx

    latency = latency_of(spec, seed)
    with tempfile.TemporaryDirectory(prefix="storyboard-run-bench-") as tmp:
        folder = Path(tmp)
        path = write_storyboard(folder, n)
        hashes = plan_hashes(path)
        if len(set(hashes)) != n:
            raise SystemExit(f"the storyboard has {len(set(hashes))} distinct requests, not {n}")
        proc, base_url = start_sandbox(spec, seed, tree, python)
        try:
            with httpx.Client(timeout=30) as http:
                print(f"  {tree}: sandbox at {base_url} (pid {proc.pid}); storyboard run: "
                      f"{n:,} generations, {concurrency} in flight"
                      f"{', callbacks on' if callbacks else ''} …", file=log, flush=True)
                cpu0 = process_cpu(proc.pid)
                prof = folder / "client.pstats" if profile else None
                child_data = run_storyboard(folder, path, base_url, concurrency, prof, tree,
                                            python, fraction, callbacks)
                sandbox_cpu = process_cpu(proc.pid) - cpu0
                led = ledger(http, base_url)
                result = analyse(n, concurrency, hashes, latency, child_data, led)
                result["sandbox_cpu_s"] = sandbox_cpu
                result["callbacks"] = led.get("callbacks", {})
                result["tree"] = str(tree)
                if prof is not None:
                    result["profile"] = profile_text(prof)
                print(f"  storyboard done in {result['makespan_s']:.1f} s; baseline: "
                      f"{baseline_n} generations one at a time …", file=log, flush=True)
                base = None
                if baseline_n:
                    before = led["calls"]
                    base = run_baseline(http, base_url, baseline_n, BASELINE_POLL, latency,
                                        folder)
                    after = ledger(http, base_url)["calls"]
                    base["api_calls_per_generation"] = sum(
                        after.get(k, 0) - before.get(k, 0)
                        for k in ("create", "query", "download")) / baseline_n
                    base["seconds_per_generation"] = base["makespan_s"] / baseline_n
                    result["throughput_ratio"] = (n / result["makespan_s"]) / (
                        baseline_n / base["makespan_s"])
                result["baseline"] = base
        finally:
            stop_sandbox(proc)
    return result


def simulate(n: int, concurrency: int, spec: str, seed: int, fraction: float | None,
             plain: bool = False, rtt: float = 0.005) -> dict[str, Any]:
    """The poll policy alone: the same plan's latencies run on ``concurrency`` slots in
    simulated time with the real ``Expected`` and ``PollPolicy`` (every call takes ``rtt``,
    the client costs nothing), so its calls, noticing and makespan do not depend on how
    loaded the machine is."""
    sys.path.insert(0, str(REPO))
    from storyboard.api.contract import JobState
    from storyboard.execute.latency import Expected
    from storyboard.execute.options import PollPolicy

    latency = latency_of(spec, seed)
    with tempfile.TemporaryDirectory(prefix="storyboard-run-bench-") as tmp:
        latencies = [latency(h) for h in plan_hashes(write_storyboard(Path(tmp), n))]
    now = [0.0]
    expected = Expected(clock=lambda: now[0])
    policy = PollPolicy(POLL_START, POLL_MAX, 0.1 if fraction is None else fraction)
    args = {"mode": "std", "duration": 5}
    pending = JobState(1, done=False, failed=False, url=None, refunded=False, message=None)
    done = JobState(2, done=True, failed=False, url="u", refunded=False, message=None)
    queue: list[tuple[float, int, float]] = []  # (next query, job, created)
    calls, shares, end, started = 0, [], 0.0, 0

    def create(t: float) -> None:
        nonlocal calls, started
        expected.created(str(started), args, t)
        heapq.heappush(queue, (t + rtt, started, t))  # a first query at once, as _poll does
        calls, started = calls + 2, started + 1  # its create and its download

    for _ in range(min(concurrency, n)):
        create(0.0)
    while queue:
        t, job, created = heapq.heappop(queue)
        now[0], calls = t, calls + 1
        if t - created >= latencies[job]:
            expected.seen(str(job), done, t)
            shares.append((t - created - latencies[job]) / latencies[job])
            end = max(end, t)
            if started < n:
                create(t)
        else:
            expected.seen(str(job), pending, t)
            wait = policy.interval(t - created, None if plain else expected.of(args))
            heapq.heappush(queue, (t + wait + rtt, job, created))
    ideal = ideal_makespan(latencies, concurrency)
    return {"fraction": policy.fraction, "plain": plain, "api_calls_per_generation": calls / n,
            "median_notice_share": statistics.median(shares),
            "p90_notice_share": _percentile(shares, 0.9), "ratio": end / ideal}


COMPARED = (  # (label, key, format) of the side-by-side table
    ("makespan / ideal", "ratio", "{:.3f}x"),
    ("API calls per generation", "api_calls_per_generation", "{:.2f}"),
    ("noticing delay / latency, median", "median_notice_share", "pct"),
    ("noticing delay / latency, p90", "p90_notice_share", "pct"),
    ("client CPU per generation (execute)", "cpu_per_generation_s", "ms"),
    ("client CPU, whole process", "process_cpu_s", "{:.2f} s"),
    ("sandbox CPU (other process)", "sandbox_cpu_s", "{:.2f} s"),
    ("journal calls blocking the loop", "journal_s", "{:.2f} s"),
    ("journal calls in the journal thread", "journal_thread_s", "{:.2f} s"),
    ("event-loop lag p99", "loop_lag_p99_s", "ms"),
    ("makespan", "makespan_s", "{:.2f} s"),
    ("delivered", "delivered", "{:,}"),
)


def side_by_side(results: list[dict[str, Any]]) -> str:
    """The figures of runs measured one after the other on the same machine and load."""
    def shown(value: Any, form: str) -> str:
        if form == "pct":
            return f"{100 * value:.1f} %"
        if form == "ms":
            return f"{1000 * value:.2f} ms"
        return form.format(value)

    labels = [r["label"] for r in results]
    width = max(len(label) for label, _, _ in COMPARED)
    cols = [max(14, len(label)) for label in labels]
    lines = ["side by side (each run against its own tree's sandbox, same seed and load):",
             " " * width + "  " + "  ".join(f"{lab:>{c}}" for lab, c in zip(labels, cols,
                                                                         strict=True))]
    for label, key, form in COMPARED:
        lines.append(f"{label:<{width}}  " + "  ".join(
            f"{shown(r[key], form):>{c}}" for r, c in zip(results, cols, strict=True)))
    lines.append("targets (issue 9, item 5):")
    judged = [verdicts(r) for r in results]
    for i, target in enumerate(judged[0]):
        name = target["target"].replace(" delay", "").replace("generation delivered",
                                                               "delivered")
        name = f"  {name}" + ("" if target.get("exact") else
                              f" ≤ {target['limit']:g}{target['unit']}")
        lines.append(f"{name:<{width}}  " + "  ".join(
            f"{'PASS' if v[i]['ok'] else 'FAIL':>{c}}" for v, c in zip(judged, cols,
                                                                       strict=True)))
    return "\n".join(lines)


def profile_text(path: Path, limit: int = 25) -> str:
    import io
    import pstats

    out = io.StringIO()
    stats = pstats.Stats(str(path), stream=out)
    stats.sort_stats("tottime").print_stats(limit)
    stats.sort_stats("cumulative").print_stats("storyboard|rich|sqlite|av", limit * 2)
    stats.sort_stats("cumulative").print_stats(limit)
    return out.getvalue()


def verdicts(r: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"target": "makespan / ideal", "value": r["ratio"], "limit": TARGET_RATIO, "unit": "x",
         "ok": r["ratio"] <= TARGET_RATIO},
        {"target": "median noticing delay / latency", "value": 100 * r["median_notice_share"],
         "limit": 100 * TARGET_NOTICE, "unit": "%",
         "ok": r["median_notice_share"] <= TARGET_NOTICE},
        {"target": "client CPU per generation", "value": 1000 * r["cpu_per_generation_s"],
         "limit": 1000 * TARGET_CPU, "unit": " ms", "ok": r["cpu_per_generation_s"] <= TARGET_CPU},
        {"target": "API calls per generation", "value": r["api_calls_per_generation"],
         "limit": TARGET_CALLS, "unit": "", "ok": r["api_calls_per_generation"] <= TARGET_CALLS},
        {"target": "every generation delivered once",
         "value": r["delivered"], "limit": r["generations"], "unit": "", "ok": (
             r["delivered"] == r["creates"] == r["generations"] and r["duplicates"] == 0
             and r["exit_code"] == 0), "exact": True},
    ]


def report(r: dict[str, Any], checks: list[dict[str, Any]], spec: str, seed: int,
           load: tuple[float, float]) -> str:
    b = r["baseline"]
    n = r["generations"]
    rows = [
        ("makespan (first create → last delivered)", f"{r['makespan_s']:.2f} s"),
        (f"ideal makespan (list schedule, {r['concurrency']} slots)",
         f"{r['ideal_makespan_s']:.2f} s"),
        ("ratio makespan / ideal", f"{r['ratio']:.3f}x"),
        ("  lower bound max(Σlatency/slots, max)", f"{r['lower_bound_s']:.2f} s"),
        ("latency median / mean / max", f"{r['median_latency_s']:.2f} / "
         f"{r['mean_latency_s']:.2f} / {r['max_latency_s']:.2f} s"),
        ("API calls per generation", f"{r['api_calls_per_generation']:.2f}"),
        ("  create / query / download", " / ".join(f"{v:,}" for v in r["calls"].values())),
        ("  TCP connections opened", f"{r['connections']:,}"),
        ("callbacks (sandbox ledger)", ", ".join(
            f"{k} {v:,}" for k, v in sorted(r.get("callbacks", {}).items())) or "none"),
        ("noticing delay median (p90, max)", f"{r['median_notice_s'] * 1000:.0f} "
         f"({r['p90_notice_s'] * 1000:.0f}, {r['max_notice_s'] * 1000:.0f}) ms"),
        ("noticing delay / job latency, median (p90)",
         f"{100 * r['median_notice_share']:.1f} % ({100 * r['p90_notice_share']:.1f} %)"),
        ("client CPU per generation (execute)", f"{r['cpu_per_generation_s'] * 1000:.2f} ms"),
        ("  client CPU execute / whole process", f"{r['execute_cpu_s']:.2f} / "
         f"{r['process_cpu_s']:.2f} s"),
        ("  client wall execute / whole process", f"{r['execute_wall_s']:.2f} / "
         f"{r['process_wall_s']:.2f} s (start-up {r['startup_s']:.2f} s)"),
        ("client peak RSS", f"{r['peak_rss_mb']:.1f} MB"),
        ("per generation, median: create / download", f"{r['median_create_s'] * 1000:.1f} / "
         f"{r['median_download_s'] * 1000:.1f} ms (journal write included)"),
        ("journal calls on the event loop", f"{r['journal_calls']:,} calls, "
         f"{r['journal_s']:.2f} s blocking"),
        ("journal calls in the journal thread", f"{r['journal_thread_calls']:,} calls in "
         f"{r['journal_batches']:,} transactions, {r['journal_thread_s']:.2f} s "
         f"({r['journal_thread_cpu_s']:.2f} s CPU)"),
        (f"event-loop lag ({LAG_TICK * 1000:g} ms ticks) p50 / p99 / max",
         f"{r['loop_lag_p50_s'] * 1000:.1f} / {r['loop_lag_p99_s'] * 1000:.1f} / "
         f"{r['loop_lag_max_s'] * 1000:.1f} ms"),
        ("sandbox CPU (other process)", f"{r['sandbox_cpu_s']:.2f} s"),
        ("delivered / creates / duplicates",
         f"{r['delivered']:,} / {r['creates']:,} / {r['duplicates']}"),
    ]
    if b is not None:
        rows += [
            (f"baseline: {b['generations']} one at a time, poll every "
             f"{b['poll_interval_s']:.3f} s", f"{b['makespan_s']:.2f} s"),
            ("  baseline s per generation (Σlatency/n)",
             f"{b['seconds_per_generation']:.2f} ({b['sum_latency_s'] / b['generations']:.2f})"),
            ("  baseline API calls per generation", f"{b['api_calls_per_generation']:.2f}"),
            ("  baseline noticing delay median", f"{b['median_notice_s'] * 1000:.0f} ms "
             f"({100 * b['median_notice_share']:.1f} %)"),
            ("throughput storyboard / baseline", f"{r['throughput_ratio']:.1f}x "
             f"({n / r['makespan_s']:.1f} vs {b['generations'] / b['makespan_s']:.2f} gen/s)"),
        ]
    width = max(len(k) for k, _ in rows)
    lines = [
        f"storyboard run benchmark — Python {sys.version.split()[0]}, {os.cpu_count()} CPUs; "
        f"{n:,} generations, concurrency {r['concurrency']}",
        f"sandbox in its own process; latency {spec} (seed {seed}), i.e. real times / "
        f"{SCALE:g}",
        f"poll: storyboard start {POLL_START:.3f} s, max {POLL_MAX:.3f} s, 10 % of elapsed at "
        f"the expected finish (defaults / {SCALE:g}); baseline fixed {BASELINE_POLL:.3f} s "
        f"(4 s / {SCALE:g})",
        f"command: {r['command']}",
        f"1-min load average {load[0]:.2f} before, {load[1]:.2f} after",
        "",
    ]
    lines += [f"{k:<{width}}  {v}" for k, v in rows]
    lines.append("")
    for c in checks:
        verdict = {True: "PASS", False: "FAIL"}[c["ok"]]
        if c.get("exact"):
            lines.append(f"{verdict}  {c['target']:<34} {c['value']:>10,}   "
                         f"(target {c['limit']:,}, no duplicates, exit 0)")
        else:
            lines.append(f"{verdict}  {c['target']:<34} {c['value']:>9.2f}{c['unit']}   "
                         f"(target ≤ {c['limit']:g}{c['unit']})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--generations", type=int, default=DEFAULT_GENERATIONS)
    parser.add_argument("--concurrency", type=int, default=DEFAULT_CONCURRENCY)
    parser.add_argument("--baseline", type=int, default=DEFAULT_BASELINE,
                        help="generations for the one-at-a-time baseline (0: skip)")
    parser.add_argument("--latency", default=LATENCY, help="sandbox latency spec")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--profile", action="store_true",
                        help="cProfile the client's execute (inflates its CPU figures)")
    parser.add_argument("--json", action="store_true", help="print results as JSON")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 when a target is missed (by the callbacks run, with "
                             "--ways both)")
    parser.add_argument("--against", type=Path, metavar="DIR",
                        help="run each way first with another checkout (its client and "
                             "sandbox, with DIR/.venv/bin/python), then with this one, and "
                             "print their figures side by side")
    parser.add_argument("--fraction", type=float, metavar="F",
                        help="this tree's PollPolicy.fraction (default 0.1): fewer calls or "
                             "a quicker notice, one point of the trade-off per run")
    parser.add_argument("--ways", choices=sorted(WAYS), default="both",
                        help="how this tree's storyboard notices finished jobs: polling, "
                             "callbacks (--callback-listen 127.0.0.1:0), or both, one after "
                             "the other, side by side (default)")
    parser.add_argument("--simulate", action="store_true",
                        help="only the poll policy, in simulated time (no sandbox, no load)")
    parser.add_argument("--plain", action="store_true",
                        help="with --simulate: the interval a fraction of the elapsed time "
                             "everywhere, without the expected finish (the rule before it)")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child)
        return 0
    if args.generations < 1 or args.concurrency < 1 or args.baseline < 0:
        parser.error("--generations and --concurrency must be ≥ 1, --baseline ≥ 0")
    if args.simulate:
        sim = simulate(args.generations, args.concurrency, args.latency, args.seed,
                       args.fraction, args.plain)
        print(json.dumps(sim, indent=2) if args.json else (
            f"poll policy alone (simulated time, {args.generations:,} generations, "
            f"{args.concurrency} slots, fraction {sim['fraction']:g}"
            f"{', plain rule' if args.plain else ''}): "
            f"{sim['api_calls_per_generation']:.2f} API calls per generation, noticing "
            f"{100 * sim['median_notice_share']:.2f} % of latency median "
            f"({100 * sim['p90_notice_share']:.1f} % p90), makespan "
            f"{sim['ratio']:.3f}x ideal"))
        return 0
    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    compared = []
    tree = args.against.resolve() if args.against is not None else None
    python = tree / ".venv" / "bin" / "python" if tree is not None else None
    if tree is not None and (not (tree / "bench" / "run_bench.py").is_file()
                             or python is None or not python.is_file()):
        parser.error(f"--against {tree}: needs bench/run_bench.py and .venv/bin/python")
    results = []
    for n, way in enumerate(WAYS[args.ways]):  # the baseline and a profile: the first way's
        callbacks = way == "callbacks"
        if tree is not None:  # the other checkout first, the same way, then this one
            other = measure(args.generations, args.concurrency, 0, args.latency, args.seed,
                            False, sys.stderr, tree, str(python), callbacks=callbacks)
            other["label"] = f"{tree.name} {way}"
            compared.append(other)
        result = measure(args.generations, args.concurrency, 0 if n else args.baseline,
                         args.latency, args.seed, args.profile and not n, sys.stderr,
                         fraction=None if callbacks else args.fraction, callbacks=callbacks)
        result["label"] = way if callbacks or args.fraction is None else (
            f"fraction {args.fraction:g}")
        results.append(result)
    load = (load_before, os.getloadavg()[0])
    checks = [verdicts(r) for r in results]
    profile = results[0].pop("profile", None)
    if args.json:
        print(json.dumps({"python": sys.version.split()[0], "cpus": os.cpu_count(),
                          "latency": args.latency, "seed": args.seed, "scale": SCALE,
                          "poll": {"start": POLL_START, "max": POLL_MAX,
                                   "baseline": BASELINE_POLL},
                          "load_average_1min": load,
                          "results": {r["label"]: r for r in results},
                          "targets": {r["label"]: c for r, c in zip(results, checks,
                                                                     strict=True)},
                          "compared": compared,
                          "elapsed_s": time.perf_counter() - started}, indent=2))
    else:
        for r, c in zip(results, checks, strict=True):
            print(f"=== {r['label']} ===\n" + report(r, c, args.latency, args.seed, load) + "\n")
        if len(compared) + len(results) > 1:
            print(side_by_side([*compared, *results]))
        if profile:
            print("\nclient profile (execute only):\n" + profile)
        print(f"\n(total benchmark time {time.perf_counter() - started:.0f} s)")
    # the last way is the one meant to meet every target (with both: callbacks)
    missed = any(c["ok"] is False for c in checks[-1])
    return 1 if (args.check and missed) else 0


if __name__ == "__main__":
    sys.exit(main())
