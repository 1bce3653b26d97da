"""The Fedify peer and its harness, proven against a small fake hub (a real aiohttp app).

These tests do not need commonhub's server: they show that the peer signs what it sends as the
fediverse expects (RFC 9421 first, draft-cavage after a 401), and that Fedify verifies a
Mastodon-shaped draft-cavage signature, the kind commonhub sends.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest
from aiohttp import web
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tests.interop.fedify_peer import FedifyPeer

try:  # commonhub's own signer, when the federation layer has it
    from federation.keys import SigningKey
    from federation.signatures import sign_request
except ImportError:  # pragma: no cover - the inline Mastodon-shaped signer still runs
    sign_request = None

pytestmark = pytest.mark.interop

AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
ACTIVITY_JSON = "application/activity+json"


def sha256_digest(body: bytes) -> str:
    return "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()


def sign_draft_cavage(
    method: str, url: str, body: bytes, key: rsa.RSAPrivateKey, key_id: str
) -> dict[str, str]:
    """Headers for a Mastodon-shaped draft-cavage signature (rsa-sha256)."""
    target = urlsplit(url)
    headers = {
        "host": target.netloc,
        "date": formatdate(usegmt=True),
        "digest": sha256_digest(body),
        "content-type": ACTIVITY_JSON,
    }
    signed = ["(request-target)", "host", "date", "digest", "content-type"]
    lines = [f"(request-target): {method.lower()} {target.path}"]
    lines += [f"{name}: {headers[name]}" for name in signed[1:]]
    signature = key.sign("\n".join(lines).encode(), padding.PKCS1v15(), hashes.SHA256())
    headers["signature"] = (
        f'keyId="{key_id}",algorithm="rsa-sha256",headers="{" ".join(signed)}",'
        f'signature="{base64.b64encode(signature).decode()}"'
    )
    return headers


def parse_signature_header(value: str) -> dict[str, str]:
    return dict(re.findall(r'(\w+)="([^"]*)"', value))


def verify_draft_cavage(request: web.Request, body: bytes, public_key: Any) -> bool:
    """Check a draft-cavage signature as Mastodon does: the listed headers, the digest."""
    params = parse_signature_header(request.headers["Signature"])
    names = params["headers"].split()
    if "(request-target)" not in names or "date" not in names:
        return False
    if body and ("digest" not in names or request.headers.get("Digest") != sha256_digest(body)):
        return False
    lines = [
        f"{name}: {request.method.lower()} {request.path}"
        if name == "(request-target)"
        else f"{name}: {request.headers[name]}"
        for name in names
    ]
    try:
        public_key.verify(
            base64.b64decode(params["signature"]),
            "\n".join(lines).encode(),
            padding.PKCS1v15(),
            hashes.SHA256(),
        )
    except InvalidSignature:
        return False
    return True


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    status: int = 0
    cavage_verified: bool | None = None

    @property
    def scheme(self) -> str | None:
        if "signature-input" in self.headers:
            return "rfc9421"
        if "signature" in self.headers:
            return "draft-cavage"
        return None

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class FakeHub:
    """A Group actor with an inbox that records what arrives and may refuse RFC 9421."""

    peer: FedifyPeer
    refuse_rfc9421: frozenset[str] = frozenset()  # methods answered 401 when RFC 9421-signed
    refuse_inbox: bool = False
    seen: list[Seen] = field(default_factory=list)
    key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    base_url: str = ""

    @property
    def actor_url(self) -> str:
        return f"{self.base_url}/hub"

    @property
    def inbox_url(self) -> str:
        return f"{self.actor_url}/inbox"

    @property
    def key_id(self) -> str:
        return f"{self.actor_url}#main-key"

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/hub", self.actor)
        app.router.add_post("/hub/inbox", self.inbox)
        return app

    def _record(self, request: web.Request, body: bytes) -> Seen:
        headers = {name.lower(): value for name, value in request.headers.items()}
        seen = Seen(request.method, request.path_qs, headers, body)
        self.seen.append(seen)
        return seen

    def _refuses(self, seen: Seen) -> bool:
        return seen.method in self.refuse_rfc9421 and seen.scheme == "rfc9421"

    async def actor(self, request: web.Request) -> web.Response:
        seen = self._record(request, b"")
        seen.status = 401 if self._refuses(seen) else 200
        if seen.status == 401:
            return web.Response(status=401, text="RFC 9421 not supported here")
        pem = self.key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        document = {
            "@context": [AS_CONTEXT, "https://w3id.org/security/v1"],
            "id": self.actor_url,
            "type": "Group",
            "preferredUsername": "hub",
            "name": "Fake hub",
            "inbox": self.inbox_url,
            "outbox": f"{self.actor_url}/outbox",
            "followers": f"{self.actor_url}/followers",
            "publicKey": {"id": self.key_id, "owner": self.actor_url, "publicKeyPem": pem.decode()},
        }
        return web.json_response(document, content_type=ACTIVITY_JSON)

    async def inbox(self, request: web.Request) -> web.Response:
        body = await request.read()
        seen = self._record(request, body)
        if self._refuses(seen) or self.refuse_inbox:
            seen.status = 401
        elif seen.scheme == "draft-cavage":
            seen.cavage_verified = verify_draft_cavage(request, body, await self._alice_key())
            seen.status = 202 if seen.cavage_verified else 401
        else:
            seen.status = 202 if seen.scheme else 401
        return web.Response(status=seen.status)

    async def _alice_key(self) -> Any:
        async with (
            aiohttp.ClientSession() as session,
            session.get(self.peer.actor_url, headers={"Accept": ACTIVITY_JSON}) as response,
        ):
            actor = await response.json(content_type=None)
        return serialization.load_pem_public_key(actor["publicKey"]["publicKeyPem"].encode())

    def inbox_posts(self) -> list[Seen]:
        return [s for s in self.seen if s.method == "POST"]

    def gets(self) -> list[Seen]:
        return [s for s in self.seen if s.method == "GET"]

    async def post_signed(self, url: str, activity: dict[str, Any]) -> tuple[int, str]:
        body = json.dumps(activity).encode()
        headers = sign_draft_cavage("POST", url, body, self.key, self.key_id)
        async with (
            aiohttp.ClientSession() as session,
            session.post(url, data=body, headers=headers) as response,
        ):
            return response.status, await response.text()


@pytest.fixture
async def fake_hub(fedify_peer: FedifyPeer) -> AsyncIterator[FakeHub]:
    hub = FakeHub(fedify_peer)
    runner = web.AppRunner(hub.app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    hub.base_url = f"http://{host}:{port}"
    try:
        yield hub
    finally:
        await runner.cleanup()


async def test_peer_serves_alice(fedify_peer: FedifyPeer) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.get(fedify_peer.actor_url, headers={"Accept": ACTIVITY_JSON}) as response,
    ):
        actor = await response.json(content_type=None)
    assert actor["id"] == fedify_peer.actor_url
    assert actor["type"] == "Person"
    assert actor["inbox"] == fedify_peer.inbox_url
    assert actor["publicKey"]["owner"] == fedify_peer.actor_url
    assert "BEGIN PUBLIC KEY" in actor["publicKey"]["publicKeyPem"]
    # The RSA key again and the Ed25519 key, as FEP-521a Multikeys.
    assert len(actor["assertionMethod"]) == 2


async def test_follow_arrives_signed_with_rfc9421(
    fedify_peer: FedifyPeer, fake_hub: FakeHub
) -> None:
    result = await fedify_peer.follow(fake_hub.actor_url)

    assert result["ok"], result
    [post] = fake_hub.inbox_posts()
    assert post.scheme == "rfc9421"
    assert "content-digest" in post.headers
    assert 'keyid="http://127.0.0.1:' in post.headers["signature-input"]
    follow = post.json()
    assert follow["type"] == "Follow"
    assert follow["actor"] == fedify_peer.actor_url
    assert follow["object"] == fake_hub.actor_url
    assert follow["id"] == result["id"]
    assert [a["scheme"] for a in result["attempts"] if a["method"] == "POST"] == ["rfc9421"]


async def test_follow_double_knocks_to_draft_cavage_after_401(
    fedify_peer: FedifyPeer, fake_hub: FakeHub
) -> None:
    # Given a hub whose inbox answers 401 to RFC 9421 signatures
    fake_hub.refuse_rfc9421 = frozenset({"POST"})

    # When alice follows it
    result = await fedify_peer.follow(fake_hub.actor_url)

    # Then Fedify retried with draft-cavage, which verifies Mastodon's way
    assert result["ok"], result
    assert [(p.scheme, p.status) for p in fake_hub.inbox_posts()] == [
        ("rfc9421", 401),
        ("draft-cavage", 202),
    ]
    retry = fake_hub.inbox_posts()[1]
    assert retry.cavage_verified
    signed = parse_signature_header(retry.headers["signature"])["headers"].split()
    assert {"(request-target)", "host", "date", "digest"} <= set(signed)

    # And Fedify remembers the origin: the next delivery goes straight to draft-cavage
    undo = await fedify_peer.undo_follow(fake_hub.actor_url)
    assert undo["ok"], undo
    assert [a["scheme"] for a in undo["attempts"] if a["method"] == "POST"] == ["draft-cavage"]
    assert fake_hub.inbox_posts()[-1].json()["object"]["id"] == result["id"]


async def test_signed_fetch_double_knocks_and_the_choice_is_per_origin(
    fedify_peer: FedifyPeer, fake_hub: FakeHub
) -> None:
    # Given a hub that answers 401 to RFC 9421-signed GETs only
    fake_hub.refuse_rfc9421 = frozenset({"GET"})

    # When alice fetches its actor, signed
    fetched = await fedify_peer.fetch(fake_hub.actor_url)

    # Then the GET was retried with draft-cavage
    assert fetched["ok"], fetched
    assert [(g.scheme, g.status) for g in fake_hub.gets()] == [
        ("rfc9421", 401),
        ("draft-cavage", 200),
    ]
    # And the scheme that worked for a GET is used first for POSTs to the same origin too
    follow = await fedify_peer.follow(fake_hub.actor_url)
    assert follow["ok"], follow
    assert [p.scheme for p in fake_hub.inbox_posts()] == ["draft-cavage"]


async def test_send_reports_what_was_sent_and_what_failed(
    fedify_peer: FedifyPeer, fake_hub: FakeHub
) -> None:
    note = {"type": "Note", "content": "hello", "attributedTo": fedify_peer.actor_url}
    create = {"type": "Create", "object": note, "to": fake_hub.actor_url}

    sent = await fedify_peer.send(fake_hub.actor_url, create)

    assert sent["ok"], sent
    assert sent["activity"]["type"] == "Create"
    assert sent["activity"]["actor"] == fedify_peer.actor_url  # filled in by the peer
    [post] = fake_hub.inbox_posts()
    assert post.json()["object"]["content"] == "hello"

    # Given an inbox that refuses every signature, both knocks fail and the error says so
    fake_hub.refuse_inbox = True
    refused = await fedify_peer.send(fake_hub.actor_url, create)
    assert refused["ok"] is False
    assert refused["error"]["status"] == 401
    assert [(a["scheme"], a["status"]) for a in refused["attempts"] if a["method"] == "POST"] == [
        ("rfc9421", 401),
        ("draft-cavage", 401),
    ]


async def test_signed_and_unsigned_fetch(fedify_peer: FedifyPeer, fake_hub: FakeHub) -> None:
    signed = await fedify_peer.fetch(fake_hub.actor_url)
    assert signed["ok"], signed
    assert signed["document"]["id"] == fake_hub.actor_url
    [get] = fake_hub.gets()
    assert get.scheme == "rfc9421"
    assert '"@method" "@target-uri"' in get.headers["signature-input"]

    unsigned = await fedify_peer.fetch(fake_hub.actor_url, signed=False)
    assert unsigned["ok"], unsigned
    assert fake_hub.gets()[-1].scheme is None

    looked_up = await fedify_peer.lookup(fake_hub.actor_url)
    assert looked_up["ok"], looked_up
    assert looked_up["type"] == "Group"
    assert looked_up["isActor"]


async def test_fedify_verifies_a_mastodon_style_draft_cavage_signature(
    fedify_peer: FedifyPeer, fake_hub: FakeHub
) -> None:
    # Given alice has asked to follow the hub
    follow = await fedify_peer.follow(fake_hub.actor_url)
    assert follow["ok"], follow

    # When the hub accepts, signing the way Mastodon does
    accept = {
        "@context": AS_CONTEXT,
        "id": f"{fake_hub.actor_url}/accepts/1",
        "type": "Accept",
        "actor": fake_hub.actor_url,
        "object": follow["id"],
    }
    status, text = await fake_hub.post_signed(fedify_peer.inbox_url, accept)

    # Then Fedify verified it and passed it to alice's Accept listener
    assert status == 202, (text, await fedify_peer.diagnostics())
    received = await fedify_peer.wait_for("Accept")
    assert received["id"] == accept["id"]
    assert received["actor"] == fake_hub.actor_url
    assert received["object"] == follow["id"]
    assert received["scheme"] == "draft-cavage"
    assert received["verified"]
    [following] = await fedify_peer.following()
    assert following == {"id": fake_hub.actor_url, "follow": follow["id"], "accepted": True}


@pytest.mark.skipif(sign_request is None, reason="federation.signatures.sign_request not there yet")
@pytest.mark.parametrize("scheme", ["draft-cavage", "rfc9421"])
async def test_fedify_verifies_commonhubs_own_signer(
    fedify_peer: FedifyPeer, fake_hub: FakeHub, scheme: str
) -> None:
    assert sign_request is not None
    announce = {
        "@context": AS_CONTEXT,
        "id": f"{fake_hub.actor_url}/announces/{scheme}",
        "type": "Announce",
        "actor": fake_hub.actor_url,
        "object": f"{fake_hub.actor_url}/posts/1",
        "to": "https://www.w3.org/ns/activitystreams#Public",
    }
    body = json.dumps(announce).encode()
    headers = sign_request(
        "POST",
        fedify_peer.inbox_url,
        {"Content-Type": ACTIVITY_JSON},
        body,
        SigningKey(fake_hub.key_id, fake_hub.key),
        scheme=scheme,
    )
    async with (
        aiohttp.ClientSession() as session,
        session.post(fedify_peer.inbox_url, data=body, headers=headers) as response,
    ):
        assert response.status == 202, await fedify_peer.diagnostics()

    received = await fedify_peer.wait_for("Announce")
    assert received["id"] == announce["id"]
    assert received["scheme"] == scheme


async def test_fedify_rejects_a_tampered_signature(
    fedify_peer: FedifyPeer, fake_hub: FakeHub
) -> None:
    # A signature made with a key that is not the one the hub's actor publishes.
    impostor = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    activity = {
        "@context": AS_CONTEXT,
        "id": f"{fake_hub.actor_url}/follows/1",
        "type": "Follow",
        "actor": fake_hub.actor_url,
        "object": fedify_peer.actor_url,
    }
    body = json.dumps(activity).encode()
    headers = sign_draft_cavage("POST", fedify_peer.inbox_url, body, impostor, fake_hub.key_id)
    async with (
        aiohttp.ClientSession() as session,
        session.post(fedify_peer.inbox_url, data=body, headers=headers) as response,
    ):
        assert response.status == 401

    assert await fedify_peer.received() == []
    [rejected] = await fedify_peer.rejected()
    assert rejected["id"] == activity["id"]
    assert rejected["reason"]["type"] == "invalidSignature"


async def test_follow_from_the_hub_is_accepted_by_alice(
    fedify_peer: FedifyPeer, fake_hub: FakeHub
) -> None:
    follow = {
        "@context": AS_CONTEXT,
        "id": f"{fake_hub.actor_url}/follows/2",
        "type": "Follow",
        "actor": fake_hub.actor_url,
        "object": fedify_peer.actor_url,
    }
    status, text = await fake_hub.post_signed(fedify_peer.inbox_url, follow)
    assert status == 202, text

    await fedify_peer.wait_for_background(lambda entry: entry["label"].startswith("Accept"))
    [accept_post] = fake_hub.inbox_posts()
    accept = accept_post.json()
    assert accept["type"] == "Accept"
    assert accept["actor"] == fedify_peer.actor_url
    assert accept["object"]["id"] == follow["id"]
    assert await fedify_peer.followers() == [fake_hub.actor_url]
