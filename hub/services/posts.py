"""News posts: publish, edit and delete a `Note` to the hub's followers."""

from __future__ import annotations

import sqlite3
import time

from federation.errors import NotFound, ValidationError
from hub.activitypub.notes import note, wrap
from hub.runtime import Hub
from hub.services.outbox import Also, publish_to_followers
from hub.store import posts as post_store
from hub.store.posts import Post
from hub.text import plain_to_html

MAX_POST_CHARS = 5000


def _check_text(text: str) -> str:
    text = text.strip()
    if not text:
        raise ValidationError("a post needs some text")
    if len(text) > MAX_POST_CHARS:
        raise ValidationError(f"a post is at most {MAX_POST_CHARS} characters ({len(text)} given)")
    return text


async def create_post(hub: Hub, text: str, *, also: Also | None = None) -> Post:
    """Publish a news post; `also` writes in the transaction that queues its deliveries.

    The post and its deliveries are written in one transaction: a failed write (a full
    disk) leaves neither, never a post its followers will not hear of.
    """
    text = _check_text(text)
    post = post_store.new_post(text, plain_to_html(text))
    stored: list[Post] = []

    def write(conn: sqlite3.Connection) -> None:
        stored.append(post_store.insert_post(conn, post))
        if also is not None:
            also(conn)

    await publish_to_followers(hub, wrap("Create", note(post, hub.urls), hub.urls,
                                         when=post.published_at), also=write)
    return stored[0]


async def update_post(hub: Hub, post_uuid: str, text: str) -> Post:
    text = _check_text(text)
    post = await post_store.update_post(hub.db, post_uuid, text, plain_to_html(text))
    if post is None:
        raise NotFound(f"no post {post_uuid}")
    await publish_to_followers(hub, wrap("Update", note(post, hub.urls), hub.urls,
                                         when=post.updated_at or time.time()))
    return post


async def delete_post(hub: Hub, post_uuid: str) -> Post:
    post = await post_store.delete_post(hub.db, post_uuid)
    if post is None:
        raise NotFound(f"no post {post_uuid}")
    await publish_to_followers(hub, wrap("Delete", note(post, hub.urls), hub.urls,
                                         when=post.deleted_at or time.time()))
    return post
