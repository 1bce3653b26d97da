"""The needs pages of the staff console, through a real browser-like client: post with the
personal-detail warnings and their confirm step, the lifecycle buttons (CSRF-checked), the
ranked list with reasons for coordinators, and private notes hidden from helpers."""

from __future__ import annotations

from collections.abc import Callable
from html import unescape

from hub.store import audit
from hub.store import needs as needs_store
from tests.hub.console.conftest import Browser, Page
from tests.hub.needs.factories import day, enhanced_check, volunteer
from tests.support.hubs import RunningHub

FORM = {"title": "Weekly befriending", "description": "A weekly chat over tea.",
        "private_notes": "Mrs Kaur, flat 3", "starts_on": day(7), "effort_minutes": "60",
        "district": "IG1", "latitude": "51.5588", "longitude": "0.0712",
        "volunteers_wanted": "1", "timezone": "Europe/London"}


async def _post_regular(alice: Browser, extra: dict[str, str] | None = None,
                        slots: tuple[str, ...] = ("tue-afternoon",)) -> Page:
    home = await alice.get("/console/")
    data = [("csrf_token", home.csrf()), *{**FORM, **(extra or {})}.items(),
            *(("slots", s) for s in slots), ("skills", "befriending")]
    return await alice.request("POST", "/console/needs/new?kind=regular", data=data)


async def test_coordinator_posts_a_need_and_sees_ranked_volunteers(
        staffed: RunningHub, alice: Browser) -> None:
    for name, extra in (("Ravi Near", {}), ("Tom Unchecked", {})):
        status, made = await staffed.api("POST", "/api/v1/volunteers", volunteer(name, **extra))
        assert status == 201
        if name == "Ravi Near":
            await staffed.api("POST", f"/api/v1/volunteers/{made['id']}/checks",
                              enhanced_check())
    form = await alice.get("/console/needs/new?kind=regular")
    assert form.status == 200 and "Private notes" in form.text
    assert "required by the hub for every regular commitment" in unescape(form.text)

    page = await _post_regular(alice)
    assert page.status == 303, page.text
    need_page = await alice.get(page.location)
    text = unescape(need_page.text)
    assert "Posted: followers" in text and "Mrs Kaur, flat 3" in text
    assert "Ravi Near" in text and "km away" in text and "shares: befriending" in text
    assert "Tom Unchecked" not in text
    excluded = unescape((await alice.get(page.location.split("?")[0] + "?excluded=1")).text)
    assert "Tom Unchecked" in excluded and "enhanced DBS" in excluded
    [need] = await needs_store.list_needs(staffed.hub.db)
    assert need.draft.checks_required == ("dbs_enhanced_adult",)
    assert need.draft.slots == {"tue": ("afternoon",)}
    actions = {e.action for e in await audit.recent(staffed.hub.db)}
    assert {"need.create", "need.candidates"} <= actions


async def test_personal_details_are_warned_about_then_saved_on_confirm(
        staffed: RunningHub, alice: Browser) -> None:
    risky = {"description": "Call her on 07700 900123 before you go."}
    page = await _post_regular(alice, risky)
    assert page.status == 422
    assert "looks like a phone number" in unescape(page.text)
    assert "Save anyway" in page.text and "07700 900123" in page.text  # typed text kept
    assert await needs_store.list_needs(staffed.hub.db) == []
    page = await _post_regular(alice, {**risky, "confirm": "yes"})
    assert page.status == 303
    assert len(await needs_store.list_needs(staffed.hub.db)) == 1


async def test_a_bad_form_comes_back_with_the_field_named(
        staffed: RunningHub, alice: Browser) -> None:
    page = await _post_regular(alice, slots=())
    assert page.status == 400
    assert 'href="#slots"' in page.text and "When each week" in page.text
    page = await _post_regular(alice, {"effort_minutes": "an hour"})
    assert page.status == 400 and "Minutes each time" in page.text


async def test_lifecycle_buttons_move_the_need_and_refuse_stale_moves(
        staffed: RunningHub, alice: Browser) -> None:
    page = await _post_regular(alice)
    path = page.location.split("?")[0]
    for status in ("matching", "filled"):
        moved = await alice.submit(path + "/status", {"status": status})
        assert moved.status == 303 and moved.location.endswith(f"done={status}")
    [need] = await needs_store.list_needs(staffed.hub.db)
    assert need.status == "filled" and need.time_to_fill is not None
    refused = await alice.submit(path + "/status", {"status": "filled"})
    assert refused.status == 409 and "cannot become filled" in refused.text
    # Without the CSRF token nothing changes.
    forged = await alice.post(path + "/status", {"status": "closed"})
    assert forged.status == 403
    assert (await needs_store.get_need(staffed.hub.db, need.uuid)).status == "filled"
    closed = await alice.submit(path + "/status", {"status": "closed"})
    assert closed.status == 303
    gone = await alice.submit(path + "/delete", {"confirm": "yes"})
    assert gone.status == 303 and gone.location == "/console/needs?done=deleted"


async def test_helpers_see_neither_private_notes_nor_volunteers(
        staffed: RunningHub, alice: Browser,
        browsers: Callable[[RunningHub], Browser]) -> None:
    page = await _post_regular(alice)
    path = page.location.split("?")[0]
    bob = browsers(staffed)
    assert (await bob.login("bob")).status == 303
    seen = await bob.get(path)
    assert seen.status == 200 and "Weekly befriending" in seen.text
    assert "Mrs Kaur" not in seen.text and "Only a coordinator" in seen.text
    form = await bob.get(path + "/edit")
    assert "private_notes" not in form.text
    # A helper's edit keeps the notes they cannot see.
    edited = await bob.submit(path + "/edit", {**FORM, "title": "Befriending, Tuesdays",
                                               "slots": "tue-afternoon",
                                               "private_notes": ""})
    assert edited.status == 303, edited.text
    [need] = await needs_store.list_needs(staffed.hub.db)
    assert need.draft.title == "Befriending, Tuesdays"
    assert need.draft.private_notes == "Mrs Kaur, flat 3"
    refused = await bob.submit(path + "/delete", {"confirm": "yes"})
    assert refused.status == 403
    listing = await bob.get("/console/needs")
    assert listing.status == 200 and "Befriending, Tuesdays" in listing.text
