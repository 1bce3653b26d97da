"""Recurring series: which local dates a rule yields, and when each occurrence starts and ends.

Pure functions, no store. Occurrences are computed in the series' own timezone from the local
wall-clock start, so a 14:00 club stays at 14:00 across a daylight-saving change while its UTC
instant moves by an hour. As in RFC 5545, `count` counts the rule's dates before exception
dates are taken out, and the first start (the anchor) must itself match the rule.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

FREQUENCIES = ("weekly", "fortnightly", "monthly_by_date", "monthly_by_weekday")
LAST = -1  # `week` for "the last <weekday> of the month"


class RecurrenceError(ValueError):
    """A rule that cannot describe a series; `field` names the part that is wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Recurrence:
    """How a series repeats. `week` is for monthly_by_weekday: 1-5, or -1 for the last."""

    frequency: str
    until: date | None = None
    count: int | None = None
    exceptions: frozenset[date] = field(default_factory=frozenset)
    week: int | None = None

    def to_json(self) -> dict[str, object]:
        return {"frequency": self.frequency,
                "until": self.until.isoformat() if self.until else None,
                "count": self.count, "week": self.week,
                "exceptions": sorted(d.isoformat() for d in self.exceptions)}

    @classmethod
    def from_json(cls, data: dict) -> Recurrence:
        return cls(frequency=data["frequency"],
                   until=date.fromisoformat(data["until"]) if data.get("until") else None,
                   count=data.get("count"), week=data.get("week"),
                   exceptions=frozenset(date.fromisoformat(d) for d in data.get("exceptions", [])))


@dataclass(frozen=True)
class Occurrence:
    """One occurrence: its date in the series (its stable key) and its local and UTC times."""

    day: date
    start_local: datetime   # naive wall-clock time in the series' timezone
    end_local: datetime
    start_utc: datetime
    end_utc: datetime


def nth_weekday(year: int, month: int, weekday: int, week: int) -> date | None:
    """The `week`-th `weekday` (Monday=0) of a month, -1 for the last; None if there is none."""
    days = [d for d in range(1, calendar.monthrange(year, month)[1] + 1)
            if calendar.weekday(year, month, d) == weekday]
    if week == LAST:
        return date(year, month, days[-1])
    return date(year, month, days[week - 1]) if week <= len(days) else None


def week_of_month(day: date) -> int:
    """1 for the first <weekday> of its month, 2 for the second..."""
    return (day.day - 1) // 7 + 1


def check_rule(rule: Recurrence, anchor: date) -> None:
    """Raise RecurrenceError unless `rule` is well formed and `anchor` is one of its dates."""
    if rule.frequency not in FREQUENCIES:
        raise RecurrenceError("recurrence.frequency",
                              f"frequency is one of {', '.join(FREQUENCIES)}")
    if rule.count is not None and rule.count < 1:
        raise RecurrenceError("recurrence.count", "count must be at least 1")
    if rule.until is not None and rule.until < anchor:
        raise RecurrenceError("recurrence.until", "until is before the first occurrence")
    if rule.week is not None:
        if rule.frequency != "monthly_by_weekday":
            raise RecurrenceError("recurrence.week", "week is only for monthly_by_weekday")
        if rule.week not in (LAST, 1, 2, 3, 4, 5):
            raise RecurrenceError("recurrence.week", "week is 1 to 5, or -1 for the last")
        if nth_weekday(anchor.year, anchor.month, anchor.weekday(), rule.week) != anchor:
            raise RecurrenceError("recurrence.week",
                                  "the first start does not fall on that week of its month")


def _raw_dates(rule: Recurrence, anchor: date) -> Iterator[date]:
    """Every date the rule yields from the anchor on, endlessly, before until/count/exceptions."""
    if rule.frequency in ("weekly", "fortnightly"):
        step = timedelta(weeks=1 if rule.frequency == "weekly" else 2)
        day = anchor
        while True:
            yield day
            day += step
    week = rule.week or week_of_month(anchor)
    year, month = anchor.year, anchor.month
    while True:
        if rule.frequency == "monthly_by_date":
            found = (date(year, month, anchor.day)
                     if anchor.day <= calendar.monthrange(year, month)[1] else None)
        else:
            found = nth_weekday(year, month, anchor.weekday(), week)
        if found is not None:
            yield found
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def occurrence_dates(rule: Recurrence, anchor: date, *, through: date,
                     limit: int | None = None) -> list[date]:
    """The series' dates from the anchor to `through` (inclusive), exceptions removed."""
    found: list[date] = []
    for index, day in enumerate(_raw_dates(rule, anchor)):
        if day > through or (rule.until is not None and day > rule.until):
            break
        if rule.count is not None and index >= rule.count:
            break
        if day not in rule.exceptions:
            found.append(day)
            if limit is not None and len(found) >= limit:
                break
    return found


def is_occurrence_date(rule: Recurrence, anchor: date, day: date) -> bool:
    """True if the rule (ignoring exceptions) yields `day`."""
    plain = Recurrence(rule.frequency, rule.until, rule.count, frozenset(), rule.week)
    return day in occurrence_dates(plain, anchor, through=day)


def localise(wall_clock: datetime, zone: ZoneInfo) -> datetime:
    """A naive local time as an aware one. A time skipped by a DST change moves forward by
    the gap (RFC 5545); a repeated one means its first instance (fold=0)."""
    return wall_clock.replace(tzinfo=zone)


def to_utc(wall_clock: datetime, zone: ZoneInfo) -> datetime:
    return localise(wall_clock, zone).astimezone(UTC)


def occurrence_on(day: date, start: datetime, end: datetime, zone: ZoneInfo) -> Occurrence:
    """The occurrence on `day` of a series whose first start/end (wall clock) are given: the
    same time of day and the same wall-clock length."""
    start_local = datetime.combine(day, start.time())
    end_local = start_local + (end - start)
    return Occurrence(day, start_local, end_local, to_utc(start_local, zone),
                      to_utc(end_local, zone))


def occurrences(rule: Recurrence, start: datetime, end: datetime, zone: ZoneInfo, *,
                through: date, limit: int | None = None) -> list[Occurrence]:
    """Every occurrence from the first start to `through`, at most `limit` of them."""
    return [occurrence_on(day, start, end, zone)
            for day in occurrence_dates(rule, start.date(), through=through, limit=limit)]
