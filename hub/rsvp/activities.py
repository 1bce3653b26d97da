"""RSVPs that arrive as ActivityPub activities, and the answers to them.

- Mobilizon `Join` (object: the event; optional `participationMessage`) is answered with
  `Accept` (a place), `TentativeAccept` (the waitlist: Mobilizon silently drops a Join to a
  full event; we say where the person stands), `Reject` (cancelled, started, external,
  declined) or `Ignore` (the event takes no RSVPs, FEP-8a8e). A Join to a restricted event
  is answered when staff decide. `Leave` (object: the event or the Join) and `Undo{Join}`
  free the place, and the first on the waitlist gets the `Accept` of their own Join.
- Friendica answers an Event itself: `Accept` (going), `TentativeAccept` (maybe, which
  holds no place) and `Reject` (not going); `TentativeReject` ("probably not", which
  ActivityStreams defines as a kind of Reject) counts as not going and frees a place.
  `Accept` and `Reject` of anything else are the follow answers `hub.incoming` handles, so
  these handlers say whether the object was ours.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from federation.errors import FederationError
from hub.activitypub.rsvp import join_echo
from hub.rsvp import messages, service
from hub.rsvp.service import Outcome, Person
from hub.runtime import Hub
from hub.services.follows import object_id
from hub.store import events as event_store
from hub.store import participants as participant_store
from hub.store.events import Event

log = logging.getLogger(__name__)

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
MAX_MESSAGE = 2000


async def our_event(hub: Hub, value: Any) -> Event | None:
    """The event an object (id or embedded) names, if it is one of this hub's."""
    url = object_id(value)
    prefix = hub.urls.event("")
    if url is None or not url.startswith(prefix) or not _UUID.match(url[len(prefix):]):
        return None
    return await event_store.get_event(hub.db, url[len(prefix):])


async def person_of(hub: Hub, actor_id: str) -> Person:
    """A fediverse person, with the name and handle staff see."""
    try:
        actor = await hub.actors.get(actor_id)
    except FederationError as exc:
        log.warning("RSVP from %s, whose actor cannot be fetched: %s", actor_id, exc)
        return Person(actor_id=actor_id)
    handle = f"@{actor.preferred_username}@{actor.domain}" if actor.preferred_username else None
    return Person(name=actor.name or actor.preferred_username or "", actor_id=actor.id,
                  handle=handle)


def _message(activity: dict[str, Any]) -> str | None:
    text = activity.get("participationMessage")
    return text[:MAX_MESSAGE] if isinstance(text, str) and text.strip() else None


# Join and Leave (Mobilizon, FEP-8a8e) ----------------------------------------------------------
async def receive_join(hub: Hub, activity: dict[str, Any]) -> None:
    event = await our_event(hub, activity.get("object"))
    if event is None:
        log.info("ignoring Join %s: not of one of this hub's events", activity["id"])
        return
    person = await person_of(hub, activity["actor"])
    outcome = await service.request_place(hub, event, person, "join", join_id=activity["id"],
                                          message=_message(activity))
    join = join_echo(activity["id"], activity["actor"], hub.urls.event(event.uuid))
    await answer_join(hub, event, join, outcome)


async def answer_join(hub: Hub, event: Event, join: dict[str, Any], outcome: Outcome) -> None:
    """Accept, TentativeAccept, Reject or Ignore; nothing yet while staff decide."""
    if outcome.state == service.REFUSED:
        kind = "Ignore" if outcome.reason == service.NO_SIGNUP else "Reject"
        lines = messages.lines_for(event, "refused", reason=outcome.reason,
                                   external_url=outcome.external_url)
        await messages.answer_join(hub, event, join, kind, lines)
        return
    if outcome.participant is None or outcome.state not in ("going", "waitlisted"):
        return
    await messages.tell(hub, event, outcome.participant, outcome.state, join=join,
                        position=outcome.position, channel="activitypub")


async def receive_leave(hub: Hub, activity: dict[str, Any]) -> None:
    """Leave of the event, of the Join (embedded or by id)."""
    obj, actor_id = activity.get("object"), activity["actor"]
    event = await our_event(hub, obj)
    if event is None and isinstance(obj, dict) and obj.get("type") == "Join":
        event = await our_event(hub, obj.get("object"))
    if event is None and (join_id := object_id(obj)) is not None:
        row = await participant_store.find_by_join_id(hub.db, join_id)
        if row is not None and row.actor_id == actor_id:
            event = await event_store.get_event_by_id(hub.db, row.event_id)
    if event is None:
        log.info("ignoring Leave %s: not of one of this hub's events", activity["id"])
        return
    await service.leave(hub, event, Person(actor_id=actor_id))


async def receive_undo_join(hub: Hub, activity: dict[str, Any]) -> None:
    """`Undo{Join}`, which some servers send instead of Leave."""
    inner = activity.get("object")
    if isinstance(inner, dict) and inner.get("actor") not in (None, activity["actor"]):
        return  # only one's own Join can be undone
    await receive_leave(hub, {**activity, "object": inner})


# Friendica: Accept / TentativeAccept / Reject of the Event -------------------------------------
FRIENDICA_ANSWERS = {"Accept": "going", "TentativeAccept": "maybe", "Reject": "not_going",
                     "TentativeReject": "not_going"}


async def receive_event_answer(hub: Hub, activity: dict[str, Any]) -> bool:
    """An answer to one of our events; False (nothing done) if the object is not one."""
    event = await our_event(hub, activity.get("object"))
    wish = FRIENDICA_ANSWERS.get(str(activity.get("type")))
    if event is None or wish is None:
        return False
    person = await person_of(hub, activity["actor"])
    outcome = await service.answer(hub, event, person, "friendica", wish)
    # Friendica shows its own answer; we add what it cannot know: the waitlist, refusals.
    if outcome.state == service.REFUSED:
        lines = messages.lines_for(event, "refused", reason=outcome.reason,
                                   external_url=outcome.external_url,
                                   event_url=hub.urls.event(event.uuid))
        await messages.send_dm(hub, event, activity["actor"], lines)
    elif outcome.state == "waitlisted" and outcome.changed and outcome.participant:
        await messages.tell(hub, event, outcome.participant, "waitlisted",
                            position=outcome.position, channel="dm")
    return True


async def receive_tentative_accept(hub: Hub, activity: dict[str, Any]) -> None:
    if not await receive_event_answer(hub, activity):
        log.info("ignoring TentativeAccept %s: not of one of this hub's events", activity["id"])


async def receive_tentative_reject(hub: Hub, activity: dict[str, Any]) -> None:
    if not await receive_event_answer(hub, activity):
        log.info("ignoring TentativeReject %s: not of one of this hub's events", activity["id"])
