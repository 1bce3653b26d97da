"""The need parser: each kind's required fields, derived slots, patches, policy, JSON shapes."""

from __future__ import annotations

from datetime import date, time

import pytest

from hub.events.model import FieldError
from hub.needs.model import (
    NeedDraft,
    check_whole,
    draft_input,
    draft_json,
    merge_patch,
    parse_need,
    window_slots,
    with_policy,
)

TZ = "Europe/London"


def _one_off(**extra: object) -> dict[str, object]:
    return {"kind": "one_off", "title": "A hand with the weekly shop", "on_date": "2026-12-08",
            "start_time": "10:00", "end_time": "11:30", "district": "IG1", **extra}


def _regular(**extra: object) -> dict[str, object]:
    return {"kind": "regular", "title": "Weekly befriending", "starts_on": "2026-12-01",
            "slots": {"tue": ["afternoon"]}, "effort_minutes": 60, **extra}


def _parse(data: dict[str, object]) -> NeedDraft:
    return check_whole(parse_need(data, default_timezone=TZ))


def test_a_one_off_task_gets_its_slots_from_its_time_window() -> None:
    draft = _parse(_one_off())
    assert draft.on_date == date(2026, 12, 8) and draft.start_time == time(10)
    assert draft.slots == {"tue": ("morning",)}
    assert draft.timezone == TZ


def test_a_window_across_noon_touches_two_parts_of_the_day() -> None:
    assert window_slots(date(2026, 12, 8), time(11), time(13)) == {
        "tue": ("morning", "afternoon")}
    assert window_slots(date(2026, 12, 8), time(12), time(17)) == {"tue": ("afternoon",)}


def test_a_regular_commitment_keeps_its_weekly_slots() -> None:
    draft = _parse(_regular(ends_on="2027-06-01"))
    assert draft.slots == {"tue": ("afternoon",)} and draft.ends_on == date(2027, 6, 1)


@pytest.mark.parametrize(("data", "field"), [
    ({"title": "No kind"}, "kind"),
    ({"kind": "chores", "title": "x"}, "kind"),
    ({"kind": "one_off", "title": "   "}, "title"),
    (_one_off(on_date=None), "on_date"),
    (_one_off(on_date="8 Dec"), "on_date"),
    (_one_off(end_time=None), "end_time"),
    (_one_off(end_time="09:00"), "end_time"),
    (_one_off(start_time="25:00"), "start_time"),
    (_one_off(starts_on="2026-12-01"), "starts_on"),
    (_one_off(slots={"mon": ["morning"]}), "slots"),
    (_regular(starts_on=None), "starts_on"),
    (_regular(slots={}), "slots"),
    (_regular(slots={"someday": ["morning"]}), "slots"),
    (_regular(on_date="2026-12-01"), "on_date"),
    (_regular(ends_on="2026-01-01"), "ends_on"),
    (_regular(event="0b6f0a4e-9a3e-4d7e-8f0e-5b0c9e3d2a11"), "event"),
    (_one_off(skills=["juggling-flaming-torches"]), "skills"),
    (_one_off(checks_required=["dbs_gold"]), "checks_required"),
    (_one_off(languages_required=["English"]), "languages_required"),
    (_one_off(latitude=51.5), "latitude"),
    (_one_off(latitude=95, longitude=0), "latitude"),
    (_one_off(max_distance_km=0), "max_distance_km"),
    (_one_off(volunteers_wanted=0), "volunteers_wanted"),
    (_one_off(volunteers_wanted=True), "volunteers_wanted"),
    (_one_off(effort_minutes=-5), "effort_minutes"),
    (_one_off(district="Ilford"), "district"),
    (_one_off(timezone="Mars/Olympus"), "timezone"),
    (_one_off(event="not-a-uuid"), "event"),
    (_one_off(colour="blue"), "colour"),
    (_one_off(title="x" * 201), "title"),
    (_one_off(description="bell\x07"), "description"),
])
def test_each_bad_field_is_named(data: dict[str, object], field: str) -> None:
    with pytest.raises(FieldError) as caught:
        _parse(data)
    assert caught.value.field == field


def test_the_exact_point_is_rounded_before_anything_sees_it() -> None:
    draft = _parse(_one_off(latitude=51.558734, longitude=0.071289))
    assert (draft.latitude, draft.longitude) == (51.56, 0.07)


def test_a_patch_changes_only_what_is_sent_and_kind_is_fixed() -> None:
    draft = _parse(_one_off(description="Bags are heavy"))
    patched = check_whole(merge_patch(draft, {"title": "Shopping", "district": None}))
    assert patched.title == "Shopping" and patched.district is None
    assert patched.description == "Bags are heavy"
    with pytest.raises(FieldError) as caught:
        merge_patch(draft, {"kind": "regular"})
    assert caught.value.field == "kind"


def test_policy_checks_are_always_carried_and_not_doubled() -> None:
    draft = _parse(_regular(checks_required=["dbs_basic", "dbs_enhanced_adult"]))
    merged = with_policy(draft, ("dbs_enhanced_adult",))
    assert merged.checks_required == ("dbs_enhanced_adult", "dbs_basic")
    assert with_policy(merged, ("dbs_enhanced_adult",)) is merged


def test_json_round_trips_and_hides_private_notes_unless_asked() -> None:
    draft = _parse(_one_off(private_notes="Mrs K, flat 3, 07700 900123",
                            skills=["shopping-help"], tags=["Heavy bags"]))
    assert "private_notes" not in draft_json(draft, private=False)
    assert draft_json(draft, private=True)["private_notes"].startswith("Mrs K")
    again = check_whole(parse_need(draft_input(draft), default_timezone="UTC"))
    assert again == draft
