"""RSVPs on the wire: answers to a `Join`, direct messages, and RSVP polls (`Question`).

- A `Join` is answered with `Accept` (a place), `TentativeAccept` (the waitlist), `Reject`
  or `Ignore` (the event takes no RSVPs, FEP-8a8e), each embedding the Join as Mobilizon
  and Mastodon match answers by the embedded activity.
- A direct message is a `Note` addressed to one person only, with a `Mention` of them, as
  Mastodon's own direct messages are: Mastodon files it under private mentions.
- A poll is a Mastodon-shaped `Question` (`oneOf` options, each a `Note` with `name` and
  `replies.totalItems`; `votersCount`; `endTime`), which Mastodon shows as a poll.
"""

from __future__ import annotations

import html
import uuid
from dataclasses import dataclass
from typing import Any

from hub.activitypub.context import CONTEXT
from hub.activitypub.notes import iso
from hub.urls import Urls

ANSWER_TYPES = ("Accept", "TentativeAccept", "Reject", "Ignore")
# The options of an RSVP poll, and the answer each one stands for.
POLL_OPTIONS = (("Going", "going"), ("Maybe", "maybe"), ("Can't come", "not_going"))


@dataclass(frozen=True)
class Recipient:
    """Whom a direct message or poll mentions: their actor id and @user@host."""

    actor_id: str
    username: str
    domain: str

    @property
    def acct(self) -> str:
        return f"@{self.username}@{self.domain}"


def join_echo(join_id: str, actor_id: str, event_url: str) -> dict[str, Any]:
    """The Join an answer embeds: its id, who sent it, and the event."""
    return {"id": join_id, "type": "Join", "actor": actor_id, "object": event_url}


def join_answer(urls: Urls, kind: str, join: dict[str, Any], *,
                text: str | None = None) -> dict[str, Any]:
    """`Accept`, `TentativeAccept`, `Reject` or `Ignore` of a Join, to its sender only."""
    if kind not in ANSWER_TYPES:
        raise ValueError(f"not an answer to a Join: {kind}")
    activity: dict[str, Any] = {
        "@context": CONTEXT, "id": urls.activity(str(uuid.uuid4())), "type": kind,
        "actor": urls.actor, "to": [join["actor"]], "object": join}
    if text:
        activity["content"] = f"<p>{html.escape(text, quote=False)}</p>"
    return activity


def mention_html(recipient: Recipient) -> str:
    """The link Mastodon writes for a mention, so the message reads the same there."""
    href = html.escape(recipient.actor_id)
    name = html.escape(recipient.username)
    return (f'<span class="h-card" translate="no"><a href="{href}" class="u-url mention">'
            f"@<span>{name}</span></a></span>")


def paragraphs(recipient: Recipient | None, lines: list[str]) -> str:
    """Escaped text as paragraphs, the first starting with the mention."""
    out = []
    for index, line in enumerate(lines):
        lead = f"{mention_html(recipient)} " if index == 0 and recipient else ""
        out.append(f"<p>{lead}{linkify_escaped(line)}</p>")
    return "".join(out)


def linkify_escaped(text: str) -> str:
    """Escape text, then link the http(s) URLs in it (ours: event pages, cancel links)."""
    words = []
    for word in text.split(" "):
        if word.startswith(("https://", "http://")):
            url = html.escape(word)
            words.append(f'<a href="{url}">{url}</a>')
        else:
            words.append(html.escape(word, quote=False))
    return " ".join(words)


def mention_tag(recipient: Recipient) -> dict[str, Any]:
    return {"type": "Mention", "href": recipient.actor_id, "name": recipient.acct}


def direct_message(urls: Urls, recipient: Recipient, lines: list[str], *, note_id: str,
                   when: float, in_reply_to: str | None = None) -> dict[str, Any]:
    """`Create` of a direct-message `Note` to one person: `to` them alone, no `cc`."""
    note: dict[str, Any] = {
        "id": note_id, "type": "Note",
        "attributedTo": urls.actor, "content": paragraphs(recipient, lines),
        "to": [recipient.actor_id], "cc": [], "tag": [mention_tag(recipient)],
        "published": iso(when), "sensitive": False}
    if in_reply_to:
        note["inReplyTo"] = in_reply_to
    return {"@context": CONTEXT, "id": urls.activity(str(uuid.uuid4())), "type": "Create",
            "actor": urls.actor, "published": iso(when), "to": note["to"], "cc": [],
            "object": note}


@dataclass(frozen=True)
class PollView:
    """What a poll's `Question` shows."""

    url: str
    lines: list[str]                 # the question, as text paragraphs
    end_at: float
    created_at: float
    updated_at: float | None
    counts: dict[str, int]           # answer (going, maybe, not_going) -> votes
    to: list[str]
    mentions: list[Recipient]
    closed: bool


def question(urls: Urls, poll: PollView, *, with_context: bool = True) -> dict[str, Any]:
    """A single-choice Mastodon-style poll."""
    options = [{"type": "Note", "name": name,
                "replies": {"type": "Collection", "totalItems": poll.counts.get(answer, 0)}}
               for name, answer in POLL_OPTIONS]
    mentions = " ".join(mention_html(r) for r in poll.mentions)
    content = paragraphs(None, poll.lines)
    doc: dict[str, Any] = {
        "id": poll.url, "type": "Question", "attributedTo": urls.actor,
        "content": f"<p>{mentions}</p>{content}" if mentions else content,
        "oneOf": options, "endTime": iso(poll.end_at),
        "votersCount": sum(poll.counts.values()), "published": iso(poll.created_at),
        "url": poll.url, "to": poll.to, "cc": [],
        "tag": [mention_tag(r) for r in poll.mentions], "sensitive": False}
    if poll.updated_at is not None:
        doc["updated"] = iso(poll.updated_at)
    if poll.closed:
        doc["closed"] = iso(poll.end_at)
    return {"@context": CONTEXT, **doc} if with_context else doc


def question_activity(urls: Urls, kind: str, doc: dict[str, Any], *,
                      when: float) -> dict[str, Any]:
    """`Create` or `Update` of a poll, addressed like the poll."""
    obj = {k: v for k, v in doc.items() if k != "@context"}
    return {"@context": CONTEXT, "id": urls.activity(str(uuid.uuid4())), "type": kind,
            "actor": urls.actor, "published": iso(when), "to": obj["to"], "cc": [],
            "object": obj}


def poll_answer(name: object) -> str | None:
    """The answer a vote's option `name` stands for (going, maybe, not_going), or None."""
    if not isinstance(name, str):
        return None
    wanted = name.strip().casefold().replace("\u2019", "'")
    return next((answer for option, answer in POLL_OPTIONS if option.casefold() == wanted),
                None)
