"""The public calendar page, the event page's previews and JSON-LD, the home page, the
widget's framing rules, and the answers to bad filters."""

from __future__ import annotations

import json
import re

from tests.hub.calendar.helpers import HubFactory, create, fetch, head_of, page
from tests.hub.events.images import png
from tests.hub.events.test_media import upload

CSP = "Content-Security-Policy"


async def test_the_calendar_groups_events_by_day_and_filters(hubs: HubFactory) -> None:
    hub = await hubs("north")
    await create(hub, title="Knit and natter", category="CRAFTS", hashtags=["Wool"],
                 capacity=8)
    skill = await create(hub, title="Darning", kind="skillshare", start="2030-12-07T18:00",
                         end="2030-12-07T19:30", learning_outcome="Mend socks",
                         level="beginner", hashtags=["wool"])
    gone = await create(hub, title="Bake sale", start="2030-12-09T10:00",
                        end="2030-12-09T12:00", place=None,
                        online_url="https://meet.example/bake")
    await hub.api("POST", f"/api/v1/events/{gone['id']}/status", {"status": "cancelled"})

    status, headers, html = await page(f"{hub.base_url}/calendar")
    assert status == 200 and "frame-ancestors 'none'" in headers[CSP]
    days = re.findall(r'<h2 id="day-([\d-]+)"><time datetime="\1">([^<]+)</time></h2>', html)
    assert days == [("2030-12-07", "Saturday 7 December 2030"),
                    ("2030-12-09", "Monday 9 December 2030")]
    saturday = html[html.index("day-2030-12-07"):html.index("day-2030-12-09")]
    assert saturday.index("Knit and natter") < saturday.index("Darning")
    assert "14:00\u201316:00 GMT</time> · Redbridge Library · 8 places left" in saturday
    assert "Skill-share</span>" in saturday and "You will learn: Mend socks" in saturday
    assert f'<a href="{skill["url"]}">Darning</a>' in saturday
    assert 'class="badge badge-cancelled">Cancelled</span>' in html
    assert "10:00\u201312:00 GMT</time> · Online" in html

    # Filters are plain links; following one narrows the list and its feeds
    assert 'href="?category=CRAFTS"' in html and 'href="?tag=wool"' in html
    _, _, crafts = await page(f"{hub.base_url}/calendar?category=CRAFTS")
    assert "Knit and natter" in crafts and "Darning" not in crafts
    assert f"{hub.base_url}/calendar/category/CRAFTS.ics" in crafts
    _, _, wool = await page(f"{hub.base_url}/calendar?tag=Wool")
    assert "Knit and natter" in wool and "Darning" in wool and "Bake sale" not in wool
    assert head_of(wool).alternates["text/calendar"] == f"{hub.base_url}/tags/wool.ics"


async def test_the_calendar_has_pages(hubs: HubFactory) -> None:
    hub = await hubs("north", page_size=2)
    for day in (1, 2, 3):
        await create(hub, title=f"Event {day}", start=f"2030-12-0{day}T10:00",
                     end=f"2030-12-0{day}T11:00")
    _, _, first = await page(f"{hub.base_url}/calendar")
    assert "Event 1" in first and "Event 3" not in first and 'href="?page=2"' in first
    _, _, second = await page(f"{hub.base_url}/calendar?page=2")
    assert "Event 3" in second and "Event 1" not in second and 'href="?page=1"' in second


async def test_bad_filters_are_refused_clearly(hubs: HubFactory) -> None:
    hub = await hubs("north")
    for path, words in (("/calendar?category=PICNICS", "is not a category"),
                        ("/calendar?tag=no%20spaces", "is not a hashtag"),
                        ("/calendar?page=0", "page"), ("/calendar?page=two", "page"),
                        ("/widget?limit=500", "limit"), ("/widget?category=x", "category"),
                        ("/calendar.atom?tag=%3Cb%3E", "hashtag"),
                        ("/calendar/category/PICNICS.ics", "is not a category"),
                        ("/tags/no%20spaces.ics", "is not a hashtag")):
        status, _, html = await page(hub.base_url + path)
        assert status == 400 and words in html, path
    status, _, body = await fetch(f"{hub.base_url}/calendar?page=-1", "application/json")
    assert status == 400 and json.loads(body)["error"].startswith("page:")
    assert (await page(f"{hub.base_url}/events/00000000-0000-4000-8000-000000000000"))[0] == 404


async def test_the_event_page_previews_and_describes_itself(hubs: HubFactory) -> None:
    hub = await hubs("north")
    status, media = await upload(hub, png(), alt="Balls of red wool")
    assert status == 201
    event = await create(hub, title="Knit and natter", banner=media["id"], capacity=12,
                         online_url="https://meet.example/knit", description="Bring *wool*.",
                         join_mode="restricted")
    status, _, html = await page(event["url"])
    assert status == 200
    head = head_of(html)
    assert head.meta["og:title"] == "Knit and natter"
    assert head.meta["og:description"] == event["summary"]
    assert head.meta["og:url"] == event["url"] and head.meta["og:type"] == "website"
    assert head.meta["og:image"] == media["url"] and media["url"].startswith("http://")
    assert head.meta["og:image:alt"] == "Balls of red wool"
    assert head.meta["twitter:card"] == "summary_large_image"
    assert head.alternates["application/activity+json"] == event["url"]
    assert head.alternates["text/calendar"] == f"{event['url']}.ics"

    [script] = head.scripts
    data = json.loads(script)
    assert data["@context"] == "https://schema.org" and data["@type"] == "Event"
    assert data["name"] == "Knit and natter" and data["description"] == "Bring wool."
    assert data["startDate"] == "2030-12-07T14:00:00+00:00"
    assert data["endDate"] == "2030-12-07T16:00:00+00:00"
    assert data["eventStatus"] == "https://schema.org/EventScheduled"
    assert data["eventAttendanceMode"] == "https://schema.org/MixedEventAttendanceMode"
    place, online = data["location"]
    assert place["@type"] == "Place" and place["address"]["postalCode"] == "IG1 1EA"
    assert place["geo"] == {"@type": "GeoCoordinates", "latitude": 51.5586,
                            "longitude": 0.0725}
    assert online == {"@type": "VirtualLocation", "url": "https://meet.example/knit"}
    assert data["image"] == [media["url"]] and data["organizer"]["name"] == "North hub"
    assert (data["maximumAttendeeCapacity"], data["remainingAttendeeCapacity"]) == (12, 12)

    # What a person reads: the zone, the map, the join rule, the calendar link
    assert "(GMT, Europe/London time)" in html
    assert "https://www.openstreetmap.org/?mlat=51.55860&amp;mlon=0.07250" in html
    assert "Places are confirmed by the hub&#39;s staff." in html
    assert f'href="{event["url"]}.ics"' in html and 'alt="Balls of red wool"' in html


async def test_a_hostile_title_cannot_escape_the_json_ld(hubs: HubFactory) -> None:
    hub = await hubs("north")
    title = '</script><script>alert(1)</script><!-- "&'
    event = await create(hub, title=title, description="</script><img src=x onerror=alert(2)>")
    await hub.api("POST", f"/api/v1/events/{event['id']}/status", {"status": "postponed"})
    _, _, html = await page(event["url"])
    assert "<script>alert(1)" not in html and "onerror=alert(2)>" not in html
    head = head_of(html)
    [script] = head.scripts
    assert "<" not in script and ">" not in script and "&" not in script
    data = json.loads(script)
    assert data["name"] == title
    assert data["eventStatus"] == "https://schema.org/EventPostponed"
    assert data["eventAttendanceMode"] == "https://schema.org/OfflineEventAttendanceMode"
    assert head.meta["og:title"] == title
    assert "This event is postponed" in html


async def test_the_home_page_shows_what_is_coming(hubs: HubFactory) -> None:
    hub = await hubs("north")
    event = await create(hub, title="Knit and natter")
    _, _, html = await page(f"{hub.base_url}/")
    assert html.index("Coming up") < html.index('id="news"')
    assert f'<a href="{event["url"]}">Knit and natter</a>' in html
    assert head_of(html).alternates["application/atom+xml"] == f"{hub.base_url}/calendar.atom"


async def test_only_the_widget_may_be_framed(hubs: HubFactory) -> None:
    hub = await hubs("north")
    await create(hub, title="Knit and natter", hashtags=["wool"])
    await create(hub, title="Quiz night", start="2030-12-08T19:00", end="2030-12-08T21:00")
    status, headers, html = await page(f"{hub.base_url}/widget?limit=1")
    assert status == 200 and "frame-ancestors *" in headers[CSP]
    assert "Knit and natter" in html and "Quiz night" not in html
    links = re.findall(r"<a [^>]*>", html)
    assert links and all('target="_blank" rel="noopener"' in a for a in links)
    _, _, tagged = await page(f"{hub.base_url}/widget?tag=wool&limit=5")
    assert "Knit and natter" in tagged and "Quiz night" not in tagged
    status, headers, _ = await page(f"{hub.base_url}/widget?limit=0")
    assert status == 400 and "frame-ancestors *" in headers[CSP]
    for path in ("/", "/calendar", "/tags/wool"):
        _, headers, _ = await page(hub.base_url + path)
        assert "frame-ancestors 'none'" in headers[CSP], path
