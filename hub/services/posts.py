"""News posts: publish, edit and delete a `Note` to the hub's followers."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from dataclasses import replace

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
    """Edit a post; the edit and the `Update` to followers are one transaction."""
    text = _check_text(text)
    post = replace(await _live(hub, post_uuid), source=text, content_html=plain_to_html(text),
                   updated_at=time.time())
    await publish_to_followers(hub, wrap("Update", note(post, hub.urls), hub.urls,
                                         when=post.updated_at or 0.0),
                               also=_unless_gone(post_store.write_edit, post))
    return post


async def delete_post(hub: Hub, post_uuid: str) -> Post:
    """Delete a post; the deletion and the `Delete` to followers are one transaction."""
    post = replace(await _live(hub, post_uuid), deleted_at=time.time())
    await publish_to_followers(hub, wrap("Delete", note(post, hub.urls), hub.urls,
                                         when=post.deleted_at or 0.0),
                               also=_unless_gone(post_store.write_deletion, post))
    return post


async def _live(hub: Hub, post_uuid: str) -> Post:
    post = await post_store.get_post(hub.db, post_uuid)
    if post is None or post.deleted_at is not None:
        raise NotFound(f"no post {post_uuid}")
    return post


def _unless_gone(write: Callable[[sqlite3.Connection, Post], bool], post: Post) -> Also:
    """`write` in the publishing transaction; NotFound (nothing written or sent) if the post
    was deleted meanwhile."""
    def change(conn: sqlite3.Connection) -> None:
        if not write(conn, post):
            raise NotFound(f"no post {post.uuid}")
    return change
