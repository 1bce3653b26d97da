"""Paged OrderedCollections (outbox, followers, following)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hub.activitypub.context import CONTEXT


def collection(collection_id: str, total: int, page_size: int) -> dict[str, Any]:
    """The collection's head: its size and a link to the first page (when not empty)."""
    doc: dict[str, Any] = {
        "@context": CONTEXT,
        "id": collection_id,
        "type": "OrderedCollection",
        "totalItems": total,
    }
    if total:
        doc["first"] = f"{collection_id}?page=1"
        doc["last"] = f"{collection_id}?page={max(1, -(-total // page_size))}"
    return doc


def collection_page(collection_id: str, page: int, total: int, page_size: int,
                    items: Sequence[Any]) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "@context": CONTEXT,
        "id": f"{collection_id}?page={page}",
        "type": "OrderedCollectionPage",
        "partOf": collection_id,
        "totalItems": total,
        "orderedItems": list(items),
    }
    if page * page_size < total:
        doc["next"] = f"{collection_id}?page={page + 1}"
    if page > 1:
        doc["prev"] = f"{collection_id}?page={page - 1}"
    return doc
