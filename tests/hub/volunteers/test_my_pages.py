"""The volunteer's own pages on their private link, over real HTTP: see, correct (the
sign-up form, filled in), change consents, download, delete with confirmation."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator, Awaitable, Callable

import orjson
import pytest

from hub.store import volunteers as store
from tests.hub.volunteers.test_signup_web import send
from tests.hub.volunteers.web import Visitor, signup_form
from tests.support.hubs import RunningHub

HubFactory = Callable[..., Awaitable[RunningHub]]


@pytest.fixture
async def hub(hubs: HubFactory) -> RunningHub:
    return await hubs("north")


@pytest.fixture
async def visitor(hub: RunningHub) -> AsyncIterator[Visitor]:
    client = Visitor(hub.base_url)
    yield client
    await client.close()


@pytest.fixture
async def link(visitor: Visitor) -> str:
    status, page, location = await send(visitor)
    assert status == 303 and location, page
    return location.split("?")[0]


async def test_the_page_shows_everything_kept(visitor: Visitor, link: str) -> None:
    page = await visitor.get(link)
    assert page.status == 200 and page.headers["Cache-Control"] == "no-store"
    assert page.headers["X-Robots-Tag"] == "noindex" and "Accept" in page.headers["Vary"]
    text = html.unescape(re.sub(r"<[^>]+>", "", page.text))
    for shown in ("Asha Patel", "asha.patel@example.org", "020 7946 0321", "IG1",
                  "Befriending, Gardening", "Cooking", "bike repair, scrabble",
                  "English, Gujarati, Italian", "Wednesday: evening", "Saturday: morning",
                  "Suggest me for help requests at this hub: yes",
                  "Suggest me for help requests from neighbouring hubs: no"):
        assert shown in text, shown
    # The same address without Accept: text/html is the JSON API.
    json_page = await visitor.get(link, headers={"Accept": "application/json"})
    assert orjson.loads(json_page.text)["name"] == "Asha Patel"


async def test_correcting_details_and_consents(hub: RunningHub, visitor: Visitor,
                                               link: str) -> None:
    form = await visitor.get(f"{link}/edit")
    assert form.status == 200 and 'value="Asha Patel"' in form.text
    assert 'value="gardening" checked' in form.text and 'value="sat:morning" checked' in form.text
    assert form.headers["Cache-Control"] == "no-store"

    bad = await visitor.post(f"{link}/edit", signup_form(email="not-an-address"))
    assert bad.status == 400 and "Email address is not an email address" in bad.text
    assert 'value="not-an-address"' in bad.text

    changed = signup_form(name="Asha P.", district="E14", consent_match_here=None,
                          consent_match_neighbours="yes", availability=["mon:afternoon"])
    saved = await visitor.post(f"{link}/edit", changed)
    assert saved.status == 303 and saved.location == f"{link}?done=saved"
    page = html.unescape((await visitor.get(saved.location)).text)
    assert "Your changes are saved" in page and "Asha P." in page and "Monday: afternoon" in page
    [stored] = await store.list_volunteers(hub.hub.db)
    assert stored.profile.consents == {"match_here": False, "match_neighbours": True,
                                       "contact_by_dm": True}
    history = await store.consent_history(hub.hub.db, stored.id)
    assert [(c.consent, c.given) for c in history][-2:] == [
        ("match_here", False), ("match_neighbours", True)]
    foreign = await visitor.post(f"{link}/edit", changed,
                                 headers={"Origin": "https://evil.example"})
    assert foreign.status == 403


async def test_download_everything(visitor: Visitor, link: str) -> None:
    page = await visitor.get(link)
    assert f'href="{link}/export" download' in page.text
    export = await visitor.get(f"{link}/export")
    assert export.status == 200 and export.headers["Cache-Control"] == "no-store"
    assert "attachment" in export.headers["Content-Disposition"]
    data = orjson.loads(export.text)
    assert data["email"] == "asha.patel@example.org" and data["consent_history"]


async def test_delete_asks_first_then_erases(hub: RunningHub, visitor: Visitor,
                                             link: str) -> None:
    confirm = await visitor.get(f"{link}/delete")
    assert confirm.status == 200 and "cannot be undone" in confirm.text
    unticked = await visitor.post(f"{link}/delete", {})
    assert unticked.status == 400 and "Tick the box" in unticked.text
    assert len(await store.list_volunteers(hub.hub.db)) == 1
    done = await visitor.post(f"{link}/delete", {"confirm": "yes"})
    assert done.status == 200 and "Your details are deleted" in done.text
    assert await store.list_volunteers(hub.hub.db) == []
    gone = await visitor.get(link)
    assert gone.status == 404 and "link" in gone.text
    assert (await visitor.get(f"{link}/edit")).status == 404
