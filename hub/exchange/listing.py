"""Neighbours' offers beside this hub's own candidates, in one ranked list for staff.

An offer is scored by the matcher's own weights from what it carries: the middle of its
distance band, the share of the need's skills it matches, the share of the need's weekly slots
it is free in, and the preferred languages it speaks. The fairness term was already applied
by the volunteer's home hub when it chose whom to ask, so it is not counted again here.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from hub.matching import DEFAULT_WEIGHTS, Candidate, Need, Weights
from hub.matching.model import check_label
from hub.store import offers as offer_store
from hub.store.db import Database
from hub.store.offers import OfferReceived

BAND_KM = {"under 1 km": 0.5, "1 to 2 km": 1.5, "2 to 5 km": 3.5, "5 to 10 km": 7.5,
           "over 10 km": 12.0}
LISTED = ("offered", "accepted")


def offer_score(offer: OfferReceived, need: Need, w: Weights = DEFAULT_WEIGHTS) -> float:
    km = BAND_KM.get(offer.distance_band, w.unknown_distance_km)
    score = w.proximity / (1 + km / w.proximity_scale_km)
    if need.terms():
        score += w.shared_terms * len(set(offer.skills) & need.terms()) / len(need.terms())
    score += w.availability * min(len(offer.availability), len(need.slots)) / len(need.slots)
    if need.languages_preferred:
        spoken = set(offer.languages) & need.languages_preferred
        score += w.languages * len(spoken) / len(need.languages_preferred)
    return round(score, 6)


def offer_reasons(offer: OfferReceived) -> list[str]:
    reasons = [f"{offer.distance_band}, offered by {urlsplit(offer.actor).netloc}"]
    if offer.skills:
        reasons.append("shares: " + ", ".join(offer.skills))
    if offer.availability:
        reasons.append("free " + ", ".join(offer.availability))
    reasons += [f"{check_label(c['checkType'])} valid through {c['validThrough']} "
                "(signed by their hub)" for c in offer.checks_held]
    return reasons


def offer_json(offer: OfferReceived, need: Need) -> dict[str, Any]:
    return {"offer": offer.uuid, "pseudonym": offer.pseudonym, "from": offer.actor,
            "status": offer.status, "score": offer_score(offer, need),
            "distance_band": offer.distance_band, "reasons": offer_reasons(offer)}


async def offers_for_staff(db: Database, need_id: int, need: Need) -> list[dict[str, Any]]:
    """The live offers for a need (open or accepted), best first."""
    found = [o for o in await offer_store.offers_for_need(db, need_id) if o.status in LISTED]
    return sorted((offer_json(o, need) for o in found), key=lambda o: -o["score"])


def one_list(candidates: list[Candidate], offers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """This hub's ranked volunteers and the neighbours' offers, merged by score."""
    merged = [{"kind": "volunteer", "id": c.volunteer_id, "score": c.score}
              for c in candidates if c.rank is not None]
    merged += [{"kind": "offer", "id": o["offer"], "score": o["score"]} for o in offers]
    merged.sort(key=lambda item: -item["score"])
    return [{"rank": i, **item} for i, item in enumerate(merged, start=1)]
