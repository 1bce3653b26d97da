"""Turning staff-typed text into the HTML we publish, and remote HTML into HTML we can show."""

from __future__ import annotations

import html
import re

import nh3

_URL = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]]")

# What Mastodon keeps of remote HTML (app/lib/sanitize_config.rb): text formatting and links.
_ALLOWED_TAGS = {"p", "br", "span", "a", "del", "pre", "code", "em", "strong", "b", "i", "u",
                 "ul", "ol", "li", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6"}
_ALLOWED_ATTRS = {"a": {"href", "class"}, "span": {"class"}, "ol": {"start", "reversed"},
                  "li": {"value"}}


def plain_to_html(text: str) -> str:
    """Paragraphs from blank lines, <br> from newlines, URLs linked; everything else escaped."""
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip().replace("\r\n", "\n")) if p.strip()]
    return "".join(f"<p>{_render_paragraph(p)}</p>" for p in paragraphs)


def _render_paragraph(paragraph: str) -> str:
    lines = [_linkify(line) for line in paragraph.split("\n")]
    return "<br>".join(lines)


def _linkify(line: str) -> str:
    out, last = [], 0
    for match in _URL.finditer(line):
        out.append(html.escape(line[last:match.start()]))
        url = html.escape(match.group(0))
        out.append(f'<a href="{url}" rel="nofollow noopener noreferrer" target="_blank">{url}</a>')
        last = match.end()
    out.append(html.escape(line[last:]))
    return "".join(out)


def sanitise_html(fragment: str) -> str:
    """Remote or stored HTML made safe to show: no script, no styles, http(s) links only."""
    return nh3.clean(fragment, tags=_ALLOWED_TAGS, attributes=_ALLOWED_ATTRS,
                     url_schemes={"http", "https", "mailto"},
                     link_rel="nofollow noopener noreferrer")
