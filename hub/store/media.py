"""Uploaded images: one row per file under HOME/media/, named at random."""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass

from hub.store.db import Database


@dataclass(frozen=True)
class Media:
    id: int
    uuid: str
    file_name: str
    content_type: str
    size: int
    width: int | None
    height: int | None
    alt_text: str
    sha256: str
    created_at: float


async def insert_media(db: Database, *, media_uuid: str, file_name: str, content_type: str,
                       size: int, width: int | None, height: int | None, alt_text: str,
                       sha256: str) -> Media:
    async with db.transaction() as conn:
        cursor = await conn.execute(
            """INSERT INTO media (uuid, file_name, content_type, size, width, height, alt_text,
                                  sha256, created_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *""",
            (media_uuid, file_name, content_type, size, width, height, alt_text, sha256,
             time.time()))
        row = await cursor.fetchone()
    return Media(**dict(row))


async def get_media(db: Database, media_uuid: str) -> Media | None:
    row = await db.fetchone("SELECT * FROM media WHERE uuid = ?", (media_uuid,))
    return None if row is None else Media(**dict(row))


async def get_media_by_id(db: Database, media_id: int) -> Media | None:
    row = await db.fetchone(_BY_ID, (media_id,))
    return None if row is None else Media(**dict(row))


def media_by_id_in(conn: sqlite3.Connection, media_id: int) -> Media | None:
    """`get_media_by_id` inside the caller's transaction."""
    row = conn.execute(_BY_ID, (media_id,)).fetchone()
    return None if row is None else Media(**dict(row))


_BY_ID = "SELECT * FROM media WHERE id = ?"
