"""The hub's Group actor and its instance actor (an Application that signs fetches)."""

from __future__ import annotations

from typing import Any

from hub.activitypub.context import CONTEXT, PROOF_CONTEXT
from hub.neighbours.area import area_document, own_area
from hub.settings import Settings
from hub.urls import Urls


def group_actor(settings: Settings, urls: Urls, public_pem: str,
                assertion_multikey: str | None = None) -> dict[str, Any]:
    """The hub as a followable `Group` (`@name@domain`).

    `assertion_multikey` is the hub's Ed25519 key (FEP-521a Multikey) by which peers check
    the integrity proofs on its statements of volunteers' checks (FEP-8b32).
    """
    actor: dict[str, Any] = {
        "@context": PROOF_CONTEXT if assertion_multikey else CONTEXT,
        "id": urls.actor,
        "type": "Group",
        "preferredUsername": settings.name,
        "name": settings.display_name or settings.name,
        "summary": settings.summary,
        "url": urls.profile,
        "inbox": urls.inbox,
        "outbox": urls.outbox,
        "followers": urls.followers,
        "following": urls.following,
        "peers": urls.peers,
        "endpoints": {"sharedInbox": urls.shared_inbox},
        "manuallyApprovesFollowers": settings.manually_approves_followers,
        "discoverable": True,
        "indexable": True,
        "publicKey": {"id": urls.key_id, "owner": urls.actor, "publicKeyPem": public_pem},
    }
    if assertion_multikey:
        actor["assertionMethod"] = [{"id": urls.assertion_key_id, "type": "Multikey",
                                     "controller": urls.actor,
                                     "publicKeyMultibase": assertion_multikey}]
    if settings.icon_url:
        actor["icon"] = {"type": "Image", "url": settings.icon_url}
    area = own_area(settings)
    if area is not None:
        actor["area"] = area_document(area)
    return actor


def instance_actor(settings: Settings, urls: Urls, public_pem: str) -> dict[str, Any]:
    """The server's own actor: signs outgoing GETs for servers in authorized-fetch mode.

    Its document is served unsigned, so a peer can verify our signed GETs without a loop.
    """
    return {
        "@context": CONTEXT,
        "id": urls.instance_actor,
        "type": "Application",
        "preferredUsername": settings.domain.split(":")[0],
        "name": f"{settings.display_name or settings.name} (server)",
        "url": urls.profile,
        "inbox": f"{urls.instance_actor}/inbox",
        "outbox": f"{urls.instance_actor}/outbox",
        "endpoints": {"sharedInbox": urls.shared_inbox},
        "manuallyApprovesFollowers": True,
        "publicKey": {"id": urls.instance_key_id, "owner": urls.instance_actor,
                      "publicKeyPem": public_pem},
    }
