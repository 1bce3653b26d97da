"""A volunteer's reply to the hub's ask, from Mastodon: "yes" or "no" in a direct message.

Mastodon sends a reply as `Create{Note}` whose `inReplyTo` is our message's id, `to` the hub
alone (a direct message keeps its visibility), with a `Mention` of the hub and the text as
HTML that starts with that mention. The reply counts only from the account we asked.
"""

from __future__ import annotations

import re
from typing import Any

from hub.exchange import asking, notify
from hub.exchange.targets import target_of
from hub.rsvp.mastodon import note_text
from hub.runtime import Hub
from hub.services.follows import object_id
from hub.store import asks as ask_store
from hub.store import volunteers as volunteer_store

YES = ("yes", "yes please", "yep", "yeah", "i can", "i can help", "count me in", "ok", "okay",
       "happy to", "sure")
NO = ("no", "no thanks", "no thank you", "nope", "i can't", "i cannot", "can't", "cannot",
      "not this time", "sorry")
_WORDS = {answer: [re.compile(r"(?<![\w'])" + r"\s+".join(map(re.escape, p.split()))
                              + r"(?![\w'])") for p in sorted(phrases, key=len, reverse=True)]
          for answer, phrases in (("no", NO), ("yes", YES))}


def parse_yes_no(text: str) -> bool | None:
    """True for yes, False for no, None when unclear (both, or neither)."""
    found = set()
    for answer, patterns in _WORDS.items():
        for pattern in patterns:
            text, hits = pattern.subn(" | ", text)
            if hits:
                found.add(answer)
    return None if len(found) != 1 else found.pop() == "yes"


async def receive_reply(hub: Hub, activity: dict[str, Any]) -> bool:
    """Answer an ask from a reply to its direct message; False if the note is not one."""
    note = activity.get("object")
    if not isinstance(note, dict) or note.get("type") != "Note":
        return False
    reply_to = object_id(note.get("inReplyTo"))
    ask = await ask_store.ask_for_message(hub.db, reply_to) if reply_to else None
    if ask is None or activity["actor"] != ask.dm_actor:
        return False
    volunteer = await volunteer_store.get_volunteer_by_id(hub.db, ask.volunteer_id)
    if volunteer is None:
        return True
    target = await target_of(hub, ask)
    note_id = note.get("id") if isinstance(note.get("id"), str) else None
    wish = parse_yes_no(note_text(note.get("content")))
    if wish is None:
        await notify.dm(hub, activity["actor"], notify.news_lines("unclear", target, None),
                        in_reply_to=note_id)
        return True
    answered = await asking.answer(hub, ask, wish, via="dm")
    news = ("yes" if wish else "no") if answered.recorded else "closed"
    await notify.dm(hub, activity["actor"], notify.news_lines(news, target, None),
                    in_reply_to=note_id)
    return True

