"""The public page of each volunteer need, at its ActivityPub id `/needs/{uuid}`.

Servers asking for `application/activity+json` (or ld+json) get the object; browsers a plain
accessible page. Neither ever shows the need's private notes. A cancelled or removed need
answers 410 (a Tombstone to servers).
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from federation.errors import NotFound
from hub.activitypub.needs import is_public, need_object
from hub.needs.model import KIND_LABELS
from hub.needs.summary import STATUS_WORDS, detail_rows, summary_line
from hub.store import needs as store
from hub.store.needs import LocalNeed
from hub.text import plain_to_html
from hub.urls import Urls
from hub.web.keys import HUB
from hub.web.render import activity_json, render_html, wants_activity_json

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_STATUS_NOTES = {"matching": "The hub is finding a volunteer for this.",
                 "filled": "Filled: a volunteer has been found. Thank you!",
                 "closed": "Closed: this is done."}


def need_view(need: LocalNeed, urls: Urls) -> dict[str, Any]:
    """What the page shows, as plain strings; only public fields of the draft are read."""
    draft = need.draft
    return {"title": draft.title, "url": urls.need(need.uuid),
            "kind": KIND_LABELS[draft.kind], "status": STATUS_WORDS[need.status],
            "status_note": _STATUS_NOTES.get(need.status),
            "summary": summary_line(draft, need.status),
            "description_html": plain_to_html(draft.description), "rows": detail_rows(draft)}


async def need_page(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    need_uuid = request.match_info["uuid"]
    need = await store.get_need(hub.db, need_uuid) if _UUID.match(need_uuid) else None
    if need is None:
        raise NotFound("no such need")
    status = 200 if is_public(need) else 410
    if wants_activity_json(request):
        return activity_json(need_object(need, hub.urls), status=status)
    if status == 410:
        return render_html(request, "error.html", status=410, title="No longer needed",
                           message="This need was cancelled or removed by the hub's staff.")
    return render_html(request, "need.html", need=need_view(need, hub.urls))


def add_routes(app: web.Application) -> None:
    app.router.add_get("/needs/{uuid}", need_page)
