"""The summary line Mastodon shows: when · where · places left."""

from __future__ import annotations

from datetime import date

import pytest

from hub.events.summary import summary_line
from tests.hub.events.factories import make_event

TODAY = date(2026, 11, 20)


def test_places_left() -> None:
    event = make_event(start="2026-12-06T14:00", end="2026-12-06T16:00", capacity=12)
    assert summary_line(event, 7, today=TODAY) == (
        "Sun 6 Dec, 14:00\u201316:00 · Redbridge Library · 5 places left")


def test_one_place_left_and_full() -> None:
    event = make_event(capacity=12)
    assert summary_line(event, 11, today=TODAY).endswith(" · 1 place left")
    assert summary_line(event, 12, today=TODAY).endswith(" · Full")
    assert summary_line(event, 15, today=TODAY).endswith(" · Full")


def test_unlimited_says_nothing_about_places() -> None:
    line = summary_line(make_event(capacity=None), 40, today=TODAY)
    assert line == "Sat 5 Dec, 14:00\u201316:00 · Redbridge Library"


@pytest.mark.parametrize("mode", ["none", "external"])
def test_no_count_when_places_are_not_taken_here(mode: str) -> None:
    extra = {"external_url": "https://tickets.example"} if mode == "external" else {}
    line = summary_line(make_event(capacity=10, join_mode=mode, **extra), 3, today=TODAY)
    assert "place" not in line and "Full" not in line


def test_online_and_hybrid() -> None:
    online = make_event(place=None, online_url="https://meet.example/knit")
    assert summary_line(online, 0, today=TODAY) == "Sat 5 Dec, 14:00\u201316:00 · Online"
    hybrid = make_event(online_url="https://meet.example/knit")
    assert " · Redbridge Library & online" in summary_line(hybrid, 0, today=TODAY)


def test_status_words_lead() -> None:
    event = make_event(capacity=10)
    cancelled = make_event(capacity=10, status="cancelled")
    assert summary_line(cancelled, 3, today=TODAY) == (
        "Cancelled · Sat 5 Dec, 14:00\u201316:00 · Redbridge Library")
    moved = make_event(capacity=10, status="moved_online",
                       online_url="https://meet.example/knit")
    assert summary_line(moved, 3, today=TODAY).startswith("Moved online · Sat 5 Dec")
    assert " · Online · 7 places left" in summary_line(moved, 3, today=TODAY)
    assert summary_line(make_event(status="postponed"), 0, today=TODAY).startswith(
        "Postponed · ")
    assert summary_line(event, 3, today=TODAY).startswith("Sat")


def test_times_are_local_and_the_year_shows_when_not_this_year() -> None:
    summer = make_event(start="2027-07-03T10:30", end="2027-07-03T12:00")
    assert summary_line(summer, 0, today=TODAY).startswith("Sat 3 Jul 2027, 10:30\u201312:00")
    overnight = make_event(start="2026-12-05T22:00", end="2026-12-06T01:00")
    assert summary_line(overnight, 0, today=TODAY).startswith(
        "Sat 5 Dec, 22:00 \u2013 Sun 6 Dec, 01:00")
    us = make_event(timezone="America/New_York", place={"name": "Hall"})
    assert summary_line(us, 0, today=TODAY) == "Sat 5 Dec, 14:00\u201316:00 · Hall"
