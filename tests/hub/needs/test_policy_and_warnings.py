"""The hub's check policy per kind of need, and the personal-detail warnings."""

from __future__ import annotations

import pytest

from hub.needs.warnings import draft_warnings, text_warnings
from hub.settings import (
    NEED_CHECK_TYPES,
    SettingsError,
    build_settings,
    need_check_policy,
)
from hub.volunteers.model import CHECK_TYPES
from tests.hub.needs.test_object import make_need

BASE = {"home": "/nonexistent", "domain": "hub.example.org", "name": "hub"}


def test_the_settings_know_the_same_check_types_as_volunteers() -> None:
    assert NEED_CHECK_TYPES == CHECK_TYPES


def test_policy_defaults_and_overrides() -> None:
    settings = build_settings(BASE)
    assert need_check_policy(settings, "regular") == ("dbs_enhanced_adult",)
    assert need_check_policy(settings, "one_off") == ()
    custom = build_settings({**BASE, "need_checks_group_role": " dbs_basic , dbs_basic,"})
    assert need_check_policy(custom, "group_role") == ("dbs_basic",)


def test_an_unknown_check_type_stops_the_hub_with_its_name() -> None:
    with pytest.raises(SettingsError, match=r"need_checks_regular.*dbs_platinum"):
        build_settings({**BASE, "need_checks_regular": "dbs_platinum"})


@pytest.mark.parametrize(("text", "kind", "excerpt"), [
    ("Call Mrs K on 07700 900123", "phone", "07700 900123"),
    ("ring (020) 7946 0018 after six", "phone", "(020) 7946 0018"),
    ("or +44 7700 900123", "phone", "+44 7700 900123"),
    ("write to jo.k@example.org", "email", "jo.k@example.org"),
    ("near IG1 4DU", "postcode", "IG1 4DU"),
    ("at 12 Cranbrook Road", "address", "12 Cranbrook Road"),
    ("12b Mill Lane, upstairs", "address", "12b Mill Lane"),
    ("Flat 3 in the tower", "address", "Flat 3"),
])
def test_personal_details_are_flagged(text: str, kind: str, excerpt: str) -> None:
    found = [(w.kind, w.excerpt) for w in text_warnings("description", text)]
    assert (kind, excerpt) in found


@pytest.mark.parametrize("text", [
    "Weekly visit, about 1 hour, Tuesdays 2-3pm",
    "on 2026-12-08, 10:00-11:30",
    "Meet at 10.00-11.30",
    "She is 87 and loves crosswords; we need 3 volunteers for 2 hours",
    "Postcode district IG1 only",
])
def test_ordinary_text_is_not_flagged(text: str) -> None:
    assert text_warnings("description", text) == []


def test_only_public_fields_are_scanned() -> None:
    need = make_need()  # its private notes are full of details
    assert draft_warnings(need.draft) == []
    warnings = draft_warnings(make_need(title="Shopping for 14 High Street").draft)
    assert [(w.field, w.kind) for w in warnings] == [("title", "address")]
    assert warnings[0].message == "title: “14 High Street” looks like a street address"
