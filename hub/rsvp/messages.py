"""Telling participants where they stand, each on the channel they came by.

- Someone who sent a `Join` gets ActivityPub answers to it: `Accept` (a place, also when
  promoted or approved later), `TentativeAccept` (waitlisted), `Reject`, `Ignore`.
- Other fediverse people (Mastodon replies and poll votes, Friendica, the web form with a
  handle) get direct messages: a `Note` to them alone, with a `Mention` of them, as
  Mastodon's own direct messages are. Its id sits under the event's URL, so a reply to it
  ("can't come") is known to be about that event.
- Web sign-ups by email get a notification row; the mailer sends it later.

Every message is also recorded in `rsvp_notifications`.
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import TYPE_CHECKING, Any

from federation.errors import FederationError
from hub.activitypub.rsvp import Recipient, direct_message, join_answer, join_echo
from hub.events.summary import when_text
from hub.runtime import Hub
from hub.services.outbox import Also, send_to_actor
from hub.store import participants as store
from hub.store.events import Event
from hub.store.participants import Participant

if TYPE_CHECKING:
    from hub.rsvp.service import Outcome

log = logging.getLogger(__name__)

ANSWERS = ("going", "maybe", "can't come")
# What a Join is answered with, for each piece of news (nothing for the others).
JOIN_ANSWERS = {"going": "Accept", "promoted": "Accept", "waitlisted": "TentativeAccept",
                "declined": "Reject", "refused": "Reject"}
_WORDS = 'reply with one of: "going", "maybe" or "can\'t come"'


def _about(event: Event) -> str:
    return f"{event.title} ({when_text(event)})"


def _refusal_line(event: Event, reason: str | None, external_url: str | None) -> str:
    lines = {
        "cancelled": f"{_about(event)} is cancelled, so it takes no sign-ups.",
        "deleted": f"{event.title} is no longer on the calendar.",
        "started": f"{_about(event)} has already started, so sign-up is closed.",
        "no_signup": f"{_about(event)} needs no sign-up: just come along!",
        "external": f"Sign up for {_about(event)} on the organiser's site: {external_url}",
        "declined": f"Sorry: the hub's staff couldn't offer you a place at {_about(event)}.",
    }
    return lines.get(reason or "", f"{_about(event)} cannot take your answer.")


def lines_for(event: Event, news: str, *, position: int | None = None,
              reason: str | None = None, external_url: str | None = None,
              link: str | None = None, event_url: str = "") -> list[str]:
    """The text of a message, as paragraphs."""
    undo = (f"Changed your mind? Cancel here: {link}" if link else
            "Changed your mind? Reply \"can't come\" to this message.")
    texts = {
        "going": [f"You're going to {_about(event)}. See you there!", undo],
        "promoted": [f"Good news: a place came free at {_about(event)}, and it's yours. "
                     "You're going!", undo],
        "waitlisted": [f"{_about(event)} is full, so you're on the waitlist: number "
                       f"{position}. If a place frees up it's yours, and we'll tell you.", undo],
        "pending": [f"Thanks! Places at {_about(event)} are confirmed by the hub's staff: "
                    "we'll tell you when they have."],
        "maybe": [f"Noted: maybe for {_about(event)}. That doesn't hold a place: reply "
                  '"going" to take one.'],
        "not_going": [f"Noted: you're not going to {_about(event)}."],
        "declined": [_refusal_line(event, "declined", None)],
        "refused": [_refusal_line(event, reason, external_url)],
        "help": [f"To answer for {_about(event)}, {_WORDS}."],
    }
    return [*texts[news], event_url] if event_url else texts[news]


def no_event_lines() -> list[str]:
    return ["Which event do you mean? Reply to the event's post (or send its link) and "
            f"{_WORDS}."]


def dm_id(hub: Hub, event: Event | None) -> str:
    """A direct message's id: under the event's URL, so replies to it lead back there."""
    base = hub.urls.event(event.uuid) if event else hub.urls.base
    return f"{base}/messages/{uuid.uuid4()}"


async def recipient(hub: Hub, actor_id: str) -> Recipient | None:
    """Whom to mention, from the actor's (cached) document; None if it cannot be had."""
    try:
        actor = await hub.actors.get(actor_id)
    except FederationError as exc:
        log.warning("cannot message %s: %s", actor_id, exc)
        return None
    return Recipient(actor.id, actor.preferred_username or actor.id.rsplit("/", 1)[-1],
                     actor.domain)


async def send_dm(hub: Hub, event: Event | None, actor_id: str, lines: list[str], *,
                  in_reply_to: str | None = None, also: Also | None = None) -> bool:
    """A direct message to one fediverse person; False if their actor cannot be had.
    `also` writes in the transaction that queues it."""
    to = await recipient(hub, actor_id)
    if to is None:
        return False
    activity = direct_message(hub.urls, to, lines, note_id=dm_id(hub, event),
                              when=time.time(), in_reply_to=in_reply_to)
    await send_to_actor(hub, activity, actor_id, also=also)
    return True


async def answer_join(hub: Hub, event: Event, join: dict[str, Any], kind: str,
                      lines: list[str] | None = None, *, also: Also | None = None) -> None:
    """Accept / TentativeAccept / Reject / Ignore of a Join, to its sender."""
    text = " ".join(lines) if lines else None
    await send_to_actor(hub, join_answer(hub.urls, kind, join, text=text), join["actor"],
                        also=also)


def _stored_join(hub: Hub, event: Event, participant: Participant) -> dict[str, Any] | None:
    if not participant.join_id or not participant.actor_id:
        return None
    return join_echo(participant.join_id, participant.actor_id, hub.urls.event(event.uuid))


async def tell(hub: Hub, event: Event, participant: Participant, news: str, *,
               position: int | None = None, link: str | None = None,
               join: dict[str, Any] | None = None, channel: str | None = None,
               in_reply_to: str | None = None, notice: int | None = None) -> bool:
    """Tell a participant some news (going, waitlisted, promoted, declined...) on their
    channel: their Join if they sent one, else a direct message, else email (later). With
    `notice`, the news was owed (written with the change): it is marked sent with the
    message, and not sent if it was already. False if nothing could be sent now."""
    join = join or _stored_join(hub, event, participant)
    channel = channel or ("activitypub" if join else store.channel_for(participant))
    if news == "waitlisted" and position is None:
        position = await store.waitlist_position(hub.db, participant)
    lines = lines_for(event, news, position=position, link=link,
                      event_url=hub.urls.event(event.uuid))
    record = store.notified(participant.id, news, channel, notice=notice)
    try:
        if channel == "activitypub" and join is not None:
            kind = JOIN_ANSWERS.get(news)
            if kind is None:
                return False
            await answer_join(hub, event, join, kind, lines[:1], also=record)
            return True
        if channel == "dm" and participant.actor_id:
            reply_to = in_reply_to if in_reply_to is not None else participant.reply_to
            return await send_dm(hub, event, participant.actor_id, lines, in_reply_to=reply_to,
                                 also=record)
    except store.AlreadyTold:
        return True
    if notice is not None:  # owed by email, it is the row the mailer sends; else unsendable
        return channel == "email"
    # No mailer yet: the row waits for it, with the private link it needs.
    await store.add_notification(hub.db, participant.id, news, "email", detail=link,
                                 sent=False)
    return True


async def confirm(hub: Hub, event: Event, actor_id: str, outcome: Outcome, *,
                  in_reply_to: str | None = None) -> None:
    """A direct message saying where someone now stands (or why nothing was done)."""
    if outcome.state == "refused" or outcome.participant is None:
        lines = lines_for(event, "refused", reason=outcome.reason,
                          external_url=outcome.external_url,
                          event_url=hub.urls.event(event.uuid))
        await send_dm(hub, event, actor_id, lines, in_reply_to=in_reply_to)
        return
    await tell(hub, event, outcome.participant, outcome.state, channel="dm",
               position=outcome.position, in_reply_to=in_reply_to)
