"""A fake remote fediverse server: real aiohttp app on loopback serving actors with real keys,
and a client that sends signed activities to a hub's inbox the way Mastodon does."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson
from aiohttp import web

from federation.keys import SigningKey, generate_rsa_key, public_key_to_pem
from federation.signatures import sign_request
from tests.support.hubs import free_socket

AS_CONTEXT = ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"]


@dataclass
class RemoteActor:
    server: RemoteServer
    username: str
    key: SigningKey = field(init=False)

    def __post_init__(self) -> None:
        self.rotate_key()

    @property
    def id(self) -> str:
        return f"{self.server.base_url}/users/{self.username}"

    def rotate_key(self) -> None:
        self.key = SigningKey(f"{self.id}#main-key", generate_rsa_key())

    def document(self) -> dict[str, Any]:
        return {"@context": AS_CONTEXT, "id": self.id, "type": "Person",
                "preferredUsername": self.username, "inbox": f"{self.id}/inbox",
                "endpoints": {"sharedInbox": f"{self.server.base_url}/inbox"},
                "publicKey": {"id": self.key.key_id, "owner": self.id,
                              "publicKeyPem": public_key_to_pem(self.key.private_key)}}

    def activity(self, kind: str, obj: Any, **extra: Any) -> dict[str, Any]:
        return {"@context": AS_CONTEXT, "id": f"{self.server.base_url}/activities/{uuid.uuid4()}",
                "type": kind, "actor": self.id, "object": obj, **extra}

    async def post(self, inbox: str, activity: dict[str, Any], *, body: bytes | None = None,
                   key: SigningKey | None = None,
                   headers: dict[str, str] | None = None) -> tuple[int, str]:
        """POST a signed activity to an inbox; returns (status, text)."""
        raw = orjson.dumps(activity) if body is None else body
        base = {"Content-Type": "application/activity+json", **(headers or {})}
        signed = sign_request("POST", inbox, base, raw, key or self.key)
        async with aiohttp.ClientSession() as session, session.post(
                inbox, data=raw, headers=signed) as response:
            return response.status, await response.text()


class RemoteServer:
    """Serves actor documents and records what arrives at its inboxes."""

    def __init__(self) -> None:
        self.actors: dict[str, RemoteActor] = {}
        self.received: list[dict[str, Any]] = []
        self.gone: set[str] = set()
        self.forbidden: set[str] = set()  # actors whose documents answer 403
        self.unavailable: set[str] = set()  # ... and 503
        self._sock = free_socket()
        self.base_url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self._runner: web.AppRunner | None = None

    def actor(self, username: str) -> RemoteActor:
        self.actors[username] = RemoteActor(self, username)
        return self.actors[username]

    async def _actor(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name in self.gone:
            return web.json_response({"error": "gone"}, status=410)
        if name in self.forbidden:
            return web.json_response({"error": "forbidden"}, status=403)
        if name in self.unavailable:
            return web.json_response({"error": "down for maintenance"}, status=503)
        if name not in self.actors:
            raise web.HTTPNotFound()
        return web.Response(body=orjson.dumps(self.actors[name].document()),
                            content_type="application/activity+json")

    async def _webfinger(self, request: web.Request) -> web.Response:
        """acct:name@host -> the actor, so the fake accounts can be found by handle."""
        resource = request.query.get("resource", "")
        name = resource.removeprefix("acct:").split("@", 1)[0]
        if name not in self.actors:
            raise web.HTTPNotFound()
        actor = self.actors[name]
        return web.json_response({"subject": resource, "links": [
            {"rel": "self", "type": "application/activity+json", "href": actor.id}]},
            content_type="application/jrd+json")

    async def _inbox(self, request: web.Request) -> web.Response:
        self.received.append(orjson.loads(await request.read()))
        return web.Response(status=202)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/users/{name}", self._actor)
        app.router.add_get("/.well-known/webfinger", self._webfinger)
        app.router.add_post("/users/{name}/inbox", self._inbox)
        app.router.add_post("/inbox", self._inbox)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.SockSite(self._runner, self._sock).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
