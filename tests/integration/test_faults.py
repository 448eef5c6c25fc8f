"""Whatever the API does, no paid job is lost and none is paid for twice.

Each fault kind the sandbox can inject, at a heavy rate with a fixed seed, against the
launch example (12 generations, 10 distinct requests: the teaser does not vary by
market). Every run is held against the sandbox's ledger, which knows what was really
created and charged, and against the journal, which knows what the client learned:

* every create the API accepted, whose job did not fail, is delivered and verified;
* a failed job is reported with its reason and "(refunded)";
* a create of unknown outcome is reported as unknown and never sent again, unless
  the user reruns with ``--resubmit-unknown``;
* a rerun sends creates only for what failed or was refused;
* nothing is paid for twice, except what the user resubmitted knowing it might be.

Runs go through the same library calls as ``storyboard run`` (prepare, execute, the
summary reporter), with the client's retry delays and timeouts shortened so that a
test takes a second, not a minute.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, fields
from pathlib import Path

import pytest

from storyboard.api.policies import RetryPolicy, Timeouts
from storyboard.api.sandbox import CreateRecord, Faults, Sandbox
from storyboard.compile import plan_file
from storyboard.execute.callbacks import Listen
from storyboard.execute.entry import execute
from storyboard.execute.options import Api, PollPolicy, RunOptions
from storyboard.execute.prepare import Action, prepare
from storyboard.execute.workspace import Workspace
from storyboard.journal.sqlite import Attempt, Journal, Status
from storyboard.media.probe import verify
from storyboard.report.reporters import run_summary
from storyboard.results import Outcome, Result, RunSummary

from .conftest import FAKE_KEY, Project, start_sandbox

SEED = 7
STORYBOARD = "launch.yaml"
FAST_RETRY = RetryPolicy(base_delay=0.01, max_delay=0.05)
FAST_POLL = PollPolicy(start=0.02, maximum=0.1, deadline=60.0)
MAX_RERUNS = 8  # faults stay on across reruns; each rerun only has to make progress

# fault -> (sandbox fault specs, what it does to the generations it hits)
RECOVERS = "recovers"  # retried until it gets through: everything is delivered
UNKNOWN = "unknown"  # some creates end with an outcome the client cannot know
FAILS = "fails"  # some jobs fail (refunded)
FAULTS = {
    "http500": (["http500=0.4"], UNKNOWN),  # a 500 on a create: the job may exist
    "http503": (["http503=0.4"], RECOVERS),
    "http429": (["http429=0.4", "retry-after=0.02"], RECOVERS),
    "code3000": (["code3000=0.4"], RECOVERS),
    "drop-before": (["drop-before=0.4"], UNKNOWN),  # the client cannot tell it from after
    "drop-after": (["drop-after=0.4"], UNKNOWN),  # charged, and the client never hears
    "slow": (["slow=0.3", "slow-seconds=1"], UNKNOWN),  # a create that times out: charged
    "truncate": (["truncate=0.4"], RECOVERS),
    "fail": (["fail=0.4"], FAILS),
    "expire": (["expire=0.4"], RECOVERS),
    "no-callback": (["no-callback=0.5"], RECOVERS),  # with callbacks on: polls notice
}
CLIENT_TIMEOUTS = Timeouts()  # the client's own
# A read timeout shorter than slow-seconds, so a slow reply is a timeout, not a wait.
TIMEOUTS = {"slow": Timeouts(read=0.25, download_read=0.25)}
# Callbacks on (a listener on loopback) where the fault is about them.
LISTEN = {"no-callback": Listen("127.0.0.1", 0)}


def test_every_fault_kind_of_the_sandbox_is_covered() -> None:
    settings = {"slow_seconds", "retry_after"}  # numbers that shape faults, not faults
    kinds = {f.name.replace("_", "-") for f in fields(Faults) if f.name not in settings}
    assert kinds == set(FAULTS)


@dataclass(frozen=True)
class Run:
    """One `storyboard run`: what it set out to do, what it reported, what really happened."""

    actions: dict[str, Action]  # request hash -> what the run decided for it
    summary: RunSummary
    text: str  # the summary exactly as `storyboard run` prints it
    journal: dict[str, Attempt]  # request hash -> its latest attempt, after the run
    learned_job_ids: frozenset[str]  # every job id the journal holds
    creates: tuple[CreateRecord, ...]  # creates the sandbox accepted during this run
    create_faults: Counter[str]  # faults injected into creates during this run

    @property
    def leaders(self) -> dict[str, Outcome]:
        """The outcome of each distinct request (the generations sharing it copy it)."""
        found: dict[str, Outcome] = {}
        for outcome in self.summary.outcomes:
            found.setdefault(outcome.item.generation.hash, outcome)
        return found

    def hashes(self, *results: Result) -> set[str]:
        return {h for h, o in self.leaders.items() if o.result in results}

    @property
    def unlearned(self) -> list[CreateRecord]:
        """Creates the sandbox accepted (and charged) whose job id the client never got."""
        return [c for c in self.creates if c.job_id not in self.learned_job_ids]


def render(project: Project, sandbox: Sandbox, *, resubmit_unknown: bool = False,
           timeouts: Timeouts = CLIENT_TIMEOUTS, listen: Listen | None = None) -> Run:
    """What `storyboard run launch.yaml --yes [--resubmit-unknown]` does, step for step."""
    ledger = sandbox.ledger
    creates_before = len(ledger.creates)
    faults_before = Counter(ledger.faults_by_endpoint.get("create", {}))
    plan = plan_file(project.storyboard(STORYBOARD))
    workspace = Workspace.beside(Path(plan.root), plan.name)
    options = RunOptions(poll=FAST_POLL, resubmit_unknown=resubmit_unknown,
                         callback_listen=listen)
    api = Api(sandbox.base_url, FAKE_KEY, policy=FAST_RETRY, timeouts=timeouts)
    with Journal.open(workspace.state_dir) as journal:
        prepared = prepare(plan, journal, workspace, options)
        summary = execute(prepared, journal=journal, workspace=workspace, options=options,
                          api=api)
        attempts = journal.attempts()
    actions: dict[str, Action] = {}
    for task in prepared.tasks:
        actions.setdefault(task.item.generation.hash, task.action)
    return Run(
        actions=actions,
        summary=summary,
        text=run_summary(summary, workspace.manifest),
        journal={a.hash: a for a in attempts},  # oldest first: the last one wins
        learned_job_ids=frozenset(a.job_id for a in attempts if a.job_id),
        creates=ledger.creates[creates_before:],
        create_faults=Counter(ledger.faults_by_endpoint.get("create", {})) - faults_before,
    )


def summary_line(run: Run, outcome: Outcome) -> str:
    """The summary's line about one generation that was not delivered."""
    prefix = f"    {outcome.item.generation.id}"
    lines = [line for line in run.text.splitlines() if line.startswith(prefix + " ")
             or line.startswith(prefix + ":")]
    assert len(lines) == 1, run.text
    return lines[0]


def assert_kept_the_promise(run: Run) -> None:
    """What a user would check after any run, whatever the API did."""
    sent = Counter(c.request_hash for c in run.creates)
    # Nothing is created twice within a run, and only what needed a create is sent:
    # a reused video or a create of unknown outcome is never sent again.
    assert all(n == 1 for n in sent.values()), sent
    assert set(sent) <= {h for h, a in run.actions.items() if a is Action.CREATE}

    for digest, outcome in run.leaders.items():
        created = [c for c in run.creates if c.request_hash == digest]
        attempt = run.journal.get(digest)
        if outcome.result is Result.REUSED:
            assert created == []
        elif outcome.result is Result.DELIVERED:
            # an accepted create whose job did not fail: delivered, job id journaled
            assert attempt is not None and attempt.status is Status.DONE
            assert outcome.job_id == attempt.job_id
            if run.actions[digest] is Action.CREATE:
                (record,) = created
                assert not record.fails and record.job_id == attempt.job_id
            else:  # a job paid for by an earlier run, polled and fetched again
                assert created == []
        elif outcome.result is Result.FAILED and outcome.refunded:
            (record,) = created
            assert record.fails and record.job_id == outcome.job_id
            line = summary_line(run, outcome)
            assert f"[job {record.job_id}] (refunded): sandbox: injected failure" in line
        elif outcome.result is Result.FAILED and outcome.job_id is None:
            # the API refused the create every time it was asked: certainly not run
            assert created == []
            assert attempt is not None and attempt.status is Status.REJECTED
            assert "(not charged; a rerun retries)" in summary_line(run, outcome)
        elif outcome.result is Result.FAILED:
            # paid and finished, but every download failed: the job stays to fetch again
            assert all(not c.fails for c in created)
            assert "download failed" in summary_line(run, outcome)
            assert attempt is not None and attempt.status is Status.PENDING
        elif outcome.result is Result.UNKNOWN:
            # either never recorded by the sandbox, or recorded with an id never learned
            assert all(c.job_id not in run.learned_job_ids for c in created)
            assert attempt is not None and attempt.status is Status.UNKNOWN
            line = summary_line(run, outcome)
            assert "may exist and be charged; not sent again" in line
            assert "--resubmit-unknown" in line
        else:
            pytest.fail(f"{outcome.item.generation.id}: {outcome.result}: {outcome.reason}")

    # The unknown ones are exactly the creates the sandbox recorded but the client never
    # learned the job id of, plus those answered with a 500 or a dropped connection.
    sent_unknown = [h for h, o in run.leaders.items()
                    if o.result is Result.UNKNOWN and run.actions[h] is Action.CREATE]
    assert len(sent_unknown) == (len(run.unlearned) + run.create_faults["http500"]
                                 + run.create_faults["drop_before"])

    # Every generation (shared ones too) has its verified file, or none at all.
    workspace = run.summary.workspace
    for outcome in run.summary.outcomes:
        g = outcome.item.generation
        file = workspace.render_file(g)
        if outcome.result in (Result.DELIVERED, Result.REUSED):
            assert outcome.file == file
            assert verify(file, g.seconds).duration_s == g.seconds
            assert workspace.cache_file(g.hash).is_file()
        else:
            assert not file.exists()

    counts = Counter(o.result for o in run.summary.outcomes)
    for result, n in counts.items():
        assert f"  {result.value}: {n}\n" in run.text
    delivered = counts[Result.DELIVERED] + counts[Result.REUSED] == len(run.summary.outcomes)
    assert run.summary.exit_code == (0 if delivered else 1)


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_fault_kind_loses_no_paid_job_and_pays_for_none_twice(
        fault: str, project: Project) -> None:
    specs, effect = FAULTS[fault]
    timeouts = TIMEOUTS.get(fault, CLIENT_TIMEOUTS)
    sandbox = start_sandbox(faults=Faults.parse(specs), seed=SEED)
    try:
        ledger = sandbox.ledger
        first = render(project, sandbox, timeouts=timeouts, listen=LISTEN.get(fault))
        assert_kept_the_promise(first)
        assert ledger.faults.get(fault.replace("-", "_"), 0) > 0, ledger.faults  # it fired
        assert ledger.duplicates() == {}
        if effect is RECOVERS:
            assert first.hashes(Result.DELIVERED) == set(first.leaders)
            assert first.summary.exit_code == 0
        elif effect is UNKNOWN:
            assert first.hashes(Result.UNKNOWN) and first.summary.exit_code == 1
            # the unknown creates the sandbox ran (and charged) are those it never answered
            charged_unknown = {c.request_hash for c in first.unlearned}
            if fault in ("drop-after", "slow"):
                assert charged_unknown
            else:  # a 500 or a dropped connection before running it charges nothing
                assert charged_unknown == set()
        else:
            assert first.hashes(Result.FAILED) and first.summary.exit_code == 1
            assert all(o.refunded for o in first.leaders.values()
                       if o.result is Result.FAILED)

        # Reruns: failed or refused ones are created again, unknown ones never.
        last = first
        for _ in range(MAX_RERUNS):
            if not last.hashes(Result.FAILED):
                break
            rerun = render(project, sandbox, timeouts=timeouts, listen=LISTEN.get(fault))
            assert_kept_the_promise(rerun)
            assert rerun.actions == expected_actions(last, resubmit_unknown=False)
            assert ledger.duplicates() == {}
            last = rerun
        assert not last.hashes(Result.FAILED)
        unknown = last.hashes(Result.UNKNOWN)
        if unknown:
            again = render(project, sandbox, timeouts=timeouts, listen=LISTEN.get(fault))
            assert_kept_the_promise(again)
            assert again.creates == ()
            assert again.hashes(Result.UNKNOWN) == unknown
            assert again.summary.exit_code == 1
            last = again

        # The user checked with the provider and asks for them again: each resubmitted
        # request whose first create the sandbox did charge is now paid for twice, by
        # the user's choice; nothing else is.
        consented: set[str] = set()
        for _ in range(MAX_RERUNS):
            if last.summary.exit_code == 0:
                break
            charged_before = set(ledger.creates_per_hash())
            rerun = render(project, sandbox, resubmit_unknown=True, timeouts=timeouts,
                           listen=LISTEN.get(fault))
            assert_kept_the_promise(rerun)
            assert rerun.actions == expected_actions(last, resubmit_unknown=True)
            consented |= last.hashes(Result.UNKNOWN) & charged_before
            last = rerun
        assert last.summary.exit_code == 0
        assert set(ledger.duplicates()) == consented
        if fault not in ("drop-after", "slow"):
            assert consented == set()

        # Everything is delivered: one more run spends nothing.
        final = render(project, sandbox, timeouts=timeouts, listen=LISTEN.get(fault))
        assert_kept_the_promise(final)
        assert final.creates == () and final.summary.exit_code == 0
        assert final.hashes(Result.REUSED) == set(final.leaders)
        state, renders = project.root / ".storyboard", project.root / "renders"
        assert [p for folder in (state, renders) for pattern in ("*.part", "*.tmp")
                for p in folder.rglob(pattern)] == []  # no half-written file anywhere
        # Every distinct request was created and delivered exactly once, or was retried
        # only after its job failed (refunded) or after the user's --resubmit-unknown.
        paid = Counter(c.request_hash for c in ledger.creates if not c.fails)
        assert set(paid) == set(final.leaders)
        assert {h for h, n in paid.items() if n > 1} == consented
        if effect is FAILS:  # created again after a refund: not paying twice
            assert max(ledger.creates_per_hash().values()) > 1
    finally:
        sandbox.stop()


def expected_actions(previous: Run, *, resubmit_unknown: bool) -> dict[str, Action]:
    """What a rerun does with each request, given how the previous run ended for it."""
    def action(outcome: Outcome) -> Action:
        if outcome.result in (Result.DELIVERED, Result.REUSED):
            return Action.REUSE
        if outcome.result is Result.UNKNOWN:
            return Action.CREATE if resubmit_unknown else Action.UNKNOWN
        paid_not_fetched = outcome.job_id is not None and not outcome.refunded
        return Action.RESUME if paid_not_fetched else Action.CREATE  # failed or refused

    return {h: action(o) for h, o in previous.leaders.items()}
