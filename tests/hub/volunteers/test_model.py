"""Volunteer validation: every bad field is refused by name; points are rounded to ~1 km."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from hub.events.model import FieldError
from hub.volunteers.model import (
    Check,
    check_problems,
    check_status,
    check_valid_on,
    known_concepts,
    parse_check,
    parse_profile,
    parse_training,
)

GOOD: dict[str, Any] = {"name": "Asha Patel", "email": "Asha@Example.org", "district": "ig1"}


def test_a_minimal_profile_is_normalised() -> None:
    profile = parse_profile(GOOD)
    assert (profile.email, profile.district, profile.max_commitments) == (
        "asha@example.org", "IG1", 1)
    assert profile.consents == {"match_here": False, "match_neighbours": False,
                                "contact_by_dm": False}


def test_a_full_profile() -> None:
    profile = parse_profile({
        **GOOD, "handle": "Asha@mastodon.example", "phone": "+44 20 7946 0000",
        "skills": ["lifts-driving", "lifts-driving", "gardening"], "interests": ["reading-books"],
        "tags": ["Cats"], "languages": ["en", "pa-Guru"],
        "availability": {"sat": ["evening", "morning"], "mon": ["afternoon"], "tue": []},
        "max_commitments": 3, "consents": {"match_here": True}})
    assert profile.handle == "@asha@mastodon.example"
    assert profile.skills == ("lifts-driving", "gardening") and profile.tags == ("cats",)
    assert profile.availability == {"mon": ("afternoon",), "sat": ("morning", "evening")}
    assert profile.consents["match_here"] and not profile.consents["match_neighbours"]


def test_a_point_is_rounded_to_two_places() -> None:
    profile = parse_profile({**GOOD, "district": None, "latitude": 51.558734,
                             "longitude": 0.071289})
    assert (profile.latitude, profile.longitude) == (51.56, 0.07)


@pytest.mark.parametrize(("change", "field"), [
    ({"name": ""}, "name"),
    ({"name": None}, "name"),
    ({"email": "not-an-address"}, "email"),
    ({"email": None}, "email"),  # no contact left at all
    ({"handle": "asha"}, "handle"),
    ({"phone": "call me"}, "phone"),
    ({"district": "IG1 4AB"}, "district"),
    ({"district": "12"}, "district"),
    ({"district": None}, "district"),  # no location left
    ({"latitude": 51.5}, "latitude"),  # without longitude
    ({"latitude": 91, "longitude": 0}, "latitude"),
    ({"latitude": True, "longitude": 0}, "latitude"),
    ({"skills": ["Driving Cars"]}, "skills"),
    ({"skills": "driving"}, "skills"),
    ({"tags": ["x" * 41]}, "tags"),
    ({"languages": ["English"]}, "languages"),
    ({"availability": {"someday": ["morning"]}}, "availability"),
    ({"availability": {"mon": ["night"]}}, "availability"),
    ({"availability": ["mon"]}, "availability"),
    ({"max_commitments": 0}, "max_commitments"),
    ({"max_commitments": 2.5}, "max_commitments"),
    ({"consents": {"sell_my_data": True}}, "consents.sell_my_data"),
    ({"consents": {"match_here": "yes"}}, "consents.match_here"),
    ({"certificate_number": "001234567890"}, "certificate_number"),
    ({"references_received": 2}, "references_received"),  # staff only, not a profile field
])
def test_bad_profile_fields_are_named(change: dict[str, Any], field: str) -> None:
    with pytest.raises(FieldError) as caught:
        parse_profile({**GOOD, **change})
    assert caught.value.field == field


def test_a_correction_is_checked_against_the_whole_profile() -> None:
    base = parse_profile(GOOD)
    assert parse_profile({"handle": "@a@b.example", "email": None}, base).email is None
    with pytest.raises(FieldError, match="email"):
        parse_profile({"email": None}, base)
    changed = parse_profile({"consents": {"contact_by_dm": True}}, base)
    assert changed.name == "Asha Patel" and changed.consents["contact_by_dm"]


CHECK = {"type": "dbs_enhanced_adult", "checked_on": "2026-01-10", "renewal_on": "2029-01-10",
         "decision": "clear"}


@pytest.mark.parametrize(("change", "field"), [
    ({"type": "dbs_super"}, "type"),
    ({"checked_on": "10/01/2026"}, "checked_on"),
    ({"checked_on": "2030-01-01", "renewal_on": "2031-01-01"}, "checked_on"),  # future
    ({"renewal_on": "2025-01-01"}, "renewal_on"),
    ({"renewal_on": "2026-01-10"}, "renewal_on"),
    ({"decision": "probably"}, "decision"),
    ({"certificate_number": "001234567890"}, "certificate_number"),
    ({"note": "caution for..."}, "note"),
])
def test_bad_check_fields_are_named(change: dict[str, Any], field: str) -> None:
    with pytest.raises(FieldError) as caught:
        parse_check({**CHECK, **change}, today=date(2026, 6, 1))
    assert caught.value.field == field


def test_every_problem_of_a_check_is_listed_in_field_order() -> None:
    problems = check_problems({"checked_on": "2030-01-01", "renewal_on": "soon",
                               "decision": "maybe"}, today=date(2026, 6, 1))
    assert [p.field for p in problems] == ["type", "checked_on", "renewal_on", "decision"]
    assert check_problems(CHECK, today=date(2026, 6, 1)) == []


def test_bad_training_is_named() -> None:
    with pytest.raises(FieldError, match="course"):
        parse_training({"course": "Safeguarding!", "completed_on": "2026-01-01"})
    with pytest.raises(FieldError, match="completed_on"):
        parse_training({"course": "safeguarding_adults", "completed_on": "soon"})


def _check(decision: str = "clear") -> Check:
    return Check("c", 1, "dbs_basic", date(2026, 1, 10), date(2027, 1, 10), decision, 0.0)


@pytest.mark.parametrize(("day", "status"), [
    (date(2026, 1, 9), "not_yet"), (date(2026, 1, 10), "clear"), (date(2027, 1, 9), "clear"),
    (date(2027, 1, 10), "lapsed"), (date(2030, 1, 1), "lapsed")])
def test_check_validity_over_time(day: date, status: str) -> None:
    assert check_status(_check(), day) == status
    assert check_valid_on(_check(), day) is (status == "clear")


def test_a_check_that_is_not_clear_is_never_valid() -> None:
    assert check_status(_check("not_clear"), date(2026, 6, 1)) == "not_clear"
    assert not check_valid_on(_check("not_clear"), date(2026, 6, 1))


@pytest.mark.skipif(known_concepts() is None, reason="schemas/concepts/skills.json not shipped")
def test_skills_must_be_shared_concepts_when_the_list_is_shipped() -> None:
    with pytest.raises(FieldError, match="skills"):
        parse_profile({**GOOD, "skills": ["juggling"]})
    assert parse_profile({**GOOD, "tags": ["juggling"]}).tags == ("juggling",)
