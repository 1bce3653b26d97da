"""Signing up from the fediverse: someone mentions the hub or sends it a direct message
saying they want to volunteer, and the hub answers by direct message with a sign-up link
bound to their account (`/volunteer/invite/{token}`: single use, a week, stored hashed).

Only notes addressed to the hub count, and never replies to the hub's own posts or messages:
those are RSVPs and answers to requests for help, handled elsewhere. The words must say so
clearly: a phrase such as "I'd like to volunteer" anywhere, or a message that is nothing but
"volunteer", "sign up", "join"... "Could the repair café use one more volunteer?" is not a
sign-up. Someone whose account already signed up this way gets a fresh private link to their
details instead (how a lost link is found again).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from hub.rsvp.mastodon import PhraseWords, note_text
from hub.rsvp.messages import recipient, send_dm
from hub.runtime import Hub
from hub.services.follows import object_id
from hub.store import signups as signup_store
from hub.store import volunteers as volunteer_store
from hub.volunteers import service
from hub.volunteers.signup import INVITE_LIFETIME, access_url

log = logging.getLogger(__name__)

# Phrases that say "I want to sign up to volunteer" wherever they stand in a message.
PHRASES = ("i'd like to volunteer", "i would like to volunteer", "i want to volunteer",
           "i'd love to volunteer", "i would love to volunteer", "i wish to volunteer",
           "i'd like to be a volunteer", "i want to be a volunteer", "become a volunteer",
           "sign me up as a volunteer", "sign me up to volunteer", "sign up as a volunteer",
           "sign up to volunteer", "signup as a volunteer", "join as a volunteer",
           "join as volunteer", "register as a volunteer", "how can i volunteer",
           "how do i volunteer", "can i volunteer", "could i volunteer", "volunteer sign up",
           "volunteer signup", "sign up as volunteer")
# Messages that are only these words (after greetings and "please") are sign-ups too.
COMMANDS = frozenset({"volunteer", "volunteering", "sign up", "signup", "sign me up", "join",
                      "register", "volunteer sign up"})
_FILLER = frozenset({"hi", "hello", "hey", "please", "thanks", "thank", "you", "there",
                     "hiya", "pls", "plz"})
_PATTERNS = [re.compile(r"(?<![\w'])" + r"\s+".join(map(re.escape, p.split())) + r"(?![\w'])")
             for p in PHRASES]
_PHRASE_WORDS = PhraseWords(PHRASES)  # most notes need none of the patterns run


def wants_to_sign_up(text: str) -> bool:
    """True if a note's words (`note_text`) ask to sign up as a volunteer."""
    words = [w for w in text.split() if w not in _FILLER]
    if " ".join(words) in COMMANDS:
        return True
    return _PHRASE_WORDS.may_hold(text) and any(p.search(text) for p in _PATTERNS)


def _addressed_to_hub(hub: Hub, note: dict[str, Any]) -> bool:
    tags = note.get("tag")
    tags = tags if isinstance(tags, list) else [tags]
    if any(isinstance(t, dict) and t.get("type") == "Mention" and t.get("href") == hub.urls.actor
           for t in tags):
        return True
    audience = []
    for key in ("to", "cc"):
        value = note.get(key)
        audience += value if isinstance(value, list) else [value]
    return hub.urls.actor in audience


def is_signup_request(hub: Hub, activity: dict[str, Any]) -> bool:
    """A Create{Note} to the hub, not a reply to anything of the hub's, asking to sign up."""
    note = activity.get("object")
    if not isinstance(note, dict) or note.get("type") != "Note":
        return False
    if object_id(note.get("attributedTo")) not in (None, activity.get("actor")):
        return False
    reply_to = object_id(note.get("inReplyTo"))
    if reply_to is not None and reply_to.startswith(hub.urls.base + "/"):
        return False
    return _addressed_to_hub(hub, note) and wants_to_sign_up(note_text(note.get("content")))


async def receive_note(hub: Hub, activity: dict[str, Any]) -> bool:
    """Answer a sign-up request with a link; False if the note is not one."""
    if not is_signup_request(hub, activity):
        return False
    actor_id, note_id = activity["actor"], activity["object"].get("id")
    existing = await volunteer_store.volunteer_for_actor(hub.db, actor_id)
    if existing is not None:
        token, _ = await service.access_link(hub.db, existing, service.Actor("signup"))
        lines = ["You're already signed up as a volunteer with this account. Here is a fresh "
                 "private link to see, correct, download or delete your details (it works "
                 "for 30 days and replaces any earlier one; don't share it):",
                 access_url(hub, token)]
        await send_dm(hub, None, actor_id, lines, in_reply_to=note_id)
        return True
    to = await recipient(hub, actor_id)
    if to is None:
        return True  # their server cannot be reached: nothing to answer with
    handle = f"@{to.username}@{to.domain}"
    token = await signup_store.new_invite(hub.db, actor_id, handle, INVITE_LIFETIME)
    name = hub.settings.display_name or hub.settings.name
    lines = [f"Thank you for wanting to volunteer with {name}! Sign up here: the form already "
             f"knows your account ({handle}), so you needn't type it. The link is for you "
             "alone, works once, and for 7 days:",
             f"{hub.urls.base}/volunteer/invite/{token}"]
    await send_dm(hub, None, actor_id, lines, in_reply_to=note_id)
    log.info("sent a volunteer sign-up link to %s", actor_id)
    return True
