"""Matches made at this hub: staff accept a local volunteer who said yes; sessions logged;
the time each need took to fill."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date

from federation.errors import ValidationError
from hub.exchange import notify
from hub.exchange.offers import OfferClosed, fill_if_complete
from hub.exchange.targets import target_of
from hub.needs.pool import volunteers_changed
from hub.runtime import Hub
from hub.store import matches as match_store
from hub.store import volunteers as volunteer_store
from hub.store.asks import Ask
from hub.store.matches import Match, Session

MAX_MINUTES = 1440


async def accept_volunteer(hub: Hub, ask: Ask, *, shared_note: str = "") -> str:
    """Staff accept one of this hub's volunteers who said yes to one of its needs; the
    volunteer is told whom to contact. Returns the match's uuid."""
    target = await target_of(hub, ask)
    if ask.status != "yes" or target is None or not target.local or not target.open:
        raise OfferClosed("only a volunteer who said yes to an open need of this hub "
                          "can be accepted")
    volunteer = await volunteer_store.get_volunteer_by_id(hub.db, ask.volunteer_id)
    if volunteer is None:
        raise OfferClosed("the volunteer was deleted")
    contact = notify.coordinator_contact(hub, shared_note)
    match_uuid = await match_store.add_local_match(hub.db, need_id=target.need.id,
                                                   volunteer_id=volunteer.id, contact=contact,
                                                   now=time.time())
    if match_uuid is None:
        raise OfferClosed("this volunteer is already matched to this need")
    await notify.tell_volunteer(hub, ask, volunteer, "matched_here", target, contact=contact)
    volunteers_changed(hub.db, [volunteer.uuid])
    await fill_if_complete(hub, target.need.id)
    return match_uuid


@dataclass(frozen=True)
class SessionIn:
    on_date: date
    minutes: int


def parse_session(data: dict[str, object], today: date) -> SessionIn:
    """`{"date": "YYYY-MM-DD", "minutes": 60}`, a day not in the future."""
    try:
        on = date.fromisoformat(str(data.get("date")))
    except ValueError as exc:
        raise ValidationError("date: give the day of the session as YYYY-MM-DD") from exc
    if on > today:
        raise ValidationError("date: a session is logged once it has happened")
    minutes = data.get("minutes")
    if isinstance(minutes, bool) or not isinstance(minutes, int) \
            or not 0 < minutes <= MAX_MINUTES:
        raise ValidationError(f"minutes: a whole number from 1 to {MAX_MINUTES}")
    return SessionIn(on, minutes)


async def log_session(hub: Hub, match: Match, session: SessionIn, *, by: str) -> Session:
    if match.status != "active" and by == "volunteer":
        raise OfferClosed("this match has ended")
    return await match_store.add_session(hub.db, match.id, session.on_date, session.minutes,
                                         by)


def hours_text(sessions: list[Session]) -> str:
    minutes = sum(s.minutes for s in sessions)
    return f"{len(sessions)} session{'s' if len(sessions) != 1 else ''}, " \
           f"{minutes // 60} h {minutes % 60:02d} min"
