"""Migration 0015 on a database that already sent volunteer mail under the old job keys."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from hub.store import signups
from hub.store.db import Database, available_migrations


def _at_version(path: Path, last: int) -> None:
    """A database with the migrations up to `last` applied, as an older hub left it."""
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, "
                 "name TEXT NOT NULL, applied_at REAL NOT NULL)")
    for version, name, sql in available_migrations():
        if version <= last:
            conn.executescript(sql)
            conn.execute("INSERT INTO schema_migrations VALUES (?, ?, ?)",
                         (version, name, time.time()))
    conn.commit()
    conn.close()


async def test_mail_whose_old_job_failed_is_given_up_and_the_rest_planned(
        tmp_path: Path) -> None:
    path = tmp_path / "hub.db"
    _at_version(path, 14)
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO volunteers (id, uuid, pseudonym, name, created_at, updated_at) "
                 "VALUES (1, 'u1', 'Volunteer 1', 'Ana', 0, 0)")
    conn.executemany("INSERT INTO volunteer_mail (id, volunteer_id, kind, link, created_at, "
                     "sent_at) VALUES (?, 1, 'welcome', ?, ?, ?)",
                     [(1, "https://hub.example/me/SENT", 1.0, 2.0),
                      (2, "https://hub.example/me/REFUSED", 3.0, None),   # its job failed
                      (3, "https://hub.example/me/WAITING", 4.0, None)])  # its job pending
    conn.executemany("INSERT INTO scheduled_jobs (key, kind, run_at, state, created_at) "
                     "VALUES (?, 'volunteer_mail', 0, ?, 0)",
                     [("volunteer-mail:1", "done"), ("volunteer-mail:2", "failed"),
                      ("volunteer-mail:3", "pending")])
    conn.commit()
    conn.close()

    db = await Database.open(path)
    try:
        assert "volunteer_messages" in " ".join(await db.migrate())
        rows = {r["id"]: dict(r) for r in await db.fetchall("SELECT * FROM volunteer_mail")}
        assert rows[2]["given_up_at"] is not None and rows[2]["link"] is None
        assert rows[3]["given_up_at"] is None and rows[3]["link"].endswith("WAITING")
        # Only the one still waiting is offered to the planner (its old job skips once the
        # new one has sent it).
        assert [mail_id for mail_id, _, _ in await signups.unplanned_mail(db)] == [3]
    finally:
        await db.close()
