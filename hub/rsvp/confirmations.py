"""Web RSVPs are confirmed from the person's own inbox before they take a place.

Anyone can type anyone's email address or fediverse handle into the web form. So when the hub
can reach the contact given (an email address, with email configured; a fediverse account,
always), the form takes no place: it sends a link there, and the place is asked for only when
that link is opened and confirmed (a button, since mail scanners open links by themselves).
Only then does the browser get the private link to the place. A hub without email cannot
confirm an address: an email sign-up then takes its place at once, as before.
"""

from __future__ import annotations

import secrets
import time

from federation.errors import NotFound
from hub.mail import MailError, mail_enabled, send_mail
from hub.rsvp import messages
from hub.rsvp.service import Person, token_hash
from hub.runtime import Hub
from hub.store import events as event_store
from hub.store import rsvp_confirmations as store
from hub.store.events import Event
from hub.store.rsvp_confirmations import PendingRsvp

LINK_HOURS = 48


def needed(hub: Hub, person: Person) -> bool:
    """Can (and so must) this sign-up be confirmed from the contact's own inbox?"""
    return person.actor_id is not None or mail_enabled(hub.settings)


def link_url(hub: Hub, token: str) -> str:
    return f"{hub.urls.base}/rsvp/confirm/{token}"


async def ask(hub: Hub, event: Event, person: Person) -> str:
    """Keep the sign-up and send its link; returns where it went, for the page to say."""
    token = secrets.token_urlsafe(32)
    pending = PendingRsvp(event.id, person.name, person.email, person.actor_id, person.handle)
    await store.add(hub.db, token_hash(token), event.id, pending,
                    expires_at=time.time() + LINK_HOURS * 3600)
    lines = [f"Someone (we hope you) asked for a place at {event.title} in the name of "
             f"{person.name}.", "To confirm, open this link and press the button; if it "
             "wasn't you, ignore this message and nothing happens.", link_url(hub, token)]
    if person.actor_id is not None:
        await messages.send_dm(hub, event, person.actor_id, lines)
        return "your fediverse account's direct messages"
    try:
        await send_mail(hub.settings, person.email or "", f"Confirm your place: {event.title}",
                        "\n\n".join(lines))
    except MailError:
        await store.take(hub.db, token_hash(token))  # no link went out: nothing to confirm
        raise
    return "your email"


async def pending(hub: Hub, token: str) -> tuple[PendingRsvp, Event]:
    """The sign-up a link stands for (NotFound if unknown, used or expired)."""
    found = await store.find(hub.db, token_hash(token))
    event = await _event(hub, found)
    assert found is not None  # _event refused None
    return found, event


async def take(hub: Hub, token: str) -> tuple[Person, Event]:
    """The person and event of a link, which is then used up."""
    found = await store.take(hub.db, token_hash(token))
    event = await _event(hub, found)
    return Person(found.name, actor_id=found.actor_id, email=found.email,
                  handle=found.handle), event


async def _event(hub: Hub, found: PendingRsvp | None) -> Event:
    event = await event_store.get_event_by_id(hub.db, found.event_id) if found else None
    if found is None or event is None or event.deleted:
        raise NotFound("This link is unknown, already used or expired (links last "
                       f"{LINK_HOURS} hours): sign up again from the event's page.")
    return event
