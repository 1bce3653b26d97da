"""The one place that decides RSVPs: going, waitlisted, pending, maybe, not going, refused.

Every path calls these functions: ActivityPub `Join`/`Leave`, Friendica's answers to an
Event, Mastodon replies and poll votes, the web form and staff. The decisions are pure
functions of a snapshot (`decide_*`), run inside the one write transaction that also
writes the result (`hub.store.participants.apply_change`), so capacity holds on every
path and under any concurrency.

- `request_place(hub, event, person, via)`: join-mode `free` gives a place, or the
  waitlist when full; `restricted` waits for staff (`approve` / `decline`); `none` and
  `external` are refused (the latter with its link); so are cancelled, deleted and
  started events. Asking again while going, waitlisted or pending changes nothing.
- `say_maybe` records interest without a place; `leave` frees a place.
- Whenever a place frees up, the first on the waitlist (by time of request) is promoted
  and told; whenever the going count changes, followers get an `Update` of the Event.

Telling the person who asked is the caller's job (each path answers in its own way);
people promoted, approved or declined later are told here (`hub.rsvp.messages.tell`).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import sqlite3
from dataclasses import dataclass
from functools import partial

from federation.errors import FederationError, NotFound, ValidationError
from hub.events.publish import announcement
from hub.rsvp import messages
from hub.runtime import Hub
from hub.store import events as event_store
from hub.store import participants as store
from hub.store.events import Event
from hub.store.participants import ACTIVE, Applied, Change, NewParticipant, Participant, Snapshot

log = logging.getLogger(__name__)

VIAS = ("join", "friendica", "mention", "poll", "web", "staff")
ANSWERS = ("going", "maybe", "not_going")
REFUSED = "refused"
# Why a request was refused.
CANCELLED, DELETED, STARTED = "cancelled", "deleted", "started"
NO_SIGNUP, EXTERNAL, DECLINED = "no_signup", "external", "declined"


@dataclass(frozen=True)
class Person:
    """Who asks: a fediverse actor, or someone on the web form (name + email or handle,
    the handle resolved to its actor)."""

    name: str = ""
    actor_id: str | None = None
    email: str | None = None
    handle: str | None = None

    def __post_init__(self) -> None:
        if not self.actor_id and not self.email:
            raise ValueError("a person is a fediverse actor or an email address")

    @property
    def key(self) -> str:
        return self.actor_id or f"mailto:{(self.email or '').lower()}"


@dataclass(frozen=True)
class Outcome:
    """Where the person stands after asking (`state` is `refused` when nothing was done)."""

    state: str
    changed: bool
    participant: Participant | None
    position: int | None = None         # on the waitlist, from 1
    reason: str | None = None           # why refused
    external_url: str | None = None     # where to sign up instead (join mode external)
    token: str | None = None            # web: the token of a new private cancel link
    promoted: tuple[Participant, ...] = ()


# Decisions: pure functions of a snapshot ---------------------------------------------------
def refusal(snap: Snapshot) -> str | None:
    """Why this event takes no RSVP now, or None."""
    event = snap.event
    if event.deleted:
        return DELETED
    if event.status == "cancelled":
        return CANCELLED
    if snap.now >= event.start_at:
        return STARTED
    if event.join_mode == "none":
        return NO_SIGNUP
    if event.join_mode == "external":
        return EXTERNAL
    return None


def _place_or_queue(snap: Snapshot) -> Change:
    # A newcomer never jumps the queue: with anyone waiting, they wait too (and filling
    # free places, if capacity grew, takes the queue in order).
    room = snap.event.capacity is None or (
        snap.going < snap.event.capacity and snap.waitlisted == 0)
    return Change("going" if room else "waitlisted", fill=True)


def decide_request(snap: Snapshot, via: str) -> Change:
    reason = refusal(snap)
    if reason is not None:
        return Change(reason=reason)
    current = snap.current.state if snap.current else None
    if current in ACTIVE:
        return Change()
    if current == "declined" and via != "staff":
        return Change(reason=DECLINED)
    if snap.event.join_mode == "restricted" and via != "staff":
        return Change("pending", fill=True)
    return _place_or_queue(snap)


def decide_maybe(snap: Snapshot) -> Change:
    reason = refusal(snap)
    current = snap.current.state if snap.current else None
    if reason is not None:
        return Change(reason=reason)
    if current == "declined":
        return Change(reason=DECLINED)
    return Change() if current == "maybe" else Change("maybe", fill=True)


def decide_leave(snap: Snapshot) -> Change:
    reason = refusal(snap)
    current = snap.current.state if snap.current else None
    if current is None:
        return Change(reason=reason) if reason else Change("not_going")
    if current in ("not_going", "declined"):
        return Change()
    return Change("not_going", fill=reason is None)


def decide_approve(snap: Snapshot) -> Change:
    reason = refusal(snap)
    if reason is not None and reason != NO_SIGNUP:
        return Change(reason=reason)
    if snap.current is None or snap.current.state not in ("pending", "declined"):
        return Change()
    return _place_or_queue(snap)


def decide_decline(snap: Snapshot) -> Change:
    if snap.current is None or snap.current.state in ("declined", "not_going"):
        return Change()
    return Change("declined", fill=refusal(snap) is None)


def decide_fill(snap: Snapshot) -> Change:
    return Change(fill=refusal(snap) is None)


# Running a decision --------------------------------------------------------------------------
def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _outcome(applied: Applied, external_url: str | None, token: str | None) -> Outcome:
    after, change = applied.after, applied.change
    if change.reason is not None:
        return Outcome(REFUSED, False, after, reason=change.reason,
                       external_url=external_url if change.reason == EXTERNAL else None)
    changed = after is not None and (applied.before is None or applied.before.state != after.state)
    mine = token if token and after and after.token_hash == token_hash(token) and changed else None
    return Outcome(after.state if after else "none", changed, after, applied.position,
                   token=mine, promoted=applied.promoted)


def _new(person: Person, via: str, *, join_id: str | None = None, reply_to: str | None = None,
         message: str | None = None, token: str | None = None) -> NewParticipant:
    if via not in VIAS:
        raise ValueError(f"via is one of {', '.join(VIAS)}")
    return NewParticipant(
        person_key=person.key, via=via, actor_id=person.actor_id, email=person.email,
        handle=person.handle, name=person.name, join_id=join_id, reply_to=reply_to,
        message=message, token_hash=token_hash(token) if token else None)


async def _run(hub: Hub, event: Event, key: str | None, decide: store.Decide,
               new: NewParticipant | None = None, token: str | None = None) -> Outcome:
    applied = await store.apply_change(hub.db, event.id, key, decide, new)
    outcome = _outcome(applied, event.external_url, token)
    await settle(hub, event, applied)
    return outcome


async def settle(hub: Hub, event: Event, applied: store.Applied) -> None:
    """After a change: tell whoever was promoted (the notices owed them), and followers the
    new counts."""
    for participant, notice in zip(applied.promoted, applied.notices, strict=True):
        try:
            await messages.tell(hub, event, participant, "promoted", notice=notice)
        except FederationError as exc:  # still owed: hub.jobs.rsvp_notices sends it later
            log.warning("promotion of participant %s not told yet: %s", participant.id, exc)
    await publish_counts(hub, event.id)


async def publish_counts(hub: Hub, event_id: int) -> None:
    """`Update` of the Event to followers, once per change of its going count. Concurrent
    requests coalesce: the first to claim the change sends the counts as they are then."""
    if not await store.count_changed(hub.db, event_id):
        return
    event = await event_store.get_event_by_id(hub.db, event_id)
    if event is None:
        return
    told = await announcement(hub, [event.teacher_actor_id])

    def claimed(conn: sqlite3.Connection, updated: list[Event]) -> None:
        if not store.claim_count_change(conn, event_id):
            raise _Claimed  # another request sends it: write nothing
        told.updated(conn, updated)

    # `updated` moves on, or Mastodon would keep the old "N places left" summary.
    try:
        await event_store.update_events(hub.db, [(event_id, {})], then=claimed)
    except _Claimed:
        return
    hub.wake_delivery()


class _Claimed(Exception):
    """Another request claimed the count change: it sends the Update."""


# The API every path uses -----------------------------------------------------------------------
async def request_place(hub: Hub, event: Event, person: Person, via: str, *,
                        join_id: str | None = None, reply_to: str | None = None,
                        message: str | None = None) -> Outcome:
    """Ask for a place. A web request gets a private cancel link's token in the outcome
    when its row was made or renewed (never for someone already signed up)."""
    token = secrets.token_urlsafe(32) if via == "web" else None
    new = _new(person, via, join_id=join_id, reply_to=reply_to, message=message, token=token)
    return await _run(hub, event, person.key, partial(decide_request, via=via), new, token)


async def say_maybe(hub: Hub, event: Event, person: Person, via: str, *,
                    reply_to: str | None = None) -> Outcome:
    """Interested, not committed: recorded as maybe, which holds no place."""
    return await _run(hub, event, person.key, decide_maybe, _new(person, via, reply_to=reply_to))


async def leave(hub: Hub, event: Event, person: Person, via: str | None = None, *,
                reply_to: str | None = None) -> Outcome:
    """Not going (any more): frees a place, which goes to the first on the waitlist. With
    `via`, someone who had not answered before is recorded as not going."""
    new = _new(person, via, reply_to=reply_to) if via else None
    return await _run(hub, event, person.key, decide_leave, new)


async def answer(hub: Hub, event: Event, person: Person, via: str, wish: str, *,
                 join_id: str | None = None, reply_to: str | None = None) -> Outcome:
    """Going, maybe or not going, as one call (the Mastodon and Friendica paths)."""
    if wish == "going":
        return await request_place(hub, event, person, via, join_id=join_id, reply_to=reply_to)
    if wish == "maybe":
        return await say_maybe(hub, event, person, via, reply_to=reply_to)
    if wish == "not_going":
        return await leave(hub, event, person, via, reply_to=reply_to)
    raise ValueError(f"an answer is one of {', '.join(ANSWERS)}")


async def _event_of(hub: Hub, participant: Participant) -> Event:
    event = await event_store.get_event_by_id(hub.db, participant.event_id)
    if event is None:
        raise NotFound(f"no event {participant.event_id}")
    return event


async def approve(hub: Hub, participant: Participant) -> Outcome:
    """Staff accept a pending request: a place, or the waitlist when full; they are told."""
    event = await _event_of(hub, participant)
    outcome = await _run(hub, event, participant.person_key, decide_approve)
    if outcome.state == REFUSED:
        raise ValidationError(f"cannot approve: the event is {outcome.reason}")
    if outcome.changed and outcome.participant is not None:
        await messages.tell(hub, event, outcome.participant, outcome.state,
                            position=outcome.position)
    return outcome


async def decline(hub: Hub, participant: Participant) -> Outcome:
    """Staff refuse a request (or take back a place, which then goes to the waitlist)."""
    event = await _event_of(hub, participant)
    outcome = await _run(hub, event, participant.person_key, decide_decline)
    if outcome.changed and outcome.participant is not None:
        await messages.tell(hub, event, outcome.participant, "declined")
    return outcome


async def promote_waitlist(hub: Hub, event: Event) -> tuple[Participant, ...]:
    """Fill free places from the waitlist, e.g. after staff raised the capacity."""
    outcome = await _run(hub, event, None, decide_fill)
    return outcome.promoted


async def cancel_by_token(hub: Hub, token: str) -> tuple[Event, Outcome]:
    """The private cancel link: not going any more."""
    participant = await store.find_by_token_hash(hub.db, token_hash(token))
    if participant is None:
        raise NotFound("this link is unknown or no longer valid")
    event = await _event_of(hub, participant)
    person = Person(participant.name, participant.actor_id, participant.email)
    return event, await leave(hub, event, person)
