"""Inputs for the matching tests: a befriending need and volunteers near it."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

NEIGHBOUR_NOTES = "Mrs Adeyemi, 4 Wanstead Park Road IG1 3TE, 07700 900456, key safe 2291"


def day(offset: int) -> str:
    return (date.today() + timedelta(days=offset)).isoformat()


def enhanced_need(**fields: Any) -> dict[str, Any]:
    """Weekly befriending (hub policy requires an enhanced check of regular needs)."""
    return {"kind": "regular", "title": "Weekly befriending",
            "description": "A retired nurse would enjoy a weekly chat and a cup of tea.",
            "private_notes": NEIGHBOUR_NOTES, "starts_on": day(7),
            "slots": {"tue": ["afternoon"]}, "effort_minutes": 60,
            "skills": ["befriending"], "checks_required": ["dbs_enhanced_adult"],
            "district": "IG1", "latitude": 51.5588, "longitude": 0.0712, **fields}


def volunteer(name: str, **fields: Any) -> dict[str, Any]:
    first = name.split()[0].lower()
    return {"name": name, "email": f"{first}@example.org", "district": "IG1",
            "latitude": 51.5712, "longitude": 0.0833, "skills": ["befriending"],
            "languages": ["en"], "availability": {"tue": ["afternoon"]}, **fields}


def check(checked: int = -30, renewal: int = 700) -> dict[str, Any]:
    return {"type": "dbs_enhanced_adult", "checked_on": day(checked),
            "renewal_on": day(renewal), "decision": "clear"}
