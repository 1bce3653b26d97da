"""The matching messages between hubs: Offer, its Accept / Reject / Undo, contact notes.

An `Offer` names a volunteer only by pseudonym and carries what the requesting hub needs to
choose (distance band, matched skills, availability overlap, languages) and the home hub's
signed `Attestation` of checks held. Names and contacts travel only in a contact `Note`,
sent by each hub to the other after the `Accept`. docs/federation.md ("Matching between hubs")
has an example of each.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from federation.errors import ValidationError
from hub.activitypub.context import (
    AS_CONTEXT_URL,
    DATA_INTEGRITY_CONTEXT_URL,
    HUB_TERMS,
    SECURITY_CONTEXT_URL,
)
from hub.activitypub.notes import iso
from hub.urls import Urls

EXCHANGE_TERMS = {
    "sc": "http://schema.org/",
    "Attestation": "ch:Attestation",
    "VolunteerCandidate": "ch:VolunteerCandidate",
    "pseudonym": "ch:pseudonym",
    "distanceBand": "ch:distanceBand",
    "matchedSkills": {"@id": "ch:matchedSkills", "@container": "@set"},
    "availabilityOverlap": {"@id": "ch:availabilityOverlap", "@container": "@set"},
    "spokenLanguages": {"@id": "ch:spokenLanguages", "@container": "@set"},
    "attestation": "ch:attestation",
    "forNeed": {"@id": "ch:forNeed", "@type": "@id"},
    "checksHeld": {"@id": "ch:checksHeld", "@container": "@set"},
    "checkType": "ch:checkType",
    "validThrough": {"@id": "ch:validThrough", "@type": "xsd:date"},
    "trainingDone": {"@id": "ch:trainingDone", "@container": "@set"},
    "course": "ch:course",
    "completedOn": {"@id": "ch:completedOn", "@type": "xsd:date"},
    "contact": "ch:contact",
    "email": "sc:email",
    "telephone": "sc:telephone",
    "handle": "ch:handle",
    "organisation": "ch:organisation",
    "note": "ch:note",
}
EXCHANGE_CONTEXT = [AS_CONTEXT_URL, SECURITY_CONTEXT_URL, DATA_INTEGRITY_CONTEXT_URL,
                    {**HUB_TERMS, **EXCHANGE_TERMS}]
MAX_LIST = 30


def _activity(urls: Urls, kind: str, to_actor: str, obj: Any, when: float,
              **extra: Any) -> dict[str, Any]:
    return {"@context": EXCHANGE_CONTEXT, "id": urls.activity(str(uuid.uuid4())), "type": kind,
            "actor": urls.actor, "to": [to_actor], "published": iso(when), "object": obj,
            **extra}


def attestation(urls: Urls, *, pseudonym: str, need_id: str, checks: list[dict[str, str]],
                training: list[dict[str, str]], issued: float,
                expires: float) -> dict[str, Any]:
    """The home hub's statement of a volunteer's checks, before its integrity proof."""
    return {"@context": EXCHANGE_CONTEXT,
            "id": f"{urls.base}/attestations/{uuid.uuid4()}", "type": "Attestation",
            "attributedTo": urls.actor, "pseudonym": pseudonym, "forNeed": need_id,
            "checksHeld": checks, "trainingDone": training,
            "published": iso(issued), "endTime": iso(expires)}


def offer(urls: Urls, *, offer_id: str, to_actor: str, need_id: str, pseudonym: str,
          distance_band: str, skills: list[str], overlap: list[str], languages: list[str],
          signed_attestation: dict[str, Any], expires: float, when: float) -> dict[str, Any]:
    """`Offer` of a pseudonymous candidate for a neighbour's need, to that hub alone."""
    candidate = {"type": "VolunteerCandidate", "pseudonym": pseudonym,
                 "distanceBand": distance_band, "matchedSkills": skills,
                 "availabilityOverlap": overlap, "spokenLanguages": languages,
                 "attestation": signed_attestation}
    return {"@context": EXCHANGE_CONTEXT, "id": offer_id, "type": "Offer", "actor": urls.actor,
            "to": [to_actor], "published": iso(when), "endTime": iso(expires),
            "target": need_id, "inReplyTo": need_id, "object": candidate}


def offer_answer(urls: Urls, kind: str, *, offer_id: str, to_actor: str, need_id: str,
                 when: float) -> dict[str, Any]:
    """`Accept` or `Reject` of an offer, to the hub that made it."""
    return _activity(urls, kind, to_actor, offer_id, when, target=need_id)


def undo_offer(urls: Urls, *, offer_id: str, to_actor: str, when: float) -> dict[str, Any]:
    """The volunteer withdrew: `Undo` of the offer, to the hub it was made to."""
    return _activity(urls, "Undo", to_actor,
                     {"id": offer_id, "type": "Offer", "actor": urls.actor}, when)


def contact_note(urls: Urls, *, to_actor: str, offer_id: str, lines: list[str],
                 contact: dict[str, str], when: float) -> dict[str, Any]:
    """`Create{Note}` to the other hub alone, after an Accept: whom to talk to, structured
    in `contact` and written out in `content`."""
    note = {"id": f"{urls.base}/contacts/{uuid.uuid4()}", "type": "Note",
            "attributedTo": urls.actor, "to": [to_actor], "cc": [], "inReplyTo": offer_id,
            "content": "".join(f"<p>{_escape(line)}</p>" for line in lines),
            "contact": contact, "published": iso(when)}
    return _activity(urls, "Create", to_actor, note, when, cc=[])


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# Reading what arrives ------------------------------------------------------------------------
@dataclass(frozen=True)
class OfferIn:
    offer_id: str
    actor: str
    need_id: str
    pseudonym: str
    distance_band: str
    skills: list[str]
    overlap: list[str]
    languages: list[str]
    attestation: dict[str, Any]
    expires: str | None


def _short_text(value: Any, name: str, top: int = 200) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > top:
        raise ValidationError(f"Offer: {name} must be a string of at most {top} characters")
    return value.strip()


def _texts(value: Any, name: str) -> list[str]:
    value = [] if value is None else value if isinstance(value, list) else [value]
    if len(value) > MAX_LIST:
        raise ValidationError(f"Offer: {name} lists at most {MAX_LIST} items")
    return [_short_text(v, name, 80) for v in value]


def parse_offer(activity: dict[str, Any]) -> OfferIn:
    """The fields of an incoming `Offer`, or `ValidationError` naming what is wrong."""
    candidate = activity.get("object")
    if not isinstance(candidate, dict) or candidate.get("type") != "VolunteerCandidate":
        raise ValidationError("Offer: the object must be an embedded VolunteerCandidate")
    target = activity.get("target")
    target = target.get("id") if isinstance(target, dict) else target
    attested = candidate.get("attestation")
    if not isinstance(attested, dict):
        raise ValidationError("Offer: the candidate carries no attestation")
    expires = activity.get("endTime")
    return OfferIn(
        offer_id=_short_text(activity.get("id"), "id", 2000), actor=activity["actor"],
        need_id=_short_text(target, "target", 2000),
        pseudonym=_short_text(candidate.get("pseudonym"), "pseudonym", 64),
        distance_band=_short_text(candidate.get("distanceBand"), "distanceBand", 40),
        skills=_texts(candidate.get("matchedSkills"), "matchedSkills"),
        overlap=_texts(candidate.get("availabilityOverlap"), "availabilityOverlap"),
        languages=_texts(candidate.get("spokenLanguages"), "spokenLanguages"),
        attestation=attested, expires=expires if isinstance(expires, str) else None)
