"""Publishing: record an activity in the outbox and queue one delivery per distinct inbox."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Iterable
from typing import Any

from federation.errors import RemoteNotFound
from hub.runtime import Hub
from hub.store import follows as follow_store
from hub.store.deliveries import enqueue, outbox_writer

Also = Callable[[sqlite3.Connection], None]
log = logging.getLogger(__name__)


async def publish(hub: Hub, activity: dict[str, Any], inboxes: Iterable[str], *,
                  public: bool = True, signer: str = "hub", also: Also | None = None) -> int:
    """Store the activity and its deliveries in one transaction, then wake the workers.

    `also(conn)` writes in that same transaction (see `hub.store.deliveries.enqueue`).
    """
    outbox_id = await enqueue(hub.db, activity, sorted(set(inboxes)),
                              activity_type=str(activity["type"]),
                              object_id=_object_id(activity), public=public, signer=signer,
                              also=also)
    hub.wake_delivery()
    return outbox_id


def also_send(activity: dict[str, Any], inboxes: Iterable[str], *,
              public: bool = False) -> Callable[[sqlite3.Connection], int]:
    """Another activity queued inside a `publish`'s transaction (call it from `also`): an
    exchange's Accept and the contact note that follows it leave together or not at all."""
    return outbox_writer(activity, sorted(set(inboxes)), activity_type=str(activity["type"]),
                         object_id=_object_id(activity), public=public)


def _object_id(activity: dict[str, Any]) -> str | None:
    obj = activity.get("object")
    object_id = obj.get("id") if isinstance(obj, dict) else obj
    return object_id if isinstance(object_id, str) else None


async def publish_to_followers(hub: Hub, activity: dict[str, Any],
                               extra_inboxes: Iterable[str] = (), *,
                               also: Also | None = None) -> int:
    """Deliver to every accepted follower, one request per shared inbox."""
    inboxes = await follow_store.follower_inboxes(hub.db)
    return await publish(hub, activity, [*inboxes, *extra_inboxes], also=also)


async def send_to_actor(hub: Hub, activity: dict[str, Any], actor_id: str, *,
                        also: Also | None = None) -> int:
    """A private activity (Accept, Follow...) to one actor's own inbox."""
    actor = await hub.actors.get(actor_id)
    return await publish(hub, activity, [actor.inbox], public=False, also=also)


async def tell_unless_gone(hub: Hub, activity: dict[str, Any], actor_id: str,
                           change: Also) -> None:
    """`change` written with `activity` queued to the actor, in one transaction; if the
    actor's server says it is gone (404, 410), `change` alone: nobody is left to tell, and
    ending a follow or a match must not depend on them."""
    try:
        await send_to_actor(hub, activity, actor_id, also=change)
    except RemoteNotFound as exc:
        log.info("%s is gone (%s): %s not sent", actor_id, exc.message, activity.get("type"))
        await hub.db.run_in_writer(change)
