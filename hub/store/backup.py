"""Online backup and restore of the hub's SQLite database.

Both copy through SQLite's backup API, never by copying files: it reads one consistent snapshot
(WAL included) while the hub keeps writing, and writes the destination through SQLite's own
pager, so a live database's -wal and -shm stay coherent. A backup is written under a temporary
name, checked, and only then given its final name, so a file under that name is always whole.

`commonhub serve` holds an exclusive `flock` on `HOME/commonhub.lock` for as long as it runs;
restore takes the same lock, so it cannot replace a database a server has open (SQLite's own
locks cannot tell us that: a WAL reader does not block even `BEGIN EXCLUSIVE`).
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from hub.store.db import StoreError, available_migrations

LOCK_NAME = "commonhub.lock"
_SQLITE_HEADER = b"SQLite format 3\x00"


class BackupError(StoreError):
    """A backup or restore was refused or failed; nothing under the final name was changed."""


@dataclass(frozen=True)
class BackupInfo:
    """A checked database file: its size and the highest migration it records."""

    path: Path
    size: int
    schema_version: int


# The serve lock ------------------------------------------------------------------------------
def lock_home(home: Path) -> IO[str]:
    """Take the exclusive lock a running hub holds; keep the returned file open to keep it."""
    try:
        lock = (home / LOCK_NAME).open("a+", encoding="utf-8")
    except OSError as exc:
        raise BackupError(f"cannot write to {home}: {exc.strerror} "
                          "(a read-only or full disk?)") from exc
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()
        raise BackupError(f"a `commonhub serve` is running for {home} (it holds "
                          f"{home / LOCK_NAME}); stop it first") from None
    lock.truncate(0)
    lock.write(f"{os.getpid()}\n")
    lock.flush()
    return lock


# Backup ----------------------------------------------------------------------------------------
def default_backup_path(home: Path, now: float | None = None) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    return home / "backups" / f"commonhub-{stamp}.db"


def backup_database(source: Path, target: Path) -> BackupInfo:
    """Copy the live database at `source` to the new file `target`, checked and whole."""
    if target.exists():
        raise BackupError(f"{target} already exists; choose another name")
    _make_folder(target.parent)
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    try:
        _snapshot(source, partial)
        info = inspect_database(partial)
        _publish(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return BackupInfo(target, info.size, info.schema_version)


def _make_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BackupError(f"cannot create the folder {folder}: {exc.strerror}") from exc
    if not os.access(folder, os.W_OK):
        raise BackupError(f"cannot write to {folder}: permission denied")


def _snapshot(source: Path, target: Path) -> None:
    """A standalone copy (rollback journal, no -wal) of one consistent snapshot of `source`."""
    try:
        # Volunteers' personal details are in here: only the hub's own user may read it.
        os.close(os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        with closing(_open_existing(source)) as src, closing(sqlite3.connect(target)) as dst:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")
        _fsync(target)
    except sqlite3.Error as exc:
        raise BackupError(f"cannot write {target.parent}: {_reason(exc)}") from exc
    except OSError as exc:
        raise BackupError(f"cannot write {target.parent}: {exc.strerror or exc}") from exc


def _publish(partial: Path, target: Path) -> None:
    """Give the checked copy its final name, never replacing a file already there."""
    try:
        os.link(partial, target)
    except FileExistsError:
        raise BackupError(f"{target} already exists; choose another name") from None
    except OSError as exc:
        raise BackupError(f"cannot name the backup {target}: {exc.strerror}") from exc
    _fsync(target.parent)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _reason(exc: sqlite3.Error) -> str:
    text = str(exc)
    if "full" in text or "I/O" in text:
        return f"{text} (is the disk full?)"
    return text


def _open_existing(path: Path) -> sqlite3.Connection:
    """Open without ever creating: a missing file is an error, not a new empty database."""
    if not path.is_file():
        raise BackupError(f"no database at {path}")
    conn = sqlite3.connect(f"file:{path}?mode=rw", uri=True)
    conn.execute("PRAGMA busy_timeout=5000")
    return conn


# Inspecting and restoring ----------------------------------------------------------------------
def latest_known_version() -> int:
    return max(version for version, _, _ in available_migrations())


def inspect_database(path: Path) -> BackupInfo:
    """Check `path` is a whole commonhub database; return its size and schema version."""
    with path.open("rb") as file:
        if file.read(len(_SQLITE_HEADER)) != _SQLITE_HEADER:
            raise BackupError(f"{path} is not an SQLite database")
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
            integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
            if integrity != "ok":
                raise BackupError(f"{path} fails its integrity check: {integrity}")
            version = _schema_version(conn, path)
    except sqlite3.Error as exc:
        raise BackupError(f"cannot read {path} as a database: {exc}") from exc
    return BackupInfo(path, path.stat().st_size, version)


def _schema_version(conn: sqlite3.Connection, path: Path) -> int:
    has_table = conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' "
                             "AND name='schema_migrations'").fetchone()
    if not has_table:
        raise BackupError(f"{path} is not a commonhub database (no schema_migrations table)")
    return int(conn.execute("SELECT coalesce(max(version), 0) FROM schema_migrations")
               .fetchone()[0])


def check_restorable(path: Path) -> BackupInfo:
    """Refuse a file that is not a whole commonhub database, or is from newer code than ours."""
    if not path.is_file():
        raise BackupError(f"no backup file at {path}")
    info = inspect_database(path)
    ours = latest_known_version()
    if info.schema_version > ours:
        raise BackupError(f"{path} is from a newer commonhub (schema {info.schema_version}, "
                          f"this code knows up to {ours}); upgrade commonhub first")
    return info


def restore_database(backup: Path, live: Path, now: float | None = None) -> Path | None:
    """Keep the live database aside, then copy `backup` over it; returns the kept copy's path.

    The caller holds the home's lock, so no server has the live database open.
    """
    kept = None
    if live.exists():
        stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
        kept = live.with_name(f"{live.name}.before-restore-{stamp}")
        backup_database(live, kept)
    try:
        with closing(_open_existing(backup)) as src, closing(sqlite3.connect(live)) as dst:
            src.backup(dst)
            dst.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except sqlite3.Error as exc:
        raise BackupError(f"restoring into {live} failed: {_reason(exc)}; "
                          f"the previous database is kept at {kept}") from exc
    return kept
