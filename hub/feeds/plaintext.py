"""Our sanitised description HTML as plain text, for iCalendar and JSON-LD descriptions.

Calendar apps and search engines show `DESCRIPTION` / `description` as text: paragraphs
become blank lines, line breaks newlines, list items "- " lines, and a link whose text is not
its address keeps the address in brackets so it is not lost.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_BLOCKS = {"p", "ul", "ol", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6"}


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hrefs: list[tuple[str | None, int]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCKS:
            self.parts.append("\n\n")
        elif tag == "br":
            self.parts.append("\n")
        elif tag == "li":
            self.parts.append("\n- ")
        elif tag == "a":
            self._hrefs.append((dict(attrs).get("href"), len(self.parts)))

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCKS:
            self.parts.append("\n\n")
        elif tag == "a" and self._hrefs:
            href, start = self._hrefs.pop()
            text = "".join(self.parts[start:]).strip()
            if href and href != text and href.startswith(("http://", "https://")):
                self.parts.append(f" ({href})")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(fragment: str) -> str:
    """Readable plain text of an HTML fragment (already sanitised: no scripts or styles)."""
    collector = _TextCollector()
    collector.feed(fragment)
    collector.close()
    text = "".join(collector.parts)
    text = re.sub(r"[ \t]+\n", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
