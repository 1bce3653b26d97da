"""Asking volunteers whether they will take a need, and hearing their answer.

Each ask goes by the channels the volunteer chose: a direct message to their fediverse
account (only with their `contact_by_dm` consent) and/or an email, each with a private link
to answer yes or no. A reply to the direct message ("yes", "no") answers too. An unanswered
ask expires (`expire_due`, run by the job runner). A yes to a neighbour's need becomes an
`Offer` to that hub (hub.exchange.offers); a yes to one of ours puts the volunteer at the
top of staff's list, for them to accept.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from federation.errors import FederationError
from hub.exchange import notify, offers
from hub.exchange.targets import Target, target_of
from hub.mail import mail_enabled
from hub.needs.pool import rank_for, volunteers_changed
from hub.runtime import Hub
from hub.services.follows import resolve_actor_id
from hub.store import asks as ask_store
from hub.store import offers as offer_store
from hub.store import signups
from hub.store import volunteers as volunteer_store
from hub.store.asks import Ask
from hub.store.volunteers import Volunteer

log = logging.getLogger(__name__)
ASKED_BY = ("staff", "policy")


class NotAskable(Exception):
    """This volunteer cannot be asked for this need (consent, already asked, closed need)."""


@dataclass(frozen=True)
class Asked:
    ask: Ask
    link: str          # the private answer link (shown once, to staff only in tests/API)


def ask_link(hub: Hub, token: str) -> str:
    return f"{hub.urls.base}/asks/{token}"


def _consented(target: Target, volunteer: Volunteer) -> bool:
    consents = volunteer.profile.consents
    if volunteer.status != "active":  # a self sign-up not yet approved by staff
        return False
    return consents["match_here"] if target.local else consents["match_neighbours"]


def ask_lines(hub: Hub, target: Target, link: str) -> list[str]:
    who = hub.settings.display_name or hub.settings.name
    lines = [f"{who} is looking for a volunteer: {target.title} ({target.summary})."]
    if not target.local:
        lines.append("It is for a neighbouring hub. If you say yes, they see only a "
                     "pseudonym, roughly how far away you are, your matching skills and the "
                     "checks you hold, until they choose you.")
    lines.append(f'Could you help? Reply "yes" or "no" to this message, or answer here: {link}')
    return lines


async def ask(hub: Hub, target: Target, volunteer: Volunteer, *, asked_by: str,
              now: float | None = None) -> Asked:
    """Ask one volunteer, by their channels; `NotAskable` says why not."""
    now = time.time() if now is None else now
    if not target.open:
        raise NotAskable("the need is no longer open")
    if not _consented(target, volunteer):
        raise NotAskable("the volunteer has not consented to be matched for this need")
    created = await ask_store.add_ask(hub.db, volunteer.id, asked_by=asked_by,
                                      lifetime=hub.settings.ask_expiry_hours * 3600, now=now,
                                      **target.keys())
    if created is None:
        raise NotAskable("the volunteer was already asked for this need")
    stored, token = created
    link = ask_link(hub, token)
    lines = ask_lines(hub, target, link)
    channels: list[str] = []
    try:
        if _dm_allowed(volunteer) and await _send_dm(hub, volunteer, lines, stored.id):
            channels.append("dm")
    except Exception:  # the message and its record could not be written: nothing went out
        await ask_store.delete_ask(hub.db, stored.id)
        raise
    email = None
    if volunteer.profile.email and mail_enabled(hub.settings):
        # Queued with the ask's channels; the job runner sends it, so a slow mail server
        # never holds the request (nor a sweep asking many).
        email = signups.message_writer(volunteer.id, f"Could you help? {target.title}",
                                       "\n\n".join(lines), ask_id=stored.id)
        channels.append("email")
    if not channels:
        # Nobody would ever see it: no ask is recorded (nor counted against them).
        await ask_store.delete_ask(hub.db, stored.id)
        raise NotAskable("the volunteer could not be reached: email is not set up here or "
                         "they gave none, and they did not agree to direct messages or their "
                         "account could not be found")
    await ask_store.set_channels(hub.db, stored.id, channels, also=email)
    if email is not None:
        hub.wake_jobs()
    volunteers_changed(hub.db, [volunteer.uuid])
    return Asked(await ask_store.get_ask(hub.db, stored.id) or stored, link)


def _dm_allowed(volunteer: Volunteer) -> bool:
    return bool((volunteer.actor_id or volunteer.profile.handle)
                and volunteer.profile.consents["contact_by_dm"])


async def _send_dm(hub: Hub, volunteer: Volunteer, lines: list[str], ask_id: int) -> bool:
    """A direct message to the volunteer's account (the one their handle was proven for,
    else the one it names now), recorded on the ask with it; False if it cannot be sent."""
    actor_id = volunteer.actor_id
    if actor_id is None:
        try:
            actor_id = await resolve_actor_id(hub, volunteer.profile.handle or "")
        except FederationError as exc:
            log.warning("cannot find the account of volunteer %s: %s",
                        volunteer.pseudonym, exc)
            return False
    to = actor_id
    return await notify.dm(hub, to, lines, record=lambda conn, note_id: ask_store.write_dm(
        conn, ask_id, note_id, to)) is not None


async def ask_top(hub: Hub, target: Target, count: int, *, asked_by: str,
                  now: float | None = None) -> list[Asked]:
    """Ask the `count` best-ranked volunteers not asked for this need before."""
    now = time.time() if now is None else now
    already = {a.volunteer_id for a in await ask_store.list_asks(hub.db, **target.keys())}
    ranked = await rank_for(hub.db, target.need, now=datetime.fromtimestamp(now, UTC),
                            limit=count + len(already))
    asked: list[Asked] = []
    for candidate in ranked:
        if len(asked) >= count:
            break
        volunteer = await volunteer_store.get_volunteer(hub.db, candidate.volunteer_id)
        if volunteer is None or volunteer.id in already:
            continue
        try:
            asked.append(await ask(hub, target, volunteer, asked_by=asked_by, now=now))
        except NotAskable as exc:
            log.info("not asking %s: %s", volunteer.pseudonym, exc)
    return asked


# Answers ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Answered:
    recorded: bool      # False: the ask was no longer open
    status: str         # the ask's status afterwards


async def answer(hub: Hub, stored: Ask, yes: bool, *, via: str,
                 now: float | None = None) -> Answered:
    """Record the volunteer's yes or no; a yes to a neighbour's need is offered to it. A need
    filled, closed or cancelled meanwhile takes no more answers (the ask expires)."""
    now = time.time() if now is None else now
    status = "yes" if yes else "no"
    target = await target_of(hub, stored)
    if target is None or not target.open or (
            not target.local and not await offers.is_neighbour(hub, target.origin or "")):
        # A need that closed, or whose hub our staff have unpaired since the ask.
        await ask_store.close_ask(hub.db, stored, now)
        return Answered(False, "expired")
    try:
        if yes and not target.local:  # the yes is written with the Offer it sends
            recorded = await offers.send_offer(hub, stored, target, via=via, now=now) is not None
            if not recorded:  # unpaired meanwhile
                await ask_store.close_ask(hub.db, stored, now)
                return Answered(False, "expired")
        else:
            recorded = await ask_store.answer(hub.db, stored, status, via, now)
    except offers.AskClosed:
        recorded = False
    if not recorded:
        current = await ask_store.get_ask(hub.db, stored.id)
        return Answered(False, current.status if current else "expired")
    await _asked_changed(hub, stored)
    return Answered(True, status)


async def withdraw(hub: Hub, stored: Ask, *, now: float | None = None) -> bool:
    """The volunteer takes back a yes; a neighbour that had their offer is sent `Undo`."""
    now = time.time() if now is None else now
    sent = await offer_store.offer_sent_for_ask(hub.db, stored.id)
    if sent is not None and sent.status in ("offered", "accepted"):
        withdrawn = await offers.withdraw_offer(hub, stored, sent, now=now)
    else:
        withdrawn = await ask_store.withdraw(hub.db, stored, now)
    if not withdrawn:
        return False
    await _asked_changed(hub, stored)
    return True


async def _asked_changed(hub: Hub, stored: Ask) -> None:
    """The matcher re-reads only the volunteer this ask was to, not the whole pool."""
    volunteer = await volunteer_store.get_volunteer_by_id(hub.db, stored.volunteer_id)
    if volunteer is not None:  # a deleted one left the pool when it was deleted
        volunteers_changed(hub.db, [volunteer.uuid])


async def expire_due(hub: Hub, now: float | None = None) -> int:
    """Asks nobody answered in time expire; returns how many."""
    expired = await ask_store.expire_asks(hub.db, time.time() if now is None else now)
    if expired:
        volunteers_changed(hub.db)
    return expired
