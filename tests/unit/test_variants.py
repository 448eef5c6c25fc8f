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


def test_csv_cells_may_hold_quoted_line_breaks_and_rows_keep_their_lines(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    (tmp_path / "m.csv").write_text('market,tagline\r\nus,"line one\r\nline two"\r\n'
                                    'jp,"x"\r\nde\r\n', newline="")
    path.write_text("storyboard: 1\nname: t\nvariants:\n  id: '{{ market }}'\n  rows: m.csv\n"
                    "clips:\n  - {id: a, prompt: '{{ tagline }}'}\n")
    with pytest.raises(VariantError) as caught:
        compile_file(path)
    # the short row is on line 5 of the file, after a cell spanning lines 2-3
    assert caught.value.lines() == [
        f"{tmp_path / 'm.csv'}:5:1: error: row has 1 cells but the header has 2 columns "
        "(at $[2])"]
    (tmp_path / "m.csv").write_text('market,tagline\nus,"line one\nline two"\njp,"x"\n')
    assert [g.args["prompt"] for g in compile_file(path).generations] == [
        "line one line two", "x"]


def test_an_unterminated_quote_is_an_error_not_a_swallowed_market(tmp_path: Path) -> None:
    with pytest.raises(VariantError) as caught:
        variant_ids(tmp_path, "  rows: m.csv\n",
                    {"m.csv": 'market,tagline\nus,"unterminated\njp,x\n'})
    [line] = caught.value.lines()
    assert line.startswith(f"{tmp_path / 'm.csv'}:")
    assert "a quote that is never closed?" in line


def test_include_only_variants_are_the_include_entries(tmp_path: Path) -> None:
    assert variant_ids(tmp_path, "  include: [{market: us}, {market: jp}]\n") == ["us", "jp"]


def test_an_exclude_that_matches_nothing_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(VariantError) as caught:
        variant_ids(tmp_path, "  matrix: {market: [us, jp]}\n  exclude: [{market: JP}]\n")
    assert "exclude entry {market: JP} matches no combination" in caught.value.lines()[0]
    with pytest.raises(VariantError) as caught:
        variant_ids(tmp_path, "  matrix: {market: [us, jp]}\n  exclude: [{markt: jp}]\n")
    assert caught.value.lines()[0].endswith(
        "error: exclude names 'markt', which is not a matrix key or rows column (those are: "
        "market) (at $.variants.exclude[0].markt)")


def test_a_huge_matrix_is_refused_before_it_is_built(tmp_path: Path) -> None:
    values = "[" + ", ".join(f"v{i}" for i in range(20)) + "]"
    matrix = ", ".join(f"k{n}: {values}" for n in range(8))
    with pytest.raises(VariantError) as caught:
        variant_ids(tmp_path, f"  matrix: {{{matrix}}}\n")
    assert "25,600,000,000 combinations, over the limit of 100,000" in caught.value.lines()[0]


def test_a_huge_rows_csv_is_refused_while_it_is_read(tmp_path: Path) -> None:
    """20 MiB of one-character rows was 10 million variants: 4.4 GB and 36 s."""
    rows = "a\n" + "1\n" * (10 * 1024 * 1024 - 2)
    with pytest.raises(VariantError) as caught:
        variant_ids(tmp_path, "  rows: m.csv\n", {"m.csv": rows})
    assert caught.value.lines() == [
        f"{tmp_path / 'm.csv'}:100002:1: error: rows file {tmp_path / 'm.csv'} has over "
        "100,000 rows, the limit of variants; split the campaign into several storyboards "
        "(at $[100000])"]


def test_a_rows_csv_that_is_not_utf8_or_too_big_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "bad.csv").write_bytes(b"market\nM\xfcnchen\n")
    with pytest.raises(VariantError) as caught:
        variant_ids(tmp_path, "  rows: bad.csv\n")
    [line] = caught.value.lines()
    assert f"cannot read rows file {tmp_path / 'bad.csv'}: 'utf-8' codec can't decode" in line
    with (tmp_path / "big.csv").open("wb") as big:
        big.write(b"market\n" + b"x" * (20 * 1024 * 1024))
    with pytest.raises(VariantError) as caught:
        variant_ids(tmp_path, "  rows: big.csv\n")
    assert caught.value.lines()[0].endswith(f"error: rows file {tmp_path / 'big.csv'} is "
                                            "over 20 MiB (at $.variants.rows)")


def test_rows_files_stay_inside_the_storyboards_folder(tmp_path: Path) -> None:
    (tmp_path / "secret.csv").write_text("token\nabc123\n")
    inner = tmp_path / "inner"
    inner.mkdir()
    with pytest.raises(VariantError) as caught:
        variant_ids(inner, "  rows: ../secret.csv\n")
    assert "is outside the storyboard's folder" in caught.value.lines()[0]


def test_null_values_in_a_rows_file_are_errors(tmp_path: Path) -> None:
    with pytest.raises(VariantError) as caught:
        variant_ids(tmp_path, "  rows: m.json\n", {"m.json": '[{"market": null}]'})
    assert "value of 'market' must be a string, number or boolean" in caught.value.lines()[0]
