"""Startup benchmark: `storyboard validate FILE` and `--help` against yamllint on the same file.

`storyboard validate` runs on every commit through pre-commit, beside linters such as
yamllint; it should cost no more than they do. Each command runs in a fresh process
(the interpreter, every import and the work, as pre-commit pays it), N times,
interleaved round by round so that a busy machine slows all of them alike; the best
time of each is what its code costs (the median is shown too). Each child's CPU time
(user + system) is shown beside it: on a shared machine it moves far less than wall
time. Printed: those times, the bare interpreter as the floor, and the ratios
`validate / yamllint` and `--help / yamllint` of the best wall times (the target,
≤ 1.0 for both) and of the least CPU times.

All commands run as `sys.executable -m …` from this interpreter, so none depends on
what is on PATH. yamllint is a bench-only dependency: `pip install -e '.[bench]'`.
Both run from bytecode, as pip-installed packages (and pre-commit's environments) do:
the children may write `__pycache__` even where PYTHONDONTWRITEBYTECODE is set, and
a first untimed run of each writes it.

    python bench/startup_bench.py                    # examples/launch.yaml, best of 21
    python bench/startup_bench.py --repeat 41 FILE
    python bench/startup_bench.py --json             # machine-readable results
    python bench/startup_bench.py --check            # exit 1 when a ratio is over 1.0
    python bench/startup_bench.py --floor            # and validate's imports alone

``--floor`` also times a process that imports, in order, every module `storyboard
validate FILE` loads beyond storyboard's own code (PyYAML, Jinja2 and the standard
library) and nothing else: what validate would cost with storyboard's code, its
classes and its work taking no time at all.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_FILE = REPO / "examples" / "launch.yaml"
TARGET = 1.0


def commands(file: Path, floor: list[str] | None = None) -> dict[str, list[str]]:
    python = [sys.executable]
    runs = {
        "python -c pass": [*python, "-c", "pass"],
        "yamllint FILE": [*python, "-m", "yamllint", str(file)],
        "storyboard validate FILE": [*python, "-m", "storyboard", "validate", str(file)],
        "storyboard --help": [*python, "-m", "storyboard", "--help"],
    }
    if floor is not None:
        runs[FLOOR] = [*python, "-c", "import importlib\n"
                       f"for name in {floor!r}:\n"
                       "    try:\n        importlib.import_module(name)\n"
                       "    except ImportError:\n        pass\n"]
    return runs


FLOOR = "validate's imports alone"


def imports_of_validate(file: Path) -> list[str]:
    """The modules `storyboard validate FILE` loads that are not storyboard's own (PyYAML,
    Jinja2, the standard library), in import order: importing just these is the floor
    under validate that no change to storyboard's code can go below."""
    code = ("import json, sys\nbefore = set(sys.modules)\nfrom storyboard.cli import main\n"
            f"sys.argv = ['storyboard', 'validate', {str(file)!r}]\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "print(json.dumps([m for m in sys.modules if m not in before "
            "and m.split('.')[0] != 'storyboard']), file=sys.stderr)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=REPO, env=ENV, check=True)
    modules: list[str] = json.loads(done.stderr.strip().splitlines()[-1])
    return modules


ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def check_setup(file: Path) -> None:
    """Each command works here (and has written its bytecode): validate accepts the file,
    so what is timed is the valid-file path."""
    for name, argv in commands(file).items():
        done = subprocess.run(argv, capture_output=True, text=True, cwd=REPO, env=ENV,
                              check=False)
        # yamllint exits 1 on style warnings (line length): it has still read the file
        if name == "yamllint FILE" and "No module named yamllint" in done.stderr:
            raise SystemExit("yamllint is not installed: pip install -e '.[bench]'")
        if name.startswith("storyboard") and done.returncode != 0:
            raise SystemExit(f"{name} failed ({done.returncode}):\n{done.stdout}{done.stderr}")


def measure(file: Path, repeat: int, floor: list[str] | None = None
            ) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Wall and CPU seconds of each run of each command."""
    runs = commands(file, floor)
    wall: dict[str, list[float]] = {name: [] for name in runs}
    cpu: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeat):
        for name, argv in runs.items():
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           cwd=REPO, env=ENV, check=False)
            wall[name].append(time.perf_counter() - start)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu[name].append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return wall, cpu


def ratios(values: dict[str, float]) -> dict[str, float]:
    return {"validate / yamllint": values["storyboard validate FILE"] / values["yamllint FILE"],
            "--help / yamllint": values["storyboard --help"] / values["yamllint FILE"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", nargs="?", type=Path, default=DEFAULT_FILE)
    parser.add_argument("--repeat", type=int, default=21, help="fresh processes per command")
    parser.add_argument("--json", action="store_true", help="print results as JSON")
    parser.add_argument("--check", action="store_true", help="exit 1 when a ratio is over 1.0")
    parser.add_argument("--floor", action="store_true",
                        help="also time importing only what validate imports beyond "
                        "storyboard's own code (the floor under it)")
    args = parser.parse_args()
    file = args.file.resolve()
    check_setup(file)
    wall, cpu = measure(file, args.repeat, imports_of_validate(file) if args.floor else None)
    best = {name: min(values) for name, values in wall.items()}
    median = {name: statistics.median(values) for name, values in wall.items()}
    least_cpu = {name: min(values) for name, values in cpu.items()}
    wall_ratios, cpu_ratios = ratios(best), ratios(least_cpu)
    if args.json:
        print(json.dumps({"file": str(file), "repeat": args.repeat, "best_s": best,
                          "median_s": median, "least_cpu_s": least_cpu,
                          "ratios": wall_ratios, "cpu_ratios": cpu_ratios, "target": TARGET},
                         indent=2))
    else:
        print(f"{file.name}: wall time best and median, and least CPU time, of "
              f"{args.repeat} fresh processes each (Python {sys.version.split()[0]})")
        for name in wall:
            print(f"  {name:26s} best {best[name] * 1000:6.1f} ms   median "
                  f"{median[name] * 1000:6.1f} ms   CPU {least_cpu[name] * 1000:6.1f} ms")
        for name, ratio in wall_ratios.items():
            verdict = "PASS" if ratio <= TARGET else "FAIL"
            print(f"  {name:26s} {ratio:5.2f}   (target ≤ {TARGET:.1f})  {verdict}   "
                  f"CPU {cpu_ratios[name]:5.2f}")
        if FLOOR in best:
            print(f"  {'imports alone / yamllint':26s} "
                  f"{best[FLOOR] / best['yamllint FILE']:5.2f}   (no storyboard code)   "
                  f"CPU {least_cpu[FLOOR] / least_cpu['yamllint FILE']:5.2f}")
    return 1 if args.check and max(wall_ratios.values()) > TARGET else 0


if __name__ == "__main__":
    sys.exit(main())
