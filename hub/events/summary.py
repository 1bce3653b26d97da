"""The one line Mastodon shows under an event's name: when · where · places left.

Mastodon builds a converted Event's text from `name`, `summary` and `url` and drops
`content`, so everything a person needs at a glance goes here, in the event's own timezone:
"Sat 6 Dec, 14:00-16:00 · Redbridge Library · 5 places left" (with an en dash).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from hub.store.events import Event

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_STATUS_WORDS = {"postponed": "Postponed", "cancelled": "Cancelled",
                 "moved_online": "Moved online", "rescheduled": "Rescheduled"}
SEPARATOR = " · "
DASH = "\u2013"  # en dash, as in "14:00-16:00"


def local_times(event: Event) -> tuple[datetime, datetime]:
    """Start and end as aware datetimes in the event's timezone."""
    zone = ZoneInfo(event.timezone)
    return (datetime.fromtimestamp(event.start_at, UTC).astimezone(zone),
            datetime.fromtimestamp(event.end_at, UTC).astimezone(zone))


def _day(moment: datetime, today: date) -> str:
    year = f" {moment.year}" if moment.year != today.year else ""
    return f"{_DAYS[moment.weekday()]} {moment.day} {_MONTHS[moment.month - 1]}{year}"


def when_parts(event: Event, *, today: date | None = None) -> tuple[str, str]:
    """("Sat 6 Dec, 14:00", "16:00"), or both in full when the event spans days."""
    start, end = local_times(event)
    today = today or datetime.now(start.tzinfo).date()
    first = f"{_day(start, today)}, {start:%H:%M}"
    if start.date() == end.date():
        return first, f"{end:%H:%M}"
    return first, f"{_day(end, today)}, {end:%H:%M}"


def when_text(event: Event, *, today: date | None = None) -> str:
    """"Sat 6 Dec, 14:00-16:00", or "Sat 6 Dec, 22:00 - Sun 7 Dec, 02:00" across days (en
    dashes); the year only when it is not this year."""
    first, last = when_parts(event, today=today)
    start, end = local_times(event)
    return f"{first}{DASH}{last}" if start.date() == end.date() else f"{first} {DASH} {last}"


def where_text(event: Event) -> str | None:
    if event.status == "moved_online" or (event.online_url and not event.place_name):
        return "Online"
    if event.place_name and event.online_url:
        return f"{event.place_name} & online"
    return event.place_name


def places_text(event: Event, going: int) -> str | None:
    """"5 places left", "1 place left" or "Full"; None when places are not counted here
    (no limit, no sign-up, sign-up elsewhere, or cancelled)."""
    if (event.capacity is None or event.status == "cancelled"
            or event.join_mode not in ("free", "restricted")):
        return None
    left = max(event.capacity - going, 0)
    if left == 0:
        return "Full"
    return f"{left} place{'' if left == 1 else 's'} left"


def summary_line(event: Event, going: int, *, today: date | None = None) -> str:
    parts = [_STATUS_WORDS.get(event.status), when_text(event, today=today),
             where_text(event), places_text(event, going)]
    return SEPARATOR.join(p for p in parts if p)
