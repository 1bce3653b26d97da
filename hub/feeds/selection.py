"""Which events a calendar page, feed or widget shows: all, one category, or one hashtag.

Filters come from URLs people type and share, so each is checked and a wrong one is refused
with a sentence saying what would work (400), rather than silently showing everything.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from federation.errors import ValidationError
from hub.events.model import categories

_TAG = re.compile(r"^[\w·]{1,50}$")


@dataclass(frozen=True)
class Selection:
    tag: str | None = None
    category: str | None = None

    @property
    def everything(self) -> bool:
        return self.tag is None and self.category is None

    def query(self) -> dict[str, str]:
        """The selection as URL query parameters (to keep it across pages)."""
        found = {"category": self.category, "tag": self.tag}
        return {k: v for k, v in found.items() if v is not None}

    def describe(self) -> str | None:
        """"#knitting", "Crafts", "Crafts, #knitting" or None for everything."""
        parts = [category_name(self.category) if self.category else None,
                 f"#{self.tag}" if self.tag else None]
        return ", ".join(p for p in parts if p) or None


def category_name(category: str) -> str:
    """FEP-8a8e's WORKSHOPS_SKILL_SHARING as "Workshops skill sharing"."""
    return category.replace("_", " ").capitalize()


def parse_tag(value: str) -> str:
    tag = value.removeprefix("#")
    if not _TAG.match(tag):
        raise ValidationError(f"tag: {value[:60]!r} is not a hashtag (letters, digits and _, "
                              "at most 50)")
    return tag.lower()


def parse_category(value: str) -> str:
    category = value.upper()
    if category not in categories():
        raise ValidationError(f"category: {value[:60]!r} is not a category; use one of "
                              f"{', '.join(categories())}")
    return category


def parse_count(name: str, raw: str | None, *, default: int, maximum: int) -> int:
    """A whole number from 1 to `maximum` (for ?page= and ?limit=)."""
    if raw is None:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= maximum:
        raise ValidationError(f"{name}: {raw[:20]!r} is not a whole number from 1 to {maximum}")
    return int(raw)


def selection_from_query(query: Mapping[str, str]) -> Selection:
    tag, category = query.get("tag"), query.get("category")
    return Selection(tag=parse_tag(tag) if tag else None,
                     category=parse_category(category) if category else None)
