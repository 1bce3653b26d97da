"""Public HTML pages (also served as ActivityStreams JSON where they are objects)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from federation.errors import NotFound, ValidationError
from hub.activitypub.notes import iso, note
from hub.store import follows as follow_store
from hub.store import outbox as outbox_store
from hub.store import posts as post_store
from hub.store.posts import Post
from hub.web.calendar_pages import upcoming_for_home
from hub.web.keys import HUB
from hub.web.render import activity_json, render_html, wants_activity_json

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def _human(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%-d %B %Y, %H:%M UTC")


def _post_view(post: Post, url: str) -> dict[str, Any]:
    when = post.deleted_at or post.published_at
    return {"url": url, "html": post.content_html, "text": post.source[:200],
            "iso": iso(when), "when": _human(when), "edited": post.updated_at is not None,
            "deleted": post.deleted_at is not None}


async def home(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    raw = request.query.get("page", "1")
    if not raw.isdigit() or int(raw) < 1:
        raise ValidationError("page must be a positive whole number")
    page, size = int(raw), hub.settings.page_size
    posts = await post_store.list_posts(hub.db, offset=(page - 1) * size, limit=size)
    total = await post_store.count_posts(hub.db)
    return render_html(
        request, "home.html", posts=[_post_view(p, hub.urls.post(p.uuid)) for p in posts],
        upcoming=await upcoming_for_home(hub) if page == 1 else [],
        followers=await follow_store.count_followers(hub.db),
        following=await follow_store.count_following(hub.db),
        prev_page=page - 1 if page > 1 else None,
        next_page=page + 1 if page * size < total else None)


async def post(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    post_uuid = request.match_info["uuid"]
    found = await post_store.get_post(hub.db, post_uuid) if _UUID.match(post_uuid) else None
    if found is None:
        raise NotFound("no such post")
    if wants_activity_json(request):
        status = 410 if found.deleted_at is not None else 200
        return activity_json(note(found, hub.urls), status=status)
    status = 410 if found.deleted_at is not None else 200
    return render_html(request, "post.html", status=status,
                       post=_post_view(found, hub.urls.post(found.uuid)))


async def activity(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    activity_uuid = request.match_info["uuid"]
    found = None
    if _UUID.match(activity_uuid):
        found = await outbox_store.get_public_activity(hub.db, hub.urls.activity(activity_uuid))
    if found is None:
        raise NotFound("no such public activity")
    if wants_activity_json(request):
        return activity_json(found)
    obj = found.get("object")
    target = obj.get("url") or obj.get("id") if isinstance(obj, dict) else obj
    raise web.HTTPFound(target if isinstance(target, str) else hub.urls.profile)
