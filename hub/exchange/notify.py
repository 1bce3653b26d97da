"""Telling each hub's own person where things stand, and the contacts handed over.

A volunteer hears by the channels their ask went by: a direct message in the thread of the
ask, and/or an email. Contacts are exchanged only after an acceptance: the requesting hub
gives its coordinator's contact (never the neighbour's private notes, unless staff write
something to share), the home hub gives the volunteer's.
"""

from __future__ import annotations

import logging
import sqlite3
import time
import uuid
from collections.abc import Callable
from typing import Any

from federation.errors import FederationError
from hub.activitypub.rsvp import Recipient, direct_message
from hub.exchange.targets import Target
from hub.mail import mail_enabled
from hub.runtime import Hub
from hub.services.outbox import send_to_actor
from hub.store import signups
from hub.store.asks import Ask
from hub.store.volunteers import Volunteer

log = logging.getLogger(__name__)
CONTACT_FIELDS = ("name", "email", "telephone", "handle", "organisation", "note")


def volunteer_contact(volunteer: Volunteer) -> dict[str, str]:
    p = volunteer.profile
    found = {"name": p.name, "email": p.email, "telephone": p.phone, "handle": p.handle}
    return {k: v for k, v in found.items() if v}


def volunteer_contact_lines(volunteer: Volunteer, target: Target | None) -> list[str]:
    about = f" for {target.title}" if target else ""
    contact = volunteer_contact(volunteer)
    return [f"The volunteer you accepted{about} is {contact['name']}.",
            "Contact: " + ", ".join(v for k, v in contact.items() if k != "name") + "."]


def coordinator_contact(hub: Hub, shared_note: str = "") -> dict[str, str]:
    s = hub.settings
    found = {"name": s.coordinator_name or s.display_name or s.name,
             "organisation": s.display_name or s.name, "email": s.coordinator_email,
             "telephone": s.coordinator_phone, "note": shared_note.strip()}
    return {k: v for k, v in found.items() if v}


def coordinator_lines(hub: Hub, title: str, shared_note: str = "") -> list[str]:
    contact = coordinator_contact(hub, shared_note)
    reach = ", ".join(contact[k] for k in ("email", "telephone") if k in contact)
    lines = [f"Thank you: we accepted your volunteer for {title}.",
             f"Please ask them to contact {contact['name']} ({contact['organisation']})"
             + (f": {reach}." if reach else ".")]
    if "note" in contact:
        lines.append(contact["note"])
    return lines


def news_lines(news: str, target: Target | None, contact: dict[str, str] | None) -> list[str]:
    title = target.title if target else "the need you offered to help with"
    reach = ", ".join(contact[k] for k in ("email", "telephone") if contact and k in contact)
    who = (contact or {}).get("name", "the coordinator")
    texts = {
        "yes": [f"Thank you! We've told them you can help with {title}. We'll let you know "
                "if you're chosen."],
        "no": [f"Thanks for letting us know: you're not down for {title}."],
        "chosen": [f"Good news: you've been chosen for {title}. We'll send you the "
                   "coordinator's contact."],
        "not_chosen": [f"Thank you for offering to help with {title}: this time they "
                       "found someone else."],
        "contact": [f"For {title}, please contact {who}" + (f": {reach}." if reach else ".")]
        + ([contact["note"]] if contact and "note" in contact else []),
        "matched_here": [f"You're matched with {title}. Please contact {who}"
                         + (f": {reach}." if reach else ".")]
        + ([contact["note"]] if contact and "note" in contact else []),
        "closed": [f"Sorry: {title} is no longer taking answers (it was filled, closed or "
                   "your ask expired)."],
        "unclear": ['Please reply "yes" or "no" to the message asking you.'],
    }
    return texts[news]


async def tell_volunteer(hub: Hub, ask: Ask, volunteer: Volunteer, news: str,
                         target: Target | None, *, contact: dict[str, str] | None = None,
                         in_reply_to: str | None = None) -> None:
    """News for the volunteer, by the channels their ask went by."""
    lines = news_lines(news, target, contact)
    if "dm" in ask.channels and ask.dm_actor:
        await dm(hub, ask.dm_actor, lines, in_reply_to=in_reply_to or ask.dm_note_id)
    if "email" in ask.channels and volunteer.profile.email and mail_enabled(hub.settings):
        await hub.db.run_in_writer(signups.message_writer(
            volunteer.id, target.title if target else "Your offer to help", "\n\n".join(lines)))
        hub.wake_jobs()  # the job runner sends it: no request waits on the mail server


async def dm(hub: Hub, actor_id: str, lines: list[str], *, in_reply_to: str | None = None,
             record: Callable[[sqlite3.Connection, str], None] | None = None) -> str | None:
    """A direct message to one person (a `Note` to them alone, mentioning them, as Mastodon
    sends one); its id, or None if their actor cannot be had. `record(conn, note id)` writes
    in the transaction that queues it."""
    try:
        actor = await hub.actors.get(actor_id)
    except FederationError as exc:
        log.warning("cannot message %s: %s", actor_id, exc)
        return None
    to = Recipient(actor.id, actor.preferred_username or actor.id.rsplit("/", 1)[-1],
                   actor.domain)
    note_id = f"{hub.urls.base}/asks/messages/{uuid.uuid4()}"
    activity: dict[str, Any] = direct_message(hub.urls, to, lines, note_id=note_id,
                                              when=time.time(), in_reply_to=in_reply_to)
    await send_to_actor(hub, activity, actor.id,
                        also=None if record is None else lambda conn: record(conn, note_id))
    return note_id
