"""What the hub decides about other commonhub hubs, and what staff can change.

`consider` applies the pairing rule (`hub.neighbours.area.within_neighbourhood`, or an allowed
domain) to a hub a walk or a Follow has just recognised, and follows or stops following it.
Staff pause, resume, unpair, block and allow; see docs/neighbours.md.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any, Literal

from yarl import URL

from federation.errors import FederationError, NotFound, ValidationError
from federation.fetch import same_origin
from federation.nodeinfo import fetch_nodeinfo
from federation.policy import authority_of, domain_matches
from federation.webfinger import normalise_host, parse_handle
from hub.activitypub.context import AS_PUBLIC, CONTEXT
from hub.neighbours.area import Area, distance_km, own_area, parse_area, within_neighbourhood
from hub.runtime import Hub, reload_policy
from hub.services import follows
from hub.services.outbox import publish_to_followers
from hub.store import follows as follow_store
from hub.store import neighbours as neighbour_store
from hub.store.actors import RemoteActor
from hub.store.neighbours import Neighbour

log = logging.getLogger(__name__)

Outcome = Literal["paired", "unpaired", "kept"]


async def allowed(hub: Hub, authority: str) -> bool:
    entries = frozenset(await neighbour_store.domains(hub.db, "allow"))
    return domain_matches(entries, authority)


async def consider(hub: Hub, actor: RemoteActor, area: Area | None, peers_url: str | None, *,
                   source: str) -> Outcome:
    """Record a recognised commonhub hub and pair with it, or stop, as the rule says."""
    own = own_area(hub.settings)
    authority = authority_of(actor.id)
    row = await neighbour_store.record_seen(
        hub.db, actor_id=actor.id, authority=authority, name=actor.name,
        area_name=area.name if area else None, latitude=area.latitude if area else None,
        longitude=area.longitude if area else None, radius_km=area.radius_km if area else None,
        distance_km=distance_km(own.centre, area.centre) if own and area else None,
        peers_url=peers_url, source=source)
    if row.state in ("paused", "unpaired"):
        return "kept"  # staff's choice stands until they change it
    wanted = within_neighbourhood(own, hub.settings.neighbourhood_radius_km, area) or (
        await allowed(hub, authority))
    following = await follow_store.get_following(hub.db, actor.id)
    if wanted:
        if following is None:
            await follows.follow(hub, actor.id, refresh=False)
        if row.state == "paired":
            return "kept"
        await neighbour_store.set_state(hub.db, actor.id, "paired")
        return "paired"
    if row.state == "paired":
        if following is not None:
            await follows.unfollow(hub, actor.id)
        await neighbour_store.set_state(hub.db, actor.id, "known")
        return "unpaired"
    return "kept"


# A Follow from another hub ------------------------------------------------------------------
async def recognise_actor(hub: Hub, actor: RemoteActor) -> bool:
    """True if `actor` is a commonhub hub's own actor, by its server's NodeInfo."""
    if not isinstance(actor.document.get("peers"), str):
        return False  # not shaped like a hub: spare its server the NodeInfo requests
    try:
        nodeinfo = await fetch_nodeinfo(hub.fetcher, str(URL(actor.id).origin()))
    except FederationError as exc:
        log.info("could not recognise %s: %s", actor.id, exc.message)
        return False
    metadata = nodeinfo.get("metadata")
    ours = metadata.get("commonhub") if isinstance(metadata, dict) else None
    return (nodeinfo["software"]["name"] == "commonhub" and isinstance(ours, dict)
            and ours.get("actor") == actor.id and same_origin(actor.id, actor.inbox))


async def receive_follow(hub: Hub, activity: dict[str, Any]) -> None:
    """A Follow of the hub. One from a recognised commonhub hub that publishes an area (so
    follows by the pairing rule) is accepted at once, when `accept_neighbour_follows` is on
    and staff have not unpaired it; and the hub considers following it back by the same rule
    as a walk. Other follows, hubs without an area included, take the usual way."""
    actor = await hub.actors.get(str(activity.get("actor")))
    at_once = False
    if await recognise_actor(hub, actor):
        peers = actor.document.get("peers")
        await consider(hub, actor, parse_area(actor.document.get("area")),
                       peers if isinstance(peers, str) and same_origin(peers, actor.id) else None,
                       source="follower")
        row = await neighbour_store.get(hub.db, actor.id)
        at_once = hub.settings.accept_neighbour_follows and row is not None and (
            row.state != "unpaired" and row.radius_km is not None)
    await follows.receive_follow(hub, activity, accept_at_once=at_once)


# Relaying a neighbour's events ---------------------------------------------------------------
async def relay_event(hub: Hub, event: dict[str, Any], origin_actor_id: str) -> bool:
    """Announce a new event of a neighbour whose events staff chose to relay."""
    if not await neighbour_store.announcing(hub.db, origin_actor_id):
        return False
    announce = {"@context": CONTEXT, "id": hub.urls.activity(str(uuid.uuid4())),
                "type": "Announce", "actor": hub.urls.actor, "object": event["id"],
                "to": [AS_PUBLIC], "cc": [hub.urls.followers]}
    await publish_to_followers(hub, announce)
    return True


# Staff actions -------------------------------------------------------------------------------
def domain_of(text: str) -> str:
    """`host` or `host:port` from a domain, a URL or a handle, normalised."""
    text = text.strip()
    if text.startswith(("http://", "https://")):
        try:
            text = authority_of(text)
        except ValueError as exc:
            raise ValidationError(f"malformed URL {text!r}") from exc
    elif "@" in text:
        return parse_handle(text)[1]
    if not text:
        raise ValidationError("say which domain: example.org, host:port, a URL or a handle")
    return normalise_host(text)


async def find(hub: Hub, ident: str) -> Neighbour:
    """A known hub by actor URL, handle or domain."""
    ident = ident.strip()
    if ident.startswith(("http://", "https://")):
        found = await neighbour_store.get(hub.db, ident)
        if found is not None:
            return found
    authority = domain_of(ident)
    for row in await neighbour_store.list_neighbours(hub.db):
        if row.authority == authority:
            return row
    raise NotFound(f"no known hub {ident!r} (see `commonhub neighbours list`)")


async def pause(hub: Hub, ident: str) -> Neighbour:
    """Stop following a hub for now; discovery leaves it be until `resume`."""
    row = await find(hub, ident)
    # The state first: if the Undo cannot be queued, discovery still leaves the hub be, and
    # pausing again finishes the job.
    await neighbour_store.set_state(hub.db, row.actor_id, "paused")
    if await follow_store.get_following(hub.db, row.actor_id) is not None:
        await follows.unfollow(hub, row.actor_id)
    return row


async def resume(hub: Hub, ident: str) -> Outcome:
    """Let the pairing rule decide about a paused or unpaired hub again, now."""
    row = await find(hub, ident)
    await neighbour_store.set_state(hub.db, row.actor_id, "known")
    actor = await hub.actors.get(row.actor_id)
    return await consider(hub, actor, parse_area(actor.document.get("area")), row.peers_url,
                          source=row.source)


async def unpair(hub: Hub, ident: str) -> Neighbour:
    """End the pairing both ways: Undo our Follow, Reject (remove) theirs; discovery does not
    pair with it again until staff add it."""
    row = await find(hub, ident)
    await neighbour_store.set_state(hub.db, row.actor_id, "unpaired")  # first, as in pause
    if await follow_store.get_following(hub.db, row.actor_id) is not None:
        await follows.unfollow(hub, row.actor_id)
    if await follow_store.get_follower(hub.db, row.actor_id) is not None:
        await follows.reject_follower(hub, row.actor_id)
    return row


async def set_announce(hub: Hub, ident: str, announce: bool) -> Neighbour:
    row = await find(hub, ident)
    await neighbour_store.set_announce(hub.db, row.actor_id, announce)
    return row


async def block(hub: Hub, domain: str) -> tuple[str, int]:
    """Block a domain: never contacted again, its activities refused. Follows both ways with
    its hubs are dropped here without a word to them (telling them would contact them).
    Returns the domain and how many known hubs were forgotten."""
    domain = domain_of(domain)
    await neighbour_store.set_policy(hub.db, domain, "block")
    await reload_policy(hub)
    forgotten = 0
    for row in await neighbour_store.list_neighbours(hub.db):
        if hub.policy.is_blocked(row.authority):
            forgotten += await neighbour_store.remove_authority(hub.db, row.authority)
    for table in ("following", "followers"):
        for actor_id in await _actor_ids(hub, table):
            if hub.policy.is_url_blocked(actor_id):
                await _drop_follow(hub, table, actor_id)
    return domain, forgotten


async def _actor_ids(hub: Hub, table: str) -> list[str]:
    if table == "following":
        rows = [r for state in ("accepted", "pending", "rejected")
                for r in await follow_store.list_following(hub.db, state=state, limit=100_000)]
    else:
        rows = [r for state in ("accepted", "pending")
                for r in await follow_store.list_followers(hub.db, state=state, limit=100_000)]
    return [r["actor_id"] for r in rows]


async def _drop_follow(hub: Hub, table: str, actor_id: str) -> None:
    if table == "following":
        await follow_store.remove_following(hub.db, actor_id)
        follows.forget_followed(hub.db)
    else:
        await follow_store.remove_follower(hub.db, actor_id)


async def allow(hub: Hub, domain: str) -> str:
    """Pair with this domain's hubs whatever the distance, from the next visit on."""
    domain = domain_of(domain)
    await neighbour_store.set_policy(hub.db, domain, "allow")
    return domain


async def clear_policy(hub: Hub, domain: str) -> str:
    """Lift a block or an allow."""
    domain = domain_of(domain)
    await neighbour_store.set_policy(hub.db, domain, None)
    await reload_policy(hub)
    return domain
