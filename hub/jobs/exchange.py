"""The matching sweep, every few minutes: asks and offers nobody answered in time expire,
offers left open on needs that closed are declined, needs an accept completed are filled
(should a stop have come between), and under the `auto_ask_top` policy the best candidates
for each of this hub's open needs not yet asked about are asked. A neighbour's need is asked
about only by staff: offering a volunteer to another hub, whose yes releases their contact on
that hub's Accept, is a staff decision."""

from __future__ import annotations

import logging

from federation.errors import FederationError
from hub.exchange import asking, offers
from hub.exchange.targets import Target
from hub.runtime import Hub
from hub.store import asks as ask_store
from hub.store import jobs as job_store
from hub.store import matches as match_store
from hub.store import needs as need_store
from hub.store import offers as offer_store
from hub.store.jobs import Job, PlannedJob

log = logging.getLogger(__name__)
SWEEP_EVERY = 300.0
FILL_AFTER = 60.0  # an accept's own request fills its need; the sweep, if it did not
OPEN = ("open", "matching")


async def plan_exchange_sweep(hub: Hub, now: float) -> int:
    bucket = int(now // SWEEP_EVERY)
    return await job_store.plan(hub.db, [PlannedJob(f"exchange_sweep:{bucket}",
                                                    "exchange_sweep", now, {})])


async def run_exchange_sweep(hub: Hub, job: Job, now: float) -> None:
    expired = await asking.expire_due(hub, now) + await offer_store.expire_offers(hub.db, now)
    declined = await decline_left_over(hub)
    filled = await fill_left_over(hub, now)
    asked = await auto_ask(hub, now) if hub.settings.auto_ask_top > 0 else 0
    if expired or declined or filled or asked:
        log.info("matching sweep: %d asks or offers expired, %d offers on closed needs "
                 "declined, %d needs filled, %d volunteers asked", expired, declined, filled,
                 asked)
    await job_store.finish(hub.db, job.id)


async def decline_left_over(hub: Hub) -> int:
    """Offers still open on needs that closed: each gets the `Reject` closing should have
    sent (a stop between a need's change and its declines leaves them); how many."""
    declined = 0
    for need_id in await offer_store.needs_closed_with_open_offers(hub.db):
        need = await need_store.get_need_by_id(hub.db, need_id)
        if need is not None:
            declined += await offers.decline_open_offers(hub, need)
    return declined


async def fill_left_over(hub: Hub, now: float) -> int:
    """Needs an accept gave all their volunteers a minute or more ago, left open by a stop
    before the step that fills them: filled now, their other offers declined; how many."""
    filled = 0
    for need_id in await match_store.needs_matched_but_open(hub.db,
                                                           matched_before=now - FILL_AFTER):
        try:
            filled += await offers.fill_if_complete(hub, need_id)
        except FederationError as exc:  # one need's trouble does not stop the sweep
            log.warning("matching sweep: need %s not filled: %s", need_id, exc)
    return filled


async def auto_ask(hub: Hub, now: float) -> int:
    """Ask the top candidates for our open needs nobody was asked about yet; how many."""
    targets = [Target(n) for n in await need_store.list_needs(hub.db, statuses=OPEN)]
    asked = 0
    for target in targets:
        if target.open and not await ask_store.list_asks(hub.db, **target.keys()):
            made = await asking.ask_top(hub, target, hub.settings.auto_ask_top,
                                        asked_by="policy", now=now)
            asked += len(made)
    return asked
