"""The password policy, argon2id hashing with rehash-on-login, and the CLI's prompt."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from hub import cli
from hub.setup import init_hub
from hub.store import staff as staff_store
from hub.store.db import Database


@pytest.mark.parametrize(("password", "problem"), [
    ("short", "at least 10"),
    ("x" * 1025, "at most 1024"),
    ("alice12345", "username"),
    ("ALICE-in-wonderland", "username"),
    ("password123", "too common"),
    ("Password123!", "too common"),
    ("P@ssw0rd-2024", None),  # not a plain word once the symbols are dropped: allowed
    ("passwordpassword", "too common"),
    ("qwertyuiop", "too common"),
    ("1234567890", "too simple"),
    ("0987654321", "too simple"),
    ("aaaaaaaaaaaa", "too simple"),
    ("abababababab", "too simple"),
    ("correct horse battery staple", None),
    ("mañana-a-las-diez", None),
])
def test_password_policy(password: str, problem: str | None) -> None:
    found = staff_store.password_problem(password, "alice")
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found


def test_short_usernames_are_only_refused_whole() -> None:
    assert staff_store.password_problem("joanne-plays-the-cello", "jo") is None
    assert staff_store.password_problem("jo", "jo") is not None


async def test_hashes_are_argon2id_and_verify(db: Database) -> None:
    member = await staff_store.add_staff(db, "alice", "correct horse battery", "coordinator")
    stored = await db.fetchval("SELECT password_hash FROM staff WHERE id = ?", (member.id,))
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert await staff_store.authenticate(db, "alice", "correct horse battery") == member
    assert await staff_store.authenticate(db, "alice", "correct horse batterY") is None
    # The same password typed with composed or decomposed accents is the same password.
    await staff_store.set_password(db, "alice", "cafe\u0301 au lait, s'il vous plait")
    assert await staff_store.authenticate(db, "alice", "caf\u00e9 au lait, s'il vous plait")


async def test_a_hash_with_old_parameters_is_replaced_at_login(db: Database) -> None:
    member = await staff_store.add_staff(db, "alice", "correct horse battery", "coordinator")
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(
        "correct horse battery")
    await db.execute("UPDATE staff SET password_hash = ? WHERE id = ?", (weak, member.id))
    assert await staff_store.authenticate(db, "alice", "correct horse battery") is not None
    stored = await db.fetchval("SELECT password_hash FROM staff WHERE id = ?", (member.id,))
    assert stored != weak and "m=65536,t=3,p=4" in stored
    assert await staff_store.authenticate(db, "alice", "correct horse battery") is not None


async def test_unknown_users_cost_a_verification_too(db: Database) -> None:
    await staff_store.add_staff(db, "alice", "correct horse battery", "coordinator")
    staff_store._dummy_hash()  # made once, on first use; not part of the timing
    loop = asyncio.get_running_loop()
    start = loop.time()
    assert await staff_store.authenticate(db, "alice", "wrong wrong wrong") is None
    known = loop.time() - start
    start = loop.time()
    assert await staff_store.authenticate(db, "nobody", "wrong wrong wrong") is None
    unknown = loop.time() - start
    assert unknown > known / 3  # the same argon2 work, give or take a noisy machine


def test_the_cli_prompts_twice_and_refuses_a_mismatch(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    home = tmp_path / "hub"
    asyncio.run(init_hub(home, domain="127.0.0.1:8097", name="hub", dev=True))
    answers = iter(["first passphrase here", "second passphrase here",
                    "same passphrase twice", "same passphrase twice"])
    monkeypatch.setattr(cli.getpass, "getpass", lambda prompt="": next(answers))
    assert cli.main(["staff", "add", "--home", str(home), "erin"]) == 1
    assert "differ" in capsys.readouterr().err
    assert cli.main(["staff", "add", "--home", str(home), "erin"]) == 0
    assert "Added helper erin" in capsys.readouterr().out
