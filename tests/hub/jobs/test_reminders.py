"""Reminders through a real hub: by direct message and by email, once each, across a restart."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from hub.jobs.registry import build_runner
from hub.mailsink import MailSink
from hub.rsvp.service import Person, request_place
from hub.store import events as event_store
from hub.store import jobs as job_store
from tests.hub.events.factories import draft_input
from tests.support.hubs import RunningHub, start_hub, wait_until
from tests.support.remote import RemoteServer

LONDON = ZoneInfo("Europe/London")


async def _tick(running: RunningHub, at: float) -> None:
    runner = build_runner(running.hub)
    runner.clock = lambda: at
    await runner.tick()


def _reminder_dms(remote: RemoteServer) -> list[dict]:
    return [a for a in remote.received if a["type"] == "Create"
            and "Reminder" in a["object"].get("content", "")]


async def test_reminders_fire_once_each_across_a_restart(tmp_path: Path) -> None:
    smtp, remote = MailSink(), RemoteServer()
    await smtp.start()
    await remote.start()
    start = datetime.now(LONDON).replace(second=0, microsecond=0) + timedelta(days=2)
    running = await start_hub(tmp_path / "hub", name="hub", smtp_host="127.0.0.1",
                              smtp_port=smtp.port, smtp_security="none")
    try:
        # Given an event in two days, with a fediverse participant and one by email,
        status, body = await running.api("POST", "/api/v1/events", draft_input(
            start=start.strftime("%Y-%m-%dT%H:%M"),
            end=(start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")))
        assert status == 201, body
        event = await event_store.get_event(running.hub.db, body["id"])
        alice = remote.actor("alice")
        await request_place(running.hub, event, Person(actor_id=alice.id), "join")
        await request_place(running.hub, event, Person(name="Bea", email="bea@example.org"),
                            "web")
        day_before = event.start_at - 86400 + 60
        # when the day-before reminder falls due, each is reminded once,
        await _tick(running, day_before)
        await wait_until(lambda: _async(len(_reminder_dms(remote)) == 1), what="the DM")
        assert [m["Subject"] for m in smtp.messages if "Reminder" in m["Subject"]] == [
            f"Reminder: {event.title}"]
        settings = running.settings
    finally:
        await running.stop()
    # and after a restart in the middle of the schedule nothing is sent again,
    running = await start_hub(tmp_path / "hub", settings=settings)
    try:
        await _tick(running, day_before + 120)
        # until the hour-before reminders, which also go out once.
        await _tick(running, event.start_at - 3600 + 60)
        await _tick(running, event.start_at - 3600 + 120)
        await wait_until(lambda: _async(len(_reminder_dms(remote)) == 2), what="the 2nd DM")
        await _settle(running)
        assert len(_reminder_dms(remote)) == 2
        reminders = [m for m in smtp.messages if "Reminder" in m["Subject"]]
        assert len(reminders) == 2
        assert "Hello Bea" in reminders[0].get_payload()
        dm = _reminder_dms(remote)[0]
        assert dm["object"]["to"] == [alice.id] and dm["object"]["cc"] == []
        jobs = await job_store.jobs_of_kind(running.hub.db, "reminder")
        assert sorted(j["state"] for j in jobs) == ["done"] * 4
    finally:
        await running.stop()
        await remote.stop()
        await smtp.stop()


async def test_a_moved_event_skips_old_reminders(tmp_path: Path) -> None:
    remote = RemoteServer()
    await remote.start()
    start = datetime.now(LONDON).replace(second=0, microsecond=0) + timedelta(days=2)
    running = await start_hub(tmp_path / "hub", name="hub")
    try:
        status, body = await running.api("POST", "/api/v1/events", draft_input(
            start=start.strftime("%Y-%m-%dT%H:%M"),
            end=(start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")))
        event = await event_store.get_event(running.hub.db, body["id"])
        alice = remote.actor("alice")
        await request_place(running.hub, event, Person(actor_id=alice.id), "join")
        await _tick(running, event.start_at - 86400 - 1800)  # plans the first reminders
        later = start + timedelta(days=1)
        status, body = await running.api("POST", f"/api/v1/events/{event.uuid}/status", {
            "status": "rescheduled", "start": later.strftime("%Y-%m-%dT%H:%M"),
            "end": (later + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")})
        assert status == 200, body
        await _tick(running, event.start_at - 86400 + 60)
        old = await job_store.get_job(
            running.hub.db, f"reminder:1:86400:{int(event.start_at)}")
        assert old["state"] == "skipped" and "moved" in old["last_error"]
        await _settle(running)
        assert _reminder_dms(remote) == []
    finally:
        await running.stop()
        await remote.stop()


async def _async(value: bool) -> bool:
    return value


async def _settle(running: RunningHub) -> None:
    async def idle() -> bool:
        pending = await running.hub.db.fetchval(
            "SELECT count(*) FROM deliveries WHERE state = 'pending'")
        return pending == 0

    await wait_until(idle, what="deliveries to settle")
