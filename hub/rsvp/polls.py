"""RSVP polls: a `Question` ("Going" / "Maybe" / "Can't come") whose votes count as answers.

Staff send one about an event, as a direct message to some people or to the hub's
followers; it closes when the event starts. Stock Mastodon votes with a `Create{Note}`
whose `name` is the option and `inReplyTo` the Question, addressed to the hub; each vote
goes through the RSVP engine like any other answer, the voter gets a direct message saying
where they stand, and the Question's counts (`votersCount`, each option's
`replies.totalItems`) are updated, sent to the poll's audience and served at its URL.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Sequence
from typing import Any

from federation.errors import FederationError, NotFound, ValidationError
from hub.activitypub.rsvp import PollView, Recipient, poll_answer, question, question_activity
from hub.events.summary import when_text
from hub.rsvp import messages, service
from hub.rsvp.activities import person_of
from hub.runtime import Hub
from hub.services.follows import resolve_actor_id
from hub.services.outbox import publish
from hub.store import actors as actor_store
from hub.store import events as event_store
from hub.store import follows as follow_store
from hub.store import polls as poll_store
from hub.store.events import Event
from hub.store.polls import Poll

log = logging.getLogger(__name__)

MAX_RECIPIENTS = 100
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def poll_url(hub: Hub, poll_uuid: str) -> str:
    return f"{hub.urls.base}/polls/{poll_uuid}"


async def our_poll(hub: Hub, url: str | None) -> Poll | None:
    prefix = poll_url(hub, "")
    if url is None or not url.startswith(prefix) or not _UUID.match(url[len(prefix):]):
        return None
    return await poll_store.get_poll(hub.db, url[len(prefix):])


def _check_open(event: Event) -> None:
    if event.deleted or event.status == "cancelled":
        raise ValidationError("the event is cancelled or deleted: no poll")
    if event.start_at <= time.time():
        raise ValidationError("the event has started: no poll")
    if event.join_mode not in ("free", "restricted"):
        raise ValidationError(f"the event's join mode is {event.join_mode}: it takes no RSVPs")


async def _resolve(hub: Hub, targets: Sequence[str]) -> list[str]:
    actor_ids = []
    for target in targets:
        actor = await hub.actors.get(await resolve_actor_id(hub, target))
        actor_ids.append(actor.id)
    return list(dict.fromkeys(actor_ids))


async def create_poll(hub: Hub, event: Event, *, targets: Sequence[str] = (),
                      followers: bool = False) -> Poll:
    """Send an RSVP poll about `event` to `targets` (actor URLs or @user@host, as a direct
    message) or to the hub's followers; it closes when the event starts."""
    _check_open(event)
    if followers == bool(targets):
        raise ValidationError("send the poll to `to` (a list of people) or to followers")
    if len(targets) > MAX_RECIPIENTS:
        raise ValidationError(f"a poll goes to at most {MAX_RECIPIENTS} people")
    audience = [hub.urls.followers] if followers else await _resolve(hub, targets)
    poll = await poll_store.insert_poll(hub.db, str(uuid.uuid4()), event.id, audience,
                                        event.start_at)
    await _deliver(hub, poll, event, "Create")
    return poll


async def _recipients(hub: Hub, poll: Poll) -> list[Recipient]:
    """Whom the poll mentions, from actors already stored (serving it fetches nothing)."""
    found = []
    for actor_id in poll.audience:
        actor = await actor_store.get_actor(hub.db, actor_id)
        if actor is not None and actor.preferred_username:
            found.append(Recipient(actor.id, actor.preferred_username, actor.domain))
    return found


async def question_document(hub: Hub, poll: Poll, event: Event | None = None, *,
                            with_context: bool = True) -> dict[str, Any]:
    """The poll's `Question` with its current counts."""
    event = event or await event_store.get_event_by_id(hub.db, poll.event_id)
    if event is None:
        raise NotFound("the poll's event is gone")
    lines = [f"Are you coming to {event.title} ({when_text(event)})? Your vote is your "
             "answer; we'll confirm it by direct message.", hub.urls.event(event.uuid)]
    view = PollView(url=poll_url(hub, poll.uuid), lines=lines, end_at=poll.end_at,
                    created_at=poll.created_at, updated_at=poll.updated_at,
                    counts=await poll_store.vote_counts(hub.db, poll.id),
                    to=list(poll.audience), mentions=await _recipients(hub, poll),
                    closed=time.time() >= poll.end_at)
    return question(hub.urls, view, with_context=with_context)


async def _inboxes(hub: Hub, poll: Poll) -> list[str]:
    if poll.audience == (hub.urls.followers,):
        return await follow_store.follower_inboxes(hub.db)
    return [(await hub.actors.get(actor_id)).inbox for actor_id in poll.audience]


async def _deliver(hub: Hub, poll: Poll, event: Event, kind: str) -> None:
    doc = await question_document(hub, poll, event, with_context=False)
    activity = question_activity(hub.urls, kind, doc, when=time.time())
    # Not in the public outbox: a poll goes to its audience only.
    await publish(hub, activity, await _inboxes(hub, poll), public=False)


async def may_vote(hub: Hub, poll: Poll, actor_id: str) -> bool:
    """Was `actor_id` sent the poll: one of its people, or a follower for a followers' poll?"""
    if poll.audience == (hub.urls.followers,):
        row = await follow_store.get_follower(hub.db, actor_id)
        return row is not None and row["state"] == "accepted"
    return actor_id in poll.audience


async def receive_vote(hub: Hub, poll: Poll, activity: dict[str, Any]) -> None:
    """A vote: counted, answered through the RSVP engine, confirmed to the voter."""
    note, actor_id = activity["object"], activity["actor"]
    wish = poll_answer(note.get("name"))
    if wish is None or time.time() >= poll.end_at:
        log.info("ignoring vote %s on poll %s: no such option, or closed", note.get("id"),
                 poll.uuid)
        return
    if not await may_vote(hub, poll, actor_id):
        # The poll's URL is public (it is in the Question's id): knowing it is not being asked.
        log.info("ignoring vote %s on poll %s: %s was not sent the poll", note.get("id"),
                 poll.uuid, actor_id)
        return
    note_id = str(note.get("id"))
    if not await poll_store.record_vote(hub.db, poll, actor_id, wish, note_id):
        return  # already answered, or the same choice again in another vote
    # The count, the answer (the RSVP engine's own transaction) and the confirmation are
    # separate steps: a vote processed again after a stop between them is answered then (an
    # answer does nothing twice; at worst the confirmation is sent twice), and once it is
    # marked answered, never again.
    event = await event_store.get_event_by_id(hub.db, poll.event_id)
    if event is None:
        return
    outcome = await service.answer(hub, event, await person_of(hub, actor_id), "poll", wish)
    await messages.confirm(hub, event, actor_id, outcome)
    await poll_store.vote_answered(hub.db, poll, actor_id, note_id)
    try:
        await _deliver(hub, await poll_store.get_poll(hub.db, poll.uuid) or poll, event,
                       "Update")
    except FederationError as exc:  # the next vote's Update carries this one's count too
        log.warning("poll %s: Update not sent: %s", poll.uuid, exc)
