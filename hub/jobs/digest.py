"""The weekly "what's on" post to followers, and the daily top-up of recurring series."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hub.events.series import extend_all_series
from hub.events.summary import when_text, where_text
from hub.runtime import Hub
from hub.services.posts import create_post
from hub.settings import digest_schedule
from hub.store import events as event_store
from hub.store import jobs as job_store
from hub.store.jobs import Job, PlannedJob

WEEK = 7 * 86400
STALE_AFTER = 12 * 3600  # a digest that could not go out for half a day is skipped
MAX_ITEMS = 15


def digest_times(hub: Hub, now: float) -> list[datetime]:
    """This week's and next week's digest instants, in the hub's timezone."""
    schedule = digest_schedule(hub.settings)
    if schedule is None:
        return []
    weekday, hour, minute = schedule
    zone = ZoneInfo(hub.settings.default_timezone)
    today = datetime.fromtimestamp(now, zone).date()
    monday = today - timedelta(days=today.weekday())
    return [datetime(d.year, d.month, d.day, hour, minute, tzinfo=zone)
            for d in (monday + timedelta(days=weekday + 7 * w) for w in (0, 1))]


async def plan_digests(hub: Hub, now: float) -> int:
    return await job_store.plan(hub.db, [
        PlannedJob(f"digest:{at.date().isoformat()}", "digest", at.timestamp(), {})
        for at in digest_times(hub, now)])


async def plan_series_topup(hub: Hub, now: float) -> int:
    day = datetime.fromtimestamp(now, ZoneInfo(hub.settings.default_timezone)).date()
    return await job_store.plan(hub.db, [
        PlannedJob(f"series-topup:{day.isoformat()}", "series_topup", now, {})])


def digest_text(hub: Hub, events: list[event_store.Event]) -> str:
    name = hub.settings.display_name or hub.settings.name
    lines = [f"What's on this week at {name}:"]
    for event in events[:MAX_ITEMS]:
        where = where_text(event)
        detail = f"{when_text(event)} · {event.title}" + (f" · {where}" if where else "")
        lines.append(f"\n{detail}\n{hub.urls.base}/events/{event.uuid}")
    if len(events) > MAX_ITEMS:
        lines.append(f"\n…and {len(events) - MAX_ITEMS} more: {hub.urls.base}/calendar")
    return "\n".join(lines)


async def run_digest(hub: Hub, job: Job, now: float) -> None:
    if now - job.run_at > STALE_AFTER:
        await job_store.finish(hub.db, job.id, "skipped", "too late to be this week's news")
        return
    upcoming = await event_store.list_upcoming(hub.db, now=job.run_at, limit=200)
    week = [e for e in upcoming if e.start_at < job.run_at + WEEK and e.status != "cancelled"]
    if not week:
        await job_store.finish(hub.db, job.id, "skipped", "nothing on this week")
        return
    await create_post(hub, digest_text(hub, week), also=job_store.finisher(job.id))


async def run_series_topup(hub: Hub, job: Job, now: float) -> None:
    await extend_all_series(hub)
    await job_store.finish(hub.db, job.id)
