"""Publishing: record an activity in the outbox and queue one delivery per distinct inbox."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Iterable
from typing import Any

from federation.errors import BlockedDomain, FederationError, RemoteNotFound, ValidationError
from hub.runtime import Hub
from hub.store import actors as actor_store
from hub.store import follows as follow_store
from hub.store.deliveries import Targets, enqueue, outbox_writer

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


def also_send(activity: dict[str, Any], inboxes: Iterable[str] | Targets, *,
              public: bool = False) -> Callable[[sqlite3.Connection], int]:
    """Another activity queued inside a `publish`'s transaction (call it from `also`): an
    exchange's Accept and the contact note that follows it leave together or not at all.
    Built inside a transaction, take `Targets` made before it."""
    targets = inboxes if isinstance(inboxes, Targets) else sorted(set(inboxes))
    return outbox_writer(activity, targets, activity_type=str(activity["type"]),
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
                           change: Also, *, look_up: bool = True) -> None:
    """An ending (a follow, an offer, a match) written with `activity` queued to the actor, in
    one transaction. Ending must not depend on the other side: if its actor cannot be had
    now (or `look_up` is False: no network, as while erasing), the inbox of our copy serves;
    if there is none, the actor is gone (404, 410), its domain blocked (we never contact it)
    or our copy's inbox unusable, `change` is written alone."""
    inbox: str | None = None
    use_copy = not look_up
    if look_up:
        try:
            inbox = (await hub.actors.get(actor_id)).inbox
        except (RemoteNotFound, BlockedDomain) as exc:  # nobody to tell
            log.info("%s not sent to %s: %s", activity.get("type"), actor_id, exc.message)
        except FederationError as exc:
            log.info("%s to %s: %s; our copy's inbox serves, if any", activity.get("type"),
                     actor_id, exc.message)
            use_copy = True
    if use_copy:
        known = await actor_store.get_actor(hub.db, actor_id)
        inbox = known.inbox if known is not None and known.deleted_at is None else None
    if inbox is not None:
        try:
            await publish(hub, activity, [inbox], public=False, also=change)
            return
        except ValidationError as exc:  # checked before anything is written
            log.warning("%s not sent to %s: %s", activity.get("type"), actor_id, exc.message)
    await hub.db.run_in_writer(change)
