"""The `commonhub` command, run as a user would run it: a real process on real files."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

VERBS = ["init", "serve", "post", "follow", "unfollow", "migrate", "check", "token", "keys"]


def run(*args: str, home: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMMONHUB_")}
    command = [sys.executable, "-m", "hub", *args]
    if home is not None:
        command += ["--home", str(home)]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    done = run("init", "--domain", "127.0.0.1:8099", "--name", "testhub", "--dev",
               home=tmp_path / "hub")
    assert done.returncode == 0, done.stderr
    return tmp_path / "hub"


@pytest.mark.parametrize("verb", VERBS)
def test_every_verb_has_help(verb: str) -> None:
    done = run(verb, "--help")
    assert done.returncode == 0 and "usage:" in done.stdout


def test_init_check_token_post_migrate(home: Path) -> None:
    assert "all good" in run("check", home=home).stdout
    created = run("token", "create", "--label", "laptop", home=home)
    assert created.returncode == 0 and len(created.stdout.split()[0]) >= 40
    assert "laptop\tactive" in run("token", "list", home=home).stdout
    posted = run("post", "Hello, neighbours", home=home)
    assert posted.returncode == 0 and "/posts/" in posted.stdout
    assert run("migrate", home=home).stdout.strip() == "the database is up to date"


def test_keys_rotate_keeps_the_old_key_and_queues_an_update(home: Path) -> None:
    before = sqlite3.connect(home / "commonhub.db").execute(
        "SELECT public_pem FROM local_keys WHERE actor='hub' AND retired_at IS NULL").fetchone()
    done = run("keys", "rotate", home=home)
    assert done.returncode == 0, done.stderr
    db = sqlite3.connect(home / "commonhub.db")
    after = db.execute(
        "SELECT public_pem FROM local_keys WHERE actor='hub' AND retired_at IS NULL").fetchone()
    assert after != before
    assert db.execute("SELECT count(*) FROM local_keys WHERE actor='hub'").fetchone()[0] == 2
    assert db.execute("SELECT type FROM outbox ORDER BY id DESC").fetchone()[0] == "Update"
    assert "all good" in run("check", home=home).stdout


@pytest.mark.parametrize(("args", "message"), [
    (("post", "hello"), "--home"),
    (("init", "--domain", "not a domain", "--name", "x"), "domain"),
    (("init", "--domain", "hub.example", "--name", "Bad Name"), "name"),
])
def test_bad_input_is_a_clear_error(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    home = None if args[0] == "post" else tmp_path / "new"
    done = run(*args, home=home)
    assert done.returncode == 1 and message in done.stderr
    assert "Traceback" not in done.stderr
    if home is not None:
        assert not (home / "commonhub.toml").exists()


def test_init_refuses_an_existing_hub_and_keeps_it(home: Path) -> None:
    before = (home / "commonhub.toml").read_text()
    done = run("init", "--domain", "other.example", "--name", "other", home=home)
    assert done.returncode == 1 and "already exists" in done.stderr
    assert (home / "commonhub.toml").read_text() == before


def test_check_reports_a_broken_key(home: Path) -> None:
    db = sqlite3.connect(home / "commonhub.db")
    db.execute("UPDATE local_keys SET public_pem = 'junk' WHERE actor = 'hub'")
    db.commit()
    done = run("check", home=home)
    assert done.returncode == 1 and "does not match" in done.stderr


def test_unknown_token_revoke_and_missing_home(tmp_path: Path, home: Path) -> None:
    done = run("token", "revoke", "999", home=home)
    assert done.returncode == 1 and "no active token" in done.stderr
    done = run("check", home=tmp_path / "nowhere")
    assert done.returncode == 1 and "commonhub init" in done.stderr


def test_check_warns_of_jobs_that_failed_lately(home: Path) -> None:
    db = sqlite3.connect(home / "commonhub.db")
    now = time.time()
    db.executemany(
        "INSERT INTO scheduled_jobs (key, kind, run_at, state, last_error, created_at, "
        "finished_at) VALUES (?, ?, 0, 'failed', ?, 0, ?)",
        [("volunteer-mail:1:1000", "volunteer_mail", "could not send mail via smtp.example: "
          "refused", now - 60),
         ("volunteer-mail:2:2000", "volunteer_mail", "could not send mail via smtp.example: "
          "refused", now - 30),
         ("reminder:1:3600:1", "reminder", "a week ago", now - 8 * 86400)])
    db.commit()
    done = run("check", home=home)
    # Not a problem (it may be mended by now), but said: which kinds, and the latest error.
    assert done.returncode == 0, done.stderr
    assert ("warning: scheduled jobs failed in the last 7 days: volunteer_mail 2; the latest "
            "(volunteer-mail:2:2000): could not send mail via smtp.example: refused"
            in done.stdout)
    assert "reminder" not in done.stdout and "all good" not in done.stdout
