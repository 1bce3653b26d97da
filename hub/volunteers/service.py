"""Volunteers as staff and the volunteers themselves see them: create, read, correct, export,
delete, record checks and training, and hand out private access links.

Every staff read or change is audited (`volunteer.read`, `volunteer.update`...). The audit row
names the volunteer by their random uuid and lists changed field names, never values, so the
log itself holds no personal data and survives the volunteer's deletion harmlessly.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from federation.errors import FederationError, NotFound
from hub.exchange.offers import withdraw_before_erasure
from hub.needs.pool import volunteers_changed
from hub.runtime import Hub
from hub.store import asks as ask_store
from hub.store import audit, signups
from hub.store import matches as match_store
from hub.store import volunteers as store
from hub.store.db import Database
from hub.store.volunteers import ConsentChange, Training, Volunteer
from hub.volunteers.model import (
    STAFF_FIELDS,
    Check,
    StaffRecord,
    check_status,
    parse_check,
    parse_profile,
    parse_staff_record,
    parse_training,
)

ACCESS_LINK_LIFETIME = 30 * 24 * 3600.0  # a volunteer's link works for 30 days


class Gone(NotFound):
    """The volunteer asked to be deleted; only a tombstone is left."""

    status = 410


class ErasureRaced(FederationError):
    """New offers for the volunteer kept being made while they were being erased."""

    status = 409


_ERASE_TRIES = 3


@dataclass(frozen=True)
class Actor:
    """Who acts: staff through an API token (`token_id`) or the console (`staff_id`), or the
    volunteer by their link or the sign-up form."""

    via: str  # "api", "console", "access_link" or "signup"
    token_id: int | None = None
    staff_id: int | None = None

    @property
    def is_staff(self) -> bool:
        return self.via in ("api", "console")


async def audit_action(db: Database, actor: Actor, action: str, volunteer_uuid: str,
                       **detail: Any) -> None:
    """One audit row naming the volunteer by uuid (never by anything personal)."""
    if actor.token_id is not None:
        detail["token"] = actor.token_id
    await audit.record(db, actor.staff_id, action, f"volunteer:{volunteer_uuid}",
                       {"via": actor.via, **detail})


async def require(db: Database, volunteer_uuid: str) -> Volunteer:
    found = await store.get_volunteer(db, volunteer_uuid)
    if found is not None:
        return found
    if await store.is_deleted(db, volunteer_uuid):
        raise Gone("this volunteer's data was deleted at their request")
    raise NotFound("no such volunteer")


def _split(data: dict[str, Any], actor: Actor) -> tuple[dict[str, Any], dict[str, Any]]:
    """Profile fields and staff-only fields; a volunteer may send only the former."""
    if not actor.is_staff:
        return data, {}  # parse_profile refuses staff-only fields as unknown
    return ({k: v for k, v in data.items() if k not in STAFF_FIELDS},
            {k: v for k, v in data.items() if k in STAFF_FIELDS})


async def create(db: Database, data: dict[str, Any], actor: Actor) -> Volunteer:
    profile_data, staff_data = _split(data, actor)
    profile = parse_profile(profile_data)
    staff = parse_staff_record(staff_data, StaffRecord())
    volunteer = await store.add_volunteer(db, profile, staff)
    volunteers_changed(db, [volunteer.uuid])
    await audit_action(db, actor, "volunteer.create", volunteer.uuid)
    return volunteer


async def read(db: Database, volunteer: Volunteer, actor: Actor) -> Volunteer:
    if actor.is_staff:
        await audit_action(db, actor, "volunteer.read", volunteer.uuid)
    return volunteer


async def update(db: Database, volunteer: Volunteer, data: dict[str, Any],
                 actor: Actor) -> Volunteer:
    profile_data, staff_data = _split(data, actor)
    profile = parse_profile(profile_data, volunteer.profile)
    staff = parse_staff_record(staff_data, volunteer.staff)
    updated = await store.update_volunteer(db, volunteer, profile, staff)
    volunteers_changed(db, [volunteer.uuid])
    await audit_action(db, actor, "volunteer.update", volunteer.uuid, fields=sorted(data))
    return updated


async def delete(hub: Hub, volunteer: Volunteer, actor: Actor) -> float:
    """Erase a volunteer; the neighbours holding an offer for them hear `Undo` first. A yes
    that lands between the withdrawals and the erasure makes a new offer: it is withdrawn
    in turn (the erasure's transaction checks that none stands)."""
    for _ in range(_ERASE_TRIES):
        await withdraw_before_erasure(hub, volunteer.id, now=time.time())
        try:
            deleted_at = await store.delete_volunteer(hub.db, volunteer)
            break
        except store.OffersStillStand:
            continue
    else:
        raise ErasureRaced("offers for this volunteer kept being made; erase them again")
    volunteers_changed(hub.db, [volunteer.uuid])
    await audit_action(hub.db, actor, "volunteer.delete", volunteer.uuid)
    return deleted_at


async def list_for_staff(db: Database, actor: Actor, *, skill: str | None,
                         district: str | None, status: str | None = None) -> list[Volunteer]:
    found = await store.list_volunteers(db, skill=skill, district=district, status=status)
    await audit.record(db, actor.staff_id, "volunteer.list", "volunteers",
                       {"via": actor.via, "token": actor.token_id, "skill": skill,
                        "district": district, "status": status, "count": len(found)})
    return found


async def approve(hub: Hub, volunteer: Volunteer, actor: Actor) -> Volunteer:
    """Staff confirm a self sign-up: from now on the volunteer can be matched (and they are
    emailed to say so, if they gave an address)."""
    if volunteer.status != "pending":
        return volunteer
    approved = await store.approve_volunteer(hub.db, volunteer)
    volunteers_changed(hub.db, [volunteer.uuid])
    if volunteer.profile.email:
        await signups.queue_mail(hub.db, volunteer.id, "approved", None)
        hub.wake_jobs()
    await audit_action(hub.db, actor, "volunteer.approve", volunteer.uuid)
    return approved


# Checks and training -----------------------------------------------------------------------
async def record_check(db: Database, volunteer: Volunteer, data: dict[str, Any],
                       actor: Actor) -> Check:
    check = await store.add_check(db, volunteer.id, parse_check(data))
    volunteers_changed(db, [volunteer.uuid])
    await audit_action(db, actor, "volunteer.check.record", volunteer.uuid, check=check.uuid,
                 type=check.type)
    return check


async def remove_check(db: Database, volunteer: Volunteer, check_uuid: str,
                       actor: Actor) -> None:
    if not await store.delete_check(db, volunteer.id, check_uuid):
        raise NotFound("no such check for this volunteer")
    volunteers_changed(db, [volunteer.uuid])
    await audit_action(db, actor, "volunteer.check.delete", volunteer.uuid, check=check_uuid)


async def record_training(db: Database, volunteer: Volunteer, data: dict[str, Any],
                          actor: Actor) -> Training:
    training = await store.add_training(db, volunteer.id, parse_training(data))
    volunteers_changed(db, [volunteer.uuid])
    await audit_action(db, actor, "volunteer.training.record", volunteer.uuid,
                       course=training.course)
    return training


# Data rights -------------------------------------------------------------------------------
async def access_link(db: Database, volunteer: Volunteer, actor: Actor) -> tuple[str, float]:
    token, expires_at = await store.new_access_link(db, volunteer.id, ACCESS_LINK_LIFETIME)
    await audit_action(db, actor, "volunteer.access_link", volunteer.uuid)
    return token, expires_at


async def by_access_token(db: Database, token: str) -> Volunteer:
    found = await store.volunteer_for_token(db, token)
    if found is None:
        raise NotFound("this link is unknown or has expired; get a new one at /volunteer/link "
                       "or ask the hub")
    return found


async def export(db: Database, volunteer: Volunteer, actor: Actor,
                 today: date | None = None) -> dict[str, Any]:
    """Everything stored about the volunteer, as one JSON object (subject access)."""
    today = today or date.today()
    checks = await store.list_checks(db, volunteer.id)
    training = await store.list_training(db, volunteer.id)
    history = await store.consent_history(db, volunteer.id)
    if actor.is_staff:
        await audit_action(db, actor, "volunteer.export", volunteer.uuid)
    asks = await ask_store.asks_of_volunteer(db, volunteer.id)
    matches = await match_store.matches_of_volunteer(db, volunteer.id)
    return {**volunteer_json(volunteer),
            "checks": [check_json(c, today) for c in checks],
            "training": [training_json(t) for t in training],
            "consent_history": [consent_json(c) for c in history],
            "asks": [{**a, "asked_at": iso(a["asked_at"]),
                      "answered_at": iso(a["answered_at"])} for a in asks],
            "matches": [{**m, "accepted_at": iso(m["accepted_at"])} for m in matches],
            "exported_at": iso(datetime.now(UTC).timestamp())}


# JSON shapes -------------------------------------------------------------------------------
def iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


def volunteer_json(volunteer: Volunteer) -> dict[str, Any]:
    p, s = volunteer.profile, volunteer.staff
    return {"id": volunteer.uuid, "pseudonym": volunteer.pseudonym, "name": p.name,
            "email": p.email, "handle": p.handle, "phone": p.phone, "district": p.district,
            "latitude": p.latitude, "longitude": p.longitude, "skills": list(p.skills),
            "interests": list(p.interests), "tags": list(p.tags),
            "languages": list(p.languages),
            "availability": {d: list(parts) for d, parts in p.availability.items()},
            "max_commitments": p.max_commitments, "consents": dict(p.consents),
            "status": volunteer.status, "source": volunteer.source,
            "handle_verified": volunteer.handle_verified,
            "references_received": s.references_received,
            "references_on": s.references_on.isoformat() if s.references_on else None,
            "created_at": iso(volunteer.created_at), "updated_at": iso(volunteer.updated_at)}


def check_json(check: Check, today: date) -> dict[str, Any]:
    return {"id": check.uuid, "type": check.type, "checked_on": check.checked_on.isoformat(),
            "renewal_on": check.renewal_on.isoformat(), "decision": check.decision,
            "status": check_status(check, today), "recorded_at": iso(check.recorded_at)}


def training_json(training: Training) -> dict[str, Any]:
    return {"id": training.uuid, "course": training.course,
            "completed_on": training.completed_on.isoformat(),
            "recorded_at": iso(training.recorded_at)}


def consent_json(change: ConsentChange) -> dict[str, Any]:
    return {"consent": change.consent, "given": change.given, "at": iso(change.at)}
