"""Opening the folder journal: a writer locks its state folder, refuses a journal that lost
what its mark or its folder show it held, and creates or migrates the file; a reader takes
no lock and writes nothing. ``SqliteJournal.open`` makes the journal from what these
return."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

from storyboard.errors import StateError
from storyboard.journal.base import Traces
from storyboard.journal.lock import lock_folder
from storyboard.journal.sqlite_file import JOURNAL_FILE, connect, empty_in_memory, prepare
from storyboard.journal.sqlite_mark import Mark, read_mark, refuse_if_lost


def open_reader(state_dir: Path, traces: Callable[[], Traces]
                ) -> tuple[sqlite3.Connection, Callable[[], None]]:
    """A read-only connection to the journal in ``state_dir`` (an empty one in memory
    where there is none yet), and the check that raises ``JournalLost`` where a writer
    would refuse it."""
    path = state_dir / JOURNAL_FILE
    existed, has_schema = path.exists(), False
    if not existed:
        conn = empty_in_memory()
    else:
        conn = connect(path, writable=False)
        try:
            has_schema = prepare(conn, path, writable=False)
            if not has_schema:
                conn.close()
                conn = empty_in_memory()
        except BaseException:
            conn.close()
            raise
    return conn, lambda: refuse_if_lost(
        conn if has_schema else None, path, has_schema, existed,
        read_mark(state_dir, accept_lost=True), traces())


def open_writer(state_dir: Path, traces: Callable[[], Traces], accept_lost: bool
                ) -> tuple[sqlite3.Connection, int, Mark | None]:
    """The journal in ``state_dir``, its folder locked, checked (not lost, unless
    ``accept_lost``), created or migrated: its connection, the lock's descriptor (closing
    it drops the lock) and the mark it had."""
    path = state_dir / JOURNAL_FILE
    try:
        state_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StateError(f"{state_dir}: cannot create the state folder: "
                         f"{exc.strerror or exc}") from None
    lock_fd = lock_folder(state_dir)
    try:
        mark = read_mark(state_dir, accept_lost=accept_lost)
        existed = path.exists()

        def whole(conn: sqlite3.Connection | None, has_schema: bool) -> None:
            if not accept_lost:
                refuse_if_lost(conn, path, has_schema, existed, mark, traces())

        if not existed:
            whole(None, False)  # before connecting creates the file
        conn = connect(path, writable=True)
        try:
            prepare(conn, path, writable=True, check=whole)
        except BaseException:
            conn.close()
            raise
    except BaseException:
        os.close(lock_fd)
        raise
    return conn, lock_fd, mark
