"""Checks, training and references recorded in the console: by coordinators only, each form
CSRF-checked and audited through the volunteer service, refused forms brought back with their
problems and what was typed, no free-text field, and a lapsed check ending a volunteer's
place in a need's ranked list."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from hub.store import audit
from tests.hub.console.conftest import Browser
from tests.hub.needs.factories import regular_need, volunteer
from tests.support.hubs import RunningHub

Browsers = Callable[[RunningHub], Browser]


def day(offset: int) -> str:
    return (date.today() + timedelta(days=offset)).isoformat()


def check_form(**change: str) -> dict[str, str]:
    return {"type": "dbs_enhanced_adult", "checked_on": day(-30), "renewal_on": day(700),
            "decision": "clear", **change}


async def _volunteer(staffed: RunningHub, name: str = "Ravi Near") -> str:
    status, made = await staffed.api("POST", "/api/v1/volunteers", volunteer(name))
    assert status == 201, made
    return str(made["id"])


async def _export(staffed: RunningHub, uuid: str) -> dict[str, Any]:
    status, body = await staffed.api("GET", f"/api/v1/volunteers/{uuid}/export")
    assert status == 200, body
    return dict(body)


def _rows(page: str) -> list[list[str]]:
    """The checks table's rows as cell texts (the first table on the record page)."""
    table = page.split('id="checks"', 1)[1].split("</table>", 1)[0]
    return [[html.unescape(re.sub(r"<[^>]+>", "", cell)).strip()
             for cell in re.findall(r"<td>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)[1:]]


async def test_a_coordinator_records_checks_training_and_references(
        staffed: RunningHub, alice: Browser) -> None:
    uuid = await _volunteer(staffed)
    base = f"/console/volunteers/{uuid}"
    for form in (check_form(),
                 check_form(type="dbs_basic", checked_on=day(-1090), renewal_on=day(10)),
                 check_form(type="dbs_standard", checked_on=day(-1200), renewal_on=day(-3)),
                 check_form(type="dbs_enhanced_child", decision="not_clear")):
        done = await alice.submit(f"{base}/checks", form)
        assert done.status == 303, done.text
        assert done.location == f"{base}?done=check-recorded#checks"
    done = await alice.submit(f"{base}/training", {"course": "safeguarding_adults",
                                                  "completed_on": day(-5)})
    assert done.status == 303 and done.location == f"{base}?done=training-recorded#training"
    done = await alice.submit(f"{base}/references", {"references_received": "2",
                                                    "references_on": day(-8)})
    assert done.status == 303 and done.location == f"{base}?done=references-saved#references"

    page = await alice.get(f"{base}?done=references-saved")
    assert page.status == 200 and "References saved." in page.text
    rows = {r[0]: r[1:5] for r in _rows(page.text)}
    assert rows == {
        "Enhanced DBS (adult workforce)": [day(-30), day(700), "Clear", "valid"],
        "Basic DBS": [day(-1090), day(10), "Clear", "lapsing soon"],
        "Standard DBS": [day(-1200), day(-3), "Clear", "lapsed"],
        "Enhanced DBS (child workforce)": [day(-30), day(700), "Not clear", "not clear"]}
    text = html.unescape(page.text)
    assert f"Safeguarding adults: {day(-5)}" in text
    assert f"2 received, the last on {day(-8)}." in text

    stored = await _export(staffed, uuid)
    assert {(c["type"], c["status"]) for c in stored["checks"]} == {
        ("dbs_enhanced_adult", "clear"), ("dbs_basic", "clear"), ("dbs_standard", "lapsed"),
        ("dbs_enhanced_child", "not_clear")}
    assert [(t["course"], t["completed_on"]) for t in stored["training"]] == [
        ("safeguarding_adults", day(-5))]
    assert (stored["references_received"], stored["references_on"]) == (2, day(-8))
    entries = await audit.recent(staffed.hub.db, limit=50)
    mine = [e.action for e in entries if e.username == "alice"
            and e.target == f"volunteer:{uuid}"]
    assert mine.count("volunteer.check.record") == 4
    assert "volunteer.training.record" in mine
    update = next(e for e in entries if e.action == "volunteer.update")
    assert update.username == "alice"
    assert update.detail["fields"] == ["references_on", "references_received"]


async def test_the_forms_have_no_free_text_field(staffed: RunningHub, alice: Browser) -> None:
    uuid = await _volunteer(staffed)
    page = (await alice.get(f"/console/volunteers/{uuid}")).text
    forms = re.findall(r'<form method="post" action="[^"]*/(?:checks|training|references)"'
                       r".*?</form>", page, re.S)
    assert len(forms) == 3
    for form in forms:
        assert "<textarea" not in form
        kinds = set(re.findall(r'<input[^>]* type="([a-z]+)"', form))
        assert kinds <= {"hidden", "date", "number", "radio"}, kinds
    # Every known check type has a plain name in the list.
    assert "dbs_" not in re.sub(r'value="[^"]*"', "", forms[0])


async def test_helpers_are_refused_and_nothing_is_stored(staffed: RunningHub,
                                                         browsers: Browsers) -> None:
    uuid = await _volunteer(staffed)
    status, check = await staffed.api("POST", f"/api/v1/volunteers/{uuid}/checks", {
        "type": "dbs_basic", "checked_on": day(-10), "renewal_on": day(300),
        "decision": "clear"})
    assert status == 201
    bob = browsers(staffed)
    await bob.login("bob")
    base = f"/console/volunteers/{uuid}"
    for path, form in ((f"{base}/checks", check_form()),
                       (f"{base}/training", {"course": "first_aid", "completed_on": day(-1)}),
                       (f"{base}/references", {"references_received": "3"}),
                       (f"{base}/checks/{check['id']}/remove", {})):
        refused = await bob.submit(path, form)
        assert refused.status == 403 and "Only a coordinator" in refused.text, path
    assert (await bob.get(f"{base}/checks/{check['id']}/remove")).status == 403
    stored = await _export(staffed, uuid)
    assert [c["id"] for c in stored["checks"]] == [check["id"]]
    assert stored["training"] == [] and stored["references_received"] == 0


async def test_a_form_without_its_token_or_from_another_site_is_refused(
        staffed: RunningHub, alice: Browser) -> None:
    uuid = await _volunteer(staffed)
    path = f"/console/volunteers/{uuid}/checks"
    refused = await alice.post(path, check_form())
    assert refused.status == 403 and "security token" in refused.text
    refused = await alice.post(path, {**check_form(), "csrf_token": "not-the-token"})
    assert refused.status == 403
    token = (await alice.get("/console/")).csrf()
    refused = await alice.post(path, {**check_form(), "csrf_token": token},
                               headers={"Origin": "https://elsewhere.example"})
    assert refused.status == 403
    assert (await _export(staffed, uuid))["checks"] == []


async def test_bad_dates_come_back_with_messages_and_what_was_typed(
        staffed: RunningHub, alice: Browser) -> None:
    uuid = await _volunteer(staffed)
    base = f"/console/volunteers/{uuid}"
    page = await alice.submit(f"{base}/checks", check_form(
        type="dbs_standard", checked_on="31/12/2025", renewal_on="", decision="not_clear"))
    assert page.status == 400
    text = html.unescape(page.text)
    assert "There is a problem" in text
    assert '<a href="#checked_on">Checked on: is a date: YYYY-MM-DD</a>' in text
    assert '<a href="#renewal_on">Renewal due on: is a date: YYYY-MM-DD</a>' in text
    assert 'value="31/12/2025"' in page.text and 'aria-invalid="true"' in page.text
    assert '<option value="dbs_standard" selected>' in page.text
    assert re.search(r'value="not_clear" checked', page.text)

    page = await alice.submit(f"{base}/checks", check_form(checked_on=day(3),
                                                           renewal_on=day(2)))
    assert page.status == 400 and "Checked on: cannot be in the future" in html.unescape(
        page.text)
    page = await alice.submit(f"{base}/checks", check_form(renewal_on=day(-30)))
    assert page.status == 400 and "Renewal due on: must be after the date it was checked" \
        in html.unescape(page.text)
    page = await alice.submit(f"{base}/checks", {"checked_on": day(-1), "renewal_on": day(9)})
    text = html.unescape(page.text)
    assert page.status == 400 and "Check: is required: choose the check" in text
    assert "Decision: is clear or not_clear" in text

    page = await alice.submit(f"{base}/training", {"course": "", "completed_on": "soon"})
    text = html.unescape(page.text)
    assert page.status == 400 and "Course: is required: choose the course" in text
    assert "Completed on: is a date: YYYY-MM-DD" in text and 'value="soon"' in text

    page = await alice.submit(f"{base}/references", {"references_received": "lots",
                                                    "references_on": day(2)})
    text = html.unescape(page.text)
    assert page.status == 400 and "References received: is a whole number from 0 to 20" in text
    assert "Last reference received on: cannot be in the future" in text
    assert 'value="lots"' in page.text

    stored = await _export(staffed, uuid)
    assert stored["checks"] == [] and stored["training"] == []
    assert stored["references_received"] == 0 and stored["references_on"] is None
    assert not [e for e in await audit.recent(staffed.hub.db, limit=50)
                if e.action.startswith(("volunteer.check", "volunteer.training",
                                        "volunteer.update"))]


async def test_removing_a_check_asks_first(staffed: RunningHub, alice: Browser) -> None:
    uuid = await _volunteer(staffed)
    base = f"/console/volunteers/{uuid}"
    assert (await alice.submit(f"{base}/checks", check_form())).status == 303
    [check] = (await _export(staffed, uuid))["checks"]
    page = await alice.get(base)
    remove = f"{base}/checks/{check['id']}/remove"
    assert f'href="{remove}"' in page.text

    confirm = await alice.get(remove)
    assert confirm.status == 200
    assert "Remove this check of Ravi Near?" in html.unescape(confirm.text)
    assert "Enhanced DBS (adult workforce)" in confirm.text
    assert len((await _export(staffed, uuid))["checks"]) == 1  # asking removes nothing

    done = await alice.submit(remove, {})
    assert done.status == 303 and done.location == f"{base}?done=check-removed#checks"
    assert (await _export(staffed, uuid))["checks"] == []
    assert "No checks recorded." in (await alice.get(base)).text
    assert (await alice.submit(remove, {})).status == 404
    assert (await alice.get(remove)).status == 404
    assert (await alice.get(f"{base}/checks/not-a-check/remove")).status == 404
    deletes = [e for e in await audit.recent(staffed.hub.db, action="volunteer.check.delete")]
    assert [(e.username, e.target, e.detail["check"]) for e in deletes] == [
        ("alice", f"volunteer:{uuid}", check["id"])]


async def test_a_lapsed_check_takes_the_volunteer_out_of_a_needs_ranked_list(
        staffed: RunningHub, alice: Browser) -> None:
    # Given a befriending need that requires an enhanced check (the hub's policy for
    # regular needs) and a volunteer whose check a coordinator recorded in the console
    uuid = await _volunteer(staffed)
    base = f"/console/volunteers/{uuid}"
    assert (await alice.submit(f"{base}/checks", check_form())).status == 303
    status, need = await staffed.api("POST", "/api/v1/needs?confirm=true", regular_need())
    assert status == 201, need
    ranked_path = f"/api/v1/needs/{need['id']}/candidates?excluded=true"
    status, body = await staffed.api("GET", ranked_path)
    assert status == 200 and [c["name"] for c in body["candidates"]] == ["Ravi Near"]

    # When the coordinator finds it was recorded wrongly: removes it and records the
    # volunteer's real check, which lapsed last month
    [check] = (await _export(staffed, uuid))["checks"]
    assert (await alice.submit(f"{base}/checks/{check['id']}/remove", {})).status == 303
    lapsed = check_form(checked_on=day(-1130), renewal_on=day(-35))
    assert (await alice.submit(f"{base}/checks", lapsed)).status == 303
    assert "lapsed" in [r[4] for r in _rows((await alice.get(base)).text)]

    # Then the volunteer is no longer ranked for the need, and the reason says why
    status, body = await staffed.api("GET", ranked_path)
    assert status == 200 and body["candidates"] == []
    why = {c["name"]: c["excluded_because"] for c in body["excluded"]}
    assert any("enhanced DBS" in reason for reason in why["Ravi Near"])
