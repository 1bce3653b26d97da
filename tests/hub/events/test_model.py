"""Event input: every field checked, each bad one named."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest

from hub.events.model import (
    FieldError,
    categories,
    description_html,
    draft_to_input,
    merge_patch,
    parse_draft,
    parse_recurrence,
)
from tests.hub.events.factories import draft_input


def test_a_full_draft_parses_and_round_trips() -> None:
    draft = parse_draft(draft_input(
        kind="skillshare", description="Bring **wool**.", capacity=12, join_mode="restricted",
        category="WORKSHOPS_SKILL_SHARING", hashtags=["#Knitting", "knitting", "crafts"],
        online_url="https://meet.example/knit", language="en-GB",
        learning_outcome="Cast on and knit a row", level="beginner",
        what_to_bring="Needles if you have them", teacher="@ada@craft.example"))
    assert draft.start == datetime(2026, 12, 5, 14) and draft.hashtags == ("Knitting", "crafts")
    assert draft.place is not None and draft.place.latitude == 51.5586
    assert parse_draft(draft_to_input(draft)) == draft


def test_categories_are_the_fep_list() -> None:
    cats = categories()
    assert len(cats) == 36 and cats[0] == "ARTS" and cats[-1] == "WORKSHOPS_SKILL_SHARING"
    assert {"COMMUNITY", "MEETING", "LEARNING"} <= set(cats)


BAD: list[tuple[dict[str, Any], str]] = [
    ({"title": ""}, "title"),
    ({"title": "x" * 201}, "title"),
    ({"title": 5}, "title"),
    ({"timezone": "Europe/Atlantis"}, "timezone"),
    ({"timezone": "../../etc/passwd"}, "timezone"),
    ({"timezone": None}, "timezone"),
    ({"start": "6 December"}, "start"),
    ({"start": "2026-12-05T14:00+01:00"}, "start"),
    ({"end": None}, "end"),
    ({"end": "2026-12-05T13:00"}, "end"),
    ({"end": "2026-12-05T14:00"}, "end"),
    ({"end": "2027-02-05T14:00"}, "end"),
    ({"capacity": 0}, "capacity"),
    ({"capacity": -3}, "capacity"),
    ({"capacity": True}, "capacity"),
    ({"capacity": "12"}, "capacity"),
    ({"join_mode": "invite"}, "join_mode"),
    ({"join_mode": "external"}, "external_url"),
    ({"join_mode": "external", "external_url": "javascript:alert(1)"}, "external_url"),
    ({"external_url": "https://tickets.example"}, "external_url"),
    ({"category": "PICNICS"}, "category"),
    ({"hashtags": ["two words"]}, "hashtags"),
    ({"hashtags": ["2026"]}, "hashtags"),
    ({"hashtags": "knitting"}, "hashtags"),
    ({"hashtags": [f"t{i}" for i in range(11)]}, "hashtags"),
    ({"place": {"name": "Hall", "latitude": 91, "longitude": 0}}, "place.latitude"),
    ({"place": {"name": "Hall", "latitude": 51, "longitude": 181}}, "place.longitude"),
    ({"place": {"name": "Hall", "latitude": 51}}, "place.longitude"),
    ({"place": {"name": "Hall", "latitude": "51", "longitude": 0}}, "place.latitude"),
    ({"place": {"street_address": "1 Road"}}, "place.name"),
    ({"place": {"name": "Hall", "city": "Ilford"}}, "place.city"),
    ({"place": "Redbridge Library"}, "place"),
    ({"online_url": "meet.example/knit"}, "online_url"),
    ({"online_url": "ftp://meet.example/knit"}, "online_url"),
    ({"language": "English"}, "language"),
    ({"kind": "party"}, "kind"),
    ({"level": "beginner"}, "level"),
    ({"kind": "skillshare", "level": "expert"}, "level"),
    ({"teacher": "Ada"}, "teacher"),
    ({"banner": 7}, "banner"),
    ({"colour": "red"}, "colour"),
]


@pytest.mark.parametrize(("change", "field"), BAD)
def test_each_bad_field_is_named(change: dict[str, Any], field: str) -> None:
    with pytest.raises(FieldError) as caught:
        parse_draft(draft_input(**change))
    assert caught.value.field == field
    assert caught.value.status == 400


def test_markdown_becomes_sanitised_html_and_keeps_no_script() -> None:
    html = description_html("# Hi\n\nBring **wool** <script>alert(1)</script> "
                            "[x](javascript:alert(1)) [site](https://example.org)\n\n"
                            "![photo](https://example.org/p.jpg)")
    assert "<strong>wool</strong>" in html and "<script" not in html
    assert 'href="javascript' not in html
    assert 'href="https://example.org"' in html and "<img" not in html
    assert description_html("   ") == ""


def test_patch_merges_and_rechecks_the_whole() -> None:
    draft = parse_draft(draft_input(kind="skillshare", level="beginner", teacher="Ada"))
    moved = merge_patch(draft, {"start": "2026-12-05T15:00", "end": "2026-12-05T17:00"})
    assert moved.start.hour == 15 and moved.teacher == "Ada"
    plain = merge_patch(draft, {"kind": "event"})
    assert plain.level is None and plain.teacher is None
    with pytest.raises(FieldError) as caught:
        merge_patch(draft, {"end": "2026-12-05T10:00"})
    assert caught.value.field == "end"
    with pytest.raises(FieldError):
        merge_patch(draft, {"recurrence": {"frequency": "weekly"}})
    external = merge_patch(draft, {"join_mode": "external",
                                   "external_url": "mailto:knit@example.org"})
    assert merge_patch(external, {"join_mode": "free"}).external_url is None


@pytest.mark.parametrize(("value", "field"), [
    ("weekly", "recurrence"),
    ({"frequency": "daily"}, "recurrence.frequency"),
    ({"frequency": "weekly", "count": "3"}, "recurrence.count"),
    ({"frequency": "weekly", "count": 5000}, "recurrence.count"),
    ({"frequency": "weekly", "until": "soon"}, "recurrence.until"),
    ({"frequency": "weekly", "until": "2026-01-01"}, "recurrence.until"),
    ({"frequency": "weekly", "exceptions": ["24 Dec"]}, "recurrence.exceptions"),
    ({"frequency": "weekly", "every": 2}, "recurrence.every"),
    ({"frequency": "monthly_by_weekday", "week": -1}, "recurrence.week"),
])
def test_bad_recurrence_is_named(value: Any, field: str) -> None:
    with pytest.raises(FieldError) as caught:
        parse_recurrence(value, date(2026, 12, 5))
    assert caught.value.field == field


def test_recurrence_parses() -> None:
    rule = parse_recurrence({"frequency": "monthly_by_weekday", "week": -1, "count": 6,
                             "exceptions": ["2026-12-29"]}, date(2026, 10, 27))
    assert rule.week == -1 and rule.count == 6 and date(2026, 12, 29) in rule.exceptions
