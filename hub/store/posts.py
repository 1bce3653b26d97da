"""The hub's news posts. A deleted post keeps its row so its URL answers with a Tombstone."""

from __future__ import annotations

import dataclasses
import sqlite3
import time
import uuid
from dataclasses import dataclass

from hub.store.db import Database


@dataclass(frozen=True)
class Post:
    id: int
    uuid: str
    source: str
    content_html: str
    published_at: float
    updated_at: float | None
    deleted_at: float | None


def new_post(source: str, content_html: str) -> Post:
    """A post not yet stored (id 0): `insert_post` stores it in the caller's transaction."""
    return Post(0, str(uuid.uuid4()), source, content_html, time.time(), None, None)


def insert_post(conn: sqlite3.Connection, post: Post) -> Post:
    row_id = conn.execute(
        "INSERT INTO posts (uuid, source, content_html, published_at) VALUES (?, ?, ?, ?)",
        (post.uuid, post.source, post.content_html, post.published_at)).lastrowid
    return dataclasses.replace(post, id=int(row_id or 0))


async def create_post(db: Database, source: str, content_html: str) -> Post:
    return await db.run_in_writer(insert_post, new_post(source, content_html))


async def get_post(db: Database, post_uuid: str) -> Post | None:
    row = await db.fetchone("SELECT * FROM posts WHERE uuid = ?", (post_uuid,))
    return None if row is None else Post(**dict(row))


def write_edit(conn: sqlite3.Connection, post: Post) -> bool:
    """Store an edited post (its new text and `updated_at`) in the caller's transaction;
    False if it was deleted meanwhile."""
    return conn.execute(
        "UPDATE posts SET source = ?, content_html = ?, updated_at = ? "
        "WHERE uuid = ? AND deleted_at IS NULL",
        (post.source, post.content_html, post.updated_at, post.uuid)).rowcount > 0


def write_deletion(conn: sqlite3.Connection, post: Post) -> bool:
    """Mark the post deleted (at its `deleted_at`) in the caller's transaction; False if it
    already was."""
    return conn.execute("UPDATE posts SET deleted_at = ? WHERE uuid = ? AND deleted_at IS NULL",
                        (post.deleted_at, post.uuid)).rowcount > 0


async def list_posts(db: Database, *, offset: int = 0, limit: int = 20) -> list[Post]:
    rows = await db.fetchall(
        "SELECT * FROM posts WHERE deleted_at IS NULL ORDER BY published_at DESC, id DESC "
        "LIMIT ? OFFSET ?", (limit, offset))
    return [Post(**dict(r)) for r in rows]


async def count_posts(db: Database) -> int:
    return int(await db.fetchval("SELECT count(*) FROM posts WHERE deleted_at IS NULL"))
