"""Atom and RSS of upcoming events: well-formed XML with one entry per event, soonest first,
and hostile text escaped by the XML writer."""

from __future__ import annotations

from xml.etree import ElementTree as ET

from tests.hub.calendar.helpers import HubFactory, create, fetch

A = "{http://www.w3.org/2005/Atom}"


async def test_atom_lists_upcoming_events(hubs: HubFactory) -> None:
    hub = await hubs("north")
    later = await create(hub, title="Later <b>&</b> louder", start="2030-12-08T10:00",
                         end="2030-12-08T11:00", capacity=5, hashtags=["Music"])
    sooner = await create(hub, title="Sooner", category="CRAFTS")
    past = await create(hub, title="Long ago", start="2020-01-01T10:00", end="2020-01-01T11:00")

    status, headers, body = await fetch(f"{hub.base_url}/calendar.atom")
    assert status == 200 and headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    feed = ET.fromstring(body)
    assert feed.tag == f"{A}feed" and feed.findtext(f"{A}title") == "North hub: upcoming events"
    assert feed.find(f"{A}link[@rel='self']").get("href") == f"{hub.base_url}/calendar.atom"
    entries = feed.findall(f"{A}entry")
    assert [e.findtext(f"{A}id") for e in entries] == [sooner["url"], later["url"]]
    assert past["url"] not in body.decode()

    entry = entries[1]
    assert entry.findtext(f"{A}title") == "Later <b>&</b> louder"
    assert entry.find(f"{A}link[@rel='alternate']").get("href") == later["url"]
    assert entry.findtext(f"{A}summary") == later["summary"]
    assert entry.findtext(f"{A}summary").endswith("5 places left")
    assert entry.findtext(f"{A}updated").endswith("Z")
    assert [c.get("term") for c in entry.findall(f"{A}category")] == ["#Music"]
    assert entries[0].find(f"{A}category").get("term") == "Crafts"

    status, _, body = await fetch(f"{hub.base_url}/calendar.atom?tag=music")
    assert [e.findtext(f"{A}id") for e in ET.fromstring(body).findall(f"{A}entry")] == [
        later["url"]]


async def test_rss_lists_the_same_events(hubs: HubFactory) -> None:
    hub = await hubs("north")
    event = await create(hub, title="Soup & songs", description="Hot <soup>")
    status, headers, body = await fetch(f"{hub.base_url}/calendar.rss")
    assert status == 200 and headers["Content-Type"] == "application/rss+xml; charset=utf-8"
    rss = ET.fromstring(body)
    assert rss.tag == "rss" and rss.get("version") == "2.0"
    items = rss.findall("channel/item")
    assert len(items) == 1
    assert items[0].findtext("title") == "Soup & songs"
    assert items[0].findtext("link") == items[0].findtext("guid") == event["url"]
    description = items[0].findtext("description")
    assert description.startswith(f"<p>{event['summary']}</p>")
    assert "Hot &lt;soup&gt;" in description


async def test_an_empty_feed_is_still_valid(hubs: HubFactory) -> None:
    hub = await hubs("north")
    _, _, body = await fetch(f"{hub.base_url}/calendar.atom")
    feed = ET.fromstring(body)
    assert feed.findall(f"{A}entry") == [] and feed.findtext(f"{A}updated")
