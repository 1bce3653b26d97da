"""Console: needs that neighbouring hubs published, and asking this hub's volunteers for them.

A neighbour is a hub this hub follows and that follows it. Coordinators see this hub's
volunteers who consented to be matched for neighbours, ranked for the need with reasons, and
ask one or the best few; each yes goes to the neighbour as a pseudonymous offer.
"""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web

from hub.exchange import offers
from hub.exchange.targets import Target
from hub.needs.pool import candidates_for
from hub.needs.summary import STATUS_WORDS, summary_line
from hub.runtime import Hub
from hub.store import asks as ask_store
from hub.store import audit
from hub.store import needs as need_store
from hub.store.needs import RemoteNeed
from hub.web.console.auth import require_role
from hub.web.console.keys import STAFF
from hub.web.console.matching import MAX_ASK, ask_rows, asks_from_form
from hub.web.console.page import console_error, render_console, see_other
from hub.web.keys import HUB


async def _neighbours_needs(hub: Hub) -> list[RemoteNeed]:
    return [n for n in await need_store.list_remote_needs(hub.db)
            if await offers.is_neighbour(hub, n.actor)]


async def need_list(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    needs = await _neighbours_needs(hub)
    return render_console(request, "console/neighbour_needs.html", needs=needs,
                          summary=lambda n: summary_line(n.draft, n.status),
                          words=STATUS_WORDS)


async def _need(request: web.Request) -> RemoteNeed | None:
    hub, raw = request.app[HUB], request.match_info["id"]
    need = await need_store.get_remote_need_by_id(hub.db, int(raw)) if raw.isdigit() else None
    if need is None or need.deleted or not await offers.is_neighbour(hub, need.actor):
        return None
    return need


def _missing(request: web.Request) -> web.Response:
    return console_error(request, 404, title="Not found",
                         message="No such need from a neighbouring hub (it may have been "
                                 "withdrawn, or the hubs no longer follow each other).")


@require_role("coordinator")
async def need_page(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    need = await _need(request)
    if need is None:
        return _missing(request)
    ranked = []
    if need.status in ("open", "matching"):
        ranked = await candidates_for(hub.db, need, now=datetime.now(UTC), limit=20)
        await audit.record(hub.db, request[STAFF].id, "need.candidates", need.object_id,
                           {"count": len(ranked)})
    asks = await ask_store.list_asks(hub.db, remote_need_id=need.id)
    return render_console(
        request, "console/neighbour_need_page.html", need=need, draft=need.draft,
        summary=summary_line(need.draft, need.status), status_word=STATUS_WORDS[need.status],
        rows=await ask_rows(hub, ranked, asks), ask_choices=range(1, MAX_ASK + 1))


@require_role("coordinator")
async def ask_volunteers(request: web.Request) -> web.Response:
    hub, form = request.app[HUB], await request.post()
    need = await _need(request)
    if need is None:
        return _missing(request)
    made = await asks_from_form(request, form, Target(need))
    if isinstance(made, web.Response):
        return made
    await audit.record(hub.db, request[STAFF].id, "need.ask", need.object_id,
                       {"count": len(made)})
    return see_other(f"/console/neighbour-needs/{need.id}#candidates-heading")


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/console/neighbour-needs", need_list)
    r.add_get("/console/neighbour-needs/{id}", need_page)
    r.add_post("/console/neighbour-needs/{id}/ask", ask_volunteers)
