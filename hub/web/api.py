"""The staff JSON API under /api/v1/: bearer tokens from `commonhub token create`."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from federation.errors import FederationError, ValidationError
from hub.runtime import Hub
from hub.services import follows, posts
from hub.store import follows as follow_store
from hub.store import posts as post_store
from hub.store import tokens
from hub.store.deliveries import delivery_stats
from hub.store.posts import Post
from hub.web import events_api, exchange_api, needs_api, rsvp_api, volunteers_api
from hub.web.keys import HUB
from hub.web.openapi import OPENAPI
from hub.web.render import json_response, read_json_object

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Unauthorised(FederationError):
    status = 401


@web.middleware
async def require_token(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path.startswith("/api/v1/"):
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if not hmac.compare_digest(scheme.lower(), "bearer") or not token:
            raise Unauthorised("send a staff token as `Authorization: Bearer <token>`")
        if not await tokens.token_is_valid(request.app[HUB].db, token.strip()):
            raise Unauthorised("that token is unknown or revoked")
    return await handler(request)



def _string(data: dict[str, Any], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"`{name}` is required and must be a non-empty string")
    return value


def _post_json(hub: Hub, post: Post) -> dict[str, Any]:
    return {"id": post.uuid, "url": hub.urls.post(post.uuid), "text": post.source,
            "html": post.content_html, "published_at": post.published_at,
            "updated_at": post.updated_at, "deleted_at": post.deleted_at}


async def hub_info(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    return json_response({
        "name": hub.settings.name, "domain": hub.settings.domain, "actor": hub.urls.actor,
        "followers": await follow_store.count_followers(hub.db),
        "pending_followers": await follow_store.count_followers(hub.db, "pending"),
        "following": await follow_store.count_following(hub.db),
        "deliveries": await delivery_stats(hub.db)})


async def create_post(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    post = await posts.create_post(hub, _string(await read_json_object(request), "text"))
    return json_response(_post_json(hub, post), status=201)


async def list_posts(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    items = await post_store.list_posts(hub.db, limit=100)
    return json_response({"items": [_post_json(hub, p) for p in items]})


async def update_post(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    text = _string(await read_json_object(request), "text")
    post = await posts.update_post(hub, request.match_info["uuid"], text)
    return json_response(_post_json(hub, post))


async def delete_post(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    post = await posts.delete_post(hub, request.match_info["uuid"])
    return json_response(_post_json(hub, post))


async def follow(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    actor_id = await follows.follow(hub, _string(await read_json_object(request), "target"))
    return json_response({"actor": actor_id, "state": "pending"}, status=202)


async def unfollow(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    await follows.unfollow(hub, _string(await read_json_object(request), "target"))
    return json_response({"state": "removed"})


async def list_following(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    rows = []
    for state in ("accepted", "pending", "rejected"):
        rows += await follow_store.list_following(hub.db, state=state, limit=1000)
    return json_response({"items": [{"actor": r["actor_id"], "state": r["state"]} for r in rows]})


async def list_followers(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    state = request.query.get("state", "accepted")
    if state not in ("accepted", "pending"):
        raise ValidationError("state is accepted or pending")
    rows = await follow_store.list_followers(hub.db, state=state, limit=1000)
    return json_response({"items": [{"actor": r["actor_id"], "state": r["state"]} for r in rows]})


async def approve_follower(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    await follows.approve_follower(hub, _string(await read_json_object(request), "actor"))
    return json_response({"state": "accepted"})


async def reject_follower(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    await follows.reject_follower(hub, _string(await read_json_object(request), "actor"))
    return json_response({"state": "rejected"})


async def openapi(request: web.Request) -> web.Response:
    return json_response(OPENAPI)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/openapi.json", openapi)
    app.router.add_get("/api/v1/hub", hub_info)
    app.router.add_get("/api/v1/posts", list_posts)
    app.router.add_post("/api/v1/posts", create_post)
    app.router.add_patch("/api/v1/posts/{uuid}", update_post)
    app.router.add_delete("/api/v1/posts/{uuid}", delete_post)
    app.router.add_get("/api/v1/following", list_following)
    app.router.add_post("/api/v1/following", follow)
    app.router.add_post("/api/v1/following/remove", unfollow)
    app.router.add_get("/api/v1/followers", list_followers)
    app.router.add_post("/api/v1/followers/approve", approve_follower)
    app.router.add_post("/api/v1/followers/reject", reject_follower)
    events_api.add_routes(app)
    rsvp_api.add_routes(app)
    volunteers_api.add_routes(app)
    needs_api.add_routes(app)
    exchange_api.add_routes(app)
