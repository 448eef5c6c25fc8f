from __future__ import annotations

from pathlib import Path

import pytest

from storyboard.compile import compile_file
from storyboard.compile.render import fold
from storyboard.errors import TemplateError


def write(tmp_path: Path, body: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text("storyboard: 1\nname: t\n" + body, encoding="utf-8")
    return path


def prompts(path: Path) -> list[str]:
    return [g.args["prompt"] for g in compile_file(path).generations]


def test_fold_keeps_paragraphs_and_collapses_the_rest() -> None:
    assert fold("  a\n   b\t c \n\n\n  d  \n") == "a b c\nd"
    assert fold("\n\n") == ""


def test_vars_see_variant_values_and_earlier_vars(tmp_path: Path) -> None:
    path = write(tmp_path, """
vars:
  city: "{{ {'us': 'Chicago'}.get(market, 'Berlin') }}"
  line: "{{ city | upper }} / {{ variant.id }}"
variants:
  matrix: {market: [us, de]}
clips:
  - {id: a, prompt: "{{ line }} {{ clip.id }}"}
""")
    assert prompts(path) == ["CHICAGO / us a", "BERLIN / de a"]


def test_shot_object_is_available_in_shot_prompts(tmp_path: Path) -> None:
    path = write(tmp_path, """
clips:
  - id: a
    duration: 6
    shots:
      - {prompt: "shot {{ shot.number }} of {{ shot.count }}"}
      - {prompt: "shot {{ shot.number }} of {{ shot.count }}"}
""")
    [g] = compile_file(path).generations
    assert [s["prompt"] for s in g.args["multi_prompt"]] == ["shot 1 of 2", "shot 2 of 2"]


def test_data_values_are_never_rendered_as_templates(tmp_path: Path) -> None:
    path = write(tmp_path, """
variants:
  matrix: {tagline: ["{{ 7*7 }}", "{% raw %}x"]}
  id: "{{ loop_free_id | default('v') }}{{ variant.tagline | length }}"
clips:
  - {id: a, prompt: "say {{ tagline }}"}
""")
    assert prompts(path) == ["say {{ 7*7 }}", "say {% raw %}x"]


def test_undefined_name_names_the_variable_variant_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, """
variants:
  matrix: {market: [us]}
clips:
  - id: a
    prompt: |
      first line
      {{ nope }}
""")
    with pytest.raises(TemplateError) as caught:
        compile_file(path)
    assert caught.value.lines() == [
        f"{path}:10:1: error: undefined variable 'nope'; defined names: clip, market, variant "
        "(variant 'us') (at $.clips[0].prompt)"]


@pytest.mark.parametrize("expr", [
    "''.__class__.__mro__",
    "cycler.__init__.__globals__",
    "(1).__class__.__base__.__subclasses__()",
    "lipsum.__globals__['os']",
])
def test_sandbox_escapes_fail_clearly(tmp_path: Path, expr: str) -> None:
    path = write(tmp_path, f'clips:\n  - {{id: a, prompt: "{{{{ {expr} }}}}"}}\n')
    with pytest.raises(TemplateError) as caught:
        compile_file(path)
    [line] = caught.value.lines()
    assert line.startswith(f"{path}:4:")
    assert "sandbox" in line or "undefined" in line


def test_includes_cannot_leave_the_storyboard_folder(tmp_path: Path) -> None:
    (tmp_path / "outside.txt").write_text("secret")
    inner = tmp_path / "inner"
    inner.mkdir()
    (inner / "link.j2").symlink_to(tmp_path / "outside.txt")
    for target in ("../outside.txt", "link.j2", "/etc/passwd"):
        path = write(inner, f'clips:\n  - {{id: a, prompt: "{{% include \'{target}\' %}}"}}\n')
        with pytest.raises(TemplateError) as caught:
            compile_file(path)
        assert "template include not found" in caught.value.lines()[0]


@pytest.mark.parametrize("expr", ["'x' * 10**9", "[1] * 1000000"])
def test_templates_cannot_exhaust_memory_or_time(tmp_path: Path, expr: str) -> None:
    path = write(tmp_path, f'clips:\n  - {{id: a, prompt: "{{{{ {expr} }}}}"}}\n')
    with pytest.raises(TemplateError) as caught:
        compile_file(path)
    [line] = caught.value.lines()
    assert "template blocked by the sandbox" in line
    assert "too large for a template" in line


def test_ordinary_arithmetic_still_works(tmp_path: Path) -> None:
    path = write(tmp_path, 'clips:\n  - {id: a, prompt: "{{ \'-\' * 3 }} {{ 2 ** 10 }}"}\n')
    assert prompts(path) == ["--- 1024"]


@pytest.mark.parametrize(("expr", "message"), [
    ("'%*s' % (1500000000, 'x')", "%-format"),
    ("'x' | center(2000000000)", "the result of the center filter would be too large"),
    ("'x' | indent(2000000000)", "the result of the indent filter would be too large"),
])
def test_formatting_cannot_exhaust_memory(tmp_path: Path, expr: str, message: str) -> None:
    path = write(tmp_path, f'clips:\n  - {{id: a, prompt: "{{{{ {expr} }}}}"}}\n')
    with pytest.raises(TemplateError) as caught:
        compile_file(path)
    assert message in caught.value.lines()[0]


@pytest.mark.parametrize(("value", "message"), [
    ("{{ none }}", "rendered None"),
    ("{{ items }}", "rendered a list"),
    ("{{ variant }}", "rendered a mapping"),
])
def test_none_lists_and_mappings_never_print_into_a_prompt(tmp_path: Path, value: str,
                                                            message: str) -> None:
    path = write(tmp_path, f'vars:\n  items: [a, b]\nclips:\n  - {{id: a, prompt: "{value}"}}\n')
    with pytest.raises(TemplateError) as caught:
        compile_file(path)
    assert message in caught.value.lines()[0]
    ok = write(tmp_path, "vars:\n  items: [a, b]\nclips:\n"
                         "  - {id: a, prompt: \"{{ items | join(', ') }}\"}\n", "ok.yaml")
    assert prompts(ok) == ["a, b"]


def test_templates_cannot_change_values_other_templates_read(tmp_path: Path) -> None:
    path = write(tmp_path, "vars:\n  items: [a]\nclips:\n"
                           "  - {id: a, prompt: \"{{ items.append('leak') or 'x' }}\"}\n"
                           "  - {id: b, prompt: \"{{ items | join(',') }}\"}\n")
    with pytest.raises(TemplateError) as caught:
        compile_file(path)
    assert "sandbox" in caught.value.lines()[0]


def test_a_storyboard_has_nothing_random(tmp_path: Path) -> None:
    for expr in ("['a', 'b'] | random", "lipsum(1)"):
        path = write(tmp_path, f'clips:\n  - {{id: a, prompt: "{{{{ {expr} }}}}"}}\n')
        with pytest.raises(TemplateError) as caught:
            compile_file(path)
        assert "random" in caught.value.lines()[0] or "lipsum" in caught.value.lines()[0]


def test_memoised_templates_still_see_every_value_they_read(tmp_path: Path) -> None:
    (tmp_path / "part.j2").write_text("{{ market | upper }}")
    path = write(tmp_path, """
variants:
  matrix: {market: [us, jp], format: [wide, tall]}
vars:
  shape: "{{ 'tall' if format == 'tall' else 'wide' }}"
clips:
  - {id: a, prompt: "{{ shape }} {% include 'part.j2' %} {{ variant.id }}"}
  - {id: b, prompt: "{{ shape }}-{{ clip.id }}"}
""")
    assert prompts(path) == [
        "wide US us-wide", "wide-b", "tall US us-tall", "tall-b",
        "wide JP jp-wide", "wide-b", "tall JP jp-tall", "tall-b"]


@pytest.mark.parametrize("rendered", ["1_0", "\u0665", "5.0", " ", "-3"])
def test_a_templated_duration_is_plain_digits(tmp_path: Path, rendered: str) -> None:
    path = write(tmp_path, "vars:\n  d: x\nclips:\n"
                           f"  - {{id: a, prompt: p, duration: \"{{{{ '{rendered}' }}}}\"}}\n")
    with pytest.raises(TemplateError) as caught:
        compile_file(path)
    assert "must be a whole number of seconds" in caught.value.lines()[0]
