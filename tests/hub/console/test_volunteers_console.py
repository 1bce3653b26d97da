"""Volunteers in the console: new sign-ups listed for all staff, opened and approved by
coordinators only, every read and approval audited; the checks to renew."""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import date, timedelta

from hub.jobs.registry import build_runner
from hub.store import audit
from hub.store import volunteers as store
from tests.hub.console.conftest import Browser
from tests.hub.volunteers.test_signup_web import send
from tests.hub.volunteers.web import Visitor
from tests.support.hubs import RunningHub

Browsers = Callable[[RunningHub], Browser]


async def _sign_up(staffed: RunningHub) -> str:
    visitor = Visitor(staffed.base_url)
    try:
        status, page, _ = await send(visitor)
        assert status == 303, page
    finally:
        await visitor.close()
    [volunteer] = await store.list_volunteers(staffed.hub.db)
    return volunteer.uuid


async def test_helpers_see_the_list_but_cannot_open_or_approve(
        staffed: RunningHub, browsers: Browsers) -> None:
    volunteer = await _sign_up(staffed)
    bob = browsers(staffed)
    await bob.login("bob")
    page = await bob.get("/console/volunteers")
    assert page.status == 200 and page.headers["Cache-Control"] == "no-store"
    assert "New sign-ups (1)" in page.text and "Asha Patel" in page.text
    assert "asha.patel@example.org" not in page.text
    assert f"/console/volunteers/{volunteer}/approve" not in page.text
    assert (await bob.get(f"/console/volunteers/{volunteer}")).status == 403
    assert (await bob.submit(f"/console/volunteers/{volunteer}/approve", {})).status == 403
    assert (await bob.get("/console/volunteers/checks")).status == 403
    [stored] = await store.list_volunteers(staffed.hub.db)
    assert stored.status == "pending"


async def test_a_coordinator_opens_and_approves_a_sign_up(staffed: RunningHub,
                                                          alice: Browser) -> None:
    volunteer = await _sign_up(staffed)
    home = html.unescape((await alice.get("/console/")).text)
    assert "1 new volunteer sign-up waiting for approval" in home
    page = await alice.get(f"/console/volunteers/{volunteer}")
    assert page.status == 200 and "asha.patel@example.org" in page.text
    assert "New sign-up, waiting for approval" in page.text
    done = await alice.submit(f"/console/volunteers/{volunteer}/approve", {})
    assert done.status == 303 and done.location == f"/console/volunteers/{volunteer}?done=approved"
    [stored] = await store.list_volunteers(staffed.hub.db)
    assert stored.status == "active" and stored.approved_at
    listed = await alice.get("/console/volunteers")
    assert "New sign-ups (0)" in listed.text and "Volunteers (1)" in listed.text
    entries = await audit.recent(staffed.hub.db, limit=20)
    mine = [(e.action, e.target) for e in entries if e.username == "alice"]
    assert ("volunteer.read", f"volunteer:{volunteer}") in mine
    assert ("volunteer.approve", f"volunteer:{volunteer}") in mine
    assert not [e for e in entries if "Asha" in str(e.detail)]
    assert (await alice.get("/console/volunteers/not-a-uuid")).status == 404


async def test_checks_to_renew_and_the_reminder_mark(staffed: RunningHub,
                                                     alice: Browser) -> None:
    volunteer = await _sign_up(staffed)
    base = f"/api/v1/volunteers/{volunteer}/checks"
    today = date.today()
    for checked, renewal in ((-1000, 10), (-1200, -3), (-10, 900)):
        status, body = await staffed.api("POST", base, {
            "type": "dbs_enhanced_adult" if renewal != -3 else "dbs_basic",
            "checked_on": (today + timedelta(days=checked)).isoformat(),
            "renewal_on": (today + timedelta(days=renewal)).isoformat(), "decision": "clear"})
        assert status == 201, body
    # The enhanced check renewed (the third) replaces the first: only the lapsed basic one is due.
    page = html.unescape((await alice.get("/console/volunteers/checks")).text)
    assert page.count("Asha Patel") == 1 and "basic DBS" in page and "Lapsed" in page
    assert "not yet" in page
    assert "1 volunteer check to renew" in html.unescape((await alice.get("/console/")).text)
    await build_runner(staffed.hub).tick()
    page = html.unescape((await alice.get("/console/volunteers/checks")).text)
    assert "not yet" not in page and "UTC" in page
