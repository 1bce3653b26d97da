"""Forget the bodies of private messages once they have done their work.

The outbox keeps every activity the hub sent and the inbox every activity it received. Public
ones are the hub's record and stay. Private ones (direct messages asking a volunteer, with their
private answer link; contact notes after a match; sign-up links; follow answers) are needed
only until delivered or processed: after that their bodies would only keep people's contact
details and working private links in the database and its backups, past a volunteer's
erasure. Every hour, bodies of private activities whose deliveries are all finished, and of
private inbound activities processed, more than `GRACE` seconds ago, are replaced by `{}`.
Ids, types, times and delivery outcomes stay, so dedupe and the delivery record still work.
Inbound activities that `failed` keep their bodies, so they can be replayed once fixed.

The same hourly job drops finished rows of the periodic jobs (`PERIODIC`: a sweep every five
minutes, this job every hour, a digest a week, a series top-up a day, the hourly and
per-minute retries of owed RSVP notices and counts) after `KEEP_JOBS` seconds: their keys
name a time their planners never plan again, so the rows only grew the table (~110,000 a
year). Rows of other kinds stay: a reminder's or an email's row is what stops it going out
twice.
"""

from __future__ import annotations

from hub.runtime import Hub
from hub.store import jobs as job_store
from hub.store.jobs import Job, PlannedJob

EVERY = 3600.0
GRACE = 600.0
KEEP_JOBS = 30 * 86400.0
# Kinds whose keys name a period (five minutes, an hour, a day) and that planners plan only
# for the present one (hub.jobs.registry has every kind).
PERIODIC = ("exchange_sweep", "retention", "digest", "series_topup", "rsvp_notice",
            "rsvp_counts")
EMPTY = b"{}"
_PUBLIC = "%https://www.w3.org/ns/activitystreams#Public%"


async def plan_retention(hub: Hub, now: float) -> int:
    return await job_store.plan(hub.db, [PlannedJob(f"retention:{int(now // EVERY)}",
                                                    "retention", now, {})])


async def forget_private_bodies(hub: Hub, now: float) -> tuple[int, int]:
    """(outbox rows, inbound rows) whose bodies were forgotten."""
    cutoff = now - GRACE
    async with hub.db.transaction() as conn:
        sent = await conn.execute(
            "UPDATE outbox SET body = ? WHERE public = 0 AND body != ? AND created_at < ? "
            "AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.outbox_id = outbox.id "
            "AND d.state = 'pending')", (EMPTY, EMPTY, cutoff))
        received = await conn.execute(
            "UPDATE inbound SET body = ? WHERE state IN ('done', 'ignored') AND body != ? "
            "AND processed_at < ? AND CAST(body AS TEXT) NOT LIKE ?",
            (EMPTY, EMPTY, cutoff, _PUBLIC))
        return sent.rowcount, received.rowcount


async def run_retention(hub: Hub, job: Job, now: float) -> None:
    await forget_private_bodies(hub, now)
    await job_store.prune(hub.db, PERIODIC, finished_before=now - KEEP_JOBS)
    await job_store.finish(hub.db, job.id)
