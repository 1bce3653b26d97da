"""Follows in both directions: people following the hub, and the hub following others."""

from __future__ import annotations

import sqlite3
import time
import uuid
import weakref
from typing import Any

from federation.errors import NotFound, ValidationError
from federation.webfinger import lookup
from hub.activitypub.context import CONTEXT
from hub.runtime import Hub
from hub.services.outbox import Also, send_to_actor, tell_unless_gone
from hub.store import follows as follow_store
from hub.store.db import Database

# How long the set of followed actors is trusted before it is read again: follows changed by
# another process (the CLI's unfollow) reach the hub's inbox processing within this.
FOLLOWED_REFRESH = 10.0


class _Followed:
    """The accepted `following` actor ids of one database, kept in memory."""

    def __init__(self) -> None:
        self.ids: frozenset[str] = frozenset()
        self.loaded_at: float | None = None


_followed: weakref.WeakKeyDictionary[Database, _Followed] = weakref.WeakKeyDictionary()


async def is_followed(hub: Hub, actor_id: str) -> bool:
    """Whether the hub follows `actor_id` (an accepted Follow), without a query per call.

    The set is read once, again after every change made through this module, and at least
    every FOLLOWED_REFRESH seconds in case another process changed `following`.
    """
    cache = _followed.get(hub.db)
    if cache is None:
        cache = _followed[hub.db] = _Followed()
    now = time.monotonic()
    if cache.loaded_at is None or now - cache.loaded_at > FOLLOWED_REFRESH:
        rows = await hub.db.fetchall("SELECT actor_id FROM following WHERE state = 'accepted'")
        cache.ids, cache.loaded_at = frozenset(r[0] for r in rows), now
    return actor_id in cache.ids


def forget_followed(db: Database) -> None:
    """`following` changed: read the set again on the next `is_followed`."""
    cache = _followed.get(db)
    if cache is not None:
        cache.loaded_at = None


def object_id(value: Any) -> str | None:
    """The id of an activity's object, whether embedded or referenced."""
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) else None


def _response(hub: Hub, kind: str, follow: dict[str, Any] | str, to: str) -> dict[str, Any]:
    return {"@context": CONTEXT, "id": hub.urls.activity(str(uuid.uuid4())), "type": kind,
            "actor": hub.urls.actor, "to": [to], "object": follow}


def _follow_echo(follow_id: str, follower: str, followed: str) -> dict[str, Any]:
    # Mastodon matches an Accept by the embedded Follow's id, actor and object.
    return {"id": follow_id, "type": "Follow", "actor": follower, "object": followed}


# People following the hub --------------------------------------------------------------------
async def receive_follow(hub: Hub, activity: dict[str, Any], *,
                         accept_at_once: bool = False) -> None:
    """A Follow of the hub; `accept_at_once` accepts it even under manual approval (a
    recognised neighbour hub, see hub.neighbours.service)."""
    if object_id(activity.get("object")) != hub.urls.actor:
        raise ValidationError("this hub follows only Follows of its own actor")
    follower, follow_id = activity["actor"], activity["id"]
    await hub.actors.get(follower)
    existing = await follow_store.get_follower(hub.db, follower)
    accepted = accept_at_once or not hub.settings.manually_approves_followers or bool(
        existing and existing["state"] == "accepted")
    await follow_store.add_follower(hub.db, follower, follow_id, accepted=accepted)
    if accepted:
        await _answer(hub, "Accept", follower, follow_id)


async def _answer(hub: Hub, kind: str, follower: str, follow_id: str, *,
                  also: Also | None = None) -> None:
    echo = _follow_echo(follow_id, follower, hub.urls.actor)
    await send_to_actor(hub, _response(hub, kind, echo, follower), follower, also=also)


async def approve_follower(hub: Hub, follower: str) -> None:
    """Approve a pending request: the approval and its Accept are one transaction."""
    row = await follow_store.get_follower(hub.db, follower)
    if row is None or row["state"] != "pending":
        raise NotFound(f"no pending follow request from {follower}")

    def record(conn: sqlite3.Connection) -> None:
        if not follow_store.write_accept_follower(conn, follower, row["follow_id"]):
            raise NotFound(f"no pending follow request from {follower}")

    await _answer(hub, "Accept", follower, row["follow_id"], also=record)


async def reject_follower(hub: Hub, follower: str) -> None:
    """Refuse a request, or remove an existing follower; either way tell them with Reject."""
    row = await follow_store.get_follower(hub.db, follower)
    if row is None:
        raise NotFound(f"{follower} does not follow this hub")

    def record(conn: sqlite3.Connection) -> None:  # the removal and its Reject, together
        if not follow_store.write_remove_follower(conn, follower, row["follow_id"]):
            raise NotFound(f"{follower} does not follow this hub")

    echo = _follow_echo(row["follow_id"], follower, hub.urls.actor)
    await tell_unless_gone(hub, _response(hub, "Reject", echo, follower), follower, record)


async def receive_undo_follow(hub: Hub, activity: dict[str, Any]) -> None:
    inner = activity.get("object")
    follow_id = object_id(inner)
    if isinstance(inner, dict) and inner.get("actor") not in (None, activity["actor"]):
        raise ValidationError("an Undo may only undo the actor's own Follow")
    removed = await follow_store.remove_follower(hub.db, activity["actor"], follow_id)
    if not removed and isinstance(inner, dict):
        # Some servers mint a new id for the embedded Follow; the actor is what matters.
        await follow_store.remove_follower(hub.db, activity["actor"])


# The hub following others ---------------------------------------------------------------------
async def resolve_actor_id(hub: Hub, target: str) -> str:
    """An actor URL from a URL or an @user@host handle (WebFinger)."""
    target = target.strip()
    if target.startswith(("https://", "http://")):
        return target
    if "@" not in target:
        raise ValidationError(f"{target!r} is neither an actor URL nor a @user@host handle")
    return await lookup(hub.fetcher, target, scheme=hub.settings.scheme)


async def follow(hub: Hub, target: str, *, refresh: bool = True) -> str:
    """Send a Follow; returns the followed actor's id. The Accept arrives later.

    `refresh=False` takes the stored actor document when it is fresh (discovery has just
    fetched it)."""
    actor = await hub.actors.get(await resolve_actor_id(hub, target), refresh=refresh)
    if actor.id == hub.urls.actor:
        raise ValidationError("a hub cannot follow itself")
    follow_id = hub.urls.activity(str(uuid.uuid4()))
    await follow_store.add_following(hub.db, actor.id, follow_id)
    forget_followed(hub.db)
    activity = {"@context": CONTEXT, **_follow_echo(follow_id, hub.urls.actor, actor.id)}
    await send_to_actor(hub, activity, actor.id)
    return actor.id


async def unfollow(hub: Hub, target: str) -> None:
    actor_id = await resolve_actor_id(hub, target)
    row = await follow_store.get_following(hub.db, actor_id)
    if row is None:
        raise NotFound(f"this hub does not follow {actor_id}")
    undo = _response(hub, "Undo", _follow_echo(row["follow_id"], hub.urls.actor, actor_id),
                     actor_id)

    def record(conn: sqlite3.Connection) -> None:  # the follow forgotten and its Undo, together
        if not follow_store.write_remove_following(conn, actor_id, row["follow_id"]):
            raise NotFound(f"this hub does not follow {actor_id}")

    try:
        await tell_unless_gone(hub, undo, actor_id, record)
    finally:
        forget_followed(hub.db)


async def receive_follow_answer(hub: Hub, activity: dict[str, Any], accepted: bool) -> None:
    """An Accept or Reject of the hub's own Follow (by id, or the embedded Follow)."""
    row = await follow_store.get_following(hub.db, activity["actor"])
    if row is None:
        raise ValidationError("no Follow of ours to answer")
    answered = object_id(activity.get("object"))
    inner = activity.get("object")
    by_shape = isinstance(inner, dict) and inner.get("type") == "Follow" and object_id(
        inner.get("object")) == activity["actor"]
    if answered != row["follow_id"] and not by_shape:
        raise ValidationError("the answer names a Follow we did not send")
    await follow_store.set_following_state(hub.db, activity["actor"],
                                           "accepted" if accepted else "rejected")
    forget_followed(hub.db)
