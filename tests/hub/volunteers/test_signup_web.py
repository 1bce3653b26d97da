"""Signing up to volunteer on the hub's web form, over real HTTP: success, each kind of
mistake, the CSRF check, the rate limit, and the welcome email with the private link."""

from __future__ import annotations

import html
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from hub.jobs.registry import build_runner
from hub.mailsink import MailSink
from hub.store import audit
from hub.store import volunteers as store
from tests.hub.volunteers.web import Visitor, signup_form
from tests.support.hubs import RunningHub, start_hub

HubFactory = Callable[..., Awaitable[RunningHub]]


@pytest.fixture
async def hub(hubs: HubFactory) -> RunningHub:
    return await hubs("north")


@pytest.fixture
async def visitor(hub: RunningHub) -> AsyncIterator[Visitor]:
    client = Visitor(hub.base_url)
    yield client
    await client.close()


async def _count(hub: RunningHub) -> int:
    return int(await hub.hub.db.fetchval("SELECT count(*) FROM volunteers"))


async def send(visitor: Visitor, **changes: object) -> tuple[int, str, str | None]:
    """Open the form, then send it with its token; (status, page, Location)."""
    page = await visitor.get("/volunteer")
    assert page.status == 200, page.text
    form = signup_form(**changes)
    form["csrf_token"] = page.csrf()
    answer = await visitor.post("/volunteer", form)
    return answer.status, html.unescape(answer.text), answer.location


async def test_the_home_page_links_to_the_form(visitor: Visitor) -> None:
    page = await visitor.get("/")
    assert 'href="' in page.text and "/volunteer\"" in page.text
    form = await visitor.get("/volunteer")
    assert form.status == 200 and form.headers["Cache-Control"] == "no-store"
    assert " checked" not in form.text  # nothing is ticked for them, consents least of all
    for label in ("Your name", "Email address", "Postcode district", "Gardening",
                  "Suggest me for help requests from neighbouring hubs", "Wednesday"):
        assert label in html.unescape(form.text), label


async def test_a_sign_up_is_stored_pending_and_shows_the_private_link(
        hub: RunningHub, visitor: Visitor) -> None:
    status, page, location = await send(visitor, latitude="51.558734", longitude="0.071289")
    assert status == 303 and location and location.startswith("/me/"), page
    welcome = await visitor.get(location)
    assert welcome.status == 200 and welcome.headers["Cache-Control"] == "no-store"
    text = html.unescape(welcome.text)
    link = hub.base_url + location.split("?")[0]
    assert "Thank you, Asha Patel" in text and link in text
    assert "Waiting for a coordinator" in text

    [stored] = await store.list_volunteers(hub.hub.db)
    assert (stored.status, stored.source, stored.handle_verified) == ("pending", "web", False)
    raw = b"".join(p.read_bytes() for p in hub.hub.db.path.parent.iterdir()
                   if p.name.startswith(hub.hub.db.path.name))
    # SQLite keeps a REAL as an 8-byte big-endian double: the rounded point is there, the
    # exact one nowhere, not even in the write-ahead log.
    assert struct.pack(">d", 51.56) in raw
    assert struct.pack(">d", 51.558734) not in raw and struct.pack(">d", 0.071289) not in raw
    p = stored.profile
    assert (p.district, p.latitude, p.longitude) == ("IG1", 51.56, 0.07)
    assert p.skills == ("befriending", "gardening") and p.interests == ("cooking",)
    assert p.tags == ("bike repair", "scrabble") and p.languages == ("en", "gu", "it")
    assert p.availability == {"wed": ("evening",), "sat": ("morning",)}
    assert p.max_commitments == 2
    assert p.consents == {"match_here": True, "match_neighbours": False,
                          "contact_by_dm": True}
    # The link is the volunteer's: the JSON API answers on it too.
    status, mine = await hub.api("GET", location.split("?")[0])
    assert status == 200 and mine["status"] == "pending"


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"name": ""}, "name", "Your name is required"),
    ({"email": "", "handle": ""}, "email", "Give an email address or a fediverse handle"),
    ({"email": "asha@"}, "email", "Email address is not an email address"),
    ({"handle": "asha"}, "handle", "Fediverse handle is a fediverse handle"),
    ({"phone": "call me"}, "phone", "Phone number is a phone number"),
    ({"district": "IG1 4AB"}, "district", "Postcode district is a UK postcode district"),
    ({"district": ""}, "district", "Give a postcode district"),
    ({"latitude": "north", "longitude": "0.07"}, "latitude", "Latitude is a number"),
    ({"latitude": "51.5"}, "latitude", "Latitude and longitude go together"),
    ({"max_commitments": "0"}, "max_commitments", "How many at once is a whole number"),
    ({"max_commitments": "lots"}, "max_commitments", "How many at once is a whole number"),
    ({"availability": ["sat:night"]}, "availability", "When you are free has a time"),
    ({"skills": ["juggling"]}, "skills", "'juggling' is not a known concept id"),
    ({"other_languages": "english!"}, "languages", "'english!' is not a language code"),
])
async def test_each_mistake_is_shown_and_nothing_is_stored(
        hub: RunningHub, visitor: Visitor, changes: dict[str, object], field: str,
        message: str) -> None:
    status, page, _ = await send(visitor, **changes)
    assert status == 400
    assert "There is a problem" in page and message in page, page
    assert f'id="{field}-error"' in page or f'href="#{field}' in page
    kept = changes.get("name", "Asha Patel") or 'value=""'
    assert str(kept) in page  # what was typed is still there
    assert await _count(hub) == 0


async def test_every_mistake_is_listed_at_once(hub: RunningHub, visitor: Visitor) -> None:
    status, page, _ = await send(visitor, email="nope", district="99", max_commitments="x")
    assert status == 400
    for message in ("Email address is not", "Postcode district is", "How many at once is"):
        assert message in page
    assert 'value="bike repair, Scrabble"' in page and "checked" in page


async def test_a_form_without_its_token_is_refused(hub: RunningHub, visitor: Visitor) -> None:
    await visitor.get("/volunteer")
    answer = await visitor.post("/volunteer", signup_form())
    assert answer.status == 403 and "security token" in answer.text
    assert "Asha Patel" in answer.text  # shown back to send again
    page = await visitor.get("/volunteer")
    form = signup_form()
    form["csrf_token"] = page.csrf()
    answer = await visitor.post("/volunteer", form, headers={"Origin": "https://evil.example"})
    assert answer.status == 403
    stranger = Visitor(hub.base_url)  # another browser: its cookie is not this token
    try:
        form["csrf_token"] = page.csrf()
        assert (await stranger.post("/volunteer", form)).status == 403
    finally:
        await stranger.close()
    assert await _count(hub) == 0


async def test_submissions_are_rate_limited(hub: RunningHub, visitor: Visitor) -> None:
    page = await visitor.get("/volunteer")
    form = signup_form(name="")
    form["csrf_token"] = page.csrf()
    statuses = [(await visitor.post("/volunteer", form)).status for _ in range(11)]
    assert statuses == [400] * 10 + [429]
    limited = await visitor.post("/volunteer", form)
    assert limited.status == 429 and int(limited.headers["Retry-After"]) > 0


async def test_the_private_link_is_emailed(tmp_path: Path) -> None:
    smtp = MailSink()
    await smtp.start()
    running = await start_hub(tmp_path / "hub", name="hub", smtp_host="127.0.0.1",
                              smtp_port=smtp.port, smtp_security="none")
    visitor = Visitor(running.base_url)
    try:
        _, _, location = await send(visitor)
        assert location
        await build_runner(running.hub).tick()
        [message] = smtp.messages
        assert message["To"] == "asha.patel@example.org"
        body = message.get_payload(decode=True).decode()
        assert running.base_url + location.split("?")[0] in body and "Hello Asha Patel" in body
        # Once sent, the link is no longer kept beside the mail row, and it is not sent twice.
        assert await running.hub.db.fetchval("SELECT link FROM volunteer_mail") is None
        await build_runner(running.hub).tick()
        assert len(smtp.messages) == 1
        # When a coordinator approves them, they are told so (without a link this time).
        [volunteer] = await store.list_volunteers(running.hub.db)
        status, _ = await running.api("POST", f"/api/v1/volunteers/{volunteer.uuid}/approve")
        assert status == 200
        await build_runner(running.hub).tick()
        assert [m["Subject"] for m in smtp.messages][1:] == ["You're confirmed as a volunteer"]
        assert "/me/" not in smtp.messages[1].get_payload(decode=True).decode()
    finally:
        await visitor.close()
        await running.stop()
        await smtp.stop()


async def test_staff_approve_a_sign_up_through_the_api(hub: RunningHub,
                                                       visitor: Visitor) -> None:
    await send(visitor)
    status, pending = await hub.api("GET", "/api/v1/volunteers?status=pending")
    assert status == 200 and [v["source"] for v in pending["items"]] == ["web"]
    volunteer_id = pending["items"][0]["id"]
    status, approved = await hub.api("POST", f"/api/v1/volunteers/{volunteer_id}/approve")
    assert status == 200 and approved["status"] == "active"
    status, pending = await hub.api("GET", "/api/v1/volunteers?status=pending")
    assert pending["items"] == []
    status, _ = await hub.api("GET", "/api/v1/volunteers?status=maybe")
    assert status == 400
    assert "volunteer.approve" in [e.action for e in await audit.recent(hub.hub.db)]


async def test_a_new_private_link_by_email(tmp_path: Path) -> None:
    smtp = MailSink()
    await smtp.start()
    running = await start_hub(tmp_path / "hub", name="hub", smtp_host="127.0.0.1",
                              smtp_port=smtp.port, smtp_security="none")
    visitor = Visitor(running.base_url)
    try:
        _, _, location = await send(visitor)
        assert location
        old_link = location.split("?")[0]
        await build_runner(running.hub).tick()  # the welcome
        page = await visitor.get("/volunteer/link")
        assert page.status == 200 and "Send me a new link" in page.text
        # An unknown address gets the same answer as a known one, and no email.
        for email in ("nobody@example.org", "ASHA.PATEL@example.org"):
            answer = await visitor.post("/volunteer/link", {"csrf_token": page.csrf(),
                                                            "email": email})
            assert answer.status == 200 and "If a volunteer signed up with" in answer.text
        bad = await visitor.post("/volunteer/link", {"csrf_token": page.csrf(), "email": "x"})
        assert bad.status == 400 and "Enter the email address" in bad.text
        forged = await visitor.post("/volunteer/link", {"email": "asha.patel@example.org"})
        assert forged.status == 403
        await build_runner(running.hub).tick()
        assert [m["Subject"] for m in smtp.messages] == ["Your volunteer sign-up",
                                                         "Your new private link"]
        body = smtp.messages[1].get_payload(decode=True).decode()
        new_link = body.split(f"{running.base_url}/me/", 1)[1].split()[0]
        assert (await visitor.get(f"/me/{new_link}")).status == 200
        gone = await visitor.get(old_link)
        assert gone.status == 404 and "/volunteer/link" in gone.text
    finally:
        await visitor.close()
        await running.stop()
        await smtp.stop()


async def test_without_email_the_link_page_says_whom_to_ask(visitor: Visitor) -> None:
    page = await visitor.get("/volunteer/link")
    assert page.status == 200 and "cannot send email" in page.text
    assert 'action="/volunteer/link"' not in page.text
