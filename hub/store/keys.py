"""The hub's own key pairs: one current key per local actor, rotation keeps the old ones."""

from __future__ import annotations

import time

from hub.store.db import Database


async def current_key(db: Database, actor: str) -> tuple[str, str] | None:
    """The (private_pem, public_pem) of the actor's current key, or None."""
    row = await db.fetchone(
        "SELECT private_pem, public_pem FROM local_keys WHERE actor = ? AND retired_at IS NULL",
        (actor,))
    return None if row is None else (row["private_pem"], row["public_pem"])


async def replace_key(db: Database, actor: str, private_pem: str, public_pem: str) -> None:
    """Retire the actor's current key (if any) and make this one current, atomically."""
    now = time.time()
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE local_keys SET retired_at = ? WHERE actor = ? AND retired_at IS NULL",
            (now, actor))
        await conn.execute(
            "INSERT INTO local_keys (actor, private_pem, public_pem, created_at) "
            "VALUES (?, ?, ?, ?)", (actor, private_pem, public_pem, now))


async def current_assertion_key(db: Database) -> str | None:
    """The private PEM of the hub's current Ed25519 key for integrity proofs, or None."""
    return await db.fetchval(
        "SELECT private_pem FROM local_assertion_keys WHERE actor = 'hub' AND retired_at IS NULL")


async def add_assertion_key(db: Database, private_pem: str, public_pem: str) -> None:
    """Make this Ed25519 key current unless another process made one first."""
    await db.execute(
        "INSERT INTO local_assertion_keys (actor, private_pem, public_pem, created_at) "
        "VALUES ('hub', ?, ?, ?) ON CONFLICT DO NOTHING", (private_pem, public_pem, time.time()))


async def key_count(db: Database, actor: str) -> int:
    return int(await db.fetchval("SELECT count(*) FROM local_keys WHERE actor = ?", (actor,)))
