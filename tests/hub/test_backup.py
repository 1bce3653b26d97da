"""`commonhub backup` and `commonhub restore`, run as real processes against real hubs."""

from __future__ import annotations

import asyncio
import os
import re
import resource
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from hub.store.db import available_migrations
from tests.support.hubs import RunningHub, start_hub

ENV = {k: v for k, v in os.environ.items() if not k.startswith("COMMONHUB_")}


def commonhub(*args: str, home: Path, **kw: object) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "hub", *args, "--home", str(home)]
    return subprocess.run(command, capture_output=True, text=True, env=ENV, timeout=60,
                          stdin=subprocess.DEVNULL, **kw)  # type: ignore[call-overload]


def post_texts(path: Path) -> list[str]:
    with sqlite3.connect(path) as db:
        return [r[0] for r in db.execute("SELECT source FROM posts ORDER BY id")]


def table_counts(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as db:
        names = [r[0] for r in db.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")]
        return {n: db.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}


async def write_posts(hub: RunningHub, stop: asyncio.Event) -> int:
    written = 0
    while not stop.is_set():
        status, _ = await hub.api("POST", "/api/v1/posts", {"text": f"post {written}"})
        assert status == 201
        written += 1
    return written


async def backup_while_writing(hub: RunningHub, target: Path) -> tuple[int, str]:
    stop = asyncio.Event()
    writer = asyncio.create_task(write_posts(hub, stop))
    await asyncio.sleep(0.5)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hub", "backup", "--home", str(hub.settings.home),
        "--to", str(target), env=ENV, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    out, err = await process.communicate()
    await asyncio.sleep(0.3)
    stop.set()
    written = await writer
    assert process.returncode == 0, err.decode()
    return written, out.decode()


async def test_an_online_backup_is_whole_and_consistent_while_posts_are_written(
        tmp_path: Path) -> None:
    # Given a serving hub, written to by the API in a loop
    hub = await start_hub(tmp_path / "hub")
    try:
        # When a backup runs in another process meanwhile
        written, printed = await backup_while_writing(hub, tmp_path / "copy.db")
    finally:
        await hub.stop()
    # Then the copy is whole, and holds an unbroken prefix of the posts: one snapshot
    assert_whole_snapshot(tmp_path / "copy.db", printed, written)


def assert_whole_snapshot(copy: Path, printed: str, written: int) -> None:
    assert str(copy) in printed and "bytes" in printed
    with sqlite3.connect(copy) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    texts = post_texts(copy)
    assert 0 < len(texts) < written
    assert texts == [f"post {i}" for i in range(len(texts))]
    assert oct(copy.stat().st_mode & 0o777) == "0o600"
    assert not list(copy.parent.glob(".copy.db.partial-*"))


async def test_restore_brings_back_the_data_at_backup_time(tmp_path: Path) -> None:
    home = tmp_path / "hub"
    hub = await start_hub(home)
    await hub.api("POST", "/api/v1/posts", {"text": "before the backup"})
    done = commonhub("backup", home=home)
    assert done.returncode == 0, done.stderr
    [backup] = (home / "backups").glob("commonhub-*.db")
    at_backup = table_counts(backup)
    await hub.api("POST", "/api/v1/posts", {"text": "after the backup"})
    await hub.stop()
    live = home / "commonhub.db"

    done = commonhub("restore", str(backup), "--yes", home=home)

    assert done.returncode == 0, done.stderr
    assert "Integrity and keys: ok" in done.stdout
    assert [t for t in post_texts(live) if "backup" in t] == [t for t in post_texts(backup)
                                                              if "backup" in t]
    assert not any("after the backup" in t for t in post_texts(live))
    assert table_counts(live) == at_backup
    [kept] = home.glob("commonhub.db.before-restore-*")
    assert any("after the backup" in t for t in post_texts(kept))
    assert "all good" in commonhub("check", home=home).stdout


async def test_restore_upgrades_an_older_backup(tmp_path: Path) -> None:
    home = tmp_path / "hub"
    await (await start_hub(home)).stop()
    old = tmp_path / "old.db"
    assert commonhub("backup", "--to", str(old), home=home).returncode == 0
    version, name, sql = available_migrations()[-1]
    with sqlite3.connect(old) as db:  # make it a backup taken before the newest migration
        for table in re.findall(r"CREATE TABLE (\w+)", sql):
            db.execute(f"DROP TABLE {table}")
        for index in re.findall(r"CREATE (?:UNIQUE )?INDEX (\w+)", sql):
            db.execute(f"DROP INDEX {index}")
        for table, column in re.findall(r"ALTER TABLE (\w+) ADD COLUMN (\w+)", sql):
            db.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
        db.execute("DELETE FROM schema_migrations WHERE version = ?", (version,))

    done = commonhub("restore", str(old), "--yes", home=home)

    assert done.returncode == 0, done.stderr
    assert f"Applied migrations: {name}" in done.stdout
    assert "all good" in commonhub("check", home=home).stdout


@pytest.fixture
async def hub_home(tmp_path: Path) -> tuple[Path, Path]:
    """A stopped hub with one post, and a backup of it."""
    home = tmp_path / "hub"
    hub = await start_hub(home)
    await hub.api("POST", "/api/v1/posts", {"text": "kept"})
    await hub.stop()
    backup = tmp_path / "good.db"
    assert commonhub("backup", "--to", str(backup), home=home).returncode == 0
    return home, backup


def assert_unchanged(home: Path, before: dict[str, int]) -> None:
    assert table_counts(home / "commonhub.db") == before
    assert not list(home.glob("commonhub.db.before-restore-*"))


def test_restore_refuses_a_file_that_is_not_a_database(
        hub_home: tuple[Path, Path], tmp_path: Path) -> None:
    home, _ = hub_home
    before = table_counts(home / "commonhub.db")
    junk = tmp_path / "junk.db"
    junk.write_text("not a database at all, just some text to fill a page" * 200)
    done = commonhub("restore", str(junk), "--yes", home=home)
    assert done.returncode == 1 and "not an SQLite database" in done.stderr
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
    done = commonhub("restore", str(other), "--yes", home=home)
    assert done.returncode == 1 and "schema_migrations" in done.stderr
    assert_unchanged(home, before)


def test_restore_refuses_a_backup_from_newer_code(hub_home: tuple[Path, Path]) -> None:
    home, backup = hub_home
    before = table_counts(home / "commonhub.db")
    with sqlite3.connect(backup) as db:
        db.execute("INSERT INTO schema_migrations VALUES (9999, 'future', 0)")
    done = commonhub("restore", str(backup), "--yes", home=home)
    assert done.returncode == 1 and "newer commonhub" in done.stderr
    assert_unchanged(home, before)


def test_restore_asks_and_refuses_without_a_terminal(hub_home: tuple[Path, Path]) -> None:
    home, backup = hub_home
    before = table_counts(home / "commonhub.db")
    done = commonhub("restore", str(backup), home=home)
    assert done.returncode == 1 and "--yes" in done.stderr
    assert_unchanged(home, before)


def test_restore_refuses_while_the_hub_is_served(hub_home: tuple[Path, Path]) -> None:
    home, backup = hub_home
    before = table_counts(home / "commonhub.db")
    server = subprocess.Popen(
        [sys.executable, "-m", "hub", "serve", "--home", str(home), "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    try:
        assert server.stdout is not None and "commonhub: @" in server.stdout.readline()
        done = commonhub("restore", str(backup), "--yes", home=home)
        assert done.returncode == 1 and "commonhub serve` is running" in done.stderr
        second = commonhub("serve", "--port", "0", home=home)
        assert second.returncode == 1 and "is running" in second.stderr
    finally:
        server.send_signal(signal.SIGINT)
        server.communicate(timeout=30)
    assert_unchanged(home, before)


def test_backup_refuses_to_overwrite_and_reports_unwritable_places(
        hub_home: tuple[Path, Path], tmp_path: Path) -> None:
    home, backup = hub_home
    original = backup.read_bytes()
    done = commonhub("backup", "--to", str(backup), home=home)
    assert done.returncode == 1 and "already exists" in done.stderr
    assert backup.read_bytes() == original
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    done = commonhub("backup", "--to", str(a_file / "copy.db"), home=home)
    assert done.returncode == 1 and "cannot create the folder" in done.stderr
    assert "Traceback" not in done.stderr


def _small_disk() -> None:
    """In the child: files may grow to 64 KiB, and a larger write fails instead of killing."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))


def test_a_full_disk_is_a_clear_error_and_leaves_no_partial_file(
        hub_home: tuple[Path, Path], tmp_path: Path) -> None:
    home, _ = hub_home
    target = tmp_path / "full" / "copy.db"
    done = commonhub("backup", "--to", str(target), home=home, preexec_fn=_small_disk)
    assert done.returncode == 1 and "disk full?" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert list(target.parent.iterdir()) == []


@pytest.mark.parametrize("verb", ["backup", "restore"])
def test_the_verbs_have_help(verb: str, tmp_path: Path) -> None:
    done = commonhub(verb, "--help", home=tmp_path)
    assert done.returncode == 0 and "usage:" in done.stdout
