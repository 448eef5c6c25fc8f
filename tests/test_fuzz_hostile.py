"""Issue 8 item 9: a seeded fuzz of hostile templates and option values that stays.

Every case ends as a result or as a StoryboardError whose lines say where — never
another exception (exit 70), never a traceback — within a memory bound (the peak of
Python allocations while the case runs, traced) and a generous per-case deadline.
"""

from __future__ import annotations

import json
import re
import shutil
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storyboard.cli import cli
from storyboard.compile import plan_file
from storyboard.errors import SourceError, StoryboardError

REPO = Path(__file__).resolve().parent.parent
MAX_TRACED_MB = 100  # far above what any bounded case allocates, far below an attack
LOCATED = re.compile(r"^.+:\d+:\d+: error: ")

HOSTILE = settings(max_examples=120, derandomize=True, deadline=10_000, database=None,
                   suppress_health_check=[HealthCheck.function_scoped_fixture,
                                          HealthCheck.too_slow])

# --- templates ---------------------------------------------------------------------------

ATOMS = ["'x'", "s", "n", "99999", "999999999", "2 ** 64", "1e308", "(1.5)", "none", "[s, s]",
         "{'a': s}", "range(99999)", "variant", "'%s'", "'{}'", "'\\t'", "[]", "-1", "True"]
BINARY = ["{a} ~ {b}", "{a} + {b}", "{a} * {b}", "{a} ** {b}", "{a} % {b}", "({a}, {b})",
          "{a}[{b}]", "{a} or {b}", "{a} and {b}", "{a} if {b} else {a}", "[{a}] * {b}",
          "{a}.format({b})", "{a}.ljust({b})", "{a}.center({b})", "{a}.zfill({b})",
          "{a}.replace('', {b})", "{a}.join({b})", "{a}.expandtabs({b})",
          "{a} | center({b})", "{a} | indent({b})", "{a} | join({b})", "{a} | format({b})",
          "{a} | replace('', {b})", "{a} | wordwrap(1, wrapstring={b})", "{a} | batch({b}, 'x')",
          "{a} | slice({b})", "{a} | map('string') | join({b})", "({a}) | string * {b}",
          "{a}.encode().center({b})", "(1).to_bytes({b}, 'big')", "{a} | tojson | length"]
UNARY = ["{a} | list", "{a} | sum", "{a} | unique | list", "{a} | sort", "{a} | length",
         "not {a}", "-{a}", "({a})", "{a} | upper", "{a} | default('d')", "{a}.items()"]


def _expression(draw: st.DrawFn, depth: int) -> str:
    if depth == 0 or draw(st.integers(0, 3)) == 0:
        return draw(st.sampled_from(ATOMS))
    if draw(st.booleans()):
        form = draw(st.sampled_from(UNARY))
        return form.format(a=_expression(draw, depth - 1))
    form = draw(st.sampled_from(BINARY))
    return form.format(a=f"({_expression(draw, depth - 1)})",
                       b=f"({_expression(draw, depth - 1)})")


@st.composite
def hostile_templates(draw: st.DrawFn) -> str:
    parts = []
    for _ in range(draw(st.integers(1, 4))):
        expr = _expression(draw, 4)
        kind = draw(st.sampled_from(["print", "set", "loop", "nest", "macro", "block"]))
        if kind == "print":
            parts.append(f"{{{{ {expr} }}}}")
        elif kind == "set":
            parts.append(f"{{% set s = {expr} %}}{{{{ s | length }}}}")
        elif kind == "loop":
            parts.append(f"{{% for i in {expr} %}}{{% for j in range(99999) %}}{{{{ s }}}}"
                         "{% endfor %}{% endfor %}")
        elif kind == "nest":
            depth = draw(st.sampled_from([5, 20, 60, 600]))
            opener = draw(st.sampled_from(["(", "[", "{% if true %}", "{% for i in [1] %}",
                                           "not ", "- "]))
            closer = {"(": ")", "[": "]", "{% if true %}": "{% endif %}",
                      "{% for i in [1] %}": "{% endfor %}"}.get(opener, "")
            inner = f"{{{{ {opener * depth}1{closer * depth} }}}}" if opener in "([not - " \
                else f"{opener * depth}x{closer * depth}"
            parts.append(inner)
        elif kind == "macro":
            parts.append("{% macro m(k) %}{{ m(k) }}{{ m(k) }}{% endmacro %}{{ m(" + expr + ") }}")
        else:
            parts.append(f"{{% set b %}}{{% for i in range(99999) %}}{{{{ {expr} }}}}"
                         "{% endfor %}{% endset %}{{ b | length }}")
    template = "".join(parts)
    for _ in range(draw(st.sampled_from([0, 0, 0, 1, 2]))):  # and a little broken syntax
        at = draw(st.integers(0, len(template)))
        piece = draw(st.sampled_from(["{{", "}}", "{%", "%}", "((", "|", "~", "'", "\n", "#}"]))
        template = template[:at] + piece + template[at:]
    return template


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hostile")
    (root / "big.txt").write_bytes(b"x" * (MAX_TRACED_MB * 1024 * 1024))
    (root / "self.j2").write_text("{% include 'self.j2' %}{% include 'self.j2' %}")
    return root


@pytest.fixture(scope="module")
def traced() -> Iterator[None]:
    tracemalloc.start()
    yield
    tracemalloc.stop()


PLACES = ("prompt", "var", "variant id")


def _compile(project: Path, template: str, place: str = "prompt") -> None:
    """``template`` as a clip's prompt, a var the prompt prints, or the variants' id."""
    quoted = json.dumps(template)
    var = f"  t: {quoted}\n" if place == "var" else ""
    vid = f"  id: {quoted}\n" if place == "variant id" else ""
    prompt = "\"{{ t }}\"" if place == "var" else quoted if place == "prompt" else "x"
    path = project / "fuzz.yaml"
    path.write_text("storyboard: 1\nname: fuzz\nvars:\n  s: \"{{ 'x' * 1000 }}\"\n  n: 7\n"
                    f"{var}variants:\n{vid}  matrix: {{market: [us, jp, de]}}\n"
                    f"clips:\n  - id: a\n    prompt: {prompt}\n",
                    encoding="utf-8", errors="surrogatepass")
    tracemalloc.reset_peak()
    try:
        plan_file(path)
    except SourceError as exc:
        assert exc.lines()
        assert all(LOCATED.match(line) for line in exc.lines()), exc.lines()
    except StoryboardError as exc:
        assert exc.lines()
    peak_mb = tracemalloc.get_traced_memory()[1] / 1024 / 1024
    assert peak_mb < MAX_TRACED_MB, f"{peak_mb:.0f} MB for {template!r}"


@HOSTILE
@given(template=hostile_templates(), place=st.sampled_from(PLACES))
def test_hostile_templates_end_in_a_located_line_within_bounds(
        project: Path, traced: None, template: str, place: str) -> None:
    _compile(project, template, place)


@pytest.mark.parametrize("template", [
    "{% include 'big.txt' %}", "{% include 'self.j2' %}", "{% import 'big.txt' as b %}x",
    "{% from 'self.j2' import m %}x", "{% extends 'self.j2' %}",
])
def test_hostile_includes_end_in_a_located_line_within_bounds(
        project: Path, traced: None, template: str) -> None:
    _compile(project, template)


# --- option values -------------------------------------------------------------------------

NUMBERS = ["nan", "-nan", "inf", "-inf", "1e999", "-1e999", "1e-300", "0", "-0", "-1", "",
           " ", "1e309", "0x10", "1_000", "\u0665", "9" * 5000, "1e-999999999", "$5", "5%",
           "0.5", "3", "abc", "1e3", "nan%"]
RUN_OPTIONS = ["--poll-start", "--poll-max", "--job-timeout", "--rate", "--concurrency"]
PLAN_OPTIONS = ["--max-cost", "--fail-over", "--pricing", "--state", "--out"]


@pytest.fixture(scope="module")
def launch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("options")
    shutil.copy(REPO / "examples" / "launch.yaml", root / "launch.yaml")
    return root / "launch.yaml"


def _invoke(args: list[str]) -> None:
    result = CliRunner().invoke(cli, args)
    assert isinstance(result.exception, SystemExit | None), (args, result.exception)
    assert result.exit_code in (0, 1, 2, 3), (args, result.exit_code, result.stderr)  # 3: gate
    output = result.stdout + result.stderr
    assert "Traceback" not in output and "internal error" not in output, (args, output)
    if result.exit_code:  # a success may add notes ("plan saved to …")
        assert all(line.startswith("error: ") for line in result.stderr.splitlines()
                   if line.strip()), (args, result.stderr)


@HOSTILE
@given(option=st.sampled_from(RUN_OPTIONS),
       value=st.sampled_from(NUMBERS) | st.text(max_size=8))
def test_hostile_run_options_are_refused_or_harmless(launch: Path, option: str,
                                                     value: str) -> None:
    # --max-cost 0 stops every run that gets past its options before anything is sent
    _invoke(["run", str(launch), "--sandbox", "--yes", "--max-cost", "0",
             "--state", str(launch.parent / "state"), "--out", str(launch.parent / "out"),
             option, value])
    assert not (launch.parent / "out").exists()


@HOSTILE
@given(option=st.sampled_from(PLAN_OPTIONS),
       value=st.sampled_from([*NUMBERS, "/dev/zero", "/", "."]) | st.text(max_size=8))
def test_hostile_plan_options_are_refused_or_harmless(launch: Path, option: str,
                                                      value: str) -> None:
    if option in ("--out", "--state") and value not in ("", " "):
        value = str(launch.parent / "scratch" / value.replace("\x00", ""))
    _invoke(["plan", str(launch), option, value])
