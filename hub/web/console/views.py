"""The console home: the hub at a glance, follow requests to answer, and news to post."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from federation.errors import NotFound, ValidationError
from hub.services import follows, posts
from hub.store import actors as actor_store
from hub.store import audit
from hub.store import follows as follow_store
from hub.store import posts as post_store
from hub.store import volunteers as volunteer_store
from hub.web.console.keys import STAFF
from hub.web.console.page import render_console, see_other
from hub.web.keys import HUB

PENDING_SHOWN = 50
AUDIT_SHOWN = 20
# Messages after a redirect, by code: the query string never carries text onto the page.
NOTICES = {"approved": "Follow request approved: they now receive the hub's posts.",
           "rejected": "Follow request rejected."}
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def when(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%-d %b %Y, %H:%M UTC")


async def _pending_requests(request: web.Request) -> list[dict[str, Any]]:
    db = request.app[HUB].db
    rows = await follow_store.list_followers(db, state="pending", limit=PENDING_SHOWN)
    pending = []
    for row in rows:
        actor = await actor_store.get_actor(db, row["actor_id"])
        handle = (f"@{actor.preferred_username}@{actor.domain}"
                  if actor and actor.preferred_username else row["actor_id"])
        pending.append({"actor": row["actor_id"], "handle": handle,
                        "name": actor.name if actor else None, "since": when(row["created_at"])})
    return pending


async def _posted(request: web.Request) -> str | None:
    """The URL of the post just published, if the redirect names one."""
    post_uuid = request.query.get("posted", "")
    hub = request.app[HUB]
    if _UUID.match(post_uuid) and await post_store.get_post(hub.db, post_uuid) is not None:
        return hub.urls.post(post_uuid)
    return None


async def _home(request: web.Request, *, status: int = 200, error: str | None = None,
                text: str = "") -> web.Response:
    hub, staff = request.app[HUB], request[STAFF]
    entries = await audit.recent(hub.db, limit=AUDIT_SHOWN) if staff.is_coordinator else None
    return render_console(
        request, "console/home.html", status=status, error=error, text=text,
        handle=f"@{hub.settings.name}@{hub.settings.domain}",
        followers=await follow_store.count_followers(hub.db),
        following=await follow_store.count_following(hub.db),
        pending=await _pending_requests(request),
        notice=NOTICES.get(request.query.get("done", "")), posted=await _posted(request),
        audit=[{"when": when(e.at), "who": e.username or "command line", "action": e.action,
                "target": e.target} for e in entries or []],
        show_audit=entries is not None, volunteers=await _volunteer_news(request))


async def _volunteer_news(request: web.Request) -> dict[str, int]:
    """Sign-ups waiting for approval, and (for coordinators) checks to renew."""
    hub = request.app[HUB]
    news = {"signups": await volunteer_store.count_pending(hub.db)}
    if request[STAFF].is_coordinator:
        news["checks"] = len(await volunteer_store.lapsing_checks(
            hub.db, hub.settings.check_reminder_days))
    return news


async def home(request: web.Request) -> web.Response:
    return await _home(request)


async def _form_text(request: web.Request, name: str) -> str:
    value = (await request.post()).get(name, "")
    return value if isinstance(value, str) else ""


async def approve_follower(request: web.Request) -> web.Response:
    hub, actor = request.app[HUB], await _form_text(request, "actor")
    try:
        await follows.approve_follower(hub, actor)
    except NotFound as exc:
        return await _home(request, status=404, error=exc.message)
    await audit.record(hub.db, request[STAFF].id, "follower.approve", actor)
    return see_other("/console/?done=approved")


async def reject_follower(request: web.Request) -> web.Response:
    hub, actor = request.app[HUB], await _form_text(request, "actor")
    try:
        await follows.reject_follower(hub, actor)
    except NotFound as exc:
        return await _home(request, status=404, error=exc.message)
    await audit.record(hub.db, request[STAFF].id, "follower.reject", actor)
    return see_other("/console/?done=rejected")


async def post_news(request: web.Request) -> web.Response:
    hub, text = request.app[HUB], await _form_text(request, "text")
    try:
        post = await posts.create_post(hub, text)
    except ValidationError as exc:
        return await _home(request, status=400, error=exc.message, text=text)
    url = hub.urls.post(post.uuid)
    await audit.record(hub.db, request[STAFF].id, "post.create", url,
                       {"characters": len(post.source)})
    return see_other(f"/console/?posted={post.uuid}")


async def console_root(request: web.Request) -> web.Response:
    return see_other("/console/")
