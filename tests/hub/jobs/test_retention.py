"""Private messages' bodies are forgotten once delivered or processed; public ones stay."""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

import orjson

from hub.jobs.registry import build_runner
from hub.jobs.retention import EMPTY, GRACE, KEEP_JOBS, forget_private_bodies
from hub.store.db import Database
from hub.store.deliveries import enqueue
from tests.support.hubs import RunningHub

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


def _note(n: int, *, public: bool, text: str) -> dict[str, Any]:
    return {"id": f"https://hub.example/activities/{n}", "type": "Create",
            "actor": "https://hub.example/actor",
            "to": [PUBLIC] if public else ["https://social.example/users/bina"],
            "object": {"type": "Note", "content": text}}


async def _body(db: Database, table: str, activity_id: str) -> bytes:
    row = await db.fetchone(f"SELECT body FROM {table} WHERE activity_id = ?", (activity_id,))
    assert row is not None
    return bytes(row["body"])


async def test_private_bodies_go_once_delivered_public_and_pending_ones_stay(
        db: Database) -> None:
    inbox = ["https://social.example/inbox"]
    private = _note(1, public=False, text="Your link: https://hub.example/asks/SECRET")
    waiting = _note(2, public=False, text="https://hub.example/me/ALSO-SECRET")
    public = _note(3, public=True, text="Our open day is on Saturday")
    for activity, is_public in ((private, False), (waiting, False), (public, True)):
        await enqueue(db, activity, inbox, activity_type="Create", public=is_public)
    await db.execute("UPDATE deliveries SET state = 'done' WHERE outbox_id IN "
                     "(SELECT id FROM outbox WHERE activity_id IN (?, ?))",
                     (private["id"], public["id"]))
    received = {"id": "https://social.example/activities/9", "type": "Create",
                "actor": "https://social.example/users/bina",
                "object": {"type": "Note", "content": "yes, call me on 07700 900123"}}
    heard = {**received, "id": "https://social.example/activities/10", "to": [PUBLIC]}
    for n, activity in enumerate((received, heard)):
        await db.execute(
            "INSERT INTO inbound (activity_id, dedupe_key, actor_id, body, received_at, state, "
            "processed_at) VALUES (?, ?, ?, ?, ?, 'done', ?)",
            (activity["id"], f"k{n}", activity["actor"], orjson.dumps(activity),
             time.time(), time.time()))
    hub: Any = SimpleNamespace(db=db)

    # Within the grace period nothing is touched.
    assert await forget_private_bodies(hub, time.time()) == (0, 0)
    # After it: the delivered private message and the processed private reply are forgotten.
    assert await forget_private_bodies(hub, time.time() + GRACE + 1) == (1, 1)
    assert await _body(db, "outbox", private["id"]) == EMPTY
    assert b"ALSO-SECRET" in await _body(db, "outbox", waiting["id"])  # still to deliver
    assert b"open day" in await _body(db, "outbox", public["id"])
    assert await _body(db, "inbound", received["id"]) == EMPTY
    assert b"07700" in await _body(db, "inbound", heard["id"])  # it was public anyway
    # The record of what was sent and received stays.
    assert await db.fetchval("SELECT count(*) FROM deliveries") == 3
    assert await db.fetchval("SELECT count(*) FROM inbound") == 2


async def test_the_hub_runs_it_as_a_scheduled_job(hubs: Any) -> None:
    hub: RunningHub = await hubs("north")
    runner = build_runner(hub.hub)
    await runner.tick()
    row = await hub.hub.db.fetchone(
        "SELECT state FROM scheduled_jobs WHERE kind = 'retention'")
    assert row is not None and row["state"] == "done"


async def test_old_rows_of_periodic_jobs_go_and_the_rest_stay(hubs: Any) -> None:
    hub: RunningHub = await hubs("north")
    db, now = hub.hub.db, time.time()
    old, recent = now - KEEP_JOBS - 60, now - KEEP_JOBS + 3600
    rows = [("exchange_sweep:1", "exchange_sweep", "done", old),       # goes
            ("retention:1", "retention", "failed", old),               # goes
            ("exchange_sweep:2", "exchange_sweep", "done", recent),    # too recent
            ("exchange_sweep:3", "exchange_sweep", "pending", None),   # still to run (later)
            ("reminder:1:3600:1", "reminder", "done", old),            # stops a second send
            ("volunteer-mail:1", "volunteer_mail", "done", old)]       # the same
    await db.executemany(
        "INSERT INTO scheduled_jobs (key, kind, run_at, state, created_at, finished_at) "
        "VALUES (?, ?, ?, ?, 0, ?)",
        [(key, kind, now + 86400 if state == "pending" else 0, state, finished)
         for key, kind, state, finished in rows])
    # The hourly retention job prunes, through the runner as the hub runs it.
    await build_runner(hub.hub).tick()
    keys = {r["key"] for r in await db.fetchall("SELECT key FROM scheduled_jobs")}
    assert keys >= {"exchange_sweep:2", "exchange_sweep:3", "reminder:1:3600:1",
                    "volunteer-mail:1"}
    assert not keys & {"exchange_sweep:1", "retention:1"}
    assert await db.fetchval("SELECT state FROM scheduled_jobs WHERE key = 'exchange_sweep:3'"
                             ) == "pending"
    # Planning the present again is untouched by it.
    assert any(k.startswith("retention:") and k != "retention:1" for k in keys)
