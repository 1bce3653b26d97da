"""What the hub does with each type of incoming activity: one small handler per type."""

from __future__ import annotations

import logging
from typing import Any

from federation.dispatch import Dispatcher
from federation.errors import ValidationError
from federation.fetch import same_origin
from hub.events.remote import receive_event, receive_event_delete
from hub.exchange import offers as exchange_offers
from hub.exchange import replies as exchange_replies
from hub.needs.remote import is_need, receive_need, receive_need_delete
from hub.neighbours import service as neighbours
from hub.rsvp import activities as rsvp
from hub.rsvp import mastodon as rsvp_notes
from hub.runtime import Hub
from hub.services import follows
from hub.store import follows as follow_store
from hub.store import needs as needs_store
from hub.store import remote_events, remote_objects
from hub.volunteers import fediverse as volunteer_signup

log = logging.getLogger(__name__)

CONTENT_TYPES = {"Note", "Article", "Page", "Event", "Question", "Video", "Image", "Audio"}


def build_dispatcher(hub: Hub) -> Dispatcher:
    dispatcher = Dispatcher()
    handlers = {
        "Follow": neighbours.receive_follow,
        "Undo": handle_undo,
        "Accept": handle_accept,
        "Reject": handle_reject,
        "Create": handle_create,
        "Update": handle_update,
        "Delete": handle_delete,
        "Join": rsvp.receive_join,
        "Leave": rsvp.receive_leave,
        "TentativeAccept": rsvp.receive_tentative_accept,
        "TentativeReject": rsvp.receive_tentative_reject,
        "Announce": handle_announce,
        "Offer": exchange_offers.receive_offer,
    }
    for kind, handler in handlers.items():
        dispatcher.register(kind, _bind(hub, handler))
    return dispatcher


def _bind(hub: Hub, handler: Any) -> Any:
    async def handle(activity: dict[str, Any]) -> None:
        await handler(hub, activity)

    handle.__name__ = handler.__name__
    return handle


def _is_content(obj: Any) -> bool:
    """An embedded object whose type, or one of whose types (an array), we know."""
    if not isinstance(obj, dict):
        return False
    kind = obj.get("type")
    kinds = kind if isinstance(kind, list) else [kind]
    return any(isinstance(k, str) and k in CONTENT_TYPES for k in kinds)


def _object_type(activity: dict[str, Any]) -> str | None:
    obj = activity.get("object")
    return obj.get("type") if isinstance(obj, dict) else None


async def handle_undo(hub: Hub, activity: dict[str, Any]) -> None:
    kind = _object_type(activity)
    if kind == "Offer":
        await exchange_offers.receive_undo(hub, activity)
        return
    if kind == "Join":
        await rsvp.receive_undo_join(hub, activity)
        return
    follow_id = follows.object_id(activity.get("object"))
    row = await follow_store.get_follower(hub.db, activity["actor"])
    if kind == "Follow" or (row is not None and row["follow_id"] == follow_id):
        await follows.receive_undo_follow(hub, activity)


async def handle_accept(hub: Hub, activity: dict[str, Any]) -> None:
    # Friendica answers one of our events with Accept (going); a neighbouring hub, an offer
    # of ours; anything else is the answer to a Follow of ours.
    if await exchange_offers.receive_answer(hub, activity, accepted=True):
        return
    if not await rsvp.receive_event_answer(hub, activity):
        await follows.receive_follow_answer(hub, activity, accepted=True)


async def handle_reject(hub: Hub, activity: dict[str, Any]) -> None:
    if await exchange_offers.receive_answer(hub, activity, accepted=False):
        return
    if not await rsvp.receive_event_answer(hub, activity):
        await follows.receive_follow_answer(hub, activity, accepted=False)


async def _is_followed(hub: Hub, actor_id: str) -> bool:
    # From memory: most activities in a burst come from actors the hub does not follow.
    return await follows.is_followed(hub, actor_id)


async def handle_create(hub: Hub, activity: dict[str, Any]) -> None:
    obj = activity.get("object")
    if is_need(obj):
        await _receive_need(hub, activity)
        return
    if not _is_content(obj):
        raise ValidationError("Create needs an embedded object of a known type")
    # A volunteer's reply to an ask, and a neighbouring hub's contact for an accepted offer,
    # come first: both are replies to the hub's own messages, and a reply may say "yes".
    if await exchange_replies.receive_reply(hub, activity):
        return
    if await exchange_offers.receive_contact(hub, activity):
        return
    # Sign-up requests, RSVPs (replies to our events, mentions, poll votes) come from anyone,
    # followed or not. A sign-up is never a reply to the hub, so it cannot take an RSVP's.
    if await volunteer_signup.receive_note(hub, activity):
        return
    if await rsvp_notes.receive_note(hub, activity):
        return
    if not await _is_followed(hub, activity["actor"]):
        log.debug("ignoring %s from %s: not followed", activity["id"], activity["actor"])
        return
    if obj["type"] == "Event":
        await receive_event(hub, obj, activity["actor"])
        await neighbours.relay_event(hub, obj, activity["actor"])
        return
    await remote_objects.upsert_remote_object(hub.db, obj, activity["actor"])


async def handle_update(hub: Hub, activity: dict[str, Any]) -> None:
    obj, actor_id = activity.get("object"), activity["actor"]
    if follows.object_id(obj) == actor_id:
        # The actor's own profile or key changed: refetch it from its origin, the only
        # source we trust for a key.
        await hub.actors.get(actor_id, refresh=True)
        return
    if is_need(obj):
        await _receive_need(hub, activity)
        return
    if isinstance(obj, dict) and obj.get("type") == "Event":
        # Known events go to the check of who may change them; new ones (the hub followed
        # after they were created) are taken from followed actors only.
        known = await remote_events.get_remote_event(hub.db, str(obj.get("id")))
        if known is not None or await _is_followed(hub, actor_id):
            await receive_event(hub, obj, actor_id)
        return
    if _is_content(obj):
        if await remote_objects.get_remote_object(hub.db, obj["id"]) is not None:
            await remote_objects.upsert_remote_object(hub.db, obj, actor_id)


async def handle_delete(hub: Hub, activity: dict[str, Any]) -> None:
    target, actor_id = follows.object_id(activity.get("object")), activity["actor"]
    if target is None:
        raise ValidationError("Delete without an object")
    if target == actor_id:
        await hub.actors.forget(actor_id)
        await remote_events.forget_origin(hub.db, actor_id)
        await needs_store.forget_remote_actor(hub.db, actor_id)
        return
    event = await remote_events.get_remote_event(hub.db, target)
    if event is not None:
        await receive_event_delete(hub, event, actor_id)
        return
    if await receive_need_delete(hub, target, actor_id):
        return
    await remote_objects.delete_remote_object(hub.db, target, actor_id)


async def _receive_need(hub: Hub, activity: dict[str, Any]) -> None:
    """A need from a hub: new ones only from hubs we follow; known ones from their origin
    (checked by receive_need), so a need keeps updating after it was stored."""
    obj, actor_id = activity["object"], activity["actor"]
    known = await needs_store.get_remote_need(hub.db, str(obj.get("id")))
    if known is None and not await _is_followed(hub, actor_id):
        log.debug("ignoring need %s from %s: not followed", obj.get("id"), actor_id)
        return
    await receive_need(hub, obj, actor_id)


async def handle_announce(hub: Hub, activity: dict[str, Any]) -> None:
    """A followed actor vouching for an Event on its own server.

    A Mobilizon group's events are sent by their organiser (`actor`), whom the hub does not
    follow, and relayed by the group as an `Announce` of the embedded Event, signed by the
    group: that is the group's own word for them, and updates come the same way.
    """
    obj, actor_id = activity.get("object"), activity["actor"]
    if (isinstance(obj, dict) and obj.get("type") == "Event"
            and isinstance(obj.get("id"), str) and same_origin(obj["id"], actor_id)
            and await _is_followed(hub, actor_id)):
        await receive_event(hub, obj, actor_id)
