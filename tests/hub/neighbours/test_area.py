"""A hub publishes its area in its actor and NodeInfo, and the hubs it peers with."""

from __future__ import annotations

import aiohttp
import pytest

from federation import jsonld
from hub.neighbours.area import Area, parse_area, within_neighbourhood
from hub.settings import SettingsError, build_settings
from hub.store import neighbours as neighbour_store
from tests.support.hubs import RunningHub

AP = "application/activity+json"
CH = "https://w3id.org/commonhub/ns#"
PUBLISHED = ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1",
             "https://w3id.org/commonhub/ns"]


async def _get(url: str, accept: str = AP) -> dict:
    async with aiohttp.ClientSession() as session, session.get(
            url, headers={"Accept": accept}) as response:
        assert response.status == 200, url
        return await response.json(content_type=None)


@pytest.fixture
async def placed(hubs) -> RunningHub:
    return await hubs("brixton", area_name="Brixton", area_latitude=51.4613,
                      area_longitude=-0.1156, area_radius_km=2.5, neighbourhood_radius_km=8)


async def test_the_actor_carries_its_area_and_peers(placed: RunningHub) -> None:
    actor = await _get(placed.actor_url)
    assert actor["area"] == {"type": "Place", "name": "Brixton", "latitude": 51.4613,
                             "longitude": -0.1156, "radius": 2.5}
    assert actor["peers"] == f"{placed.actor_url}/peers"
    # The inline context and the published one read it the same way: radius in km, ch:.
    for context in (actor["@context"], PUBLISHED):
        [expanded] = jsonld.expand({"@context": context, "area": actor["area"],
                                    "peers": actor["peers"]})
        [area] = expanded[f"{CH}area"]
        assert area[f"{CH}radius"][0]["@value"] == 2.5
        assert expanded[f"{CH}peers"] == [{"@id": actor["peers"]}]


async def test_nodeinfo_lets_other_hubs_recognise_it(placed: RunningHub) -> None:
    links = await _get(f"{placed.base_url}/.well-known/nodeinfo", "application/json")
    document = await _get(links["links"][-1]["href"], "application/json")
    assert document["software"]["name"] == "commonhub"
    ours = document["metadata"]["commonhub"]
    assert ours["actor"] == placed.actor_url and ours["peers"] == f"{placed.actor_url}/peers"
    assert ours["area"]["radius"] == 2.5 and ours["neighbourhoodRadius"] == 8


async def test_the_peers_collection_lists_the_hubs_it_knows(placed: RunningHub) -> None:
    db = placed.hub.db
    for i, state in enumerate(("paired", "known", "unpaired")):
        await neighbour_store.record_seen(
            db, actor_id=f"https://h{i}.example/actors/h", authority=f"h{i}.example",
            name=None, area_name=None, latitude=None, longitude=None, radius_km=None,
            distance_km=float(i), peers_url=None, source="walk")
        await neighbour_store.set_state(db, f"https://h{i}.example/actors/h", state)
    head = await _get(f"{placed.actor_url}/peers")
    assert head["type"] == "OrderedCollection" and head["totalItems"] == 2
    first = head["first"]
    assert isinstance(first, dict)  # embedded: one request reads a small collection
    page = first
    # Hubs staff unpaired are not passed on to others.
    assert page["orderedItems"] == ["https://h0.example/actors/h", "https://h1.example/actors/h"]


def test_the_pairing_rule_and_hostile_areas() -> None:
    home = Area(51.5, -0.1, 2.0)
    near = parse_area({"type": "Place", "latitude": 51.5, "longitude": 0.0, "radius": 1.0})
    assert near is not None
    # ~6.9 km apart: within 5 km + their 2 km, not within 5 km + 1 km.
    assert within_neighbourhood(home, 5.0, Area(51.5, 0.0, 2.0))
    assert not within_neighbourhood(home, 5.0, near)
    assert not within_neighbourhood(None, 5.0, near)
    for bad in (None, "x", {"latitude": 91, "longitude": 0, "radius": 1},
                {"latitude": 1, "longitude": 0, "radius": 0},
                {"latitude": True, "longitude": 0, "radius": 1},
                {"latitude": 1, "longitude": 0, "radius": float("nan")}):
        assert parse_area(bad) is None


@pytest.mark.parametrize(("name", "value"), [
    ("area_latitude", 95), ("area_longitude", -181), ("area_radius_km", -1),
    ("neighbourhood_radius_km", 900), ("discovery_rate", 0), ("discovery_depth", -1)])
def test_bad_area_settings_are_refused(tmp_path, name: str, value: float) -> None:
    with pytest.raises(SettingsError, match=name.split("_")[0]):
        build_settings({"home": tmp_path, "domain": "hub.example", "name": "hub", name: value})
