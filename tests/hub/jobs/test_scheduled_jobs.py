"""Scheduled work through real hubs: the weekly digest, restarts, retries and failures."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from hub.jobs.registry import build_runner
from hub.jobs.runner import JobRunner
from hub.store import jobs as job_store
from hub.store.jobs import Job, PlannedJob
from hub.web.keys import JOBS
from tests.hub.events.factories import draft_input
from tests.support.hubs import RunningHub, start_hub

LONDON = ZoneInfo("Europe/London")
# Monday 30 November 2026, 09:00 in London: the default digest time.
DIGEST_AT = datetime(2026, 11, 30, 9, 0, tzinfo=LONDON).timestamp()


async def _posts(running: RunningHub) -> list[str]:
    rows = await running.hub.db.fetchall("SELECT source FROM posts ORDER BY id")
    return [r["source"] for r in rows]


async def _add_event(running: RunningHub, title: str, start: str, end: str) -> None:
    status, body = await running.api("POST", "/api/v1/events",
                                     draft_input(title=title, start=start, end=end))
    assert status == 201, body


def _runner(running: RunningHub, now: float) -> JobRunner:
    runner = build_runner(running.hub)
    runner.clock = lambda: now
    return runner


async def test_weekly_digest_posts_once_even_across_a_restart(tmp_path: Path) -> None:
    # Given a hub with two events this week and one the week after,
    running = await start_hub(tmp_path / "hub", name="hub")
    try:
        await _add_event(running, "Knit and natter", "2026-12-01T14:00", "2026-12-01T16:00")
        await _add_event(running, "Repair café", "2026-12-05T10:00", "2026-12-05T13:00")
        await _add_event(running, "Choir", "2026-12-09T18:00", "2026-12-09T19:00")
        assert running.app[JOBS] is not None
        # when the runner wakes before the digest time, nothing is posted;
        assert await _runner(running, DIGEST_AT - 60).tick() >= 0
        assert not [p for p in await _posts(running) if p.startswith("What's on")]
        # at the digest time one post lists this week's events;
        await _runner(running, DIGEST_AT + 30).tick()
        digests = [p for p in await _posts(running) if p.startswith("What's on")]
        assert len(digests) == 1
        assert "Knit and natter" in digests[0] and "Repair café" in digests[0]
        assert "Choir" not in digests[0]
        settings = running.settings
    finally:
        await running.stop()
    # and after a restart, waking again sends nothing more.
    running = await start_hub(tmp_path / "hub", settings=settings)
    try:
        await _runner(running, DIGEST_AT + 90).tick()
        digests = [p for p in await _posts(running) if p.startswith("What's on")]
        assert len(digests) == 1
        job = await job_store.get_job(running.hub.db, "digest:2026-11-30")
        assert job["state"] == "done"
        outbox = await running.hub.db.fetchval(
            "SELECT count(*) FROM outbox WHERE type = 'Create' AND object_id LIKE '%/posts/%'")
        assert outbox == 1
    finally:
        await running.stop()


async def test_stale_and_empty_digests_are_skipped(tmp_path: Path) -> None:
    running = await start_hub(tmp_path / "hub", name="hub")
    try:
        # Nothing on: the digest is skipped, not posted.
        await _runner(running, DIGEST_AT + 30).tick()
        assert (await job_store.get_job(running.hub.db, "digest:2026-11-30"))["state"] == "skipped"
        # A digest the hub could only reach a day late is skipped as stale.
        await _add_event(running, "Choir", "2026-12-09T18:00", "2026-12-09T19:00")
        next_week = datetime(2026, 12, 7, 9, 0, tzinfo=LONDON).timestamp()
        await _runner(running, next_week + 86400).tick()
        job = await job_store.get_job(running.hub.db, "digest:2026-12-07")
        assert job["state"] == "skipped" and "late" in job["last_error"]
        assert await _posts(running) == []
    finally:
        await running.stop()


@pytest.mark.parametrize(("error", "state"), [(OSError("smtp down"), "pending"),
                                              (RuntimeError("bug"), "failed")])
async def test_failures_are_recorded_and_retried_or_stopped(
        tmp_path: Path, error: Exception, state: str) -> None:
    running = await start_hub(tmp_path / "hub", name="hub")
    try:
        async def broken(hub: object, job: Job, now: float) -> None:
            raise error

        runner = JobRunner(running.hub, handlers={"broken": broken}, clock=lambda: 1000.0)
        await job_store.plan(running.hub.db, [PlannedJob("broken:1", "broken", 900.0, {})])
        await runner.tick()
        job = await job_store.get_job(running.hub.db, "broken:1")
        assert job["state"] == state and job["attempts"] == 1
        assert str(error) in job["last_error"]
        if state == "pending":
            assert job["run_at"] > 1000.0  # retried later, not in a tight loop
    finally:
        await running.stop()


async def test_unknown_kind_fails_clearly(tmp_path: Path) -> None:
    running = await start_hub(tmp_path / "hub", name="hub")
    try:
        await job_store.plan(running.hub.db, [PlannedJob("mystery:1", "mystery", 0.0, {})])
        await JobRunner(running.hub, clock=lambda: 10.0).tick()
        job = await job_store.get_job(running.hub.db, "mystery:1")
        assert job["state"] == "failed" and "no handler" in job["last_error"]
    finally:
        await running.stop()
