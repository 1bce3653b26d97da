"""From a stored need, local or sent by a neighbouring hub, to the matcher's `Need` value.

One converter for both, so a neighbour's need is ranked by exactly the rules a local one is;
only `from_neighbour_hub` differs (volunteers must then consent to `match_neighbours`).
"""

from __future__ import annotations

from collections.abc import Mapping

from hub.matching.geo import GeoPoint
from hub.matching.model import Need, Slot
from hub.needs.model import NeedDraft
from hub.store.needs import LocalNeed, RemoteNeed
from hub.volunteers.model import DAYS

_DAY_INDEX = {day: i for i, day in enumerate(DAYS)}


def weekly_slots(slots: Mapping[str, tuple[str, ...]]) -> frozenset[Slot]:
    """{"tue": ["afternoon"]} as the matcher's {(1, "afternoon")}."""
    return frozenset([(_DAY_INDEX[day], part) for day, parts in slots.items() for part in parts])


def draft_to_matcher_need(need_id: str, draft: NeedDraft, *,
                          from_neighbour_hub: bool = False) -> Need:
    """The matcher's view of a checked draft (`check_whole` has derived a dated need's slots)."""
    location = None
    if draft.latitude is not None and draft.longitude is not None:
        location = GeoPoint(draft.latitude, draft.longitude)
    return Need(
        id=need_id, kind=draft.kind,  # type: ignore[arg-type]  # checked by the parser
        slots=weekly_slots(draft.slots),
        on=draft.on_date, starts_on=draft.starts_on, ends_on=draft.ends_on,
        skills=frozenset(draft.skills), interests=frozenset(draft.interests),
        tags=frozenset(draft.tags), checks_required=frozenset(draft.checks_required),
        languages_required=frozenset(draft.languages_required),
        languages_preferred=frozenset(draft.languages_preferred),
        location=location, max_distance_km=draft.max_distance_km,
        from_neighbour_hub=from_neighbour_hub)


def to_matcher_need(need: LocalNeed | RemoteNeed) -> Need:
    """A local need as itself; a remote one as a neighbour's (its id is its ActivityPub id)."""
    return draft_to_matcher_need(need.matcher_id, need.draft,
                                 from_neighbour_hub=isinstance(need, RemoteNeed))
