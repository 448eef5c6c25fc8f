"""Hostile-input benchmark: issue 8's attack list, each case in a fresh process.

Every case is a real command line (``python -m storyboard …``) on a scratch project in a
temporary folder. For each it prints the exit code, wall seconds (interpreter start-up
included; the fastest of ``--repeat`` runs, as the machine is shared) and the child's
peak RSS (``ru_maxrss`` from ``os.wait4``; Linux starts it at this process's own RSS,
which is kept small), then the number of exit-70s (target 0), the slowest case and the
peak memory. The first row, ``--version``, is start-up alone, for reference; "work" is a
case's seconds beyond it. Targets per case: refused (exit 1–3, or 0 where the attack is
harmless) in under 1 s wall, under 200 MB, never exit 70.

    python bench/hostile_bench.py            # from any directory; about a minute
    python bench/hostile_bench.py --json     # machine-readable
    python bench/hostile_bench.py --check    # exit 1 when a target is missed

Cases marked (hostile-state) are saved-plan attacks fixed on that branch; they are here
so that the same list is measured before and after the merge.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
TIMEOUT_S = 90.0
TARGET_SECONDS = 1.0
TARGET_MB = 200.0
HEADER = "storyboard: 1\nname: hostile\n"


@dataclass(frozen=True)
class Case:
    name: str
    args: list[str]  # after `python -m storyboard`; {dir} is the scratch project


@dataclass(frozen=True)
class Result:
    name: str
    exit: int | None  # None: killed after TIMEOUT_S
    seconds: float
    peak_mb: float
    lines: int
    first_line: str


def _prompt(template: str, before: str = "") -> str:
    return f"{HEADER}{before}clips:\n  - id: a\n    prompt: {json.dumps(template)}\n"


def _doubled(operator: str) -> str:
    steps = "".join(f"{{% set s = s {operator} s %}}" for _ in range(14))
    return _prompt("{% set s = 'x' * 50000 %}" + steps + "{{ s | length }}")


def _chained_vars() -> str:
    chain = "".join(f"  v{n}: \"{{{{ v{n - 1} }}}}{{{{ v{n - 1} }}}}\"\n" for n in range(1, 41))
    return (f"{HEADER}vars:\n  v0: \"{{{{ 'x' * 1000 }}}}\"\n{chain}"
            "clips:\n  - {id: a, prompt: \"{{ v40 | length }}\"}\n")


def _many_large_templates() -> str:
    body = "{{ 'x' }}" + " " * 190_000
    clips = "".join(f"  - id: c{n}\n    prompt: {json.dumps(body)}\n" for n in range(20))
    return f"{HEADER}clips:\n{clips}"


MATRIX6 = "variants:\n  matrix: {market: [us, jp, de], format: [wide, tall]}\n"
LOOP = "{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}{% endfor %}x"

# file name -> content (str or a function writing it), written into the scratch project
FILES: dict[str, str | Callable[[Path], None]] = {
    "tilde.yaml": _doubled("~"),
    "plus.yaml": _doubled("+"),
    "format.yaml": _prompt("{{ '{:>999999999}'.format('x') }}"),
    "vars.yaml": _chained_vars(),
    "include.yaml": _prompt("{% include 'big.txt' %}"),
    "big.txt": lambda p: _write_big(p, b"", b"x", 40 * 1024 * 1024),
    "loop.yaml": _prompt(LOOP, MATRIX6),
    "parens.yaml": _prompt("{{ " + "(" * 3000 + "1" + ")" * 3000 + " }}"),
    "ifs.yaml": _prompt("{% if true %}" * 500 + "x" + "{% endif %}" * 500),
    "fors.yaml": _prompt("".join(f"{{% for i{n} in [1] %}}" for n in range(200)) + "x"
                         + "{% endfor %}" * 200),
    "folding.yaml": _prompt("{{ (1.5)[0] or 1 }}"),
    "sources.yaml": _many_large_templates(),
    "to_bytes.yaml": _prompt("{{ (1).to_bytes(999999999, 'big') }}"),
    "macro.yaml": _prompt("{% macro m(n) %}{{ m(n) }}{{ m(n) }}{% endmacro %}{{ m(1) }}"),
    "rows.yaml": f"{HEADER}variants:\n  rows: tiny.csv\nclips:\n  - {{id: a, prompt: x}}\n",
    "tiny.csv": lambda p: _write_big(p, b"a\n", b"1\n", 20 * 1024 * 1024 - 2),
}

CASES = [
    Case("reference: --version (start-up only)", ["--version"]),
    Case("template: ~ doubling 14 times", ["validate", "{dir}/tilde.yaml"]),
    Case("template: + doubling 14 times", ["validate", "{dir}/plus.yaml"]),
    Case("template: '{:>999999999}'.format('x')", ["validate", "{dir}/format.yaml"]),
    Case("template: 40 chained vars", ["validate", "{dir}/vars.yaml"]),
    Case("template: 40 MB include", ["validate", "{dir}/include.yaml"]),
    Case("template: range(99999)² in 6 variants", ["validate", "{dir}/loop.yaml"]),
    Case("template: 3,000-deep parentheses", ["validate", "{dir}/parens.yaml"]),
    Case("template: 500 nested {% if %}", ["validate", "{dir}/ifs.yaml"]),
    Case("template: 200 nested {% for %}", ["validate", "{dir}/fors.yaml"]),
    Case("template: {{ (1.5)[0] or 1 }}", ["validate", "{dir}/folding.yaml"]),
    Case("template: 20 sources of 190,000 chars", ["validate", "{dir}/sources.yaml"]),
    Case("template: (1).to_bytes(999999999)", ["validate", "{dir}/to_bytes.yaml"]),
    Case("template: macro calling itself twice", ["validate", "{dir}/macro.yaml"]),
    Case("rows: 20 MiB CSV of one-character rows", ["validate", "{dir}/rows.yaml"]),
    Case("option: --pricing /dev/zero", ["plan", "{dir}/launch.yaml", "--pricing", "/dev/zero"]),
    Case("option: --max-cost 1e999", ["plan", "{dir}/launch.yaml", "--max-cost", "1e999"]),
    Case("option: --poll-start nan", ["run", "{dir}/launch.yaml", "--sandbox", "--yes",
                                      "--poll-start", "nan"]),
    Case("option: --poll-start inf --poll-max inf",
         ["run", "{dir}/launch.yaml", "--sandbox", "--yes", "--poll-start", "inf",
          "--poll-max", "inf"]),
    Case("option: --rate 1e-300", ["run", "{dir}/launch.yaml", "--sandbox", "--yes",
                                   "--rate", "1e-300"]),
    Case("option: --poll-max nan", ["run", "{dir}/launch.yaml", "--sandbox", "--yes",
                                    "--poll-max", "nan"]),
    Case("option: --state ''", ["run", "{dir}/launch.yaml", "--sandbox", "--yes",
                                "--state", ""]),
    Case("option: --out ''", ["run", "{dir}/launch.yaml", "--sandbox", "--yes", "--out", ""]),
    Case("git: --against HEAD, absolute symlink",
         ["plan", "{dir}/launch.yaml", "--against", "HEAD"]),
    Case("plan JSON: cost_usd \"1e999\" (hostile-state)",
         ["diff", "{dir}/plan-cost.json", "{dir}/plan-cost.json"]),
    Case("plan JSON: \"pricing\": true (hostile-state)",
         ["diff", "{dir}/plan-pricing.json", "{dir}/plan-pricing.json"]),
]


def _write_big(path: Path, head: bytes, piece: bytes, size: int) -> None:
    """``head``, then ``piece`` repeated to ``size`` bytes in all, written a MiB at a time:
    the children inherit this process's peak RSS as the floor of their ru_maxrss."""
    chunk = piece * (1024 * 1024 // len(piece))
    with path.open("wb") as out:
        out.write(head)
        left = size - len(head)
        while left > 0:
            out.write(chunk[:left])
            left -= len(chunk)


def _prepare(folder: Path) -> None:
    shutil.copy(REPO / "examples" / "launch.yaml", folder / "launch.yaml")
    for name, content in FILES.items():
        if callable(content):
            content(folder / name)
        else:
            (folder / name).write_text(content, encoding="utf-8")
    (folder / "passwd.txt").symlink_to("/etc/passwd")
    git = ["git", "-c", "user.email=bench@example.org", "-c", "user.name=bench"]
    for args in (["init", "-q"], ["add", "launch.yaml", "passwd.txt"], ["commit", "-qm", "x"]):
        subprocess.run([*git, *args], cwd=folder, check=True, capture_output=True)
    saved = folder / "plan.json"
    subprocess.run([sys.executable, "-m", "storyboard", "plan", str(folder / "launch.yaml"),
                    "--out", str(saved)], check=True, capture_output=True, cwd=folder)
    plan = json.loads(saved.read_text())
    for name, edit in (("plan-cost.json", _cost_1e999), ("plan-pricing.json", _pricing_true)):
        (folder / name).write_text(json.dumps(edit(json.loads(json.dumps(plan)))))


def _cost_1e999(plan: dict) -> dict:  # type: ignore[type-arg]
    plan["generations"][0]["cost_usd"] = "1e999"
    return plan


def _pricing_true(plan: dict) -> dict:  # type: ignore[type-arg]
    plan["pricing"] = True
    return plan


def _run(case: Case, folder: Path) -> Result:
    args = [a.replace("{dir}", str(folder)) for a in case.args]
    env = {**os.environ, "SHORTAPI_KEY": "", "PYTHONPATH": str(REPO)}
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        child = subprocess.Popen([sys.executable, "-m", "storyboard", *args], cwd=folder,
                                 stdin=subprocess.DEVNULL, stdout=out,
                                 stderr=err, env=env, start_new_session=True)
        code: int | None = None
        while True:
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                code = os.waitstatus_to_exitcode(status)
                break
            if time.perf_counter() - started > TIMEOUT_S:
                os.killpg(child.pid, signal.SIGKILL)
                _, _, usage = os.wait4(child.pid, 0)
                break
            time.sleep(0.005)
        child.returncode = code if code is not None else -9  # reaped by wait4 above
        seconds = time.perf_counter() - started
        err.seek(0)
        lines = err.read().decode("utf-8", "replace").splitlines()
        if not lines and code != 0:  # validate reports its problems on stdout
            out.seek(0)
            lines = out.read().decode("utf-8", "replace").splitlines()
    return Result(case.name, code, seconds, usage.ru_maxrss / 1024,
                  len(lines), lines[0] if lines else "")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="machine-readable results")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs per case; the fastest is shown (default 3)")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="storyboard-hostile-") as tmp:
        folder = Path(tmp)
        _prepare(folder)
        results = [min((_run(case, folder) for _ in range(max(options.repeat, 1))),
                       key=lambda r: r.seconds) for case in CASES]
    results, reference = results[1:], results[0]
    exit70 = [r for r in results if r.exit == 70]
    slowest = max(results, key=lambda r: r.seconds)
    heaviest = max(results, key=lambda r: r.peak_mb)
    missed = [r for r in results if r.exit in (70, None) or r.seconds >= TARGET_SECONDS
              or r.peak_mb >= TARGET_MB]
    if options.json:
        print(json.dumps({"results": [asdict(r) for r in results], "exit70": len(exit70),
                          "slowest": asdict(slowest), "peak": asdict(heaviest),
                          "missed": [r.name for r in missed]}, indent=2))
    else:
        print(f"storyboard hostile-input benchmark — {len(results)} cases, each a fresh "
              f"`python -m storyboard` (Python {sys.version.split()[0]}, "
              f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f})")
        print(f"{'case':<44} {'exit':>4} {'seconds':>7} {'work':>5} {'peak MB':>7}  "
              "first line of output")
        print("-" * 110)
        for r in [reference, *results]:
            shown = "kill" if r.exit is None else str(r.exit)
            line = r.first_line.replace(str(Path(tmp)), "…")
            more = f" (+{r.lines - 1} lines)" if r.lines > 1 else ""
            work = max(r.seconds - reference.seconds, 0.0)
            print(f"{r.name:<44} {shown:>4} {r.seconds:>7.2f} {work:>5.2f} {r.peak_mb:>7.1f}  "
                  f"{line[:80]}{more}")
        print("-" * 110)
        print(f"exit 70: {len(exit70)} (target 0){': ' if exit70 else ''}"
              f"{', '.join(r.name for r in exit70)}")
        print(f"slowest: {slowest.name} — {slowest.seconds:.2f} s (target < {TARGET_SECONDS:g} s; "
              f"start-up alone {reference.seconds:.2f} s)")
        print(f"peak memory: {heaviest.name} — {heaviest.peak_mb:.1f} MB "
              f"(target < {TARGET_MB:g} MB)")
        print(f"targets missed: {len(missed)}{': ' if missed else ''}"
              f"{', '.join(r.name for r in missed)}")
    return 1 if options.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
