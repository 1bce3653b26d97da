"""The volunteer profile as an HTML form: what the form's fields are, and how a submitted
form becomes the profile input `parse_profile` takes (and back, to fill the form in).

The same form serves the public sign-up page and the volunteer's own page for corrections,
so the two can never drift apart. Every problem is reported at once, each naming its field,
and what was typed is kept to be shown again.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hub.events.model import FieldError
from hub.matching.model import LANGUAGE_NAMES, concepts
from hub.volunteers.model import CONSENTS, DAYS, PARTS, Profile, profile_problems

DAY_NAMES = dict(zip(DAYS, ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
                            "Saturday", "Sunday"), strict=True))
LABELS = {"name": "Your name", "email": "Email address", "handle": "Fediverse handle",
          "phone": "Phone number", "district": "Postcode district", "latitude": "Latitude",
          "longitude": "Longitude", "skills": "Skills", "interests": "Interests",
          "tags": "Other skills and interests", "languages": "Languages",
          "availability": "When you are free", "max_commitments": "How many at once",
          "consents": "Consents"}
# Languages offered as boxes to tick; others are typed as codes.
OFFERED_LANGUAGES = ("en", "cy", "pl", "ro", "pa", "ur", "bn", "gu", "ta", "so", "ar", "tr",
                     "pt", "es", "fr", "lt", "uk", "zh", "yue")
_SPLIT = re.compile(r"[,;\n]+")
TEXT_FIELDS = ("name", "email", "handle", "phone", "district", "latitude", "longitude")


@dataclass
class ProfileForm:
    """A submitted form: what was typed (to show again), the profile input, the problems."""

    values: dict[str, Any]
    data: dict[str, Any] = field(default_factory=dict)
    errors: list[FieldError] = field(default_factory=list)

    @property
    def error_for(self) -> dict[str, str]:
        """The first message for each field, keyed by the form field it belongs to."""
        found: dict[str, str] = {}
        for exc in self.errors:
            found.setdefault(exc.field.split(".")[0], human_message(exc))
        return found


def human_message(exc: FieldError) -> str:
    """`Email address is not an email address`: the field's label, then what is wrong."""
    name = exc.field.split(".")[0]
    detail = exc.message.split(": ", 1)[1] if ": " in exc.message else exc.message
    if name == "consents":
        return "Tick or untick each consent."
    if detail.startswith(("is ", "has ", "'")):
        return f"{LABELS.get(name, name)} {detail}"
    return detail[:1].upper() + detail[1:]


def concept_groups() -> list[dict[str, Any]]:
    """The shared concepts as the form lists them: each broad concept with its narrower ones."""
    everything = concepts()
    groups = []
    for concept in everything.values():
        if concept.broader is None:
            narrower = [c for c in everything.values() if c.broader == concept.id]
            groups.append({"id": concept.id, "label": concept.label,
                           "items": [{"id": concept.id, "label": concept.label}]
                           + [{"id": c.id, "label": c.label} for c in narrower]})
    return groups


def language_choices() -> list[tuple[str, str]]:
    return [(code, LANGUAGE_NAMES[code]) for code in OFFERED_LANGUAGES]


def grid() -> list[tuple[str, str]]:
    return list(DAY_NAMES.items())


def _list(form: Mapping[str, Any], name: str) -> list[str]:
    getall = getattr(form, "getall", None)
    found = getall(name, []) if getall else form.get(name, [])
    return [str(v) for v in found if isinstance(v, str)]


def _text(form: Mapping[str, Any], name: str) -> str:
    value = form.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def read_form(form: Mapping[str, Any], base: Profile | None = None, *,
              handle: str | None = None) -> ProfileForm:
    """A submitted form (aiohttp's MultiDict, or a plain dict of strings and lists). A
    `handle` given here (proven by a sign-up link) replaces whatever the form sent."""
    values: dict[str, Any] = {name: _text(form, name) for name in TEXT_FIELDS}
    if handle is not None:
        values["handle"] = handle
    values |= {"skills": _list(form, "skills"), "interests": _list(form, "interests"),
               "languages": _list(form, "languages"), "availability": _list(form, "availability"),
               "tags": _text(form, "tags"), "other_languages": _text(form, "other_languages"),
               "max_commitments": _text(form, "max_commitments") or "1"}
    values |= {f"consent_{c}": form.get(f"consent_{c}") == "yes" for c in CONSENTS}
    parsed = ProfileForm(values)
    data: dict[str, Any] = {name: values[name] or None for name in TEXT_FIELDS}
    data["name"] = values["name"]
    for name in ("latitude", "longitude"):
        data[name] = _number(parsed, name, values[name])
    data["skills"], data["interests"] = values["skills"], values["interests"]
    data["tags"] = [t.strip() for t in _SPLIT.split(values["tags"]) if t.strip()]
    others = [c.strip() for c in re.split(r"[\s,;]+", values["other_languages"]) if c.strip()]
    data["languages"] = [*values["languages"], *others]
    data["availability"] = _availability(parsed, values["availability"])
    data["max_commitments"] = _whole(parsed, "max_commitments", values["max_commitments"])
    data["consents"] = {c: values[f"consent_{c}"] for c in CONSENTS}
    parsed.data = {k: v for k, v in data.items() if v is not _BAD}
    parsed.errors += profile_problems(parsed.data, base)
    return parsed


_BAD = object()  # a value that could not even be read; its error is already recorded


def _number(parsed: ProfileForm, name: str, text: str) -> Any:
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        parsed.errors.append(FieldError(name, "is a number in decimal degrees, like 51.56"))
        return _BAD


def _whole(parsed: ProfileForm, name: str, text: str) -> Any:
    if text.isdigit():
        return int(text)
    parsed.errors.append(FieldError(name, "is a whole number, like 1 or 2"))
    return _BAD


def _availability(parsed: ProfileForm, ticked: list[str]) -> Any:
    slots: dict[str, list[str]] = {}
    for item in ticked:
        day, _, part = item.partition(":")
        if day not in DAYS or part not in PARTS:
            parsed.errors.append(FieldError("availability", "has a time that is not on the "
                                                            "grid"))
            return _BAD
        slots.setdefault(day, []).append(part)
    return slots


def form_values(profile: Profile) -> dict[str, Any]:
    """A stored profile as the form's values, to correct it."""
    def text(value: Any) -> str:
        return "" if value is None else str(value)

    known = {code for code, _ in language_choices()}
    return {
        "name": profile.name, "email": text(profile.email), "handle": text(profile.handle),
        "phone": text(profile.phone), "district": text(profile.district),
        "latitude": text(profile.latitude), "longitude": text(profile.longitude),
        "skills": list(profile.skills), "interests": list(profile.interests),
        "tags": ", ".join(profile.tags),
        "languages": [code for code in profile.languages if code in known],
        "other_languages": " ".join(code for code in profile.languages if code not in known),
        "availability": [f"{day}:{part}" for day, parts in profile.availability.items()
                         for part in parts],
        "max_commitments": str(profile.max_commitments),
        **{f"consent_{c}": profile.consents.get(c, False) for c in CONSENTS}}


def blank_values() -> dict[str, Any]:
    return {**dict.fromkeys(TEXT_FIELDS, ""), "skills": [], "interests": [], "tags": "",
            "languages": [], "other_languages": "", "availability": [], "max_commitments": "1",
            **{f"consent_{c}": False for c in CONSENTS}}
