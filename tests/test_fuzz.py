"""Random and mutated storyboards never produce a traceback: only StoryboardError."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storyboard.compile import plan_file
from storyboard.errors import StoryboardError

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SEEDS = [p.read_text(encoding="utf-8") for p in sorted(EXAMPLES.glob("*.yaml"))]
TOKENS = ["{{", "}}", "{%", "%}", ":", "- ", "\n", "  ", "&a ", "*a", "'", '"', "|", ">",
          "[", "]", "{", "}", "#", "!!int ", "16:9", "on", "-1", "99", "shots: auto",
          "duration: 400", "prompt: ", "{{ x }}", "\t", "\x00", "é", "~", "<<: "]

FUZZ = settings(max_examples=300, derandomize=True, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])


@st.composite
def mutated(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(text)))
        op = draw(st.sampled_from(["insert", "delete", "replace"]))
        piece = draw(st.sampled_from(TOKENS) | st.text(max_size=4))
        end = min(len(text), at + draw(st.integers(0, 12)))
        if op == "insert":
            text = text[:at] + piece + text[at:]
        elif op == "delete":
            text = text[:at] + text[end:]
        else:
            text = text[:at] + piece + text[end:]
    return text


def _compile(tmp_path: Path, text: str) -> None:
    path = tmp_path / "fuzz.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    (tmp_path / "markets.csv").write_text((EXAMPLES / "markets.csv").read_text())
    try:
        plan_file(path)
    except StoryboardError as exc:
        assert exc.lines(), "an error must say something"
        assert all(line.strip() for line in exc.lines())


@FUZZ
@given(text=mutated())
def test_mutated_examples_never_raise_anything_else(tmp_path: Path, text: str) -> None:
    _compile(tmp_path, text)


@FUZZ
@given(text=st.text(max_size=300))
def test_random_text_never_raises_anything_else(tmp_path: Path, text: str) -> None:
    _compile(tmp_path, text)
