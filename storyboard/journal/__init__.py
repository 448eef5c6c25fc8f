"""The journal phase: a durable record of every create attempt, kept forever, so that no paid
job is lost and none is paid for twice.

``base`` is what every journal is (the ``Journal`` interface the execute phase needs, the
attempt, its statuses); ``sqlite`` keeps it in a state folder (the embedded default, one
run at a time); ``postgres`` keeps it in a PostgreSQL database that runners on several
machines share, each generation claimed before its create. ``open_journal`` picks the
backend from where the state is: a folder, or a ``postgresql://`` URL.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING

from storyboard.errors import UsageError
from storyboard.journal.base import (
    API,
    DEFAULT_LEASE,
    SANDBOX,
    Attempt,
    Journal,
    Status,
    Traces,
    charged_to,
)

if TYPE_CHECKING:
    from storyboard.journal.postgres import PostgresJournal

__all__ = ["API", "DEFAULT_LEASE", "SANDBOX", "Attempt", "Journal", "Status", "Traces",
           "charged_to", "is_database_url", "open_journal"]



def is_database_url(location: object) -> bool:
    """Whether ``--state`` names a database (``postgresql://…``) rather than a folder."""
    return isinstance(location, str) and "://" in location and \
        location.split("://", 1)[0].lower() in ("postgresql", "postgres")


def open_journal(state: Path | str, *, exclusive: bool = True, local: Path | None = None,
                 traces: Callable[[], Traces] = Traces, accept_lost: bool = False,
                 lease: float = DEFAULT_LEASE) -> Journal:
    """The journal at ``state``: a folder (SQLite) or a ``postgresql://`` URL (shared).

    A writer (``exclusive``) of a shared journal locks ``local``, the runner's own
    folder (its cache and rescue file), and first imports the journal that folder kept
    before (see ``import_folder``); readers take no lock and write nothing."""
    if is_database_url(state):
        if find_spec("psycopg") is None:
            raise UsageError("--state postgresql://… needs psycopg, which is not installed: "
                             "pip install 'storyboard[postgres]'")
        from storyboard.journal.postgres import PostgresJournal

        def adopt(journal: PostgresJournal) -> None:
            if local is not None:
                import_folder(journal, local)

        return PostgresJournal.open(str(state), exclusive=exclusive, lock_dir=local,
                                    traces=traces, accept_lost=accept_lost, lease=lease,
                                    adopt=adopt)
    from storyboard.journal.sqlite import SqliteJournal

    return SqliteJournal.open(Path(state), exclusive=exclusive, traces=traces,
                              accept_lost=accept_lost)


def import_folder(journal: PostgresJournal, folder: Path) -> int:
    """Copy the attempts of the journal in ``folder`` (a state folder, whose lock the
    caller holds) into the shared ``journal``: a team that moves to shared state keeps
    what it paid for. Idempotent; the folder's journal is kept as it is."""
    from storyboard.journal.sqlite import JOURNAL_FILE, SqliteJournal, state_id_of

    if not (folder / JOURNAL_FILE).is_file():
        return 0
    with SqliteJournal.open(folder, exclusive=False) as local:
        attempts = local.attempts()
    source = state_id_of(folder) or str(folder.resolve())
    return journal.import_attempts(attempts, source)
