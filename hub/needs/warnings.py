"""Warnings about personal details in a need's public text, as a pure function.

A need's title, description and accessibility note are published to the fediverse and the
hub's public pages; the neighbour's own details belong in `private_notes`. Before saving, the
console and the API look for what reads like a phone number, an email address, a full UK
postcode or a street address (a house number and a street word, or a flat number), and ask
staff to confirm. These are warnings, not refusals: "meet at 10 Station Road library" may be
fine, and staff decide. They catch the common slips, not every way of writing an address.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from hub.needs.model import NeedDraft

PUBLIC_FIELDS = ("title", "description", "accessibility")
KIND_MESSAGES = {
    "email": "looks like an email address",
    "phone": "looks like a phone number",
    "postcode": "looks like a full postcode (only the district, e.g. IG1, is shared)",
    "address": "looks like a street address",
}

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# A run of digits with the separators people type between them; counted below.
_PHONE = re.compile(r"(?<![\w+])(?:\+|00)?\(?\d[\d \t().-]{7,20}\d(?!\w)")
_POSTCODE = re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[ABD-HJLNP-UW-Z]{2}\b", re.IGNORECASE)
_STREET_WORDS = (
    "road", "rd", "street", "st", "avenue", "ave", "lane", "ln", "close", "cl", "drive", "dr",
    "way", "gardens", "gdns", "court", "ct", "crescent", "cres", "place", "pl", "terrace",
    "grove", "hill", "park", "square", "sq", "mews", "row", "walk", "rise", "view", "parade",
    "green", "end", "approach", "boulevard", "wharf", "yard", "estate", "house")
_ADDRESS = re.compile(
    r"\b\d{1,4}[a-z]?,?\s+(?:[A-Za-z][\w'\u2019-]*\s+){1,3}(?:" + "|".join(_STREET_WORDS)
    + r")\b\.?", re.IGNORECASE)
_FLAT = re.compile(r"\b(?:flat|apartment|apt|unit)\s+\d+[a-z]?\b", re.IGNORECASE)


@dataclass(frozen=True)
class DetailWarning:
    """Something in a public field that may be a personal detail: where, what, and the text."""

    field: str
    kind: str      # email, phone, postcode or address
    excerpt: str   # the text that matched, so staff can find it

    @property
    def message(self) -> str:
        return f"{self.field}: “{self.excerpt}” {KIND_MESSAGES[self.kind]}"

    def to_json(self) -> dict[str, str]:
        return {"field": self.field, "kind": self.kind, "excerpt": self.excerpt,
                "message": self.message}


def _phones(text: str) -> list[str]:
    found = []
    for match in _PHONE.finditer(text):
        digits = sum(c.isdigit() for c in match.group())
        if 9 <= digits <= 15 and not _looks_like_dates_or_times(match.group()):
            found.append(match.group().strip())
    return found


def _looks_like_dates_or_times(text: str) -> bool:
    """2026-12-08 or 10.00-11.30: digits with separators that are not a phone number."""
    return bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}.*|\d{1,2}[.:]\d{2}\s*-\s*\d{1,2}[.:]\d{2}",
                             text.strip()))


def text_warnings(field: str, text: str) -> list[DetailWarning]:
    """Every likely personal detail in one field's text, in the order kinds are listed."""
    found: list[DetailWarning] = []
    emails = [m.group() for m in _EMAIL.finditer(text)]
    found += [DetailWarning(field, "email", e) for e in emails]
    without_emails = _EMAIL.sub(" ", text)
    found += [DetailWarning(field, "phone", p) for p in _phones(without_emails)]
    found += [DetailWarning(field, "postcode", m.group())
              for m in _POSTCODE.finditer(without_emails)]
    addresses = [m.group() for m in _ADDRESS.finditer(without_emails)]
    addresses += [m.group() for m in _FLAT.finditer(without_emails)]
    found += [DetailWarning(field, "address", a.strip()) for a in addresses]
    return found


def field_warnings(fields: Mapping[str, str]) -> list[DetailWarning]:
    return [w for name, text in fields.items() for w in text_warnings(name, text)]


def draft_warnings(draft: NeedDraft) -> list[DetailWarning]:
    """Warnings for every public text field of a need (never its private notes)."""
    return field_warnings({name: getattr(draft, name) for name in PUBLIC_FIELDS})
