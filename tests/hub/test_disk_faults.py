"""A full disk and a read-only disk: clear errors, no corruption, nothing stored lost.

How the faults are made without a real full or read-only filesystem:

* Full disk: the hub runs in a child process whose RLIMIT_FSIZE is set a little above the
  database's size, with SIGXFSZ ignored (as Python does anyway), so a write that would grow a
  file past it fails with EFBIG, the error a full disk gives SQLite's writes, at the same
  point (the WAL append or the checkpoint). No root, no loop device, no tmpfs.
* Read-only disk: the child sees the hub's home on a read-only bind mount in a mount
  namespace of its own (`unshare -m`, when the tests run as root, where file modes do not
  stop writes), or has the write bits taken off its files otherwise. Either way the kernel
  refuses every write with EROFS or EACCES, as on a disk remounted read-only.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import resource
import shutil
import signal
import socket
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import aiohttp
import pytest

from hub.settings import Settings
from hub.setup import init_hub
from hub.store import tokens
from hub.store.db import Database

ENV = {k: v for k, v in os.environ.items() if not k.startswith("COMMONHUB_")}
TOKEN = "disk-faults-test-token"
HEADROOM = 96 * 1024  # what files may grow by before the "disk" is full


async def _new_hub(home: Path) -> Settings:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = await init_hub(home, domain=f"127.0.0.1:{port}", name="hub", dev=True,
                              port=port)
    db = await Database.open(settings.database_path)
    try:
        await tokens.add_token(db, TOKEN, "disk tests")
    finally:
        await db.close()
    return settings


def _file_limit(limit: int) -> Callable[[], None]:
    def apply() -> None:  # in the child, before exec
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def _posts(path: Path) -> list[str]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        return [r[0] for r in db.execute("SELECT source FROM posts ORDER BY id")]


def _integrity(path: Path) -> str:
    with sqlite3.connect(path) as db:
        return str(db.execute("PRAGMA integrity_check").fetchone()[0])


async def _post(session: aiohttp.ClientSession, base: str, text: str) -> tuple[int, dict]:
    async with session.post(f"{base}/api/v1/posts", json={"text": text},
                            headers={"Authorization": f"Bearer {TOKEN}"}) as response:
        return response.status, await response.json(content_type=None)


def _read(log: Path) -> str:
    return log.read_text()


def _serve(home: Path, log: Path, limit: int) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "hub", "serve", "--home", str(home)], env=ENV,
            stdout=subprocess.DEVNULL, stderr=out, stdin=subprocess.DEVNULL,
            preexec_fn=_file_limit(limit))


async def _until_serving(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(400):
            if process.poll() is not None:
                raise AssertionError(f"serve exited:\n{_read(log)}")
            try:
                async with session.get(f"{base}/actor") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.05)
    raise AssertionError("serve did not start")


async def test_a_full_disk_answers_503_json_and_loses_nothing(tmp_path: Path) -> None:
    # Given a hub serving with room for only a little more data on its disk
    home = tmp_path / "hub"
    settings = await _new_hub(home)
    limit = settings.database_path.stat().st_size + HEADROOM
    log = tmp_path / "serve.log"
    process = _serve(home, log, limit)
    accepted: list[str] = []
    try:
        await _until_serving(settings.base_url, process, log)
        # When staff keep publishing until the disk is full
        async with aiohttp.ClientSession() as session:
            for n in range(400):
                text = f"Post number {n}: " + "news " * 399 + "news"
                status, body = await _post(session, settings.base_url, text)
                if status != 201:
                    break
                accepted.append(text)
            # Then the hub answers 503 with a JSON reason, not a crash or a 500
            assert status == 503, body
            assert body == {"error": "the hub's database is unavailable; try again later"}
            assert accepted  # some fitted before the disk filled
            # And it keeps answering: a smaller write may still fit, reads still work
            small, _ = await _post(session, settings.base_url, "one more")
            assert small in (201, 503)
            if small == 201:
                accepted.append("one more")
            async with session.get(f"{settings.base_url}/actor") as response:
                assert response.status == 200
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    assert "Traceback" not in _read(log)
    # And with space again the database is whole and every acknowledged post is in it
    assert _integrity(settings.database_path) == "ok"
    assert _posts(settings.database_path) == accepted


def test_the_cli_on_a_full_disk_says_so_and_exits_1(tmp_path: Path) -> None:
    # Given a hub whose disk has room for little more than a write-ahead log of a few posts
    home = tmp_path / "hub"
    settings = asyncio.run(_new_hub(home))
    limit = 64 * 1024  # the WAL may hold a few posts; the shm index (32 KiB) fits
    published: list[str] = []
    # When staff publish from the command line until it is full
    for n in range(40):
        text = f"Post {n}: " + "news " * 900 + "end"
        done = subprocess.run(
            [sys.executable, "-m", "hub", "post", text, "--home", str(home)], env=ENV,
            capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
            preexec_fn=_file_limit(limit))
        if done.returncode != 0:
            break
        published.append(text)
    # Then the command says what is wrong, in one line, and exits 1
    assert done.returncode == 1, done.stderr
    assert done.stderr.startswith("commonhub: ") and "database" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    # And the database is whole, with every post that was reported published
    assert _integrity(settings.database_path) == "ok"
    assert _posts(settings.database_path) == published


def _read_only(home: Path, command: list[str]) -> list[str]:
    """`command`, run so that it sees `home` on a read-only disk (see the module docstring)."""
    if os.geteuid() != 0:
        for path in [home, *home.rglob("*")]:
            path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
        return command
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.skip("running as root without unshare: no way to make a read-only disk")
    script = 'mount --bind -o ro "$0" "$0" && exec "$@"'
    return [unshare, "-m", "sh", "-c", script, str(home), *command]


@pytest.mark.parametrize("verb", [["serve"], ["post", "hello"], ["staff", "list"]])
def test_a_read_only_disk_is_a_clear_error_and_changes_nothing(
        tmp_path: Path, verb: list[str]) -> None:
    home = tmp_path / "hub"
    settings = asyncio.run(_new_hub(home))
    digest = hashlib.sha256(settings.database_path.read_bytes()).hexdigest()
    command = _read_only(home, [sys.executable, "-m", "hub", *verb, "--home", str(home)])
    done = subprocess.run(command, env=ENV, capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL)
    for path in [home, *home.rglob("*")]:
        path.chmod(path.stat().st_mode | stat.S_IWUSR)
    assert done.returncode == 1, done.stderr
    assert done.stderr.startswith("commonhub: "), done.stderr
    assert "read-only" in done.stderr or "readonly" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert hashlib.sha256(settings.database_path.read_bytes()).hexdigest() == digest
    assert _integrity(settings.database_path) == "ok"
