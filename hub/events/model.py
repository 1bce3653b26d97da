"""What staff send to create or edit an event, checked field by field.

`parse_draft` turns the API's JSON into an `EventDraft` or raises `FieldError` naming the first
bad field; nothing is stored before a draft exists. Times are local wall-clock times plus an
IANA timezone, as people think of them; the UTC instants are derived, never typed in.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from datetime import UTC, date, datetime, timedelta
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from markdown_it import MarkdownIt

from federation.errors import ValidationError
from hub.events.recurrence import Recurrence, RecurrenceError, check_rule
from hub.text import sanitise_html

KINDS = ("event", "skillshare")
JOIN_MODES = ("free", "restricted", "none", "external")
STATUSES = ("scheduled", "postponed", "cancelled", "moved_online", "rescheduled")
LEVELS = ("beginner", "intermediate", "advanced", "all_levels")
SKILLSHARE_FIELDS = ("learning_outcome", "level", "what_to_bring", "teacher")
MAX_DURATION = timedelta(days=31)
MAX_TITLE, MAX_TEXT, MAX_DESCRIPTION = 200, 2000, 20_000
MAX_HASHTAGS, MAX_CAPACITY = 10, 100_000

_HASHTAG = re.compile(r"^[\w·]{1,50}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
_HANDLE = re.compile(r"^@?[^@\s/]+@[^@\s/]+$")
_PLACE_KEYS = ("name", "street_address", "locality", "postal_code", "region", "country",
               "latitude", "longitude")


class FieldError(ValidationError):
    """One input field is wrong; `field` names it (dotted for nested fields)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclass(frozen=True)
class Place:
    name: str
    street_address: str | None = None
    locality: str | None = None
    postal_code: str | None = None
    region: str | None = None
    country: str | None = None
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True)
class EventDraft:
    """A checked event (or series template). `teacher` is as typed: a name, or a fediverse
    handle / actor URL that the service resolves."""

    title: str
    timezone: str
    start: datetime           # naive, wall clock in `timezone`
    end: datetime
    kind: str = "event"
    description: str = ""     # Markdown, as typed
    place: Place | None = None
    online_url: str | None = None
    capacity: int | None = None
    join_mode: str = "free"
    external_url: str | None = None
    category: str | None = None
    hashtags: tuple[str, ...] = ()
    banner: str | None = None  # uuid of an uploaded image
    language: str = "en"
    learning_outcome: str | None = None
    level: str | None = None
    what_to_bring: str | None = None
    teacher: str | None = None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


INPUT_FIELDS = tuple(EventDraft.__dataclass_fields__)


@cache
def categories() -> tuple[str, ...]:
    """The FEP-8a8e recommended categories, from `schemas/event-categories.json`."""
    text = (resources.files("schemas") / "event-categories.json").read_text(encoding="utf-8")
    return tuple(json.loads(text)["categories"])


@cache
def _markdown() -> MarkdownIt:
    # Raw HTML is escaped, not passed through; images are off so `![alt](url)` stays a link.
    return MarkdownIt("commonmark", {"html": False}).disable("image")


def description_html(source: str) -> str:
    """Staff Markdown as the sanitised HTML we publish."""
    return sanitise_html(_markdown().render(source)) if source.strip() else ""


def is_fediverse_teacher(teacher: str) -> bool:
    return teacher.startswith(("https://", "http://")) or bool(_HANDLE.match(teacher))


# Field checks ---------------------------------------------------------------------------------
def _text(data: Mapping[str, Any], name: str, limit: int, *, required: bool = False,
          default: str | None = None) -> str | None:
    """A trimmed string; blank or missing gives `default` unless the field is required."""
    value = data.get(name)
    if value is not None and not isinstance(value, str):
        raise FieldError(name, "must be a string")
    if value is None or not value.strip():
        if required:
            raise FieldError(name, "is required and must be a non-empty string")
        return default
    if len(value) > limit:
        raise FieldError(name, f"is at most {limit} characters ({len(value)} given)")
    return value.strip()


def _choice(data: Mapping[str, Any], name: str, allowed: tuple[str, ...],
            default: str | None) -> str | None:
    value = data.get(name, default)
    if value is not None and value not in allowed:
        raise FieldError(name, f"is one of {', '.join(allowed)}")
    return value


def check_url(name: str, value: Any, *, schemes: tuple[str, ...] = ("https", "http")) -> str:
    if not isinstance(value, str) or len(value) > 2048 or re.search(r"\s", value):
        raise FieldError(name, "must be a URL of at most 2048 characters")
    parts = urlsplit(value)
    if parts.scheme not in schemes or (parts.scheme != "mailto" and not parts.netloc):
        raise FieldError(name, f"must be a {' or '.join(schemes)} URL")
    return value


def check_timezone(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise FieldError("timezone", "is required: an IANA name such as Europe/London")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise FieldError("timezone", f"{value!r} is not an IANA timezone") from None
    return value


def parse_local(name: str, value: Any) -> datetime:
    """`YYYY-MM-DDTHH:MM[:SS]`, a wall-clock time without offset."""
    if not isinstance(value, str):
        raise FieldError(name, "is required: a local time like 2026-12-06T14:00")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise FieldError(name, f"{value!r} is not a time like 2026-12-06T14:00") from None
    if parsed.tzinfo is not None:
        raise FieldError(name, "give the local wall-clock time without an offset; "
                               "`timezone` says where")
    if not 2000 <= parsed.year <= 2200:
        raise FieldError(name, "is out of range")
    return parsed.replace(microsecond=0)


def parse_times(data: Mapping[str, Any], timezone: str) -> tuple[datetime, datetime]:
    start, end = parse_local("start", data.get("start")), parse_local("end", data.get("end"))
    zone = ZoneInfo(timezone)
    start_utc = start.replace(tzinfo=zone).astimezone(UTC)
    end_utc = end.replace(tzinfo=zone).astimezone(UTC)
    if end_utc <= start_utc:
        raise FieldError("end", "must be after start")
    if end_utc - start_utc > MAX_DURATION:
        raise FieldError("end", f"an event lasts at most {MAX_DURATION.days} days")
    return start, end


def _coordinate(name: str, value: Any, bound: float) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not (
            -bound <= value <= bound):
        raise FieldError(name, f"must be a number between -{bound:g} and {bound:g}")
    return float(value)


def _place(value: Any) -> Place | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise FieldError("place", "must be an object with at least a name")
    unknown = sorted(set(value) - set(_PLACE_KEYS))
    if unknown:
        raise FieldError(f"place.{unknown[0]}", "is not a place field")
    texts = {k: _text({f"place.{k}": value.get(k)}, f"place.{k}", MAX_TITLE)
             for k in _PLACE_KEYS[:6]}
    if texts["name"] is None:
        raise FieldError("place.name", "is required: the venue's name")
    lat = _coordinate("place.latitude", value.get("latitude"), 90)
    lon = _coordinate("place.longitude", value.get("longitude"), 180)
    if (lat is None) != (lon is None):
        raise FieldError("place.latitude" if lat is None else "place.longitude",
                         "give latitude and longitude together")
    return Place(**{k: v for k, v in texts.items()}, latitude=lat, longitude=lon)


def _capacity(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_CAPACITY:
        raise FieldError("capacity", f"is a whole number from 1 to {MAX_CAPACITY}, "
                                     "or null for unlimited")
    return value


def _hashtags(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or len(value) > MAX_HASHTAGS:
        raise FieldError("hashtags", f"is a list of at most {MAX_HASHTAGS} tags")
    tags: dict[str, str] = {}
    for raw in value:
        tag = raw.removeprefix("#") if isinstance(raw, str) else None
        if tag is None or not _HASHTAG.match(tag) or tag.isdigit():
            raise FieldError("hashtags", f"{raw!r} is not a hashtag (letters, digits, _)")
        tags.setdefault(tag.lower(), tag)
    return tuple(tags.values())


def _join(data: Mapping[str, Any]) -> tuple[str, str | None]:
    mode = _choice(data, "join_mode", JOIN_MODES, "free") or "free"
    url = data.get("external_url")
    if mode == "external":
        if url is None:
            raise FieldError("external_url", "is required when join_mode is external")
        return mode, check_url("external_url", url, schemes=("https", "http", "mailto"))
    if url is not None:
        raise FieldError("external_url", "is only for join_mode external")
    return mode, None


def _skillshare(data: Mapping[str, Any], kind: str) -> dict[str, str | None]:
    fields = {"learning_outcome": _text(data, "learning_outcome", MAX_TEXT),
              "level": _choice(data, "level", LEVELS, None),
              "what_to_bring": _text(data, "what_to_bring", MAX_TEXT),
              "teacher": _text(data, "teacher", MAX_TITLE)}
    if kind != "skillshare":
        given = [name for name, value in fields.items() if value is not None]
        if given:
            raise FieldError(given[0], "is only for skill-share sessions (kind skillshare)")
    return fields


def _optional_url(data: Mapping[str, Any], name: str) -> str | None:
    value = data.get(name)
    return None if value is None else check_url(name, value)


def parse_draft(data: Mapping[str, Any], *, allowed_extra: tuple[str, ...] = ()) -> EventDraft:
    """Check every field of an event's JSON; FieldError names the first wrong one."""
    unknown = sorted(set(data) - set(INPUT_FIELDS) - set(allowed_extra))
    if unknown:
        raise FieldError(unknown[0], "is not an event field")
    kind = _choice(data, "kind", KINDS, "event") or "event"
    timezone = check_timezone(data.get("timezone"))
    start, end = parse_times(data, timezone)
    join_mode, external_url = _join(data)
    banner = data.get("banner")
    if banner is not None and not isinstance(banner, str):
        raise FieldError("banner", "is the id of an uploaded image (POST /api/v1/media)")
    language = data.get("language", "en")
    if not isinstance(language, str) or not _LANGUAGE.match(language):
        raise FieldError("language", "is a language tag such as en or cy")
    return EventDraft(
        title=_text(data, "title", MAX_TITLE, required=True) or "", timezone=timezone,
        start=start, end=end, kind=kind,
        description=_text(data, "description", MAX_DESCRIPTION, default="") or "",
        place=_place(data.get("place")), online_url=_optional_url(data, "online_url"),
        capacity=_capacity(data.get("capacity")), join_mode=join_mode,
        external_url=external_url, category=_choice(data, "category", categories(), None),
        hashtags=_hashtags(data.get("hashtags")), banner=banner, language=language,
        **_skillshare(data, kind))


def draft_to_input(draft: EventDraft) -> dict[str, Any]:
    """The JSON a draft was parsed from (parse_draft(draft_to_input(d)) == d)."""
    data = asdict(draft)
    data["start"], data["end"] = draft.start.isoformat(), draft.end.isoformat()
    data["hashtags"] = list(draft.hashtags)
    return data


def merge_patch(draft: EventDraft, patch: Mapping[str, Any]) -> EventDraft:
    """A draft with some fields replaced, checked as a whole. Turning a skill-share into a
    plain event drops its skill-share fields unless the patch sets them."""
    if "recurrence" in patch:
        raise FieldError("recurrence", "change a series with PATCH /api/v1/series/{id}")
    merged = {**draft_to_input(draft), **patch}
    if merged.get("kind") == "event":
        for name in SKILLSHARE_FIELDS:
            if name not in patch:
                merged[name] = None
    if merged.get("join_mode") != "external" and "external_url" not in patch:
        merged["external_url"] = None
    return parse_draft(merged)


def parse_recurrence(value: Any, anchor: date) -> Recurrence:
    """The `recurrence` object of a series: frequency, until or count, exceptions, week."""
    if not isinstance(value, dict):
        raise FieldError("recurrence", "must be an object with a frequency")
    unknown = sorted(set(value) - {"frequency", "until", "count", "exceptions", "week"})
    if unknown:
        raise FieldError(f"recurrence.{unknown[0]}", "is not a recurrence field")
    count, week = value.get("count"), value.get("week")
    for name, number in (("count", count), ("week", week)):
        if number is not None and (isinstance(number, bool) or not isinstance(number, int)):
            raise FieldError(f"recurrence.{name}", "must be a whole number")
    if count is not None and count > 1000:
        raise FieldError("recurrence.count", "is at most 1000")
    rule = Recurrence(
        frequency=value.get("frequency"), count=count, week=week,
        until=_date("recurrence.until", value["until"]) if value.get("until") else None,
        exceptions=frozenset(parse_dates("recurrence.exceptions", value.get("exceptions", []))))
    try:
        check_rule(rule, anchor)
    except RecurrenceError as exc:
        raise FieldError(exc.field, str(exc)) from None
    return rule


def _date(name: str, value: Any) -> date:
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise FieldError(name, f"{value!r} is not a date like 2026-12-24")


def parse_dates(name: str, value: Any) -> list[date]:
    if not isinstance(value, list) or len(value) > 1000:
        raise FieldError(name, "must be a list of dates like 2026-12-24")
    return [_date(name, item) for item in value]


def with_times(draft: EventDraft, start: datetime, end: datetime) -> EventDraft:
    return replace(draft, start=start, end=end)
