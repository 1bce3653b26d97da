"""Inputs for needs and volunteers, shared by the needs tests."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

NEIGHBOUR_NOTES = "Mrs Kaur, 12 Cranbrook Road IG1 4DU, 07700 900123, door code 4471"


def day(offset: int) -> str:
    return (date.today() + timedelta(days=offset)).isoformat()


def regular_need(**fields: Any) -> dict[str, Any]:
    """Weekly befriending on Tuesday afternoons near Ilford, with a neighbour's private notes."""
    return {"kind": "regular", "title": "Weekly befriending",
            "description": "A retired teacher who loves crosswords would enjoy a weekly chat.",
            "private_notes": NEIGHBOUR_NOTES, "starts_on": day(7),
            "slots": {"tue": ["afternoon"]}, "effort_minutes": 60,
            "skills": ["befriending"], "interests": ["reading-books"],
            "languages_preferred": ["pa"], "district": "IG1",
            "latitude": 51.5588, "longitude": 0.0712, **fields}


def one_off_need(**fields: Any) -> dict[str, Any]:
    return {"kind": "one_off", "title": "A hand with the weekly shop",
            "description": "Carrying bags home from the Co-op.",
            "private_notes": NEIGHBOUR_NOTES, "on_date": day(10), "start_time": "10:00",
            "end_time": "11:30", "skills": ["shopping-help"], "district": "IG1", **fields}


def volunteer(name: str, **fields: Any) -> dict[str, Any]:
    first = name.split()[0].lower()
    return {"name": name, "email": f"{first}@example.org", "district": "IG1",
            "latitude": 51.56, "longitude": 0.07, "skills": ["befriending"],
            "languages": ["en"], "availability": {"tue": ["afternoon"]},
            "consents": {"match_here": True}, **fields}


def enhanced_check(offset_checked: int = -30, offset_renewal: int = 700) -> dict[str, Any]:
    return {"type": "dbs_enhanced_adult", "checked_on": day(offset_checked),
            "renewal_on": day(offset_renewal), "decision": "clear"}
