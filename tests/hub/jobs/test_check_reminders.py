"""Staff are reminded before a volunteer's check lapses, once per check (by email when a staff
address is set, always in the console), and a lapsed check stops matching."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from hub.jobs.registry import build_runner
from hub.mailsink import MailSink
from hub.matching import Need, VolunteerPool, rank
from hub.needs.pool import load_volunteers
from hub.store import jobs as job_store
from hub.store import volunteers as store
from hub.volunteers.model import parse_check, parse_profile
from hub.volunteers.signup import sign_up
from tests.support.hubs import RunningHub, start_hub

TODAY = date.today()


def _day(offset: int) -> str:
    return (TODAY + timedelta(days=offset)).isoformat()


async def _volunteer(running: RunningHub, name: str, *checks: tuple[int, int, str]) -> str:
    profile = parse_profile({"name": name, "email": f"{name.lower()}@example.org",
                             "district": "IG1", "availability": {"sat": ["morning"]},
                             "consents": {"match_here": True}})
    volunteer = await store.add_volunteer(running.hub.db, profile)
    for checked, renewal, kind in checks:
        await store.add_check(running.hub.db, volunteer.id, parse_check({
            "type": kind, "checked_on": _day(checked), "renewal_on": _day(renewal),
            "decision": "clear"}))
    return volunteer.uuid


async def test_staff_are_reminded_once_per_check_by_email(tmp_path: Path) -> None:
    smtp = MailSink()
    await smtp.start()
    running = await start_hub(tmp_path / "hub", name="hub", smtp_host="127.0.0.1",
                              smtp_port=smtp.port, smtp_security="none",
                              staff_email="coordinators@example.org", check_reminder_days=30)
    try:
        # Given a check due in 10 days, one lapsed yesterday, one due in 100 days, and one
        # due in 10 days that a later check of the same type has replaced
        await _volunteer(running, "Dueson", (-1000, 10, "dbs_enhanced_adult"))
        await _volunteer(running, "Lapsedby", (-1000, -1, "dbs_basic"))
        await _volunteer(running, "Farahead", (-100, 100, "dbs_basic"))
        await _volunteer(running, "Renewedalready", (-1000, 10, "dbs_standard"),
                         (-5, 1000, "dbs_standard"))
        # When the job runner ticks twice
        await build_runner(running.hub).tick()
        await build_runner(running.hub).tick()
        # Then the staff address got one email for each of the two, naming no one
        subjects = sorted(m["Subject"] for m in smtp.messages)
        assert subjects == ["A volunteer's check has lapsed",
                            "A volunteer's check is due for renewal"]
        assert all(m["To"] == "coordinators@example.org" for m in smtp.messages)
        bodies = " ".join(m.get_payload(decode=True).decode() for m in smtp.messages)
        for name in ("Dueson", "Lapsedby", "Farahead", "Renewedalready"):
            assert name not in bodies
        assert "enhanced DBS (adult workforce)" in bodies and "/console/volunteers/checks" in bodies
    finally:
        await running.stop()
        await smtp.stop()


async def test_without_a_staff_address_the_console_is_the_notice(tmp_path: Path) -> None:
    running = await start_hub(tmp_path / "hub", name="hub")
    try:
        await _volunteer(running, "Dueson", (-1000, 10, "dbs_enhanced_adult"))
        await build_runner(running.hub).tick()
        [job] = await job_store.jobs_of_kind(running.hub.db, "check_reminder")
        assert job["state"] == "done" and "console" in job["last_error"]
    finally:
        await running.stop()


async def test_a_lapsed_check_and_a_pending_sign_up_do_not_match(tmp_path: Path) -> None:
    running = await start_hub(tmp_path / "hub", name="hub")
    try:
        # Given a befriending need needing an enhanced check, from today, on Saturday mornings
        valid = await _volunteer(running, "Valid", (-100, 900, "dbs_enhanced_adult"))
        await _volunteer(running, "Lapsed", (-1200, -1, "dbs_enhanced_adult"))
        pending, _ = await sign_up(running.hub, parse_profile({
            "name": "Pending", "email": "p@example.org", "district": "IG1",
            "availability": {"sat": ["morning"]}, "consents": {"match_here": True}}))
        await store.add_check(running.hub.db, pending.id, parse_check({
            "type": "dbs_enhanced_adult", "checked_on": _day(-100), "renewal_on": _day(900),
            "decision": "clear"}))
        need = Need(id="n1", kind="regular", slots=frozenset({(5, "morning")}),
                    starts_on=TODAY, checks_required=frozenset({"dbs_enhanced_adult"}))
        # When the matcher ranks the hub's volunteers
        pool = VolunteerPool(await load_volunteers(running.hub.db))
        ranked = rank(need, pool, now=datetime.now(UTC), explain_excluded=True)
        # Then only the volunteer whose check is in force is eligible; the lapsed one is left
        # out for the check, and the pending sign-up is not in the pool at all
        assert [c.volunteer_id for c in ranked if c.eligible] == [valid]
        assert len(ranked) == 2 and pending.uuid not in [c.volunteer_id for c in ranked]
        [lapsed] = [c for c in ranked if not c.eligible]
        assert any("enhanced DBS" in e for e in lapsed.exclusions), lapsed.exclusions
    finally:
        await running.stop()
