"""The forms on a volunteer's record for checks, training and references: HTML fields to the
service's input, what the forms offer, and each check's state in words.

Every field is a choice, a date or a count: there is no free-text field, so a certificate's
number or what it disclosed has nowhere to be typed. Field names follow the model's, so a
`FieldError` names its input; what was typed is kept so a refused form comes back as sent.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from hub.events.model import FieldError
from hub.matching.model import check_label
from hub.runtime import Hub
from hub.store import volunteers as store
from hub.store.volunteers import Volunteer
from hub.volunteers.model import CHECK_FIELDS, CHECK_TYPES, COURSES, TRAINING_FIELDS, Check
from hub.volunteers.model import check_status as model_status
from hub.web.console.event_form import describe, field_id

REFERENCE_FIELDS = ("references_received", "references_on")
LABELS = {"type": "Check", "checked_on": "Checked on", "renewal_on": "Renewal due on",
          "decision": "Decision", "course": "Course", "completed_on": "Completed on",
          "references_received": "References received",
          "references_on": "Last reference received on"}
DECISION_TEXT = {"clear": "Clear", "not_clear": "Not clear"}
_COUNT = re.compile(r"^[0-9]{1,3}$")


def _typed(form: Mapping[str, Any], names: Iterable[str]) -> dict[str, str]:
    """The form's text for each field, trimmed ("" when absent or not text)."""
    return {n: form[n].strip() if isinstance(form.get(n), str) else "" for n in names}


def read_check_form(form: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The service's input for a check, and the values as typed."""
    values = _typed(form, CHECK_FIELDS)
    return {n: values[n] or None for n in CHECK_FIELDS}, values


def read_training_form(form: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    values = _typed(form, TRAINING_FIELDS)
    return {n: values[n] or None for n in TRAINING_FIELDS}, values


def read_references_form(form: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """A blank date clears it; a count that does not read as one goes on as typed, for the
    model to refuse with its own message."""
    values = _typed(form, REFERENCE_FIELDS)
    count = values["references_received"]
    return {"references_received": int(count) if _COUNT.match(count) else count or None,
            "references_on": values["references_on"] or None}, values


def error_items(errors: Iterable[FieldError]) -> list[dict[str, str]]:
    return [{"id": field_id(e.field), "label": LABELS.get(e.field, e.field),
             "message": describe(e)} for e in errors]


def check_state(check: Check, today: date, soon_days: int) -> str:
    """valid, lapsing soon (renewal within `soon_days`), lapsed, not clear or not yet valid."""
    status = model_status(check, today)
    if status == "clear":
        return "lapsing soon" if (check.renewal_on - today).days <= soon_days else "valid"
    return {"lapsed": "lapsed", "not_clear": "not clear", "not_yet": "not yet valid"}[status]


def check_title(check_type: str) -> str:
    """A check type's plain name, as a title: "Enhanced DBS (adult workforce)"."""
    label = check_label(check_type)
    return label[:1].upper() + label[1:]


def course_label(course: str) -> str:
    return COURSES.get(course, course.replace("_", " "))


async def record_context(hub: Hub, volunteer: Volunteer,
                         typed: dict[str, str]) -> dict[str, Any]:
    """What the record page's checks, training and references sections show and offer."""
    today, soon = date.today(), hub.settings.check_reminder_days
    checks = await store.list_checks(hub.db, volunteer.id)
    training = await store.list_training(hub.db, volunteer.id)
    staff = volunteer.staff
    current = {"references_received": str(staff.references_received),
               "references_on": staff.references_on.isoformat() if staff.references_on else ""}
    return {
        "checks": [{"uuid": c.uuid, "label": check_title(c.type),
                    "checked_on": c.checked_on.isoformat(),
                    "renewal_on": c.renewal_on.isoformat(),
                    "decision": DECISION_TEXT[c.decision],
                    "state": check_state(c, today, soon)} for c in checks],
        "training": [(course_label(t.course), t.completed_on.isoformat()) for t in training],
        "references": staff, "soon_days": soon, "today": today.isoformat(),
        "values": {**current, **typed},
        "choices": {"types": [(t, check_title(t)) for t in CHECK_TYPES],
                    "decisions": list(DECISION_TEXT.items()),
                    "courses": sorted(COURSES.items(), key=lambda c: c[1])}}
