"""Console: asking volunteers for a need, choosing among this hub's candidates and the
neighbours' offers (one ranked list on the need's page), matches and their hours.

Forms are plain POSTs (CSRF-checked by the console middleware), for coordinators only, as the
ranked list shows volunteers' names; each calls one exchange service and writes an audit row.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from federation.errors import FederationError
from hub.exchange import asking, matching, notify, offers
from hub.exchange.listing import offers_for_staff
from hub.exchange.targets import Target
from hub.needs.matching import to_matcher_need
from hub.needs.pool import RankedVolunteer
from hub.runtime import Hub
from hub.store import asks as ask_store
from hub.store import audit, signups
from hub.store import matches as match_store
from hub.store import needs as need_store
from hub.store import offers as offer_store
from hub.store import volunteers as volunteer_store
from hub.store.needs import LocalNeed
from hub.web.console.auth import require_role
from hub.web.console.keys import STAFF
from hub.web.console.page import console_error, see_other
from hub.web.keys import HUB

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
ASK_WORDS = {"asked": "Asked", "yes": "Said yes", "no": "Said no", "expired": "No answer",
             "withdrawn": "Withdrew"}
OFFER_WORDS = {"offered": "Offered", "accepted": "Accepted", "rejected": "Declined",
               "withdrawn": "Withdrew", "expired": "Lapsed"}
MAX_ASK = 10


async def ask_rows(hub: Hub, ranked: list[RankedVolunteer],
                   asks: list[ask_store.Ask]) -> list[dict[str, Any]]:
    """This hub's ranked volunteers, each with where their ask stands (if asked)."""
    by_uuid = {}
    undelivered = await signups.undelivered_asks(hub.db, [ask.id for ask in asks])
    for ask in asks:
        volunteer = await volunteer_store.get_volunteer_by_id(hub.db, ask.volunteer_id)
        if volunteer is not None:
            by_uuid[volunteer.uuid] = ask
    rows: list[dict[str, Any]] = []
    for item in ranked:
        if item.candidate.rank is None:
            continue
        ask = by_uuid.get(item.candidate.volunteer_id)
        rows.append({"kind": "volunteer", "id": item.candidate.volunteer_id,
                     "label": item.name, "district": item.district,
                     "reasons": item.candidate.reasons, "score": item.candidate.score,
                     "ask": ask.uuid if ask else None, "status": ask.status if ask else None,
                     "status_word": ASK_WORDS.get(ask.status, "") if ask else "",
                     "undelivered": ask is not None and ask.id in undelivered})
    return rows


async def need_view(hub: Hub, need: LocalNeed, ranked: list[RankedVolunteer]) -> dict[str, Any]:
    """The need page's matching parts: one list of candidates and offers by score, and the
    matches made with their contact and hours."""
    rows = await ask_rows(hub, ranked, await ask_store.list_asks(hub.db, need_id=need.id))
    for offer in await offers_for_staff(hub.db, need.id, to_matcher_need(need)):
        rows.append({"kind": "offer", "id": offer["offer"], "label": offer["pseudonym"],
                     "district": None, "reasons": offer["reasons"], "score": offer["score"],
                     "status": offer["status"], "status_word": OFFER_WORDS[offer["status"]],
                     "undelivered": False})
    rows.sort(key=lambda row: -row["score"])
    made = []
    for match in await match_store.matches_for_need(hub.db, need.id):
        sessions = await match_store.list_sessions(hub.db, match.id)
        made.append({"id": match.uuid, "status": match.status,
                     "contact": await _volunteer_contact(hub, match),
                     "hours": matching.hours_text(sessions)})
    return {"rows": rows, "matches": made, "ask_choices": range(1, MAX_ASK + 1)}


async def _volunteer_contact(hub: Hub, match: match_store.Match) -> dict[str, str]:
    """Whom staff talk to: their own volunteer's details, or those the neighbour sent."""
    if match.volunteer_id is not None:
        volunteer = await volunteer_store.get_volunteer_by_id(hub.db, match.volunteer_id)
        return notify.volunteer_contact(volunteer) if volunteer else {}
    return match.contact or {}


async def _need(request: web.Request) -> LocalNeed | None:
    uuid = request.match_info["uuid"]
    need = await need_store.get_need(request.app[HUB].db, uuid) if _UUID.match(uuid) else None
    return None if need is None or need.deleted_at is not None else need


def _refused(request: web.Request, exc: Exception) -> web.Response:
    status = exc.status if isinstance(exc, FederationError) else 400
    return console_error(request, status, title="That could not be done", message=str(exc))


async def _record(request: web.Request, action: str, need: LocalNeed, detail: dict) -> None:
    hub = request.app[HUB]
    await audit.record(hub.db, request[STAFF].id, action, hub.urls.need(need.uuid), detail)


async def asks_from_form(request: web.Request, form: Any,
                         target: Target) -> list[asking.Asked] | web.Response:
    """The asks an "ask" form makes: the one volunteer it names, or the best `count` not yet
    asked for `target` (a need of ours or a neighbour's); an error page otherwise."""
    hub = request.app[HUB]
    try:
        if form.get("volunteer"):
            volunteer = await volunteer_store.get_volunteer(hub.db, str(form["volunteer"]))
            if volunteer is None:
                return console_error(request, 404, title="Not found",
                                     message="No such volunteer.")
            return [await asking.ask(hub, target, volunteer, asked_by="staff")]
        count = str(form.get("count", "3"))
        if not count.isdigit() or not 1 <= int(count) <= MAX_ASK:
            return console_error(request, 400, title="Nobody asked",
                                 message=f"Choose how many to ask: 1 to {MAX_ASK}.")
        return await asking.ask_top(hub, target, int(count), asked_by="staff")
    except asking.NotAskable as exc:
        return _refused(request, exc)


@require_role("coordinator")
async def ask_volunteers(request: web.Request) -> web.Response:
    """`count` asks the best-ranked not yet asked; `volunteer` asks that one."""
    form = await request.post()
    need = await _need(request)
    if need is None:
        return console_error(request, 404, title="Not found", message="No such need.")
    made = await asks_from_form(request, form, Target(need))
    if isinstance(made, web.Response):
        return made
    await _record(request, "need.ask", need, {"count": len(made)})
    return see_other(f"/console/needs/{need.uuid}#candidates-heading")


async def _need_of_offer(hub: Hub, offer: offer_store.OfferReceived) -> LocalNeed | None:
    return await need_store.get_need_by_id(hub.db, offer.need_id)


@require_role("coordinator")
async def answer_offer(request: web.Request) -> web.Response:
    hub, form = request.app[HUB], await request.post()
    offer = await offer_store.offer_received_by_uuid(hub.db, request.match_info["uuid"])
    need = await _need_of_offer(hub, offer) if offer else None
    if offer is None or need is None:
        return console_error(request, 404, title="Not found", message="No such offer.")
    note = str(form.get("shared_note", ""))[:1000]
    try:
        if request.match_info["answer"] == "accept":
            await offers.accept_offer(hub, offer, shared_note=note)
        else:
            await offers.reject_offer(hub, offer)
    except FederationError as exc:
        return _refused(request, exc)
    await _record(request, f"offer.{request.match_info['answer']}", need,
                  {"offer": offer.uuid})
    return see_other(f"/console/needs/{need.uuid}#candidates-heading")


@require_role("coordinator")
async def accept_volunteer(request: web.Request) -> web.Response:
    hub, form = request.app[HUB], await request.post()
    ask = await ask_store.ask_by_uuid(hub.db, request.match_info["uuid"])
    need = await need_store.get_need_by_id(hub.db, ask.need_id) if ask and ask.need_id \
        else None
    if ask is None or need is None:
        return console_error(request, 404, title="Not found", message="No such ask.")
    try:
        await matching.accept_volunteer(hub, ask,
                                        shared_note=str(form.get("shared_note", ""))[:1000])
    except FederationError as exc:
        return _refused(request, exc)
    await _record(request, "ask.accept", need, {"ask": ask.uuid})
    return see_other(f"/console/needs/{need.uuid}#matches-heading")


@require_role("coordinator")
async def log_session(request: web.Request) -> web.Response:
    hub, form = request.app[HUB], await request.post()
    match = await match_store.get_match(hub.db, request.match_info["uuid"])
    need = await need_store.get_need_by_id(hub.db, match.need_id) if match and match.need_id \
        else None
    if match is None or need is None:
        return console_error(request, 404, title="Not found", message="No such match.")
    minutes = str(form.get("minutes", "")).strip()
    try:
        session = matching.parse_session(
            {"date": form.get("date"), "minutes": int(minutes) if minutes.isdigit() else minutes},
            datetime.fromtimestamp(time.time(), UTC).date())
        await matching.log_session(hub, match, session, by="staff")
    except FederationError as exc:
        return _refused(request, exc)
    await _record(request, "match.session", need, {"match": match.uuid})
    return see_other(f"/console/needs/{need.uuid}#matches-heading")


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_post("/console/needs/{uuid}/ask", ask_volunteers)
    r.add_post("/console/offers/{uuid}/{answer:accept|reject}", answer_offer)
    r.add_post("/console/asks/{uuid}/accept", accept_volunteer)
    r.add_post("/console/matches/{uuid}/sessions", log_session)
