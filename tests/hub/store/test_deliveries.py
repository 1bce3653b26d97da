"""The outbox and delivery queue over a real SQLite file."""

from __future__ import annotations

import asyncio

import orjson
import pytest

from federation.errors import ValidationError
from hub.store.db import Database
from hub.store.deliveries import (
    SqliteDeliveryStore,
    deliveries_of,
    delivery_stats,
    enqueue,
    pending_count,
)

ACTIVITY = {"id": "https://hub.example/a/1", "type": "Create", "object": {"id": "x"}}


async def test_enqueue_writes_the_activity_and_one_row_per_distinct_inbox(db: Database) -> None:
    inboxes = ["https://a.example/inbox", "https://B.example:443/inbox",
               "https://a.example/inbox", "http://c.example:8080/users/x/inbox"]
    outbox_id = await enqueue(db, ACTIVITY, inboxes, activity_type="Create", object_id="x",
                              public=False, signer="instance")
    row = await db.fetchone("SELECT * FROM outbox WHERE id = ?", (outbox_id,))
    assert row is not None
    assert orjson.loads(row["body"]) == ACTIVITY
    assert (row["type"], row["object_id"], row["public"], row["signer"]) == (
        "Create", "x", 0, "instance")
    rows = await deliveries_of(db, outbox_id)
    assert [(r["inbox"], r["host"], r["state"]) for r in rows] == [
        ("https://a.example/inbox", "a.example", "pending"),
        ("https://B.example:443/inbox", "b.example", "pending"),
        ("http://c.example:8080/users/x/inbox", "c.example:8080", "pending")]
    assert await pending_count(db) == 3


@pytest.mark.parametrize("inbox", ["ftp://a.example/inbox", "/inbox", "https://a.example:x/"])
async def test_enqueue_refuses_bad_inboxes_and_writes_nothing(db: Database, inbox: str) -> None:
    with pytest.raises(ValidationError):
        await enqueue(db, ACTIVITY, ["https://ok.example/inbox", inbox], activity_type="Create")
    assert await db.fetchval("SELECT count(*) FROM outbox") == 0


async def test_due_orders_joins_the_body_and_honours_exclusions(db: Database) -> None:
    await enqueue(db, ACTIVITY, ["https://a.example/1", "https://b.example/1",
                                 "https://a.example/2"], activity_type="Create")
    store = SqliteDeliveryStore(db)
    now = 2e9
    jobs = await store.due(now, 10, ())
    assert [j.inbox for j in jobs] == [
        "https://a.example/1", "https://b.example/1", "https://a.example/2"]
    assert orjson.loads(jobs[0].body) == ACTIVITY and jobs[0].signer == "hub"
    assert [j.inbox for j in await store.due(now, 10, [jobs[0].id], ["b.example"])] == [
        "https://a.example/2"]
    assert await store.due(0, 10, ()) == []  # nothing is due before it was queued


async def test_outcomes_are_written_in_shared_transactions(db: Database) -> None:
    await enqueue(db, ACTIVITY, [f"https://h{n}.example/inbox" for n in range(30)],
                  activity_type="Create")
    store = SqliteDeliveryStore(db, clock=lambda: 5.0)
    jobs = await store.due(2e9, 100, ())
    writes = [store.succeeded(j.id, 202) for j in jobs[:10]]
    writes += [store.retry(j.id, 1, 3e9, 503, "HTTP 503") for j in jobs[10:20]]
    writes += [store.failed(j.id, 410, "HTTP 410: gone") for j in jobs[20:]]
    await asyncio.gather(*writes)
    assert await delivery_stats(db) == {"pending": 10, "done": 10, "failed": 10, "due": 0}
    rows = await deliveries_of(db, 1)
    assert (rows[0]["state"], rows[0]["attempts"], rows[0]["last_status"],
            rows[0]["finished_at"]) == ("done", 1, 202, 5.0)
    assert (rows[10]["attempts"], rows[10]["next_attempt_at"], rows[10]["last_error"]) == (
        1, 3e9, "HTTP 503")
    assert (rows[20]["state"], rows[20]["last_status"]) == ("failed", 410)
    # A late retry cannot reopen a finished delivery
    await store.retry(jobs[0].id, 2, 3e9, 500, "late")
    assert (await deliveries_of(db, 1))[0]["state"] == "done"
