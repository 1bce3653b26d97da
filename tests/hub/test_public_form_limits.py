"""Every public form that changes something is rate-limited per client address.

A route-level check: each POST route outside the console, the API and the inboxes must be
refused with 429 and Retry-After once a client has used its budget, even with a made-up
private link (so guessing links is slowed too).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import aiohttp
import pytest

from tests.support.hubs import RunningHub

HubFactory = Callable[..., Awaitable[RunningHub]]
FAKE = "x" * 43  # the shape of a private link's token, belonging to nobody
EVENT = "00000000-0000-4000-8000-000000000000"
# Each public POST route, with a path to try and how many posts its budget allows.
LIMITED = {
    "/events/{uuid}/rsvp": (f"/events/{EVENT}/rsvp", 10),
    "/rsvp/{token}": (f"/rsvp/{FAKE}", 10),
    "/rsvp/confirm/{token}": (f"/rsvp/confirm/{FAKE}", 10),
    "/volunteer": ("/volunteer", 10),
    "/volunteer/invite/{token}": (f"/volunteer/invite/{FAKE}", 10),
    "/volunteer/link": ("/volunteer/link", 5),
    "/me/{token}/edit": (f"/me/{FAKE}/edit", 20),
    "/me/{token}/delete": (f"/me/{FAKE}/delete", 20),
    "/asks/{token}": (f"/asks/{FAKE}", 20),
}


def _public_post_routes(running: RunningHub) -> set[str]:
    routes = set()
    for resource in running.app.router.resources():
        path = resource.canonical
        if path.startswith(("/console", "/api/", "/inbox", "/actors/")):
            continue
        if any(route.method == "POST" for route in resource):
            routes.add(path)
    return routes


async def test_every_public_post_route_is_in_the_table(hubs: HubFactory) -> None:
    running = await hubs()
    found = _public_post_routes(running)
    assert found == set(LIMITED), (
        f"public POST routes {sorted(found - set(LIMITED))} are not in LIMITED: rate-limit them "
        "(hub.web.ratelimit.rate_limited) and add them here with their budget; "
        f"{sorted(set(LIMITED) - found)} are gone")


@pytest.mark.parametrize("route", sorted(LIMITED))
async def test_a_public_form_answers_429_once_its_budget_is_spent(
        hubs: HubFactory, route: str) -> None:
    running = await hubs()
    path, budget = LIMITED[route]
    async with aiohttp.ClientSession() as session:
        statuses = []
        for _ in range(budget + 1):
            async with session.post(running.base_url + path, data={},
                                    headers={"Accept": "application/json"}) as response:
                statuses.append(response.status)
                retry_after = response.headers.get("Retry-After")
    assert 429 not in statuses[:budget], statuses
    assert statuses[budget] == 429 and retry_after and int(retry_after) >= 1
