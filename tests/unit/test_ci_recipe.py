"""examples/ci/storyboard.yml only runs storyboard commands that exist, the way they parse.

Every ``storyboard ...`` command line in the workflow's ``run:`` scripts is parsed by
the real click command (without running it), with shell variables standing in as
sample values: an unknown subcommand or option, a flag given a value or a missing
argument fails here instead of in a user's first pull request.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest

from storyboard.cli import cli
from storyboard.compile.load import load_file

REPO = Path(__file__).resolve().parents[2]
WORKFLOW = REPO / "examples" / "ci" / "storyboard.yml"

# Options the recipe uses before the CLI has them (being added with `plan --against`),
# with how many values each takes. One that exists is parsed by the real command.
UPCOMING: dict[str, dict[str, int]] = {
    "plan": {"--against": 1, "--fail-over": 1, "--fail-on-increase": 1},
}
SAMPLE_FILE = "video/launch.storyboard.yaml"
SAMPLES = {"$file": SAMPLE_FILE, "$BASE": "origin/main", "$FAIL_OVER_USD": "100",
           "$FAIL_ON_INCREASE_USD": "20"}
OPERATORS = {"|", "||", "&&", ";", "<", ">", ">>", "&", "(", ")"}
COMMAND_START = {"then", "do", "else", "!", "if", "while"}


def _workflow() -> dict[str, Any]:
    data: dict[str, Any] = load_file(WORKFLOW).data  # YAML 1.2, like GitHub: `on` is a key
    return data


def _steps() -> list[tuple[str, dict[str, Any]]]:
    return [(job, step) for job, spec in _workflow()["jobs"].items() for step in spec["steps"]]


def _step(name: str) -> dict[str, Any]:
    return next(step for _, step in _steps() if step.get("name") == name)


def _invocations(script: str) -> list[list[str]]:
    """Arguments after `storyboard` of each command line calling it (xargs-fed ones too)."""
    found = []
    for line in script.replace("\\\n", " ").splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        tokens = list(lexer)
        starts = [0, *(i + 1 for i, t in enumerate(tokens) if t in OPERATORS | COMMAND_START)]
        for start in starts:
            words = tokens[start:]
            fed = bool(words) and words[0] == "xargs"
            if fed:
                words = words[1:]
                while words and words[0].startswith("-"):
                    words = words[1:]
            if not words or words[0] != "storyboard":
                continue
            args = []
            for word in words[1:]:
                if word in OPERATORS:
                    break
                args.append(SAMPLES.get(word, word))
            found.append([*args, SAMPLE_FILE] if fed else args)
    return found


def _all_invocations() -> list[list[str]]:
    return [args for _, step in _steps() if "run" in step for args in _invocations(step["run"])]


def _without_upcoming(command: click.Command, name: str, args: list[str]) -> list[str]:
    real = {opt for param in command.params for opt in param.opts}
    kept, skip = [], 0
    for arg in args:
        if skip:
            skip -= 1
        elif arg in UPCOMING.get(name, {}) and arg not in real:
            skip = UPCOMING[name][arg]
        else:
            kept.append(arg)
    return kept


@pytest.mark.parametrize("args", _all_invocations(), ids=lambda a: "storyboard " + a[0])
def test_every_storyboard_command_parses(args: list[str]) -> None:
    name, *rest = args
    assert isinstance(cli, click.Group)
    command = cli.get_command(click.Context(cli), name)
    assert command is not None, f"no subcommand 'storyboard {name}'"
    command.make_context(name, _without_upcoming(command, name, rest))


def test_the_recipe_validates_plans_and_runs() -> None:
    used = {(args[0], arg) for args in _all_invocations() for arg in args[1:]}
    assert {("validate", "github"), ("plan", "--against"), ("plan", "markdown"),
            ("plan", "--fail-over"), ("plan", "--fail-on-increase"),
            ("run", "--yes")} <= used


def test_triggers_are_pull_requests_and_pushes_to_main() -> None:
    triggers = _workflow()["on"]
    assert set(triggers) == {"pull_request", "push"}  # never pull_request_target
    assert triggers["push"]["branches"] == ["main"]


def test_the_api_key_and_the_state_reach_only_the_render_step() -> None:
    render = _step("Render")
    assert render["env"] == {"SHORTAPI_KEY": "${{ secrets.SHORTAPI_KEY }}",
                             "STORYBOARD_STATE": "${{ secrets.STORYBOARD_STATE }}"}
    assert "storyboard run" in render["run"]
    for secret in ("SHORTAPI_KEY", "STORYBOARD_STATE"):
        assert [step for _, step in _steps() if secret in str(step)] == [render]
    workflow = _workflow()
    assert "secrets." not in str(workflow.get("env")) + str(
        [spec.get("env") for spec in workflow["jobs"].values()])


def test_render_state_is_shared_in_postgresql_not_an_evictable_cache() -> None:
    render = [step for job, step in _steps() if job == "render"]
    assert not [s for s in render if "actions/cache" in s.get("uses", "")]
    assert "[postgres]" in _workflow()["env"]["STORYBOARD_PACKAGE"]
    upload = next(s for s in render if s.get("uses", "").startswith("actions/upload-artifact@"))
    assert upload["with"]["path"] == "**/renders/"
    assert upload["if"] == "${{ always() }}"


def test_the_plan_comment_is_updated_not_added() -> None:
    comment = next(step for job, step in _steps()
                   if step.get("uses", "").startswith("actions/github-script@"))
    script = comment["with"]["script"]
    assert "<!-- storyboard-plan -->" in script and "updateComment" in script


def test_every_action_is_pinned_to_a_version() -> None:
    uses = [step["uses"] for _, step in _steps() if "uses" in step]
    assert uses and all("@v" in use for use in uses)


def test_the_workflow_is_a_valid_github_workflow() -> None:
    done = subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema",
                           "vendor.github-workflows", str(WORKFLOW)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


BASH = shutil.which("bash")
needs_bash = pytest.mark.skipif(BASH is None, reason="bash is not installed")
FAKE_STORYBOARD = """\
#!/bin/sh
# plan FILE ...: a markdown plan, or exit 3 (a breached gate) for files named bad*
case "$2" in
  bad*) echo 'error: plan adds $40.00, over --fail-on-increase 20' >&2; exit 3 ;;
esac
echo "### storyboard plan: $2"
"""


@needs_bash
def test_the_plan_step_plans_every_storyboard_and_fails_with_the_first_exit_code(
        tmp_path: Path) -> None:
    (tmp_path / "bin").mkdir()
    fake = tmp_path / "bin" / "storyboard"
    fake.write_text(FAKE_STORYBOARD, encoding="utf-8")
    fake.chmod(0o755)
    (tmp_path / "storyboards").write_bytes(b"a.storyboard.yaml\0bad.storyboard.yaml\0"
                                           b"video/storyboard.yaml\0")
    summary = tmp_path / "summary.md"
    step = _step("Plan against the base branch")
    env = {**os.environ, **_workflow()["env"], "BASE": "origin/main",
           "RUNNER_TEMP": str(tmp_path), "GITHUB_STEP_SUMMARY": str(summary),
           "PATH": f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    # how GitHub runs a `shell: bash` step
    done = subprocess.run([str(BASH), "--noprofile", "--norc", "-eo", "pipefail", "-c",
                           step["run"]], env=env, cwd=tmp_path, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 3, done.stderr
    comment = (tmp_path / "plan.md").read_text(encoding="utf-8")
    assert comment.splitlines()[:2] == ["<!-- storyboard-plan -->",
                                        "## storyboard plan against `origin/main`"]
    assert "### storyboard plan: a.storyboard.yaml" in comment
    assert ("**`bad.storyboard.yaml`: storyboard plan exited 3**\n\n```text\n"
            "error: plan adds $40.00, over --fail-on-increase 20\n```") in comment
    assert "### storyboard plan: video/storyboard.yaml" in comment
    assert summary.read_text(encoding="utf-8") == comment


@needs_bash
@pytest.mark.parametrize("job_step", [(job, step.get("name", "")) for job, step in _steps()
                                      if "run" in step], ids=lambda js: f"{js[0]}: {js[1]}")
def test_every_run_script_is_valid_bash(job_step: tuple[str, str]) -> None:
    job, name = job_step
    script = next(s["run"] for j, s in _steps() if j == job and s.get("name", "") == name)
    done = subprocess.run([str(BASH), "-n", "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
