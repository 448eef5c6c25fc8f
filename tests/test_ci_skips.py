"""In CI a skipped test is a failure: CI installs the test extras, so every test must run."""

from __future__ import annotations

from pathlib import Path

import pytest

CONFTEST = (Path(__file__).resolve().parent / "conftest.py").read_text(encoding="utf-8")
TESTS = """
import pytest

def test_runs():
    pass

def test_needs_a_tool():
    pytest.skip("check-jsonschema is not installed")

@pytest.mark.xfail(reason="a known bug", strict=True)
def test_known_bug():
    assert False
"""
MODULE_SKIP = """
import pytest
pytest.importorskip("a_test_extra_that_is_missing")

def test_never_collected():
    pass
"""


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_tools=TESTS, test_module_skip=MODULE_SKIP)
    return pytester


@pytest.mark.parametrize("value", ["true"])
def test_in_ci_a_skip_fails_the_run(suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch,
                                    value: str) -> None:
    monkeypatch.setenv("CI", value)
    result = suite.runpytest("-p", "no:cacheprovider", "test_tools.py")
    result.assert_outcomes(passed=1, failed=1, xfailed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines([
        "*skipped in CI (check-jsonschema is not installed); CI installs the test extras, "
        "so every test must run there*"])
    result = suite.runpytest("-p", "no:cacheprovider", "test_module_skip.py")
    result.assert_outcomes(errors=1)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(["*skipped in CI (could not import "
                                 "'a_test_extra_that_is_missing'*"])


@pytest.mark.parametrize("value", [None, "false"])
def test_outside_ci_a_skip_is_a_skip(suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch,
                                     value: str | None) -> None:
    if value is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", value)
    result = suite.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, skipped=2, xfailed=1)
    assert result.ret == pytest.ExitCode.OK
