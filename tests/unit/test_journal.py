"""The journal on a real SQLite file: durable order, locking across processes, damage."""

from __future__ import annotations

import fcntl
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from decimal import Decimal
from pathlib import Path

import pytest

from storyboard.errors import JournalCorrupt, JournalLocked, StateError
from storyboard.journal.sqlite import JOURNAL_FILE, LOCK_FILE, SCHEMA_VERSION, Journal, Status
from storyboard.model import canonical_json

REPO = Path(__file__).resolve().parents[2]
REQUEST = {"model": "kwaivgi/kling-o3/text-to-video",
           "args": {"prompt": "dawn", "mode": "pro", "duration": 5, "sound": "off"}}


def begin(journal: Journal, hash: str = "h1", estimated: str = "0.475") -> int:
    return journal.begin(hash=hash, generation_id=f"us/{hash}", storyboard="board.yaml",
                         request=REQUEST, estimated_usd=Decimal(estimated))


def python(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code), *args], env=env,
                          capture_output=True, text=True, timeout=30)


def test_begin_is_durable_and_visible_to_another_connection_before_the_send(
        tmp_path: Path) -> None:
    with Journal.open(tmp_path) as journal:
        attempt_id = begin(journal)
        # what a crash right now would leave on disk, read by an unrelated connection
        other = sqlite3.connect(tmp_path / JOURNAL_FILE)
        row = other.execute("SELECT status, request_json, estimated_usd, typeof(estimated_usd) "
                            "FROM attempts WHERE attempt_id = ?", (attempt_id,)).fetchone()
        assert row == ("submitting", canonical_json(REQUEST), "0.475", "text")
        journal.created(attempt_id, "job-1", Decimal("0.475"))
        assert other.execute("SELECT status, job_id FROM attempts").fetchone() == \
            ("pending", "job-1")
        assert other.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert other.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
        other.close()


def test_an_attempt_goes_from_submitting_to_done(tmp_path: Path) -> None:
    times = iter([10.0, 11.0, 12.0])
    with Journal.open(tmp_path, clock=lambda: next(times)) as journal:
        attempt_id = begin(journal)
        journal.created(attempt_id, "job-1", None)
        journal.done(attempt_id, url="https://cdn.test/v.mp4", file="cache/ab/h1.mp4",
                     sha256="f" * 64)
        attempt = journal.latest("h1")
    assert attempt is not None
    assert (attempt.status, attempt.job_id, attempt.file, attempt.sha256) == \
        (Status.DONE, "job-1", "cache/ab/h1.mp4", "f" * 64)
    assert (attempt.created_at, attempt.updated_at) == (10.0, 12.0)
    assert (attempt.estimated_usd, attempt.charged_usd) == (Decimal("0.475"), None)
    assert attempt.request_json == canonical_json(REQUEST)


def test_latest_and_latest_all_pick_the_newest_attempt_per_hash(tmp_path: Path) -> None:
    with Journal.open(tmp_path) as journal:
        first = begin(journal, "h1")
        journal.unknown(first, "read timeout")
        second = begin(journal, "h1")
        journal.created(second, "job-2", Decimal("0.475"))
        other = begin(journal, "h2")
        journal.rejected(other, "HTTP 400: prompt too long")
        latest = journal.latest_all()
        assert journal.latest("h1") == latest["h1"]
        assert journal.latest("nope") is None
        assert [a.attempt_id for a in journal.attempts("h1")] == [first, second]
        assert [a.attempt_id for a in journal.attempts()] == [first, second, other]
    assert {h: (a.attempt_id, a.status) for h, a in latest.items()} == {
        "h1": (second, Status.PENDING), "h2": (other, Status.REJECTED)}


def test_failed_keeps_the_reason_refund_and_job_status(tmp_path: Path) -> None:
    with Journal.open(tmp_path) as journal:
        attempt_id = begin(journal)
        journal.created(attempt_id, "job-1", Decimal("0.475"))
        journal.failed(attempt_id, "content policy", refunded=True, status=3)
        attempt = journal.latest("h1")
    assert attempt is not None
    assert (attempt.status, attempt.error, attempt.refunded, attempt.job_status) == \
        (Status.FAILED, "content policy", True, 3)


@pytest.mark.parametrize("amount", ["0.1", "1.785", "0.020", "0", "1E+2",
                                    "12345678901234567890.123456789012345678"])
def test_amounts_round_trip_exactly(tmp_path: Path, amount: str) -> None:
    with Journal.open(tmp_path) as journal:
        attempt_id = begin(journal, estimated=amount)
        journal.created(attempt_id, "job-1", Decimal(amount))
    with Journal.open(tmp_path, exclusive=False) as reader:
        attempt = reader.latest("h1")
    assert attempt is not None
    assert attempt.estimated_usd is not None and attempt.charged_usd is not None
    assert str(attempt.estimated_usd) == str(attempt.charged_usd) == amount


@pytest.mark.parametrize("amount", [Decimal("NaN"), Decimal("Infinity"), 0.1])
def test_amounts_must_be_finite_decimals(tmp_path: Path, amount: object) -> None:
    with Journal.open(tmp_path) as journal, pytest.raises(ValueError, match="Decimal"):
        journal.begin(hash="h", generation_id="g", storyboard="s", request=REQUEST,
                      estimated_usd=amount)  # type: ignore[arg-type]


def test_moves_that_could_cost_money_are_refused(tmp_path: Path) -> None:
    with Journal.open(tmp_path) as journal:
        attempt_id = begin(journal)
        with pytest.raises(StateError, match="submitting; it cannot become done"):
            journal.done(attempt_id, url=None, file="f", sha256="0" * 64)
        journal.created(attempt_id, "job-1", None)
        # a job that exists must never look refused (a later run would pay for it again)
        with pytest.raises(StateError, match="pending; it cannot become rejected"):
            journal.rejected(attempt_id, "oops")
        with pytest.raises(StateError, match="no attempt 99"):
            journal.unknown(99, "x")
        journal.note(attempt_id, "download failed; will retry")
        attempt = journal.latest("h1")
        assert attempt is not None
        assert (attempt.status, attempt.error) == (Status.PENDING, "download failed; will retry")


def test_reconcile_turns_interrupted_submissions_into_unknown(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path)
    interrupted = begin(journal, "h1")
    finished = begin(journal, "h2")
    journal.created(finished, "job-2", None)
    journal.close()  # the process "crashed" between begin and created
    with Journal.open(tmp_path) as journal:
        reconciled = journal.reconcile_interrupted()
        assert [(a.attempt_id, a.status) for a in reconciled] == \
            [(interrupted, Status.UNKNOWN)]
        assert reconciled[0].error is not None and "stopped while sending" in reconciled[0].error
        assert journal.reconcile_interrupted() == []
        pending = journal.latest("h2")
        assert pending is not None and pending.status == Status.PENDING


def test_readers_take_no_lock_write_nothing_and_create_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "never-run"
    with Journal.open(missing, exclusive=False) as reader:
        assert reader.latest_all() == {} and reader.attempts() == []
    assert not missing.exists()
    with Journal.open(tmp_path) as writer:
        begin(writer)
        with Journal.open(tmp_path, exclusive=False) as reader:  # while the run holds it
            attempt = reader.latest("h1")
            assert attempt is not None and attempt.status == Status.SUBMITTING
            with pytest.raises(StateError, match="read-only"):
                begin(reader)
            with pytest.raises(StateError, match="read-only"):
                reader.reconcile_interrupted()


def test_a_second_run_is_locked_out_in_this_and_another_process(tmp_path: Path) -> None:
    with Journal.open(tmp_path):
        with pytest.raises(JournalLocked) as info:
            Journal.open(tmp_path)
        message = str(info.value)
        assert str(tmp_path) in message and "another storyboard run" in message
        assert f"pid {os.getpid()}" in message
        result = python("""
            import sys
            from pathlib import Path
            from storyboard.errors import JournalLocked
            from storyboard.journal.sqlite import Journal
            try:
                Journal.open(Path(sys.argv[1]))
            except JournalLocked as exc:
                print(exc)
                sys.exit(3)
            """, str(tmp_path))
        assert result.returncode == 3, result.stderr
        assert "another storyboard run" in result.stdout
    with Journal.open(tmp_path):  # released on close
        pass


def test_a_killed_run_leaves_no_lock_and_its_submission_is_unknown(tmp_path: Path) -> None:
    result = python("""
        import os, signal, sys
        from decimal import Decimal
        from pathlib import Path
        from storyboard.journal.sqlite import Journal
        journal = Journal.open(Path(sys.argv[1]))
        journal.begin(hash="h1", generation_id="us/h1", storyboard="b.yaml",
                      request={"model": "m", "args": {}}, estimated_usd=Decimal("0.5"))
        os.kill(os.getpid(), signal.SIGKILL)
        """, str(tmp_path))
    assert result.returncode == -signal.SIGKILL, result.stderr
    with Journal.open(tmp_path) as journal:
        (attempt,) = journal.reconcile_interrupted()
    assert (attempt.hash, attempt.status, attempt.estimated_usd) == \
        ("h1", Status.UNKNOWN, Decimal("0.5"))


def assert_lock_free(state: Path) -> None:
    fd = os.open(state / LOCK_FILE, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # raises if a failed open kept it
    finally:
        os.close(fd)


def test_garbage_is_reported_and_kept(tmp_path: Path) -> None:
    garbage = b"this is not an SQLite database\n" * 200
    (tmp_path / JOURNAL_FILE).write_bytes(garbage)
    for exclusive in (True, False):
        with pytest.raises(JournalCorrupt) as info:
            Journal.open(tmp_path, exclusive=exclusive)
        message = str(info.value)
        assert str(tmp_path / JOURNAL_FILE) in message and "move it aside" in message
        assert "\n" not in message
    assert (tmp_path / JOURNAL_FILE).read_bytes() == garbage
    assert_lock_free(tmp_path)


def test_a_journal_from_a_newer_storyboard_is_refused(tmp_path: Path) -> None:
    with Journal.open(tmp_path) as journal:
        begin(journal)
    with sqlite3.connect(tmp_path / JOURNAL_FILE) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(JournalCorrupt, match="newer storyboard"):
        Journal.open(tmp_path)


def test_some_other_database_is_refused(tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / JOURNAL_FILE) as conn:
        conn.execute("CREATE TABLE notes (text TEXT)")
    with pytest.raises(JournalCorrupt, match="not a storyboard journal"):
        Journal.open(tmp_path)


def test_damaged_pages_are_caught_on_open(tmp_path: Path) -> None:
    with Journal.open(tmp_path) as journal:
        for n in range(200):
            begin(journal, f"h{n:03}" + "x" * 400)
    path = tmp_path / JOURNAL_FILE
    assert not (tmp_path / f"{JOURNAL_FILE}-wal").exists()  # checkpointed on close
    data = bytearray(path.read_bytes())
    page = 4096
    assert len(data) > 8 * page
    data[3 * page: 5 * page] = b"\xa5" * (2 * page)  # stomp two b-tree pages
    path.write_bytes(bytes(data))
    with pytest.raises(JournalCorrupt, match="damaged") as info:
        Journal.open(tmp_path)
    assert "\n" not in str(info.value) and "move it aside" in str(info.value)
    assert path.read_bytes() == bytes(data)
    assert_lock_free(tmp_path)


def test_a_reader_racing_the_schema_creation_sees_a_journal_not_damage(tmp_path: Path) -> None:
    """`status` (read-only) opening while a `run` creates the journal: the reader reads the
    version before the schema exists and the table list after; it must not cry damage."""
    import sqlite3

    from storyboard.journal import sqlite as journal_module

    state = tmp_path / "state"
    state.mkdir()
    path = state / journal_module.JOURNAL_FILE
    sqlite3.connect(path).close()  # the writer has created the file, not yet the schema
    reader = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, isolation_level=None)

    class RacingConnection:
        """Runs the writer's schema creation right after the reader's first version read."""

        def __init__(self) -> None:
            self.reads = 0

        def execute(self, sql: str, *args: object) -> Rows:
            rows = Rows(reader.execute(sql, *args).fetchall())  # no read lock held after
            if sql.strip() == "PRAGMA user_version":
                self.reads += 1
                if self.reads == 1:
                    journal_module.Journal.open(state).close()
            return rows

    class Rows(list):  # type: ignore[type-arg]
        def fetchone(self) -> object:
            return self[0] if self else None

        def fetchall(self) -> list:  # type: ignore[type-arg]
            return list(self)

    from storyboard.journal.sqlite_file import prepare

    assert prepare(RacingConnection(), path, writable=False) is True  # type: ignore[arg-type]


# ------------------------------------------------------- where each job was made


V1_SCHEMA = """
CREATE TABLE attempts (
    attempt_id INTEGER PRIMARY KEY AUTOINCREMENT, hash TEXT NOT NULL,
    generation_id TEXT NOT NULL, storyboard TEXT NOT NULL, request_json TEXT NOT NULL,
    status TEXT NOT NULL, job_id TEXT, estimated_usd TEXT, charged_usd TEXT,
    refunded INTEGER NOT NULL DEFAULT 0, job_status INTEGER, url TEXT, file TEXT,
    sha256 TEXT, error TEXT, created_at REAL NOT NULL, updated_at REAL NOT NULL);
PRAGMA user_version = 1;
"""


def test_a_schema_1_journal_is_migrated_by_what_its_job_ids_say(tmp_path: Path) -> None:
    from storyboard.api.sandbox import make_job_id

    placeholder = make_job_id(5, False)
    with sqlite3.connect(tmp_path / JOURNAL_FILE) as db:
        db.executescript(V1_SCHEMA)
        db.executemany(
            "INSERT INTO attempts (hash, generation_id, storyboard, request_json, status, "
            "job_id, estimated_usd, charged_usd, created_at, updated_at) "
            "VALUES (?, 'g', 'board', '{}', ?, ?, '0.475', ?, 0, 0)",
            [("h1", "done", placeholder, "0.475"), ("h2", "done", "job-real-1", "0.475"),
             ("h3", "unknown", None, None),
             ("h4", "done", "sbx1-5-0-0123456789ab-0000000000", "0.475")])  # a forged id
    # a reader reads it as it is, and writes nothing
    with Journal.open(tmp_path, exclusive=False) as reader:
        assert {h: a.origin for h, a in reader.latest_all().items()} == {
            "h1": "sandbox", "h2": "api", "h3": "api", "h4": "api"}
    with sqlite3.connect(tmp_path / JOURNAL_FILE) as db:
        assert db.execute("PRAGMA user_version").fetchone() == (1,)
    with Journal.open(tmp_path) as journal:
        assert set(journal.latest_all("api")) == {"h2", "h3", "h4"}
        assert set(journal.latest_all("sandbox")) == {"h1"}
        assert journal.spent("board").charged == Decimal("0.95")  # h2 and h4, not h1
    with sqlite3.connect(tmp_path / JOURNAL_FILE) as db:
        assert db.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,) == (2,)
        assert db.execute("SELECT hash, origin, api_base FROM attempts ORDER BY hash"
                          ).fetchall() == [("h1", "sandbox", None), ("h2", "api", None),
                                           ("h3", "api", None), ("h4", "api", None)]


def test_the_answer_says_where_a_job_was_made(tmp_path: Path) -> None:
    with Journal.open(tmp_path) as journal:
        attempt_id = journal.begin(hash="h", generation_id="g", storyboard="b",
                                   request=REQUEST, estimated_usd=Decimal("1"),
                                   origin="api", api_base="http://127.0.0.1:9")
        journal.created(attempt_id, "job-1", Decimal("1"), origin="sandbox")
        attempt = journal.get(attempt_id)
        assert attempt is not None
        assert (attempt.origin, attempt.api_base) == ("sandbox", "http://127.0.0.1:9")
        assert journal.latest("h", "api") is None
        assert journal.spent("b") == journal.spent("b", "api")
        assert journal.spent("b").charged == 0
        assert journal.spent("b", "sandbox").charged == Decimal("1")


def test_spent_counts_charges_refunds_and_unknown_creates(tmp_path: Path) -> None:
    with Journal.open(tmp_path) as journal:
        paid = begin(journal, "a", "1.14")
        journal.created(paid, "job-a", Decimal("1.14"))
        refunded = begin(journal, "b", "0.595")
        journal.created(refunded, "job-b", Decimal("0.595"))
        journal.failed(refunded, "no", True, 3)
        no_amount = begin(journal, "c", "0.71")
        journal.created(no_amount, "job-c", None)  # accepted: charged its estimate
        journal.rejected(begin(journal, "d", "9"), "refused")
        journal.unknown(begin(journal, "e", "0.475"), "timed out")
        spent = journal.spent("board.yaml")
        assert (spent.charged, spent.unknown) == (Decimal("1.85"), Decimal("0.475"))
        assert journal.spent("another").at_most == 0
