"""News posts as `Note`s, and the Create/Update/Delete activities that carry them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from hub.activitypub.context import AS_PUBLIC, CONTEXT
from hub.store.posts import Post
from hub.urls import Urls


def iso(ts: float) -> str:
    """A Unix time as the xsd:dateTime Mastodon parses (UTC, seconds, Z)."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def note(post: Post, urls: Urls, *, with_context: bool = True) -> dict[str, Any]:
    if post.deleted_at is not None:
        return tombstone(urls.post(post.uuid), "Note", post.deleted_at, with_context=with_context)
    doc: dict[str, Any] = {
        "id": urls.post(post.uuid),
        "type": "Note",
        "attributedTo": urls.actor,
        "content": post.content_html,
        "source": {"content": post.source, "mediaType": "text/plain"},
        "published": iso(post.published_at),
        "url": urls.post(post.uuid),
        "to": [AS_PUBLIC],
        "cc": [urls.followers],
        "sensitive": False,
    }
    if post.updated_at is not None:
        doc["updated"] = iso(post.updated_at)
    return {"@context": CONTEXT, **doc} if with_context else doc


def tombstone(object_id: str, former_type: str, deleted_at: float, *,
              with_context: bool = True) -> dict[str, Any]:
    doc = {"id": object_id, "type": "Tombstone", "formerType": former_type,
           "deleted": iso(deleted_at)}
    return {"@context": CONTEXT, **doc} if with_context else doc


def wrap(kind: str, obj: dict[str, Any], urls: Urls, *, when: float) -> dict[str, Any]:
    """Create/Update/Delete of one of the hub's public objects, addressed like the object."""
    inner = {k: v for k, v in obj.items() if k != "@context"}
    return {
        "@context": CONTEXT,
        "id": urls.activity(str(uuid.uuid4())),
        "type": kind,
        "actor": urls.actor,
        "published": iso(when),
        "to": [AS_PUBLIC],
        "cc": [urls.followers],
        "object": inner,
    }
