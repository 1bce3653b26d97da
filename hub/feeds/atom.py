"""The upcoming events as an Atom feed (RFC 4287), for feed readers.

Built with ElementTree so every title and description is escaped by the XML writer, never
by hand. Each entry is one event: its title, the summary line ("Sat 6 Dec, 14:00-16:00 ·
Redbridge Library · 5 places left"), its page, and the description as HTML content.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from xml.etree import ElementTree as ET

from hub.activitypub.events import content_html
from hub.events.summary import summary_line
from hub.feeds.listing import Listed
from hub.feeds.selection import category_name
from hub.urls import Urls

ATOM_NS = "http://www.w3.org/2005/Atom"
MEDIA_TYPE = "application/atom+xml"


@dataclass(frozen=True)
class FeedInfo:
    """What a feed says about itself."""

    title: str
    self_url: str       # where this feed is
    page_url: str       # the HTML page it mirrors
    author: str         # the hub's name
    author_url: str


def rfc3339(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    child = ET.SubElement(parent, tag, attrs)
    if text is not None:
        child.text = text
    return child


def entry_terms(listed: Listed) -> list[str]:
    event = listed.event
    return ([category_name(event.category)] if event.category else []) + [
        f"#{tag}" for tag in event.hashtags]


def _entry(feed: ET.Element, listed: Listed, urls: Urls) -> None:
    event = listed.event
    entry = _sub(feed, "entry")
    _sub(entry, "id", urls.event(event.uuid))
    _sub(entry, "title", event.title)
    _sub(entry, "link", rel="alternate", type="text/html", href=urls.event(event.uuid))
    _sub(entry, "link", rel="related", type="text/calendar", href=f"{urls.event(event.uuid)}.ics")
    _sub(entry, "published", rfc3339(event.published_at))
    _sub(entry, "updated", rfc3339(listed.changed_at))
    _sub(entry, "summary", summary_line(event, listed.going))
    for term in entry_terms(listed):
        _sub(entry, "category", term=term)
    _sub(entry, "content", content_html(event), type="html")


def atom_feed(listed: Sequence[Listed], urls: Urls, info: FeedInfo) -> bytes:
    # The namespace is written as a plain attribute: ElementTree's prefix registry is global,
    # and its default_namespace option refuses unprefixed attributes.
    feed = ET.Element("feed", {"xmlns": ATOM_NS})
    _sub(feed, "id", info.self_url)
    _sub(feed, "title", info.title)
    _sub(feed, "link", rel="self", type=MEDIA_TYPE, href=info.self_url)
    _sub(feed, "link", rel="alternate", type="text/html", href=info.page_url)
    newest = max((item.changed_at for item in listed), default=None)
    # An empty feed still needs `updated`; the epoch says "nothing yet" without changing.
    _sub(feed, "updated", rfc3339(newest or 0.0))
    author = _sub(feed, "author")
    _sub(author, "name", info.author)
    _sub(author, "uri", info.author_url)
    _sub(feed, "generator", "commonhub")
    for item in listed:
        _entry(feed, item, urls)
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)
