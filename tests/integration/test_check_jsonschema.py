"""check-jsonschema, an independent validator, agrees with ours on the published schema.

Anyone can validate a storyboard without storyboard installed: ``check-jsonschema
--schemafile schemas/storyboard.schema.json FILE``, or an editor running
yaml-language-server. This runs the real check-jsonschema CLI once over every example,
every case folder and a few probes, and compares its verdict for each file with our
**schema stage** only: ``load_file`` then ``schema_problems``. Later stages (templates,
variants, durations, budget) are ours alone and are not compared.

Verdicts are ``valid``, ``invalid`` (the document breaks the schema) and ``unreadable``
(the YAML itself is rejected: syntax, duplicate keys, tags, alias bombs). A file is in
agreement when both call it valid, or both reject it in either way. Every known
disagreement is listed below with its reason, and must still happen: a stale entry fails.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Literal

import pytest

from storyboard.compile.load import load_file
from storyboard.compile.validate import schema_problems
from storyboard.errors import LoadError

REPO = Path(__file__).resolve().parents[2]
SCHEMA = REPO / "schemas" / "storyboard.schema.json"
CASES = REPO / "tests" / "cases"

Verdict = Literal["valid", "invalid", "unreadable"]

# Small documents for what the examples and cases do not show: where two YAML loaders
# or two regex engines could read the same text differently.
_BASE = 'storyboard: 1\nname: probe\nclips:\n  - id: hero\n    prompt: "A lamp"\n'
PROBES: dict[str, str] = {
    # YAML 1.2 core scalars, read the same by both
    "sexagesimal-is-a-string": _BASE + "    duration: 1:30\n",
    "yes-is-a-string": _BASE + "    sound: yes\n",
    "hex-duration": _BASE + "    duration: 0x10\n",
    "whole-float-duration": _BASE + "    duration: 5.0\n",
    "infinite-duration": _BASE + "    duration: .inf\n",
    "timestamp-is-a-string": _BASE.replace("clips:", "vars:\n  day: 2024-01-01\nclips:"),
    "empty-file": "",
    # rejected by both, at different stages
    "binary-tag": _BASE + "    mode: !!binary c3Rk\n",
    "two-documents": _BASE + "---\nstoryboard: 1\n",
    "number-key": _BASE.replace("clips:", "vars:\n  1: one\nclips:"),
    # known differences, see DIFFERENCES
    "merge-key": _BASE.replace("name: probe\n", "name: probe\ndefaults: &d\n  mode: std\n")
                      .replace("  - id: hero\n", "  - <<: *d\n    id: hero\n"),
    "underscore-int": _BASE + "    duration: 1_0\n",
    "binary-int": _BASE + "    duration: 0b101\n",
    "boolean-key": _BASE.replace("clips:", "vars:\n  true: yes\nclips:"),
    "null-key": _BASE.replace("clips:", "vars:\n  ~: nothing\nclips:"),
    "trailing-tab": _BASE + "    duration: 5\t\n",
    "name-trailing-newline": _BASE.replace("name: probe", 'name: "probe\\n"'),
    "clip-id-trailing-newline": _BASE.replace("id: hero", 'id: "hero\\n"'),
}

# name -> (ours, check-jsonschema's, why they differ)
DIFFERENCES: dict[str, tuple[Verdict, Verdict, str]] = {
    "tests/cases/invalid/duplicate-clip-ids": (
        "invalid", "valid", "unique clip ids are a rule JSON Schema cannot state "
        "(uniqueItems compares whole clips); schema_problems adds it"),
    "tests/cases/invalid/var-shadows-variant": (
        "invalid", "valid", "a var named like a variant key is a cross-field rule the schema "
        "cannot state; schema_problems adds it"),
    "probe:merge-key": (
        "invalid", "valid", "YAML 1.2 has no merge keys: our loader reads '<<' as an ordinary "
        "key, which the closed clip object rejects; ruamel.yaml merges it even in 1.2 mode"),
    "probe:underscore-int": (
        "invalid", "valid", "1_0 is a string under the YAML 1.2 core schema; ruamel.yaml reads "
        "it as 10 (a YAML 1.1 form) even in 1.2 mode"),
    "probe:binary-int": (
        "invalid", "valid", "0b101 is a string under the YAML 1.2 core schema; ruamel.yaml "
        "reads it as 5 (a YAML 1.1 form) even in 1.2 mode"),
    "probe:boolean-key": (
        "unreadable", "valid", "our loader refuses keys that are not strings; ruamel.yaml reads "
        "True and check-jsonschema turns the key into the string 'True'"),
    "probe:null-key": (
        "unreadable", "valid", "our loader refuses an empty key; ruamel.yaml reads None and "
        "check-jsonschema turns the key into the string 'None'"),
    "probe:trailing-tab": (
        "valid", "unreadable", "YAML 1.2 allows a tab as trailing white space after a value "
        "(PyYAML/libyaml agree); ruamel.yaml's scanner rejects it"),
}

# JSON Schema patterns are ECMA-262 regexes, where '$' matches only at the end of the
# string; Python's re also lets '$' match before a trailing newline. Our validator reads
# patterns the ECMA way (names.ecma_pattern), so `name: "probe\n"` is refused by both
# (it would otherwise become renders/probe<newline>/).
TRAILING_NEWLINE = ("probe:name-trailing-newline", "probe:clip-id-trailing-newline")

# Files check-jsonschema is not given at all, and why.
NOT_RUN: dict[str, str] = {
    "tests/cases/invalid/billion-laughs": (
        "check-jsonschema copies the loaded data into plain dicts and lists, expanding every "
        "alias: 9**9 strings, so it runs until it exhausts memory; our loader rejects the "
        "file after counting 100,000 values"),
}


def _case_storyboard(case: Path) -> Path:
    return sorted(case.rglob("storyboard.yaml"))[0]


def _inputs() -> dict[str, Path]:
    found = {f"examples/{p.name}": p for p in sorted((REPO / "examples").glob("*.yaml"))}
    for kind in ("valid", "invalid"):
        for case in sorted(p for p in (CASES / kind).iterdir() if p.is_dir()):
            found[case.relative_to(REPO).as_posix()] = _case_storyboard(case)
    return found


FILES = _inputs()
RUN = [*(n for n in FILES if n not in NOT_RUN), *(f"probe:{n}" for n in PROBES)]
COMPARED = [n for n in RUN if n not in TRAILING_NEWLINE]


def ours(path: Path) -> Verdict:
    try:
        document = load_file(path)
    except LoadError:
        return "unreadable"
    return "invalid" if schema_problems(document) else "valid"


@pytest.fixture(scope="module")
def paths(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    probes = tmp_path_factory.mktemp("probes")
    found = {n: FILES[n] for n in RUN if n in FILES}
    for name, text in PROBES.items():
        (probes / f"{name}.yaml").write_text(text, encoding="utf-8")
        found[f"probe:{name}"] = probes / f"{name}.yaml"
    return found


@pytest.fixture(scope="module")
def theirs(paths: dict[str, Path]) -> dict[str, Verdict]:
    """check-jsonschema's verdict per file, from one run over all of them."""
    # the test extras install it into this interpreter; PATH may not lead there (CI runs
    # .venv/bin/python without activating the venv)
    done = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--schemafile", str(SCHEMA),
         "--output-format", "json",
         *map(str, paths.values())],
        capture_output=True, text=True, timeout=120)
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"check-jsonschema gave no JSON report:\n{done.stdout}{done.stderr}")
    invalid = {e["filename"] for e in report["errors"]}
    unreadable = {e["filename"] for e in report["parse_errors"]}
    assert done.returncode == (1 if invalid | unreadable else 0), done.stderr
    return {name: ("unreadable" if str(path) in unreadable else
                   "invalid" if str(path) in invalid else "valid")
            for name, path in paths.items()}


def _agree(a: Verdict, b: Verdict) -> bool:
    return (a == "valid") == (b == "valid")


@pytest.mark.parametrize("name", COMPARED)
def test_check_jsonschema_agrees_on_schema_validity(
        name: str, paths: dict[str, Path], theirs: dict[str, Verdict]) -> None:
    verdicts = (ours(paths[name]), theirs[name])
    if name in DIFFERENCES:
        *expected, reason = DIFFERENCES[name]
        assert verdicts == tuple(expected), f"the listed difference no longer holds: {reason}"
    else:
        assert _agree(*verdicts), f"ours: {verdicts[0]}, check-jsonschema: {verdicts[1]}"


@pytest.mark.parametrize("name", TRAILING_NEWLINE)
def test_a_trailing_newline_is_not_part_of_a_name(name: str, paths: dict[str, Path],
                                                  theirs: dict[str, Verdict]) -> None:
    assert theirs[name] == "invalid"
    assert ours(paths[name]) == "invalid"


def test_every_listed_name_exists() -> None:
    listed = {*DIFFERENCES, *NOT_RUN, *TRAILING_NEWLINE}
    known = {*FILES, *(f"probe:{n}" for n in PROBES)}
    assert listed - known == set()


def test_the_examples_and_valid_cases_pass_check_jsonschema(theirs: dict[str, Verdict]) -> None:
    """What the README promises an editor or a CI job without storyboard will see."""
    expected_valid = [n for n in RUN if n.startswith(("examples/", "tests/cases/valid/"))]
    assert expected_valid and all(theirs[n] == "valid" for n in expected_valid)

