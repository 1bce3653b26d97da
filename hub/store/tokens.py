"""Staff API tokens. Only a SHA-256 hash of each token is stored."""

from __future__ import annotations

import hashlib
import time

from hub.store.db import Database


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def add_token(db: Database, token: str, label: str) -> int:
    return await db.execute(
        "INSERT INTO api_tokens (token_hash, label, created_at) VALUES (?, ?, ?)",
        (token_hash(token), label, time.time()))


async def token_is_valid(db: Database, token: str) -> bool:
    row = await db.fetchone(
        "SELECT id FROM api_tokens WHERE token_hash = ? AND revoked_at IS NULL",
        (token_hash(token),))
    return row is not None


async def list_tokens(db: Database) -> list[dict]:
    rows = await db.fetchall(
        "SELECT id, label, created_at, revoked_at FROM api_tokens ORDER BY id")
    return [dict(r) for r in rows]


async def revoke_token(db: Database, token_id: int) -> bool:
    async with db.transaction() as conn:
        cursor = await conn.execute(
            "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
            (time.time(), token_id))
        return cursor.rowcount > 0
