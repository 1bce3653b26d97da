"""What the matcher reads and returns: plain frozen values, no database, no I/O but the concepts.

A `Volunteer` here is already what a hub may match on: a pseudonymous id, a point the hub has
rounded, and the *status* of checks (never certificate contents). The same values serve local
volunteers and needs that arrive from neighbouring hubs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from importlib import resources
from typing import Literal

from hub.matching.geo import GeoPoint

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
PARTS = ("morning", "afternoon", "evening")

Part = Literal["morning", "afternoon", "evening"]
Slot = tuple[int, str]  # (day 0 = Monday .. 6, part of the day)
NeedKind = Literal["one_off", "regular", "group_role"]

# Names for the reasons staff read; anything else is shown as its code.
LANGUAGE_NAMES = {
    "ar": "Arabic", "bn": "Bengali", "cy": "Welsh", "de": "German", "en": "English",
    "es": "Spanish", "fr": "French", "gu": "Gujarati", "it": "Italian", "lt": "Lithuanian",
    "pa": "Punjabi", "pl": "Polish", "pt": "Portuguese", "ro": "Romanian", "so": "Somali",
    "ta": "Tamil", "tr": "Turkish", "uk": "Ukrainian", "ur": "Urdu", "yue": "Cantonese",
    "zh": "Chinese",
}
CHECK_LABELS = {
    "dbs_basic": "basic DBS",
    "dbs_standard": "standard DBS",
    "dbs_enhanced_adult": "enhanced DBS (adult workforce)",
    "dbs_enhanced_child": "enhanced DBS (child workforce)",
    "dbs_enhanced_adult_child": "enhanced DBS (adult and child workforce)",
    "dbs_enhanced_adult_barred": "enhanced DBS with adults' barred list",
    "dbs_enhanced_child_barred": "enhanced DBS with children's barred list",
    "dbs_enhanced_adult_child_barred": "enhanced DBS with adults' and children's barred lists",
    "references": "references",
}


def slot_bit(slot: Slot) -> int:
    """The slot's bit in a 21-bit weekly availability mask."""
    day, part = slot
    if not 0 <= day <= 6 or part not in PARTS:
        raise ValueError(f"not a weekly slot: {slot!r}")
    return 1 << (day * 3 + PARTS.index(part))


def slots_mask(slots: frozenset[Slot]) -> int:
    mask = 0
    for slot in slots:
        mask |= slot_bit(slot)
    return mask


def slot_label(slot: Slot) -> str:
    return f"{DAYS[slot[0]]} {slot[1]}"


def language_name(code: str) -> str:
    return LANGUAGE_NAMES.get(code.lower(), code)


def check_label(check_type: str) -> str:
    return CHECK_LABELS.get(check_type, check_type.replace("_", " "))


def normalise_tag(tag: str) -> str:
    """Free tags compare case- and space-insensitively, so "Dog walking" meets "dog-walking"."""
    return "-".join(tag.lower().split())


@dataclass(frozen=True, slots=True)
class Check:
    """The status of a check staff recorded: type, when it was done, when it must be renewed."""

    type: str
    checked_on: date
    renews_on: date | None = None
    status: str = "clear"

    def covers(self, first: date, last: date) -> bool:
        """Whether this check is clear and in force on every day from `first` to `last`."""
        in_force_after = self.renews_on is None or self.renews_on >= last
        return self.status == "clear" and self.checked_on <= first and in_force_after


@dataclass(frozen=True, slots=True)
class Consents:
    match_here: bool = True
    match_neighbours: bool = False


@dataclass(frozen=True, slots=True)
class Volunteer:
    """A volunteer as the matcher sees them at their home hub."""

    id: str
    location: GeoPoint | None = None
    postcode_district: str = ""
    skills: frozenset[str] = frozenset()
    interests: frozenset[str] = frozenset()
    tags: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset()
    availability: frozenset[Slot] = frozenset()
    max_commitments: int = 1
    active_commitments: int = 0
    consents: Consents = field(default_factory=Consents)
    checks: tuple[Check, ...] = ()
    training: frozenset[str] = frozenset()
    recent_asks: tuple[datetime, ...] = ()
    recent_matches: tuple[datetime, ...] = ()

    def terms(self) -> frozenset[str]:
        """Concept ids and free tags together: a tag spelled like a concept meets that concept."""
        return self.skills | self.interests | frozenset(normalise_tag(t) for t in self.tags)


@dataclass(frozen=True, slots=True)
class Need:
    """What a volunteer is wanted for, as the matcher needs it.

    One-off tasks and group roles happen `on` one date (their slots must fall on that weekday);
    a regular commitment recurs in its weekly `slots` from `starts_on`, until `ends_on` if it
    has an end. Required checks must be in force on every one of those dates.
    """

    id: str
    kind: NeedKind
    slots: frozenset[Slot]
    on: date | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    skills: frozenset[str] = frozenset()
    interests: frozenset[str] = frozenset()
    tags: frozenset[str] = frozenset()
    checks_required: frozenset[str] = frozenset()
    languages_required: frozenset[str] = frozenset()
    languages_preferred: frozenset[str] = frozenset()
    location: GeoPoint | None = None
    max_distance_km: float | None = None
    from_neighbour_hub: bool = False

    def __post_init__(self) -> None:
        if not self.slots:
            raise ValueError("a need has at least one time slot")
        slots_mask(self.slots)  # rejects malformed slots early
        if self.kind == "regular":
            if self.starts_on is None:
                raise ValueError("a regular need has a start date")
        elif self.on is None:
            raise ValueError(f"a {self.kind} need has a date")
        elif any(day != self.on.weekday() for day, _ in self.slots):
            raise ValueError("a dated need's slots fall on its date's weekday")

    def check_dates(self, today: date) -> tuple[date, date]:
        """The first and last dates on which required checks must be in force.

        An ongoing regular need (no end) asks for checks in force on the day it starts, or today
        if it started already; a check that lapses later stops matching from then on.
        """
        if self.on is not None and self.kind != "regular":
            return self.on, self.on
        assert self.starts_on is not None
        first = max(self.starts_on, today)
        return first, max(self.ends_on or first, first)

    def terms(self) -> frozenset[str]:
        return self.skills | self.interests | frozenset(normalise_tag(t) for t in self.tags)


@dataclass(frozen=True, slots=True)
class Candidate:
    """One volunteer's place for a need: a rank and why, or why they were left out."""

    volunteer_id: str
    score: float
    rank: int | None
    reasons: list[str] = field(default_factory=list)
    exclusions: list[str] = field(default_factory=list)
    distance_km: float | None = None

    @property
    def eligible(self) -> bool:
        return not self.exclusions


@dataclass(frozen=True, slots=True)
class Concept:
    """A skill or interest from the shared list in `schemas/concepts/skills.json`."""

    id: str
    label: str
    broader: str | None = None
    mappings: dict[str, str] = field(default_factory=dict)


@cache
def concepts() -> dict[str, Concept]:
    """The shared skill and interest concepts, by id."""
    path = resources.files("schemas") / "concepts" / "skills.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    return {
        item["id"]: Concept(
            id=item["id"],
            label=item["label"],
            broader=item.get("broader"),
            mappings=dict(item.get("mappings", {})),
        )
        for item in data["concepts"]
    }
