"""A need in words: what, when, where (district only), skills and checks wanted.

Mastodon shows a converted object (our need is a `Page`) as its `name`, its `summary` and a
link, and drops `content`; so `summary_line` carries everything a person needs at a glance:
"Regular commitment · Tue afternoons from 1 Dec 2026, about 1 hour · IG1 · Befriending ·
enhanced DBS (adult workforce) needed". The same pieces make the public page's details.
"""

from __future__ import annotations

from datetime import date

from hub.matching.model import check_label, concepts, language_name
from hub.needs.model import KIND_LABELS, NeedDraft

SEPARATOR = " · "
DASH = "\u2013"
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_DAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
STATUS_WORDS = {"open": "Open", "matching": "Finding a volunteer", "filled": "Filled",
                "closed": "Closed", "cancelled": "Cancelled"}


def day_text(day: date) -> str:
    return f"{_DAYS[day.weekday()]} {day.day} {_MONTHS[day.month - 1]} {day.year}"


def slots_text(slots: dict[str, tuple[str, ...]]) -> str:
    """{"tue": ("afternoon",), "thu": ("morning", "evening")} as
    "Tue afternoons, Thu mornings and evenings"."""
    parts = []
    for key, times in slots.items():
        plural = [f"{t}s" for t in times]
        joined = plural[0] if len(plural) == 1 else ", ".join(plural[:-1]) + f" and {plural[-1]}"
        parts.append(f"{_DAYS[_DAY_KEYS.index(key)]} {joined}")
    return ", ".join(parts)


def effort_text(minutes: int | None) -> str | None:
    if minutes is None:
        return None
    hours, rest = divmod(minutes, 60)
    if hours and not rest:
        return f"about {hours} hour{'s' if hours > 1 else ''}"
    if hours:
        return f"about {hours} h {rest} min"
    return f"about {minutes} minutes"


def when_text(draft: NeedDraft) -> str:
    """"Tue 8 Dec 2026, 10:00-11:30" (an en dash), or "Tue afternoons from 1 Dec 2026"."""
    if draft.is_dated and draft.on_date is not None:
        text = day_text(draft.on_date)
        if draft.start_time and draft.end_time:
            text += f", {draft.start_time:%H:%M}{DASH}{draft.end_time:%H:%M}"
        return text
    text = slots_text(draft.slots)
    if draft.starts_on is not None:
        text += f" from {day_text(draft.starts_on)}"
    if draft.ends_on is not None:
        text += f" until {day_text(draft.ends_on)}"
    effort = effort_text(draft.effort_minutes)
    return f"{text}, {effort} each time" if effort else text


def where_text(draft: NeedDraft) -> str | None:
    """The postcode district only: an address is never published."""
    return draft.district


def term_labels(draft: NeedDraft) -> list[str]:
    """Skills and interests by their labels, then free tags."""
    known = concepts()
    labels = [known[c].label if c in known else c
              for c in (*draft.skills, *draft.interests)]
    return labels + [t for t in draft.tags if t not in labels]


def checks_text(draft: NeedDraft) -> str | None:
    if not draft.checks_required:
        return None
    return ", ".join(check_label(c) for c in draft.checks_required) + " needed"


def languages_text(draft: NeedDraft) -> str | None:
    parts = []
    if draft.languages_required:
        parts.append("speaks " + " and ".join(language_name(c) for c in draft.languages_required))
    if draft.languages_preferred:
        parts.append("ideally " + " or ".join(language_name(c)
                                              for c in draft.languages_preferred))
    return "; ".join(parts) or None


def wanted_text(draft: NeedDraft) -> str | None:
    n = draft.volunteers_wanted
    return f"{n} volunteers wanted" if n > 1 else None


def summary_line(draft: NeedDraft, status: str = "open") -> str:
    """What Mastodon shows under the need's name; a status word leads once it is not open."""
    parts = [STATUS_WORDS[status] if status != "open" else None, KIND_LABELS[draft.kind],
             when_text(draft), where_text(draft), ", ".join(term_labels(draft)) or None,
             checks_text(draft), wanted_text(draft)]
    return SEPARATOR.join(p for p in parts if p)


def detail_rows(draft: NeedDraft) -> list[tuple[str, str]]:
    """(label, text) pairs for the public page and the published `content`."""
    rows = [("What", KIND_LABELS[draft.kind]), ("When", when_text(draft)),
            ("Where", where_text(draft) or ""),
            ("Skills and interests", ", ".join(term_labels(draft))),
            ("Checks needed", ", ".join(check_label(c) for c in draft.checks_required)),
            ("Languages", languages_text(draft) or ""),
            ("Accessibility", draft.accessibility),
            ("Volunteers wanted", str(draft.volunteers_wanted))]
    return [(label, text) for label, text in rows if text]
