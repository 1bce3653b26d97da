"""Sending needs to followers: Create when posted, Update on every public change (status
included), Delete when cancelled or removed; one activity per change, through the outbox.

The change and its activity are one transaction (`change_and_tell`), and the activity is
built from the need as written there: followers hear of every change that was stored, of
none that was not, and never of a state that a concurrent change had already replaced.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

from hub.activitypub.needs import deleted_need_activity, need_activity
from hub.runtime import Hub
from hub.services.outbox import also_send
from hub.store import follows as follow_store
from hub.store import needs as store
from hub.store.deliveries import Targets
from hub.store.needs import LocalNeed
from hub.urls import Urls


async def change_and_tell(hub: Hub, change: Callable[[sqlite3.Connection], int],
                          kind: str | None) -> LocalNeed:
    """`change(conn)` writes and returns the need's id (or raises: nothing is written); in
    the same transaction the need is read back and `kind` queued to every follower:
    `Create`, `Update`, or `Delete` for a need cancelled or removed (None: nobody is told)."""
    followers = Targets.of(sorted(await follow_store.follower_inboxes(hub.db)) if kind else [])

    def run(conn: sqlite3.Connection) -> LocalNeed:
        need = store.get_need_in(conn, change(conn))
        if need is None:
            raise LookupError("the need written is not there")
        if kind is not None:
            also_send(_activity(hub.urls, kind, need), followers, public=True)(conn)
        return need

    need: LocalNeed = await hub.db.run_in_writer(run)
    if kind is not None:
        hub.wake_delivery()
    return need


def _activity(urls: Urls, kind: str, need: LocalNeed) -> dict[str, Any]:
    if kind == "Delete":
        when = need.deleted_at or need.closed_at or need.updated_at or need.published_at
        return deleted_need_activity(need, urls, when=when)
    when = (need.updated_at or need.published_at) if kind == "Update" else need.published_at
    return need_activity(kind, need, urls, when=when)
