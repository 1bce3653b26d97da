"""Console pages for events: every form through real HTTP with its CSRF token, as a browser
without JavaScript sends it, and what each one stores, publishes and writes to the audit log."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import aiohttp

from hub.store import audit
from hub.store import events as event_store
from hub.store import media as media_store
from hub.store.events import Event
from tests.hub.console.conftest import Browser, Page
from tests.hub.events.images import png
from tests.support.hubs import RunningHub

Browsers = Callable[[RunningHub], Browser]
_CREATED = re.compile(r"^/console/events/([0-9a-f-]{36})\?done=created$")

FIELDS = {"title": "Repair café", "description": "Bring **anything** broken.",
          "start": "2031-03-07T14:00", "end": "2031-03-07T16:30", "timezone": "Europe/London",
          "place.name": "Redbridge Library", "place.street_address": "112b Oakfield Road",
          "place.locality": "Ilford", "place.postal_code": "IG1 1AA",
          "place.latitude": "51.5588", "place.longitude": "0.0712", "capacity": "12",
          "join_mode": "free", "category": "WORKSHOPS_SKILL_SHARING",
          "hashtags": "#repaircafe, fixing", "language": "en", "kind": "event"}


def multipart(csrf: str, fields: dict[str, str], image: bytes | None = None,
              filename: str = "banner.png") -> aiohttp.FormData:
    """The event form as a browser sends it: multipart, an empty file part if no image."""
    form = aiohttp.FormData()
    form.add_field("csrf_token", csrf)
    for name, value in fields.items():
        form.add_field(name, value)
    form.add_field("banner_file", image or b"", filename=filename if image else "",
                   content_type="image/png" if image else "application/octet-stream")
    return form


async def send_form(browser: Browser, path: str, fields: dict[str, str],
                    image: bytes | None = None, **kw: Any) -> Page:
    page = await browser.get(path)
    assert page.status == 200, page.text
    return await browser.request("POST", path, data=multipart(page.csrf(), fields, image, **kw))


async def create(browser: Browser, image: bytes | None = None, filename: str = "banner.png",
                 **changes: str) -> Page:
    return await send_form(browser, "/console/events/new", {**FIELDS, **changes}, image,
                           filename=filename)


async def created_event(staffed: RunningHub, page: Page) -> Event:
    assert page.status == 303, page.text
    found = _CREATED.match(page.location or "")
    assert found, page.location
    event = await event_store.get_event(staffed.hub.db, found[1])
    assert event is not None
    return event


async def count_events(staffed: RunningHub) -> int:
    return int(await staffed.hub.db.fetchval("SELECT count(*) FROM events"))


def labelled(html: str) -> list[str]:
    """Ids of inputs, selects and textareas that no <label for> names."""
    ids = re.findall(r'<(?:input|select|textarea)\b(?![^>]*type="(?:hidden|submit)")[^>]*'
                     r'\bid="([^"]+)"', html)
    labels = set(re.findall(r'<label for="([^"]+)"', html))
    return [i for i in ids if i not in labels]


# Creating -----------------------------------------------------------------------------------
async def test_the_new_event_form_labels_every_field(staffed: RunningHub, alice: Browser) -> None:
    page = await alice.get("/console/events/new")
    assert page.status == 200
    assert labelled(page.text) == []
    assert 'enctype="multipart/form-data"' in page.text and 'name="csrf_token"' in page.text
    assert '<option value="Europe/London" selected>' in page.text  # the hub's usual zone
    assert len(re.findall(r"<label for=", page.text)) > 25
    assert "<legend>Repeat</legend>" in page.text and "Markdown" in page.text
    assert 'name="learning_outcome"' not in page.text
    session = await alice.get("/console/events/new?kind=skillshare")
    assert 'name="learning_outcome"' in session.text and 'name="teacher"' in session.text
    assert labelled(session.text) == []


async def test_creating_an_event_with_a_banner_publishes_it(staffed: RunningHub,
                                                           alice: Browser) -> None:
    page = await create(alice, banner_alt="A workbench with a toaster", image=png(40, 20))
    event = await created_event(staffed, page)
    assert (event.title, event.timezone, event.start_local) == (
        "Repair café", "Europe/London", "2031-03-07T14:00:00")
    assert (event.place_name, event.latitude, event.capacity, event.category) == (
        "Redbridge Library", 51.5588, 12, "WORKSHOPS_SKILL_SHARING")
    assert event.hashtags == ("repaircafe", "fixing")
    banner = await media_store.get_media_by_id(staffed.hub.db, event.banner_id or 0)
    assert banner is not None and (banner.width, banner.height) == (40, 20)
    assert banner.alt_text == "A workbench with a toaster"
    [entry] = await audit.recent(staffed.hub.db, action="event.create")
    assert entry.username == "alice" and entry.target == staffed.hub.urls.event(event.uuid)
    outbox = await staffed.hub.db.fetchval("SELECT count(*) FROM outbox WHERE type = 'Create'")
    assert outbox == 1
    shown = await alice.get(page.location or "")
    assert "Published" in shown.text and "Repair café" in shown.text
    public = await alice.get(f"/events/{event.uuid}")
    assert f'src="{staffed.hub.urls.media(banner.uuid)}"' in public.text


async def test_a_helper_can_create_a_skillshare_session(staffed: RunningHub,
                                                        browsers: Browsers) -> None:
    bob = browsers(staffed)
    await bob.login("bob")
    page = await send_form(bob, "/console/events/new?kind=skillshare", {
        **FIELDS, "kind": "skillshare", "title": "Bread for beginners",
        "learning_outcome": "Knead and shape a loaf", "level": "beginner",
        "what_to_bring": "An apron", "teacher": "Maria"})
    event = await created_event(staffed, page)
    assert (event.kind, event.level, event.teacher_name) == ("skillshare", "beginner", "Maria")
    assert event.banner_id is None


async def test_a_refused_form_shows_its_errors_and_keeps_what_was_typed(
        staffed: RunningHub, alice: Browser) -> None:
    page = await create(alice, end="2031-03-07T13:00", title="Repair <café>")
    assert page.status == 400
    assert 'role="alert"' in page.text and 'href="#end"' in page.text
    assert 'id="end-error"' in page.text and 'aria-invalid="true"' in page.text
    assert "must be after start" in page.text
    assert 'value="Repair &lt;café&gt;"' in page.text  # kept, and escaped
    assert 'value="IG1 1AA"' in page.text and "Bring **anything** broken." in page.text
    assert '<option value="WORKSHOPS_SKILL_SHARING" selected>' in page.text
    assert await count_events(staffed) == 0
    assert await audit.recent(staffed.hub.db, action="event.create") == []


async def test_every_badly_typed_number_is_listed(staffed: RunningHub, alice: Browser) -> None:
    page = await create(alice, capacity="lots", **{"place.latitude": "north"})
    assert page.status == 400
    assert 'href="#capacity"' in page.text and 'href="#place-latitude"' in page.text
    assert 'value="lots"' in page.text
    assert await count_events(staffed) == 0


async def test_a_file_that_is_not_an_image_is_refused(staffed: RunningHub,
                                                      alice: Browser) -> None:
    page = await create(alice, image=b"%PDF-1.4 not an image", filename="flyer.pdf")
    assert page.status == 400 and 'href="#banner_file"' in page.text
    assert "not a JPEG, PNG, WebP or GIF" in page.text
    assert await count_events(staffed) == 0


async def test_an_image_sent_with_a_refused_form_is_kept_for_the_next_try(
        staffed: RunningHub, alice: Browser) -> None:
    refused = await create(alice, end="", banner_alt="Toaster", image=png())
    assert refused.status == 400 and 'href="#end"' in refused.text
    kept = re.search(r'name="banner" value="([0-9a-f-]{36})"', refused.text)
    assert kept, "the uploaded image rides along in a hidden field"
    assert "Current image" in refused.text
    page = await send_form(alice, "/console/events/new",
                           {**FIELDS, "banner": kept[1], "banner_alt": "Toaster"})
    event = await created_event(staffed, page)
    banner = await media_store.get_media_by_id(staffed.hub.db, event.banner_id or 0)
    assert banner is not None and banner.uuid == kept[1]


async def test_a_form_without_its_csrf_token_changes_nothing(staffed: RunningHub,
                                                             alice: Browser) -> None:
    page = await alice.request("POST", "/console/events/new",
                               data=multipart("forged", FIELDS, png()))
    assert page.status == 403
    assert await count_events(staffed) == 0
    assert await staffed.hub.db.fetchval("SELECT count(*) FROM media") == 0


async def test_an_image_over_the_limit_gets_a_page_not_a_crash(staffed: RunningHub,
                                                               alice: Browser) -> None:
    big = png() + b"\x00" * (7 * 1024 * 1024)
    page = await create(alice, image=big)
    assert page.status == 413 and "at most 5 MB" in page.text
    assert await count_events(staffed) == 0


# Editing --------------------------------------------------------------------------------------
async def test_editing_changes_only_what_was_changed(staffed: RunningHub, alice: Browser) -> None:
    event = await created_event(staffed, await create(alice, image=png(), banner_alt="Old"))
    form = await alice.get(f"/console/events/{event.uuid}/edit")
    assert form.status == 200 and labelled(form.text) == []
    assert 'value="Repair café"' in form.text and 'value="2031-03-07T14:00"' in form.text
    fields = {**FIELDS, "title": "Repair café (bikes too)", "banner_alt": "Old"}
    kept = re.search(r'name="banner" value="([0-9a-f-]{36})"', form.text)
    assert kept
    page = await send_form(alice, f"/console/events/{event.uuid}/edit",
                           {**fields, "banner": kept[1]})
    assert page.status == 303 and page.location == f"/console/events/{event.uuid}?done=updated"
    updated = await event_store.get_event(staffed.hub.db, event.uuid)
    assert updated is not None and updated.title == "Repair café (bikes too)"
    assert updated.banner_id == event.banner_id
    [entry] = await audit.recent(staffed.hub.db, action="event.update")
    assert entry.detail == {"fields": ["title"]}
    assert await staffed.hub.db.fetchval(
        "SELECT count(*) FROM outbox WHERE type = 'Update'") == 1


async def test_an_edit_can_remove_the_banner_or_describe_it_anew(staffed: RunningHub,
                                                                 alice: Browser) -> None:
    event = await created_event(staffed, await create(alice, image=png(), banner_alt="Old"))
    first = await media_store.get_media_by_id(staffed.hub.db, event.banner_id or 0)
    assert first is not None
    path = f"/console/events/{event.uuid}/edit"
    await send_form(alice, path, {**FIELDS, "banner": first.uuid, "banner_alt": "New words"})
    redescribed = await event_store.get_event(staffed.hub.db, event.uuid)
    assert redescribed is not None and redescribed.banner_id != first.id
    again = await media_store.get_media_by_id(staffed.hub.db, redescribed.banner_id or 0)
    assert again is not None and again.alt_text == "New words" and again.sha256 == first.sha256
    await send_form(alice, path, {**FIELDS, "banner": again.uuid, "banner_remove": "1"})
    removed = await event_store.get_event(staffed.hub.db, event.uuid)
    assert removed is not None and removed.banner_id is None


async def test_a_refused_edit_stores_nothing(staffed: RunningHub, alice: Browser) -> None:
    event = await created_event(staffed, await create(alice))
    page = await send_form(alice, f"/console/events/{event.uuid}/edit",
                           {**FIELDS, "title": "  ", "online_url": "not a url"})
    assert page.status == 400 and 'href="#title"' in page.text
    unchanged = await event_store.get_event(staffed.hub.db, event.uuid)
    assert unchanged == event
    assert await audit.recent(staffed.hub.db, action="event.update") == []


# Series -------------------------------------------------------------------------------------
async def test_a_weekly_series_and_edits_to_one_date_or_all_future_ones(
        staffed: RunningHub, alice: Browser) -> None:
    page = await create(alice, **{"recurrence.frequency": "weekly", "recurrence.count": "4"})
    first = await created_event(staffed, page)
    assert first.series_id is not None
    dates = await event_store.series_events(staffed.hub.db, first.series_id)
    assert [e.occurrence_date for e in dates] == [
        "2031-03-07", "2031-03-14", "2031-03-21", "2031-03-28"]
    [entry] = await audit.recent(staffed.hub.db, action="series.create")
    assert entry.detail["occurrences"] == 4

    second = dates[1]
    form = await alice.get(f"/console/events/{second.uuid}/edit")
    assert "Only this occurrence" in form.text and 'name="scope"' in form.text
    base = {**FIELDS, "start": "2031-03-14T14:00", "end": "2031-03-14T16:30",
            "recurrence.frequency": "weekly", "recurrence.count": "4"}
    path = f"/console/events/{second.uuid}/edit"
    await send_form(alice, path, {**base, "title": "Just this once", "scope": "occurrence"})
    titles = [e.title for e in await event_store.series_events(staffed.hub.db, first.series_id)]
    assert titles == ["Repair café", "Just this once", "Repair café", "Repair café"]

    page = await send_form(alice, path, {**base, "title": "Fix-it club", "scope": "series",
                                         "start": "2031-03-14T15:00",
                                         "end": "2031-03-14T17:30"})
    assert page.status == 303, page.text
    after = await event_store.series_events(staffed.hub.db, first.series_id)
    assert {e.title for e in after} == {"Fix-it club"}
    assert [e.start_local for e in after] == [
        "2031-03-07T15:00:00", "2031-03-14T15:00:00", "2031-03-21T15:00:00",
        "2031-03-28T15:00:00"]
    [change] = await audit.recent(staffed.hub.db, action="series.update")
    assert "title" in change.detail["fields"] and "start" in change.detail["fields"]


async def test_a_series_rule_that_does_not_fit_is_explained(staffed: RunningHub,
                                                            alice: Browser) -> None:
    page = await create(alice, **{"recurrence.frequency": "monthly_by_weekday",
                                  "recurrence.week": "2", "recurrence.count": "3"})
    assert page.status == 400 and 'href="#recurrence-week"' in page.text
    assert await count_events(staffed) == 0


# Status ---------------------------------------------------------------------------------------
async def _status(browser: Browser, event: Event, action: str, **fields: str) -> Page:
    page = await browser.get(f"/console/events/{event.uuid}")
    return await browser.post(f"/console/events/{event.uuid}/status",
                              {"csrf_token": page.csrf(), "action": action, **fields})


async def test_postpone_cancel_move_online_reschedule_and_restore(staffed: RunningHub,
                                                                  alice: Browser) -> None:
    event = await created_event(staffed, await create(alice))
    db = staffed.hub.db
    for action, fields, status in (
            ("postpone", {}, "postponed"), ("cancel", {}, "cancelled"),
            ("restore", {}, "scheduled"),
            ("move_online", {"online_url": "https://meet.example/repair"}, "moved_online"),
            ("reschedule", {"start": "2031-04-04T10:00", "end": "2031-04-04T12:00",
                            "timezone": "Europe/London"}, "rescheduled")):
        page = await _status(alice, event, action, **fields)
        assert page.status == 303 and page.location == f"/console/events/{event.uuid}?done={status}"
        now = await event_store.get_event(db, event.uuid)
        assert now is not None and now.status == status
    assert now.online_url == "https://meet.example/repair"
    assert now.start_local == "2031-04-04T10:00:00"
    actions = [e.action for e in await audit.recent(db, limit=10)]
    for name in ("event.postpone", "event.cancel", "event.restore", "event.move_online",
                 "event.reschedule"):
        assert name in actions
    shown = await alice.get(f"/console/events/{event.uuid}?done=rescheduled")
    assert "Rescheduled" in shown.text and labelled(shown.text) == []


async def test_a_reschedule_without_an_end_is_explained(staffed: RunningHub,
                                                        alice: Browser) -> None:
    event = await created_event(staffed, await create(alice))
    page = await _status(alice, event, "reschedule", start="2031-04-04T10:00", end="",
                         timezone="Europe/London")
    assert page.status == 400 and 'href="#status-end"' in page.text
    assert 'id="status-end-error"' in page.text and 'value="2031-04-04T10:00"' in page.text
    unchanged = await event_store.get_event(staffed.hub.db, event.uuid)
    assert unchanged is not None and unchanged.status == "scheduled"
    assert await audit.recent(staffed.hub.db, action="event.reschedule") == []


# Deleting -------------------------------------------------------------------------------------
async def test_deleting_asks_first_and_only_a_coordinator_can(staffed: RunningHub,
                                                              alice: Browser,
                                                              browsers: Browsers) -> None:
    event = await created_event(staffed, await create(alice))
    confirm = await alice.get(f"/console/events/{event.uuid}/delete")
    assert confirm.status == 200 and "cannot" in confirm.text and "Delete" in confirm.text
    bob = browsers(staffed)
    await bob.login("bob")
    refused = await bob.post(f"/console/events/{event.uuid}/delete",
                             {"csrf_token": (await bob.get("/console/events")).csrf()})
    assert refused.status == 403
    page = await alice.post(f"/console/events/{event.uuid}/delete",
                            {"csrf_token": confirm.csrf()})
    assert page.status == 303 and page.location == "/console/events?done=deleted"
    gone = await event_store.get_event(staffed.hub.db, event.uuid)
    assert gone is not None and gone.deleted
    [entry] = await audit.recent(staffed.hub.db, action="event.delete")
    assert entry.detail == {"title": "Repair café"}
    assert (await alice.get(f"/console/events/{event.uuid}")).status == 404


async def test_ending_a_series_from_one_of_its_dates(staffed: RunningHub, alice: Browser) -> None:
    first = await created_event(staffed, await create(
        alice, **{"recurrence.frequency": "fortnightly", "recurrence.count": "3"}))
    confirm = await alice.get(f"/console/events/{first.uuid}/delete")
    assert "the series ends" in confirm.text
    await alice.post(f"/console/events/{first.uuid}/delete",
                     {"csrf_token": confirm.csrf(), "scope": "series"})
    assert await event_store.series_events(staffed.hub.db, first.series_id or 0) == []
    [entry] = await audit.recent(staffed.hub.db, action="series.delete")
    assert entry.detail["deleted"] == 3


# The list -------------------------------------------------------------------------------------
async def test_the_list_shows_upcoming_events_with_status(staffed: RunningHub,
                                                          alice: Browser) -> None:
    event = await created_event(staffed, await create(alice))
    await _status(alice, event, "postpone")
    page = await alice.get("/console/events")
    assert page.status == 200 and 'aria-current="page"' in page.text
    assert f'href="/console/events/{event.uuid}"' in page.text
    assert "Postponed" in page.text and "0 of 12" in page.text
    assert 'href="/console/events/new?kind=skillshare"' in page.text
