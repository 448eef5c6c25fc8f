"""One test per folder under tests/cases: a storyboard and exactly what it must give.

valid/<case>/expected.jsonl holds the exact `storyboard compile` lines (every request
body, hash and cent); invalid/<case>/expected.txt holds the exact error lines of
`storyboard validate`. After an intended change, regenerate with
``STORYBOARD_UPDATE_CASES=1 pytest tests/test_cases.py`` and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from storyboard.compile import plan_file
from storyboard.errors import SourceError
from storyboard.report.reporters import compile_lines

CASES = Path(__file__).parent / "cases"
UPDATE = bool(os.environ.get("STORYBOARD_UPDATE_CASES"))


def _cases(kind: str) -> list[Path]:
    return sorted(p for p in (CASES / kind).iterdir() if p.is_dir())


def _storyboard(case: Path) -> Path:
    found = sorted(case.rglob("storyboard.yaml"))
    assert found, f"{case} has no storyboard.yaml"
    return found[0].relative_to(case)


def _check(expected_file: Path, actual: str) -> None:
    if UPDATE:
        expected_file.write_text(actual, encoding="utf-8")
    assert expected_file.exists(), f"missing {expected_file}; run with STORYBOARD_UPDATE_CASES=1"
    assert actual == expected_file.read_text(encoding="utf-8")


@pytest.mark.parametrize("case", _cases("valid"), ids=lambda p: p.name)
def test_valid_case_compiles_to_exact_requests(case: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(case)
    _check(case / "expected.jsonl", compile_lines(plan_file(_storyboard(case))))


@pytest.mark.parametrize("case", _cases("invalid"), ids=lambda p: p.name)
def test_invalid_case_reports_exact_lines(case: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(case)
    with pytest.raises(SourceError) as caught:
        plan_file(_storyboard(case))
    _check(case / "expected.txt", "".join(line + "\n" for line in caught.value.lines()))
