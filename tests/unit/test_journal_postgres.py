"""The shared journal against a real PostgreSQL server (``tests/pgserver.py``): claims and
their leases, the budget every runner shares, idempotent writes across a dropped
connection, and what it refuses."""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from storyboard.errors import (
    ClaimLost,
    JournalCorrupt,
    JournalLocked,
    JournalLost,
    OverBudget,
    StateError,
)
from storyboard.journal import API, SANDBOX, Status, Traces, open_journal
from storyboard.journal.postgres import PostgresJournal, redact_url

REQUEST = {"model": "kwaivgi/kling-o3/text-to-video", "args": {"prompt": "a", "duration": 5}}


@pytest.fixture
def journal(pg_url: str) -> Iterator[PostgresJournal]:
    with PostgresJournal.open(pg_url, lease=30) as j:
        yield j


def begin(j: PostgresJournal, hash: str = "h1", cost: str = "1.20", storyboard: str = "sb",
          within: Decimal | None = None, origin: str = API) -> int:
    return j.begin(hash=hash, generation_id=f"v/{hash}", storyboard=storyboard,
                   request=REQUEST, estimated_usd=Decimal(cost), origin=origin,
                   within=within)


def test_the_attempt_lifecycle_matches_the_folder_journal(journal: PostgresJournal) -> None:
    assert journal.claim("h1", API)
    attempt_id = begin(journal)
    assert journal.get(attempt_id).status is Status.SUBMITTING  # type: ignore[union-attr]
    journal.created(attempt_id, "job-1", Decimal("1.20"), API)
    journal.done(attempt_id, url="https://cdn/x.mp4", file="cache/h1/h1.mp4", sha256="ab" * 32)
    got = journal.latest("h1", API)
    assert got is not None
    assert (got.status, got.job_id, got.charged_usd, got.runner) == (
        Status.DONE, "job-1", Decimal("1.20"), journal.runner)
    assert journal.latest("h1", SANDBOX) is None
    assert journal.spent("sb") == journal.spent("sb", API)
    assert journal.spent("sb").charged == Decimal("1.20")
    with pytest.raises(StateError, match="it cannot become pending"):
        journal.created(attempt_id, "job-2", None)


def test_one_claim_at_a_time_and_an_expired_one_is_taken_over(pg_url: str) -> None:
    with PostgresJournal.open(pg_url, lease=1) as a, PostgresJournal.open(pg_url, lease=30) as b:
        assert a.claim("h1", API)
        assert not b.claim("h1", API)
        assert b.claim("h1", SANDBOX)  # a sandbox's generation is another claim
        assert b.free(["h1", "h2"], API) == {"h2"}
        time.sleep(1.2)  # a's lease lapses: a stopped renewing it
        assert b.free(["h1"], API) == {"h1"}
        assert b.claim("h1", API)
        # a, back too late, cannot create what b took over
        with pytest.raises(ClaimLost, match="taken over by"):
            begin(a)
        assert a.attempts() == []


def test_renewing_keeps_a_claim_and_releasing_frees_it(pg_url: str) -> None:
    with PostgresJournal.open(pg_url, lease=1) as a, PostgresJournal.open(pg_url) as b:
        assert a.claim("h1", API)
        for _ in range(3):
            time.sleep(0.4)
            a.renew()
        assert not b.claim("h1", API)  # 1.2 s after the claim, still a's
        a.release("h1", API)
        assert b.claim("h1", API)


def test_closing_a_journal_releases_its_claims(pg_url: str) -> None:
    with PostgresJournal.open(pg_url) as a:
        assert a.claim("h1", API) and a.claim("h2", API)
    with PostgresJournal.open(pg_url) as b:
        assert b.free(["h1", "h2"], API) == {"h1", "h2"}


def test_the_budget_counts_every_runner(pg_url: str) -> None:
    with PostgresJournal.open(pg_url) as a, PostgresJournal.open(pg_url) as b:
        a.claim("h1", API)
        first = begin(a, "h1", "4.89", within=Decimal(8))
        a.created(first, "job-1", Decimal("4.89"))
        b.claim("h2", API)
        with pytest.raises(OverBudget) as refused:
            begin(b, "h2", "3.70", within=Decimal(8))
        assert str(refused.value) == (
            "$4.89 spent (by every runner sharing this journal) + $3.70 for this create is "
            "over the budget of $8.00")
        begin(b, "h3", "3.11", within=Decimal(8))  # 4.89 + 3.11 = 8.00: within
        assert b.spent("sb").at_most == Decimal("8.00")
        assert b.spent("other").at_most == 0  # another storyboard's budget is its own


def test_a_dropped_connection_is_made_again_and_no_write_happens_twice(
        journal: PostgresJournal, pg_cluster: object, pg_url: str) -> None:
    journal.claim("h1", API)
    attempt_id = begin(journal)
    pg_cluster.terminate_connections(pg_url.rsplit("/", 1)[1])  # type: ignore[attr-defined]
    journal.created(attempt_id, "job-1", Decimal("1.20"))  # reconnects, then writes
    journal.created(attempt_id, "job-1", Decimal("1.20"))  # the same write again: a no-op
    assert [(a.status, a.job_id) for a in journal.attempts()] == [(Status.PENDING, "job-1")]


def test_a_stopped_server_is_one_line_without_the_password(
        pg_url: str, pg_cluster: object) -> None:
    url = pg_url.replace("storyboard@", "storyboard:hunter2@")
    with PostgresJournal.open(url) as j:
        pg_cluster.stop("immediate")  # type: ignore[attr-defined]
        try:
            with pytest.raises(StateError) as failed:
                j.latest_all()
        finally:
            pg_cluster.start()  # type: ignore[attr-defined]
    message = str(failed.value)
    assert "hunter2" not in message and "\n" not in message
    assert message.startswith(f"{redact_url(url)}: cannot use the journal: ")
    assert message.endswith("(nothing is lost: rerun the same command once the database is "
                            "reachable)")


def test_a_create_a_live_runner_is_sending_is_not_reconciled_as_unknown(pg_url: str) -> None:
    with PostgresJournal.open(pg_url) as a:
        a.claim("live", API)
        begin(a, "live")
        dead = PostgresJournal.open(pg_url, lease=1)
        dead.claim("dead", API)
        begin(dead, "dead")
        dead._held.clear()  # it was killed: nothing released, nothing renewed
        dead._conn.close()  # type: ignore[union-attr]
        time.sleep(1.2)
        with PostgresJournal.open(pg_url) as b:
            reconciled = b.reconcile_interrupted()
        assert [x.hash for x in reconciled] == ["dead"]
        assert a.latest("live").status is Status.SUBMITTING  # type: ignore[union-attr]
        dead.close()


def test_a_newer_schema_is_refused_and_a_foreign_one_too(pg_url: str) -> None:
    with PostgresJournal.open(pg_url):
        pass
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("UPDATE storyboard.meta SET value = '99' WHERE key = 'schema'")
    with pytest.raises(JournalCorrupt, match=r"written by a newer storyboard \(journal schema "
                       r"99; this one reads up to 1\): upgrade storyboard on this runner"):
        PostgresJournal.open(pg_url)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("DELETE FROM storyboard.meta")
    with pytest.raises(JournalCorrupt, match="is not a storyboard journal; use another database"):
        PostgresJournal.open(pg_url)


def test_a_reader_of_a_new_database_creates_nothing(pg_url: str) -> None:
    with PostgresJournal.open(pg_url, exclusive=False) as reader:
        assert reader.latest_all() == {} and reader.attempts() == []
        with pytest.raises(StateError, match="read-only"):
            reader.claim("h1", API)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        assert conn.execute("SELECT to_regclass('storyboard.meta')").fetchone() == (None,)


def test_job_ids_the_database_never_saw_are_refused(pg_url: str) -> None:
    traces = Traces(job_ids=frozenset({"job-a", "job-b"}), manifest="renders/x/manifest.json")
    with pytest.raises(JournalLost, match=r"renders/x/manifest.json lists 2 job ids this "
                       "journal does not know.*--accept-lost-journal"):
        PostgresJournal.open(pg_url, traces=lambda: traces)
    with PostgresJournal.open(pg_url, traces=lambda: traces, accept_lost=True) as j:
        assert j.attempts() == []


def test_a_runner_locks_its_own_folder_only(pg_url: str, tmp_path: Path) -> None:
    with open_journal(pg_url, local=tmp_path / "a"), open_journal(pg_url, local=tmp_path / "b"), \
            pytest.raises(JournalLocked, match="give each runner its own checkout"):
        open_journal(pg_url, local=tmp_path / "a")


def test_a_url_shows_no_password() -> None:
    assert redact_url("postgresql://u:p%40ss@db.example:6543/sb?sslmode=require&password=x") \
        == "postgresql://u@db.example:6543/sb"
    assert redact_url("postgres://db/sb") == "postgres://db/sb"


def test_a_missing_database_says_to_create_it(pg_url: str) -> None:
    with pytest.raises(StateError) as failed:
        PostgresJournal.open(pg_url.rsplit("/", 1)[0] + "/no_such_database")
    assert str(failed.value).endswith(
        'database "no_such_database" does not exist (create the database (e.g. `createdb`) '
        "or fix the URL)")
