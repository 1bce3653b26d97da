"""Remote actors we have fetched or heard from, with the key we verify them by."""

from __future__ import annotations

import time
from dataclasses import dataclass

import orjson

from hub.store.db import Database


@dataclass(frozen=True)
class RemoteActor:
    id: str
    type: str
    preferred_username: str | None
    name: str | None
    domain: str
    inbox: str
    shared_inbox: str | None
    key_id: str | None
    public_key_pem: str | None
    document: dict
    fetched_at: float
    deleted_at: float | None

    @property
    def delivery_inbox(self) -> str:
        return self.shared_inbox or self.inbox


def _actor(row) -> RemoteActor:
    data = dict(row)
    data["document"] = orjson.loads(data["document"])
    return RemoteActor(**data)


async def get_actor(db: Database, actor_id: str) -> RemoteActor | None:
    row = await db.fetchone("SELECT * FROM remote_actors WHERE id = ?", (actor_id,))
    return None if row is None else _actor(row)


async def get_actor_by_key(db: Database, key_id: str) -> RemoteActor | None:
    row = await db.fetchone("SELECT * FROM remote_actors WHERE key_id = ?", (key_id,))
    return None if row is None else _actor(row)


async def upsert_actor(db: Database, actor: RemoteActor) -> None:
    async with db.transaction() as conn:
        await conn.execute(
            """INSERT INTO remote_actors (id, type, preferred_username, name, domain, inbox,
                   shared_inbox, key_id, public_key_pem, document, fetched_at, deleted_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)
               ON CONFLICT (id) DO UPDATE SET type = excluded.type,
                   preferred_username = excluded.preferred_username, name = excluded.name,
                   domain = excluded.domain, inbox = excluded.inbox,
                   shared_inbox = excluded.shared_inbox, key_id = excluded.key_id,
                   public_key_pem = excluded.public_key_pem, document = excluded.document,
                   fetched_at = excluded.fetched_at, deleted_at = NULL""",
            (actor.id, actor.type, actor.preferred_username, actor.name, actor.domain,
             actor.inbox, actor.shared_inbox, actor.key_id, actor.public_key_pem,
             orjson.dumps(actor.document).decode(), actor.fetched_at or time.time()))


async def mark_actor_deleted(db: Database, actor_id: str) -> None:
    """A remote actor deleted itself: forget its key and its follows of us and by us."""
    now = time.time()
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE remote_actors SET deleted_at = ?, key_id = NULL, public_key_pem = NULL "
            "WHERE id = ?", (now, actor_id))
        await conn.execute("DELETE FROM followers WHERE actor_id = ?", (actor_id,))
        await conn.execute("DELETE FROM following WHERE actor_id = ?", (actor_id,))
        await conn.execute(
            "UPDATE remote_objects SET deleted_at = ? WHERE actor_id = ? AND deleted_at IS NULL",
            (now, actor_id))
