"""Offers between neighbouring hubs, both ends.

At the volunteer's home hub (B): a yes to a neighbour's need is sent as an `Offer` with a
signed attestation and no personal detail; an `Accept` makes a match and B sends the
volunteer's contact to the requesting hub alone; a `Reject` closes it; a volunteer who
withdraws makes B send `Undo`.
At the requesting hub (A): an `Offer` from a neighbour (a hub A follows and that follows A)
for an open need of A's, whose attestation verifies and shows the checks the need requires,
is stored for staff; staff accept one (the others are rejected once the need is filled), and
A sends its coordinator's contact to B. Each hub then tells its own person.
"""

from __future__ import annotations

import logging
import sqlite3
import time
import uuid
from collections.abc import Awaitable
from datetime import UTC, datetime
from functools import partial
from typing import Any

from federation.dispatch import RetryableError
from federation.errors import (
    FederationError,
    ForbiddenActivity,
    NotFound,
    ValidationError,
)
from hub.activitypub import exchange as messages
from hub.exchange import notify
from hub.exchange.attestation import covers, held_checks, sign_attestation, verify_attestation
from hub.exchange.targets import Target, load_target
from hub.matching.geo import GeoPoint, equirectangular_km
from hub.matching.model import normalise_tag, slot_label
from hub.needs.matching import to_matcher_need
from hub.needs.pool import volunteers_changed
from hub.runtime import Hub
from hub.services import follows
from hub.services.outbox import Also, also_send, publish, send_to_actor, tell_unless_gone
from hub.store import asks as ask_store
from hub.store import matches as match_store
from hub.store import needs as need_store
from hub.store import offers as offer_store
from hub.store import volunteers as volunteer_store
from hub.store.asks import Ask
from hub.store.follows import get_follower
from hub.store.offers import OfferReceived
from hub.store.volunteers import Volunteer
from hub.volunteers.model import DAYS

log = logging.getLogger(__name__)
# Seconds before a contact note that overtook its Accept is tried again (x4 each time).
CONTACT_BEFORE_ACCEPT_RETRY = 1.0
BANDS = ((1.0, "under 1 km"), (2.0, "1 to 2 km"), (5.0, "2 to 5 km"), (10.0, "5 to 10 km"))


async def is_neighbour(hub: Hub, actor: str) -> bool:
    """A neighbouring hub: one this hub follows and that follows it (both accepted)."""
    if not await follows.is_followed(hub, actor):
        return False
    row = await get_follower(hub.db, actor)
    return row is not None and row.get("state") == "accepted"


def distance_band(volunteer: Volunteer, need_point: GeoPoint | None) -> str:
    """How far, coarsely: never the volunteer's point, only a band."""
    p = volunteer.profile
    if need_point is None or p.latitude is None or p.longitude is None:
        return "distance unknown"
    km = equirectangular_km(GeoPoint(p.latitude, p.longitude), need_point)
    return next((label for top, label in BANDS if km < top), "over 10 km")


# At the volunteer's home hub ---------------------------------------------------------------
class AskClosed(Exception):
    """The ask was answered, withdrawn or expired meanwhile: nothing was written."""


async def send_offer(hub: Hub, ask: Ask, target: Target, *, via: str, now: float) -> str | None:
    """The volunteer's yes to a neighbour's need, and the `Offer` it makes to that hub; the
    offer's id. The neighbour's inbox is found first; then the yes, the offer's row and the
    Offer are one transaction, so no yes is left without its offer. None (nothing written):
    the volunteer or the pairing is gone; `AskClosed` if the ask no longer takes answers."""
    volunteer = await volunteer_store.get_volunteer_by_id(hub.db, ask.volunteer_id)
    if volunteer is None or target.origin is None:
        return None
    if not await is_neighbour(hub, target.origin):
        return None  # unpaired since the ask: offer nobody to that hub
    need = to_matcher_need(target.need)
    today = datetime.fromtimestamp(now, UTC).date()
    checks = held_checks(await volunteer_store.list_checks(hub.db, volunteer.id),
                         need.checks_required, today)
    lifetime = hub.settings.offer_expiry_hours * 3600
    statement = sign_attestation(
        hub, pseudonym=volunteer.pseudonym, need_id=target.object_id(hub), checks=checks,
        training=await volunteer_store.list_training(hub.db, volunteer.id), lifetime=lifetime,
        now=now)
    p = volunteer.profile
    free = {(DAYS.index(d), part) for d, parts in p.availability.items() for part in parts}
    terms = set(p.skills) | set(p.interests) | {normalise_tag(t) for t in p.tags}
    offer_id = f"{hub.urls.base}/offers/{uuid.uuid4()}"
    activity = messages.offer(
        hub.urls, offer_id=offer_id, to_actor=target.origin, need_id=target.object_id(hub),
        pseudonym=volunteer.pseudonym, distance_band=distance_band(volunteer, need.location),
        skills=sorted(need.terms() & terms),
        overlap=[slot_label(s) for s in sorted(need.slots & free)],
        languages=sorted(set(p.languages) & (need.languages_required
                                             | need.languages_preferred)),
        signed_attestation=statement, expires=now + lifetime, when=now)

    def record(conn: sqlite3.Connection) -> None:
        if not ask_store.write_answer(conn, ask, "yes", via, now):
            raise AskClosed
        offer_store.write_offer_sent(conn, ask_id=ask.id, offer_id=offer_id,
                                     remote_need_id=target.need.id, to_actor=target.origin or "",
                                     expires_at=now + lifetime, now=now)

    await send_to_actor(hub, activity, target.origin, also=record)
    return offer_id


async def withdraw_offer(hub: Hub, ask: Ask, sent: offer_store.OfferSent, *,
                         now: float) -> bool:
    """The volunteer takes back a yes their hub offered: the ask, the offer, its match if
    any, and the `Undo` to the neighbour are one transaction (the neighbour's inbox looked up
    first). False if the yes was no longer standing. A neighbour whose actor is gone for good
    is not told; the withdrawal stands here all the same."""
    def record(conn: sqlite3.Connection) -> None:
        if not ask_store.write_withdraw(conn, ask, now):
            raise _NotOpen
        offer_store.write_withdraw_sent(conn, sent, now)  # answered meanwhile: Undo is harmless

    return await _undo_offer(hub, sent, record, now)


async def withdraw_before_erasure(hub: Hub, volunteer_id: int, *, now: float) -> int:
    """A volunteer is about to be erased: each offer made for them that still stands is
    withdrawn, its match ended and its hub sent `Undo`, as if they had withdrawn (erasing
    cascades to the offers' rows, and the neighbour would keep an open offer or a match for
    good); how many. The Undo goes to the inbox of our copy of the neighbour: no network
    request holds the erasure up, and a neighbour that cannot be told does not stop it."""
    standing = await offer_store.standing_offers_sent(hub.db, volunteer_id)
    for sent in standing:
        await _undo_offer(hub, sent, partial(offer_store.write_withdraw_sent, offer=sent, now=now),
                          now, look_up=False)
    return len(standing)


async def _undo_offer(hub: Hub, sent: offer_store.OfferSent, change: Also, now: float, *,
                      look_up: bool = True) -> bool:
    """`change` with an `Undo` of the offer to its hub, in one transaction (an ending: see
    `tell_unless_gone`); False if `change` found the offer had moved on."""
    undo = messages.undo_offer(hub.urls, offer_id=sent.offer_id, to_actor=sent.to_actor,
                               when=now)
    return await _unless_moved_on(tell_unless_gone(hub, undo, sent.to_actor, change,
                                                   look_up=look_up))


async def _unless_moved_on(step: Awaitable[object]) -> bool:
    """Await a step whose transaction raises `_NotOpen` to write nothing; False if it did."""
    try:
        await step
    except _NotOpen:
        return False
    return True


async def receive_answer(hub: Hub, activity: dict[str, Any], accepted: bool) -> bool:
    """`Accept` / `Reject` of an offer this hub sent; False if it is not about one."""
    offer_id = follows.object_id(activity.get("object"))
    sent = await offer_store.get_offer_sent(hub.db, offer_id) if offer_id else None
    if sent is None:
        return False
    if activity["actor"] != sent.to_actor:
        raise ForbiddenActivity("only the hub the offer was made to may answer it")
    now = time.time()
    status = "accepted" if accepted else "rejected"
    if accepted and sent.status != "accepted" and (
            sent.status != offer_store.OPEN or sent.expires_at <= now
            or not await is_neighbour(hub, sent.to_actor)):
        await _refuse_accept(hub, sent, now)
        return True
    ask = await _ask_of(hub, sent.ask_id)
    volunteer = await volunteer_store.get_volunteer_by_id(hub.db, ask.volunteer_id) \
        if ask else None
    target = await load_target(hub, remote_need_id=sent.remote_need_id)
    if accepted and volunteer is not None:
        answered = await _accept_sent(hub, sent, volunteer, target, now)
        latest = None if answered else await offer_store.get_offer_sent(hub.db, sent.offer_id)
        if latest is not None and latest.status != "accepted":  # expired or withdrawn meanwhile
            await _refuse_accept(hub, latest, now)
    else:
        answered = await offer_store.answer_offer_sent(hub.db, sent, status, now=now)
    if not answered:
        return True  # withdrawn or expired meanwhile, or a repeat: nothing more to do
    if volunteer is None or ask is None:
        return True
    await notify.tell_volunteer(hub, ask, volunteer, "chosen" if accepted else "not_chosen",
                                target)
    volunteers_changed(hub.db, [volunteer.uuid])
    return True


async def _refuse_accept(hub: Hub, sent: offer_store.OfferSent, now: float) -> None:
    """An Accept of an offer withdrawn, expired, or made to a hub our staff have unpaired
    since: the volunteer's contact stays here, and that hub, which now holds a match, hears
    `Undo`. (A volunteer's own Undo can even reach it before their Offer did: each delivery
    retries on its own schedule, and it ignored an Undo of an offer it did not know.)"""
    def expire(conn: sqlite3.Connection) -> None:  # only if still open
        offer_store.write_answer_sent(conn, sent, "expired", now)

    await _undo_offer(hub, sent, expire, now)


async def _accept_sent(hub: Hub, sent: offer_store.OfferSent, volunteer: Volunteer,
                       target: Target | None, now: float) -> bool:
    """The accept, the volunteer's match and their contact to the requesting hub, in one
    transaction; that hub's inbox is found first, so if it cannot be had nothing is written
    and the redelivered Accept finds the offer still open. False if it was not open."""
    inbox = (await hub.actors.get(sent.to_actor)).inbox
    activity = messages.contact_note(
        hub.urls, to_actor=sent.to_actor, offer_id=sent.offer_id,
        lines=notify.volunteer_contact_lines(volunteer, target),
        contact=notify.volunteer_contact(volunteer), when=now)

    def record(conn: sqlite3.Connection) -> None:
        if not offer_store.write_accept_sent(conn, sent, volunteer_id=volunteer.id, now=now):
            raise _NotOpen

    return await _unless_moved_on(publish(hub, activity, [inbox], public=False, also=record))


class _NotOpen(Exception):
    """Raised inside a transaction to undo it: the offer was answered meanwhile."""


async def _ask_of(hub: Hub, ask_id: int) -> Ask | None:
    return await ask_store.get_ask(hub.db, ask_id)


# At the requesting hub ---------------------------------------------------------------------
async def receive_offer(hub: Hub, activity: dict[str, Any]) -> None:
    """Store a neighbour's offer for one of our open needs, once its attestation checks out;
    an offer that does not show the checks the need requires is rejected at once."""
    offer = messages.parse_offer(activity)
    if not await is_neighbour(hub, offer.actor):
        raise ForbiddenActivity("offers are taken from neighbouring hubs only (mutual follows)")
    prefix = hub.urls.need("")
    need = (await need_store.get_need(hub.db, offer.need_id[len(prefix):])
            if offer.need_id.startswith(prefix) else None)
    if need is None or need.deleted_at is not None:
        raise NotFound(f"no need {offer.need_id} here")
    now = time.time()
    attested = await verify_attestation(hub, offer.attestation, actor=offer.actor,
                                        pseudonym=offer.pseudonym, need_id=offer.need_id,
                                        now=now)
    matcher_need = to_matcher_need(need)
    missing = covers(attested, matcher_need.checks_required,
                     matcher_need.check_dates(datetime.fromtimestamp(now, UTC).date())[1])
    if need.status not in ("open", "matching") or missing:
        log.info("rejecting offer %s: %s", offer.offer_id,
                 f"missing {', '.join(missing)}" if missing else f"need is {need.status}")
        await _answer(hub, "Reject", offer.offer_id, offer.actor, offer.need_id)
        return
    expires = min(_timestamp(offer.expires, now + hub.settings.offer_expiry_hours * 3600),
                  now + hub.settings.offer_expiry_hours * 3600)
    await offer_store.add_offer_received(
        hub.db, offer_id=offer.offer_id, actor=offer.actor, need_id=need.id,
        pseudonym=offer.pseudonym, distance_band=offer.distance_band, skills=offer.skills,
        availability=offer.overlap, languages=offer.languages, checks_held=attested.checks,
        attestation=offer.attestation, expires_at=expires, now=now)


def _timestamp(value: str | None, default: float) -> float:
    if value is None:
        return default
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError as exc:
        raise ValidationError("Offer: endTime is not a date-time") from exc


async def _answer(hub: Hub, kind: str, offer_id: str, actor: str, need_id: str) -> None:
    await send_to_actor(hub, messages.offer_answer(hub.urls, kind, offer_id=offer_id,
                                                   to_actor=actor, need_id=need_id,
                                                   when=time.time()), actor)


class OfferClosed(FederationError):
    """The offer can no longer be accepted or rejected (answered, withdrawn, expired)."""

    status = 409


async def accept_offer(hub: Hub, offer: OfferReceived, *, shared_note: str = "") -> str:
    """Staff accept a neighbour's offer: `Accept`, then our coordinator's contact, to that
    hub alone; the match's uuid. Once the need has all the volunteers it wants, the other
    open offers are rejected and the need is filled.

    The neighbour's inbox is found first, so a neighbour that cannot be reached changes
    nothing (staff can try again); then the accept, the match and both activities are one
    transaction: no accepted offer whose neighbour is never told."""
    now = time.time()
    need = await need_store.get_need_by_id(hub.db, offer.need_id)
    if offer.status != offer_store.OPEN or offer.expires_at <= now or need is None:
        raise OfferClosed("this offer is no longer open")
    inbox = (await hub.actors.get(offer.actor)).inbox
    accept = messages.offer_answer(hub.urls, "Accept", offer_id=offer.offer_id,
                                   to_actor=offer.actor, need_id=hub.urls.need(need.uuid),
                                   when=now)
    contact = also_send(messages.contact_note(
        hub.urls, to_actor=offer.actor, offer_id=offer.offer_id,
        lines=notify.coordinator_lines(hub, need.draft.title, shared_note),
        contact=notify.coordinator_contact(hub), when=now), [inbox])
    made: list[str] = []

    def record(conn: sqlite3.Connection) -> None:
        match_uuid = offer_store.write_accept_received(conn, offer, now=now)
        if match_uuid is None:
            raise OfferClosed("this offer is no longer open")
        made.append(match_uuid)
        contact(conn)

    await publish(hub, accept, [inbox], public=False, also=record)
    await fill_if_complete(hub, need.id)
    return made[0]


async def reject_offer(hub: Hub, offer: OfferReceived) -> None:
    need = await need_store.get_need_by_id(hub.db, offer.need_id)
    if not await _reject(hub, offer, hub.urls.need(need.uuid) if need else ""):
        raise OfferClosed("this offer is no longer open")


async def _reject(hub: Hub, offer: OfferReceived, need_url: str) -> bool:
    """The offer rejected and the `Reject` to its hub, in one transaction; False if it was no
    longer open. Like a withdrawal, it does not wait on the other hub (see
    `tell_unless_gone`)."""
    now = time.time()
    reject = messages.offer_answer(hub.urls, "Reject", offer_id=offer.offer_id,
                                   to_actor=offer.actor, need_id=need_url, when=now)

    def record(conn: sqlite3.Connection) -> None:
        if not offer_store.write_reject_received(conn, offer, now):
            raise _NotOpen

    return await _unless_moved_on(tell_unless_gone(hub, reject, offer.actor, record))


async def fill_if_complete(hub: Hub, need_id: int) -> bool:
    """Once a need has the volunteers it wants: reject the open offers, mark it filled."""
    from hub.needs import service as need_service

    need = await need_store.get_need_by_id(hub.db, need_id)
    if need is None:
        return False
    active = [m for m in await match_store.matches_for_need(hub.db, need.id)
              if m.status == "active"]
    if len(active) < need.draft.volunteers_wanted:
        return False
    await decline_open_offers(hub, need)
    await _thank_local_yeses(hub, need, {m.volunteer_id for m in active})
    if need.status in ("open", "matching"):
        try:
            await need_service.change_status(hub, need.uuid, "filled")
        except need_service.StatusConflict as exc:
            if exc.current != "filled":  # filled meanwhile (by the sweep) is what we wanted
                raise
    return True


async def decline_open_offers(hub: Hub, need: need_store.LocalNeed) -> int:
    """The need no longer takes volunteers (filled, closed, cancelled or removed): every
    offer still open gets `Reject`, so the volunteer's hub can tell them; how many."""
    declined = 0
    for other in await offer_store.offers_for_need(hub.db, need.id):
        if other.status == "offered" and await _reject(hub, other, hub.urls.need(need.uuid)):
            declined += 1
    return declined


async def _thank_local_yeses(hub: Hub, need: need_store.LocalNeed,
                             matched: set[int | None]) -> None:
    """Our own volunteers who said yes but were not chosen are thanked."""
    target = Target(need)
    for ask in await ask_store.list_asks(hub.db, need_id=need.id):
        if ask.status == "yes" and ask.volunteer_id not in matched:
            volunteer = await volunteer_store.get_volunteer_by_id(hub.db, ask.volunteer_id)
            if volunteer is not None:
                await notify.tell_volunteer(hub, ask, volunteer, "not_chosen", target)


async def receive_undo(hub: Hub, activity: dict[str, Any]) -> None:
    """A neighbour's volunteer withdrew their offer (before or after it was accepted)."""
    offer_id = follows.object_id(activity.get("object"))
    offer = await offer_store.get_offer_received(hub.db, offer_id) if offer_id else None
    if offer is None:
        return
    if offer.actor != activity["actor"]:
        raise ForbiddenActivity("only the hub that made an offer may withdraw it")
    await offer_store.withdraw_offer(hub.db, offer)


# Contacts, both ends -----------------------------------------------------------------------
async def receive_contact(hub: Hub, activity: dict[str, Any]) -> bool:
    """A contact note about an accepted offer, from the other hub of that match; False if
    the note is not one."""
    note = activity.get("object")
    if not isinstance(note, dict) or not isinstance(note.get("contact"), dict):
        return False
    offer_id = follows.object_id(note.get("inReplyTo"))
    if offer_id is None:
        return False
    contact = {k: str(v)[:300] for k, v in note["contact"].items()
               if k in notify.CONTACT_FIELDS and isinstance(v, str)}
    received = await offer_store.get_offer_received(hub.db, offer_id)
    if received is not None:  # we are the requesting hub: the volunteer's contact
        if received.actor != activity["actor"] or received.status != "accepted":
            raise ForbiddenActivity("a contact is taken only for an accepted offer, "
                                    "from the hub that made it")
        match = await match_store.match_for_offer_received(hub.db, received.id)
        if match is not None:
            await match_store.set_contact(hub.db, match.id, contact)
        return True
    sent = await offer_store.get_offer_sent(hub.db, offer_id)
    if sent is None:
        return False
    if sent.to_actor == activity["actor"] and sent.status == "offered":
        # The hub sends its Accept and then this note, as two deliveries that can overtake
        # each other: wait a little for the Accept rather than refuse the contact.
        raise RetryableError("a contact for an offer whose Accept has not arrived yet",
                             retry_after=CONTACT_BEFORE_ACCEPT_RETRY)
    if sent.to_actor != activity["actor"] or sent.status != "accepted":
        raise ForbiddenActivity("a contact is taken only for an accepted offer, from the "
                                "hub that accepted it")
    match = await match_store.match_for_offer_sent(hub.db, sent.id)
    if match is not None:
        await match_store.set_contact(hub.db, match.id, contact)
        ask = await _ask_of(hub, sent.ask_id)
        volunteer = (await volunteer_store.get_volunteer_by_id(hub.db, ask.volunteer_id)
                     if ask else None)
        if ask is not None and volunteer is not None:
            target = await load_target(hub, remote_need_id=sent.remote_need_id)
            await notify.tell_volunteer(hub, ask, volunteer, "contact", target, contact=contact)
    return True
