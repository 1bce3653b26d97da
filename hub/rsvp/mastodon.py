"""RSVPs from stock Mastodon, with no web visit: replies and mentions in plain words.

A `Create{Note}` counts when it replies to one of our events (or to a direct message we
sent about one), or mentions the hub and links or names an event. Its text, without the
@mentions, links and HTML, is read for "going", "maybe" or "can't come" in a few common
phrasings (`parse_answer`); the person gets a direct message saying where they stand, or,
when the words are unclear, which words to use. Poll votes (`inReplyTo` one of our
`Question`s) go to `hub.rsvp.polls`. Such notes are taken from anyone: an RSVP needs no
follow.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from functools import lru_cache
from html.parser import HTMLParser
from typing import Any

from hub.rsvp import messages, polls, service
from hub.rsvp.activities import our_event, person_of
from hub.runtime import Hub
from hub.services.follows import object_id
from hub.store import events as event_store
from hub.store.events import Event

log = logging.getLogger(__name__)

# Checked in this order; a phrase found is blanked out before the next answer is looked
# for, so "not going" is not also "going". More than one answer found is unclear.
PHRASES: dict[str, tuple[str, ...]] = {
    "not_going": ("can't come", "cannot come", "can not come", "can't make it",
                  "cannot make it", "can't attend", "not going", "not coming",
                  "won't make it", "won't be there", "will not make it", "not interested",
                  "no", "cancel", "cancelled"),
    "maybe": ("maybe", "might come", "might make it", "interested", "tentative",
              "tentatively", "not sure", "perhaps"),
    "going": ("i'm going", "going", "count me in", "i'll be there", "yes", "attending",
              "i'm in", "i'm coming", "coming"),
}
_PATTERNS = {
    answer: [re.compile(r"(?<![\w'])" + r"\s+".join(map(re.escape, p.split())) + r"(?![\w'])")
             for p in sorted(phrases, key=len, reverse=True)]
    for answer, phrases in PHRASES.items()}
_WORD = re.compile(r"[\w']+")


class PhraseWords:
    r"""A quick test before running phrase patterns over a note's text.

    A pattern `(?<![\w'])word\s+word(?![\w'])` can only match where its words are
    consecutive whole words of the text (phrase words are letters and apostrophes, and the
    patterns bound them by anything else). Most notes hold no phrase, and one pass over
    their words says so before dozens of patterns run (~6 µs against ~100 µs).
    """

    def __init__(self, phrases: Iterable[str]) -> None:
        # Each phrase as " word word " by its first word: consecutive whole words of a text
        # are a substring of its words joined the same way.
        self._spaced: dict[str, list[str]] = {}
        for phrase in phrases:
            words = phrase.split()
            if not all(_WORD.fullmatch(w) for w in words):
                raise ValueError(f"phrase {phrase!r} has more than letters and apostrophes")
            self._spaced.setdefault(words[0], []).append(f" {' '.join(words)} ")
        self._firsts = frozenset(self._spaced)

    def may_hold(self, text: str) -> bool:
        """False only if no phrase's pattern can match `text`."""
        words = _WORD.findall(text)
        firsts = self._firsts.intersection(words)
        if not firsts:
            return False
        spaced = f" {' '.join(words)} "
        return any(phrase in spaced for first in firsts for phrase in self._spaced[first])


_ANSWER_WORDS = PhraseWords(p for ps in PHRASES.values() for p in ps)
_NOISE = re.compile(r"https?://\S+|[@#][\w.@:-]+")
# Plain markup, as Mastodon writes a note: start and end tags whose quoted attribute values
# hold no angle brackets. Notes with anything else (character references, comments,
# script-like elements, a stray "<") take the HTML parser.
_PLAIN_TAG = re.compile(
    r"<(/?)([a-zA-Z][a-zA-Z0-9]*)(?:\s(?:[^<>\"']|\"[^<>\"]*\"|'[^<>']*')*)?/?>")
_PARSER_ONLY = re.compile(r"&|<[!?]|<(?:script|style|textarea|title|xmp|plaintext)\b",
                          re.IGNORECASE)
_SPACED_TAG = re.compile(  # the start tags of p, br and li, in _PLAIN_TAG's grammar
    r"<(?:p|br|li)(?=[\s/>])(?:\s(?:[^<>\"']|\"[^<>\"]*\"|'[^<>']*')*)?/?>", re.IGNORECASE)
_PUNCTUATION = re.compile(r"[^\w\s']+")


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("p", "br", "li"):
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def _markup_text(content: str) -> str:
    """The text of an HTML fragment, a space for each p, br and li start tag."""
    # Plain markup: every "<" opens a plain tag. A tag ends at the first ">" after its "<"
    # (quoted values hold none), so removing p/br/li start tags first and the rest after
    # finds the same tags as one pass would.
    if (_PARSER_ONLY.search(content) is None
            and len(_PLAIN_TAG.findall(content)) == content.count("<")):
        return _PLAIN_TAG.sub("", _SPACED_TAG.sub(" ", content))
    parser = _Text()  # ~70 µs a note, against a few for the plain markup above
    parser.feed(content)
    return "".join(parser.parts)


def note_text(content: Any) -> str:
    """A note's words: HTML, @mentions, #tags and links removed, lower-cased."""
    return _note_text(content) if isinstance(content, str) else ""


@lru_cache(maxsize=64)  # the RSVP and the sign-up handlers both read each note
def _note_text(content: str) -> str:
    text = _markup_text(content).replace("\u2019", "'").replace("\u2018", "'")
    text = _PUNCTUATION.sub(" ", _NOISE.sub(" ", text)).casefold()
    return " ".join(text.split())


def parse_answer(text: str) -> str | None:
    """going, maybe, not_going, or None when there is no answer or more than one."""
    if not _ANSWER_WORDS.may_hold(text):
        return None
    found = set()
    for answer, patterns in _PATTERNS.items():
        for pattern in patterns:
            text, hits = pattern.subn(" | ", text)
            if hits:
                found.add(answer)
    return found.pop() if len(found) == 1 else None


def _mentions(hub: Hub, note: dict[str, Any]) -> bool:
    tags = note.get("tag")
    tags = tags if isinstance(tags, list) else [tags]
    return any(isinstance(t, dict) and t.get("type") == "Mention"
               and t.get("href") == hub.urls.actor for t in tags)


async def _replied_event(hub: Hub, reply_to: str | None) -> Event | None:
    """The event a note replies to: the event itself, or our message about it."""
    if reply_to is None:
        return None
    return await our_event(hub, reply_to.split("/messages/", 1)[0])


async def _named_event(hub: Hub, note: dict[str, Any], text: str) -> Event | None:
    """An event linked from the note, else the upcoming one whose title it names (the
    longest title found; of a series, the next date)."""
    content = note.get("content") if isinstance(note.get("content"), str) else ""
    pattern = re.escape(hub.urls.event("")) + r"[0-9a-f-]{36}"
    for url in re.findall(pattern, content):
        event = await our_event(hub, url)
        if event is not None:
            return event
    named = [e for e in await event_store.list_upcoming(hub.db, limit=200)
             if note_text(e.title) and f" {note_text(e.title)} " in f" {text} "]
    return max(named, key=lambda e: (len(e.title), -e.start_at), default=None)


async def receive_note(hub: Hub, activity: dict[str, Any]) -> bool:
    """Handle a Create{Note} if it is an RSVP (or a poll vote); False if it is not one."""
    note = activity.get("object")
    if not isinstance(note, dict) or note.get("type") != "Note":
        return False
    if object_id(note.get("attributedTo")) not in (None, activity["actor"]):
        return False
    reply_to = object_id(note.get("inReplyTo"))
    poll = await polls.our_poll(hub, reply_to)
    if poll is not None:
        await polls.receive_vote(hub, poll, activity)
        return True
    replied = await _replied_event(hub, reply_to)
    if replied is None and not _mentions(hub, note):
        return False
    text = note_text(note.get("content"))
    wish = parse_answer(text)
    if replied is None and wish is None:
        return False  # an ordinary mention of the hub (sharing an event's link, say)
    event = replied or await _named_event(hub, note, text)
    return await _answer(hub, activity, event, wish)


async def _answer(hub: Hub, activity: dict[str, Any], event: Event | None,
                  wish: str | None) -> bool:
    """Answer for the event; unclear words in a reply get the words to use."""
    actor_id, note_id = activity["actor"], activity["object"].get("id")
    if event is None:
        await messages.send_dm(hub, None, actor_id, messages.no_event_lines(),
                               in_reply_to=note_id)
        return True
    if wish is None:
        lines = messages.lines_for(event, "help", event_url=hub.urls.event(event.uuid))
        await messages.send_dm(hub, event, actor_id, lines, in_reply_to=note_id)
        return True
    person = await person_of(hub, actor_id)
    outcome = await service.answer(hub, event, person, "mention", wish, reply_to=note_id)
    await messages.confirm(hub, event, actor_id, outcome, in_reply_to=note_id)
    return True

