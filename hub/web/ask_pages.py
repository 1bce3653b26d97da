"""The volunteer's private answer page: /asks/{token} (yes / no, withdraw, log a session).

The token in the address is the only secret: forms post back to the same address, and a post
that a browser says comes from another site is refused, so another site cannot answer for
the volunteer (the link's token is needed, and never leaves the hub's own pages).
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

from aiohttp import web

from federation.errors import FederationError, NotFound
from hub.exchange import asking, matching
from hub.exchange.targets import target_of
from hub.runtime import Hub
from hub.store import asks as ask_store
from hub.store import matches as match_store
from hub.store.asks import Ask
from hub.web.console.auth import foreign_origin
from hub.web.keys import HUB
from hub.web.ratelimit import rate_limited
from hub.web.render import render_html

_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32,64}$")
# Not `Referrer-Policy: no-referrer`: browsers would then send `Origin: null` with the page's
# own forms, which the check below must refuse; the app's `same-origin` keeps the link secret.
_PRIVATE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}
STATE_TEXT = {
    "asked": "Could you help? Please answer below.",
    "yes": "You said yes: thank you! We'll let you know if you're chosen.",
    "no": "You said no, not this time: thank you for answering.",
    "expired": "This ask has expired: nothing more to do.",
    "withdrawn": "You withdrew: thank you for letting us know.",
}


async def _ask(hub: Hub, token: str) -> Ask:
    ask = await ask_store.ask_for_token(hub.db, token) if _TOKEN.match(token) else None
    if ask is None:
        raise NotFound("This link is unknown or no longer valid.")
    return ask


async def _page(request: web.Request, ask: Ask, *, status: int = 200,
                error: str | None = None) -> web.Response:
    hub = request.app[HUB]
    target = await target_of(hub, ask)
    if target is None:
        raise NotFound("This need is no longer listed.")
    match = await match_store.match_for_volunteer_need(hub.db, ask.volunteer_id,
                                                       **target.keys())
    state = "expired" if ask.status == "asked" and not ask.is_open(time.time()) else ask.status
    text = STATE_TEXT[state]
    if match is not None and match.status == "active":
        text = "You're matched: thank you!"
    sessions = await match_store.list_sessions(hub.db, match.id) if match else []
    response = render_html(
        request, "ask.html", status=status, title=target.title, summary=target.summary,
        page_url=target.page_url(hub), neighbour=not target.local, state_text=text,
        contact=match.contact if match else None, can_answer=ask.is_open(time.time()),
        can_withdraw=ask.status == "yes", can_log=bool(match and match.status == "active"),
        hours=matching.hours_text(sessions), error=error)
    response.headers.update(_PRIVATE)
    return response


async def ask_page(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    return await _page(request, await _ask(hub, request.match_info["token"]))


@rate_limited("ask-answer", capacity=20, per_seconds=600)
async def ask_submit(request: web.Request) -> web.Response:
    hub, token = request.app[HUB], request.match_info["token"]
    ask = await _ask(hub, token)
    if foreign_origin(request):
        return await _page(request, ask, status=403, error="That form was sent from another "
                           "website, so nothing was changed.")
    form = await request.post()
    choice = form.get("answer")
    try:
        if choice in ("yes", "no"):
            await asking.answer(hub, ask, choice == "yes", via="web")
        elif choice == "withdraw":
            await asking.withdraw(hub, ask)
        elif choice == "session":
            await _log(hub, ask, dict(form))
        else:
            return await _page(request, ask, status=400, error="Choose one of the buttons.")
    except FederationError as exc:
        return await _page(request, await _ask(hub, token), status=exc.status,
                           error=exc.message)
    return web.Response(status=303, headers={"Location": f"/asks/{token}"})


async def _log(hub: Hub, ask: Ask, form: dict[str, object]) -> None:
    target = await target_of(hub, ask)
    match = (await match_store.match_for_volunteer_need(hub.db, ask.volunteer_id,
                                                        **target.keys()) if target else None)
    if match is None:
        raise NotFound("There is no match to log time for.")
    minutes = str(form.get("minutes", "")).strip()
    session = matching.parse_session(
        {"date": form.get("date"), "minutes": int(minutes) if minutes.isdigit() else minutes},
        datetime.now(UTC).date())
    await matching.log_session(hub, match, session, by="volunteer")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/asks/{token}", ask_page)
    app.router.add_post("/asks/{token}", ask_submit)
