"""Deliveries shaped as Mastodon, GoToSocial, Misskey and Fedify send them (tests/data/).

Each fixture verifies at the time it was received and fails two hours later; the keys
come from the fixture actor's document, read as the inbox reads it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from federation.errors import DigestError, SignatureError
from federation.keys import PublicKey, find_key, key_id_actor_url
from federation.signatures import verify_request

DATA = Path(__file__).parent.parent / "data"
FIXTURES = sorted(path.name.removesuffix(".request.json")
                  for path in DATA.glob("*.request.json"))


def load(name: str) -> tuple[dict[str, Any], dict[str, str], bytes, dict[str, Any]]:
    request = json.loads((DATA / f"{name}.request.json").read_text())
    headers = json.loads((DATA / f"{name}.headers.json").read_text())
    body = (DATA / request["body"]).read_bytes()
    actor = json.loads((DATA / request["actor"]).read_text())
    return request, headers, body, actor


class ActorDocumentLookup:
    """Serves keys from one actor document, as a fetch of `key_id_actor_url` would."""

    def __init__(self, actor: dict[str, Any]) -> None:
        self.actor = actor

    async def __call__(self, key_id: str, *, refresh: bool = False) -> PublicKey:
        assert key_id_actor_url(key_id).startswith(self.actor["id"])
        return find_key(self.actor, key_id)


def test_every_server_is_represented() -> None:
    servers = {name.split("_", 1)[0] for name in FIXTURES}
    assert servers == {"mastodon", "gotosocial", "misskey", "fedify"}
    assert len(FIXTURES) >= 9


@pytest.mark.parametrize("name", FIXTURES)
async def test_fixture_verifies_when_received(name: str) -> None:
    request, headers, body, actor = load(name)
    verified = await verify_request(request["method"], request["url"], headers, body,
                                    ActorDocumentLookup(actor), now=request["received_at"])
    assert verified.key_id == request["key_id"]
    assert verified.owner == actor["id"]
    assert verified.scheme == request["scheme"]


@pytest.mark.parametrize("name", FIXTURES)
async def test_fixture_fails_two_hours_later(name: str) -> None:
    request, headers, body, actor = load(name)
    with pytest.raises(SignatureError, match="too old"):
        await verify_request(request["method"], request["url"], headers, body,
                             ActorDocumentLookup(actor), now=request["received_at"] + 7200)


@pytest.mark.parametrize("name", FIXTURES)
async def test_fixture_with_tampered_body_fails(name: str) -> None:
    request, headers, body, actor = load(name)
    tampered = body.replace(b'"type":"', b'"type":"X', 1)
    with pytest.raises(DigestError):
        await verify_request(request["method"], request["url"], headers, tampered,
                             ActorDocumentLookup(actor), now=request["received_at"])


@pytest.mark.parametrize("name", FIXTURES)
async def test_fixture_sent_to_another_inbox_fails(name: str) -> None:
    request, headers, body, actor = load(name)
    with pytest.raises(SignatureError, match="does not verify"):
        await verify_request(request["method"], "https://hub.example.org/elsewhere", headers,
                             body, ActorDocumentLookup(actor), now=request["received_at"])


def test_fedify_actor_publishes_multikeys() -> None:
    actor = json.loads((DATA / "fedify_actor.json").read_text())
    ed25519_key = find_key(actor, f"{actor['id']}#key-2")
    assert type(ed25519_key.public_key).__name__ == "Ed25519PublicKey"
