"""The pure builders behind the calendar: plain text, script-safe JSON, schema.org terms,
iCalendar components and list times, on event rows made the way the service makes them."""

from __future__ import annotations

import json

import icalendar
import pytest

from federation.errors import ValidationError
from hub.activitypub.events import EventExtras
from hub.feeds import ical
from hub.feeds.listing import Listed
from hub.feeds.plaintext import html_to_text
from hub.feeds.schema_org import event_jsonld, script_json
from hub.feeds.selection import Selection, parse_category, parse_count, parse_tag
from hub.web.calendar_pages import feed_links, time_text
from tests.hub.events.factories import URLS, make_event


def test_html_becomes_readable_text() -> None:
    source = ('<p>Bring <em>wool</em> &amp; needles.</p><ul><li>Tea</li><li>Cake</li></ul>'
              '<p>See <a href="https://example.org/wool">the shop</a> or '
              '<a href="https://example.org">https://example.org</a><br>Thanks</p>')
    assert html_to_text(source) == ("Bring wool & needles.\n\n- Tea\n- Cake\n\n"
                                    "See the shop (https://example.org/wool) or "
                                    "https://example.org\nThanks")


@pytest.mark.parametrize("hostile", ["</script><script>alert(1)</script>", "<!--", "a & b",
                                     "\u2028line\u2029", "]]>"])
def test_script_json_round_trips_without_markup(hostile: str) -> None:
    text = script_json({"name": hostile})
    assert not set(text) & {"<", ">", "&", "\u2028", "\u2029"}
    assert json.loads(text) == {"name": hostile}


def test_a_moved_online_event_is_described_as_online() -> None:
    event = make_event(status="moved_online", online_url="https://meet.example/knit")
    doc = event_jsonld(event, EventExtras(), URLS, organizer="Redbridge hub")
    assert doc["eventStatus"] == "https://schema.org/EventMovedOnline"
    assert doc["eventAttendanceMode"] == "https://schema.org/OnlineEventAttendanceMode"
    assert doc["location"] == {"@type": "VirtualLocation", "url": "https://meet.example/knit"}
    assert "maximumAttendeeCapacity" not in doc and "image" not in doc


def test_a_rescheduled_event_says_when_it_was() -> None:
    event = make_event(status="rescheduled", row={"previous_start_at": 1_796_479_200.0})
    doc = event_jsonld(event, EventExtras(going=3), URLS, organizer="Redbridge hub")
    assert doc["eventStatus"] == "https://schema.org/EventRescheduled"
    assert doc["previousStartDate"] == "2026-12-05T14:00:00+00:00"


def test_a_moved_online_vevent_has_its_link_as_location_and_no_geo() -> None:
    event = make_event(status="moved_online", online_url="https://meet.example/knit",
                       capacity=10)
    vevent = ical.vevent(Listed(event, going=4), URLS)
    assert str(vevent["LOCATION"]) == "https://meet.example/knit" and "GEO" not in vevent
    assert str(vevent["STATUS"]) == "CONFIRMED"
    assert "6 places left" in str(vevent["DESCRIPTION"])
    assert "Online: https://meet.example/knit" in str(vevent["DESCRIPTION"])


def test_a_calendar_has_one_vtimezone_per_zone_and_none_for_utc() -> None:
    london = Listed(make_event(), 0)
    utc = Listed(make_event(timezone="UTC", row={"uuid": "u2"}), 0)
    cal = icalendar.Calendar.from_ical(ical.calendar([london, utc], URLS, name="Hub"))
    assert [str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")] == ["Europe/London"]
    starts = {str(v["UID"]): v.decoded("DTSTART") for v in cal.walk("VEVENT")}
    assert starts[URLS.event("u2")].utcoffset().total_seconds() == 0
    assert cal.get_missing_tzids() == set()


def test_list_times_show_the_zone_and_a_change_of_it() -> None:
    assert time_text(make_event()) == "14:00\u201316:00 GMT"
    across = make_event(start="2026-10-24T22:00", end="2026-10-25T02:00")
    assert time_text(across) == "22:00 BST \u2013 Sun 25 Oct, 02:00 GMT"


def test_filters_are_checked() -> None:
    assert parse_tag("#Wool") == "wool" and parse_category("crafts") == "CRAFTS"
    assert parse_count("page", None, default=1, maximum=9) == 1
    for call in (lambda: parse_tag("a b"), lambda: parse_tag("x" * 51),
                 lambda: parse_category("PICNICS"),
                 lambda: parse_count("limit", "0", default=5, maximum=50),
                 lambda: parse_count("limit", "1e3", default=5, maximum=50)):
        with pytest.raises(ValidationError):
            call()


def test_feed_links_follow_the_selection() -> None:
    base = URLS.base
    assert feed_links(URLS, Selection()).ics == f"{base}/calendar.ics"
    assert feed_links(URLS, Selection(tag="wool")).ics == f"{base}/tags/wool.ics"
    links = feed_links(URLS, Selection(category="CRAFTS"))
    assert links.ics == f"{base}/calendar/category/CRAFTS.ics"
    assert links.atom == f"{base}/calendar.atom?category=CRAFTS"
