"""The upcoming events as RSS 2.0, for the readers and sites that take only RSS.

The same items as the Atom feed: title, page link, the summary line then the description.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import UTC, datetime
from email.utils import format_datetime
from xml.etree import ElementTree as ET

from hub.activitypub.events import content_html
from hub.events.summary import summary_line
from hub.feeds.atom import ATOM_NS, FeedInfo, entry_terms
from hub.feeds.listing import Listed
from hub.urls import Urls

MEDIA_TYPE = "application/rss+xml"


def rfc822(ts: float) -> str:
    return format_datetime(datetime.fromtimestamp(ts, UTC), usegmt=True)


def _text(parent: ET.Element, tag: str, text: str, **attrs: str) -> ET.Element:
    child = ET.SubElement(parent, tag, attrs)
    child.text = text
    return child


def _item(channel: ET.Element, listed: Listed, urls: Urls) -> None:
    event = listed.event
    item = ET.SubElement(channel, "item")
    _text(item, "title", event.title)
    _text(item, "link", urls.event(event.uuid))
    _text(item, "guid", urls.event(event.uuid), isPermaLink="true")
    _text(item, "pubDate", rfc822(event.published_at))
    summary = f"<p>{html.escape(summary_line(event, listed.going), quote=False)}</p>"
    _text(item, "description", summary + content_html(event))
    for term in entry_terms(listed):
        _text(item, "category", term)


def rss_feed(listed: Sequence[Listed], urls: Urls, info: FeedInfo) -> bytes:
    # The atom: prefix is declared literally, as in the Atom feed (see there).
    rss = ET.Element("rss", {"version": "2.0", "xmlns:atom": ATOM_NS})
    channel = ET.SubElement(rss, "channel")
    _text(channel, "title", info.title)
    _text(channel, "link", info.page_url)
    _text(channel, "description", f"Upcoming events of {info.author}")
    ET.SubElement(channel, "atom:link",
                  {"rel": "self", "type": MEDIA_TYPE, "href": info.self_url})
    newest = max((item.changed_at for item in listed), default=None)
    if newest is not None:
        _text(channel, "lastBuildDate", rfc822(newest))
    _text(channel, "generator", "commonhub")
    for item in listed:
        _item(channel, item, urls)
    return ET.tostring(rss, encoding="utf-8", xml_declaration=True)
