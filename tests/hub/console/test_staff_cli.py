"""`commonhub staff`, run as a user would: a real process on a real hub folder."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

PASSWORD = "tea and biscuits at four"


def run(*args: str, home: Path | None = None,
        stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMMONHUB_")}
    command = [sys.executable, "-m", "hub", *args]
    if home is not None:
        command += ["--home", str(home)]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=60,
                          input=stdin)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    done = run("init", "--domain", "127.0.0.1:8098", "--name", "testhub", "--dev",
               home=tmp_path / "hub")
    assert done.returncode == 0, done.stderr
    return tmp_path / "hub"


def _db(home: Path) -> sqlite3.Connection:
    return sqlite3.connect(home / "commonhub.db")


@pytest.mark.parametrize("action", ["add", "list", "disable", "passwd"])
def test_every_staff_action_has_help(action: str) -> None:
    done = run("staff", action, "--help")
    assert done.returncode == 0 and "usage:" in done.stdout


def test_add_list_disable_passwd(home: Path) -> None:
    done = run("staff", "add", "Alice", "--role", "coordinator", "--password-stdin", home=home,
               stdin=PASSWORD + "\n")
    assert done.returncode == 0, done.stderr
    assert "Added coordinator alice" in done.stdout and "/console/login" in done.stdout
    assert run("staff", "add", "bob", "--password-stdin", home=home,
               stdin=PASSWORD + "\n").returncode == 0
    listed = run("staff", "list", home=home).stdout
    assert "alice\tcoordinator\tactive\tlast login: never" in listed
    assert "bob\thelper\tactive" in listed  # helper is the default role

    stored = _db(home).execute("SELECT password_hash FROM staff WHERE username = 'alice'")
    before = stored.fetchone()[0]
    assert before.startswith("$argon2id$") and PASSWORD not in before

    done = run("staff", "passwd", "alice", "--password-stdin", home=home,
               stdin="a new and longer passphrase\n")
    assert done.returncode == 0, done.stderr
    after = _db(home).execute("SELECT password_hash FROM staff WHERE username = 'alice'")
    assert after.fetchone()[0] != before

    assert run("staff", "disable", "bob", home=home).returncode == 0
    assert "bob\thelper\tdisabled" in run("staff", "list", home=home).stdout
    actions = [r[0] for r in _db(home).execute(
        "SELECT action FROM audit_log WHERE staff_id IS NULL ORDER BY id")]
    assert actions == ["staff.add", "staff.add", "staff.passwd", "staff.disable"]


@pytest.mark.parametrize(("args", "stdin", "message"), [
    (("--role", "boss"), PASSWORD, "role 'boss' is unknown"),
    ((), "short", "at least 10 characters"),
    ((), "Password123!", "too common"),
    ((), "carol-the-great", "must not contain the username"),
    ((), "", "no password on standard input"),
])
def test_bad_input_is_refused_with_a_message(home: Path, args: tuple[str, ...], stdin: str,
                                             message: str) -> None:
    done = run("staff", "add", "carol", *args, "--password-stdin", home=home, stdin=stdin + "\n")
    assert done.returncode == 1 and message in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert _db(home).execute("SELECT count(*) FROM staff").fetchone()[0] == 0


def test_duplicates_and_unknown_names_are_refused(home: Path) -> None:
    assert run("staff", "add", "dana", "--password-stdin", home=home,
               stdin=PASSWORD + "\n").returncode == 0
    done = run("staff", "add", "DANA", "--password-stdin", home=home, stdin=PASSWORD + "\n")
    assert done.returncode == 1 and "already exists" in done.stderr
    for args in (("disable", "nobody"), ("passwd", "nobody", "--password-stdin")):
        done = run("staff", *args, home=home, stdin=PASSWORD + "\n")
        assert done.returncode == 1 and "no staff member called 'nobody'" in done.stderr
    assert run("staff", "disable", "dana", home=home).returncode == 0
    done = run("staff", "disable", "dana", home=home)
    assert done.returncode == 1 and "already disabled" in done.stderr
    done = run("staff", "add", "x", "--password-stdin", home=home, stdin=PASSWORD + "\n")
    assert done.returncode == 1 and "2-40 characters" in done.stderr
