from __future__ import annotations

from pathlib import Path

import pytest

from storyboard.compile import compile_file
from storyboard.errors import VariantError


def variant_ids(tmp_path: Path, variants: str, files: dict[str, str] | None = None) -> list[str]:
    for name, text in (files or {}).items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    path = tmp_path / "s.yaml"
    path.write_text("storyboard: 1\nname: t\nvariants:\n" + variants +
                    "clips:\n  - {id: a, prompt: x}\n", encoding="utf-8")
    return [v.id for v in compile_file(path).variants]


def test_no_variants_is_one_default_variant(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("storyboard: 1\nname: t\nclips:\n  - {id: a, prompt: x}\n")
    assert [g.id for g in compile_file(path).generations] == ["default/a"]


def test_matrix_order_exclude_partial_and_include(tmp_path: Path) -> None:
    ids = variant_ids(tmp_path, """\
  id: "{{ market }}-{{ format }}"
  matrix: {market: [us, jp, de], format: [wide, tall]}
  exclude: [{market: de}, {market: jp, format: tall}]
  include: [{market: br, format: wide}]
""")
    assert ids == ["us-wide", "us-tall", "jp-wide", "br-wide"]


def test_include_with_new_keys_extends_matching_combinations(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("""storyboard: 1
name: t
variants:
  id: "{{ market }}-{{ format }}"
  matrix: {market: [us, jp], format: [wide]}
  include: [{market: jp, voice: female}]
clips:
  - {id: a, prompt: "{{ market }} {{ voice | default('none') }}"}
""")
    compiled = compile_file(path)
    assert [g.args["prompt"] for g in compiled.generations] == ["us none", "jp female"]


def test_rows_csv_crossed_with_a_matrix(tmp_path: Path) -> None:
    ids = variant_ids(tmp_path, """\
  id: "{{ market }}-{{ format }}"
  rows: m.csv
  matrix: {format: [wide, tall]}
""", {"m.csv": "market,city\nus,Chicago\nde,Berlin\n"})
    assert ids == ["us-wide", "us-tall", "de-wide", "de-tall"]


def test_csv_problems_are_located_in_the_csv(tmp_path: Path) -> None:
    with pytest.raises(VariantError) as caught:
        variant_ids(tmp_path, "  rows: m.csv\n",
                    {"m.csv": "market,bad name\nus,x\nde\n"})
    assert caught.value.lines() == [
        f"{tmp_path / 'm.csv'}:1:2: error: column name 'bad name' is not usable in templates; "
        "use letters, digits and '_' (at $)",
        f"{tmp_path / 'm.csv'}:3:1: error: row has 1 cells but the header has 2 columns "
        "(at $[1])",
    ]


def test_rows_column_clashing_with_matrix_key(tmp_path: Path) -> None:
    with pytest.raises(VariantError) as caught:
        variant_ids(tmp_path, "  rows: [{format: a}]\n  matrix: {format: [b]}\n")
    assert "'format' is both a rows column and a matrix key" in caught.value.lines()[0]


def test_everything_excluded_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(VariantError) as caught:
        variant_ids(tmp_path, "  matrix: {m: [us]}\n  exclude: [{m: us}]\n")
    assert "variants expand to nothing" in caught.value.lines()[0]
