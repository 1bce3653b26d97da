"""The hub's public HTTP faces: content negotiation, WebFinger, NodeInfo, collections, errors."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import aiohttp

from tests.hub.events.factories import draft_input
from tests.support.hubs import RunningHub

HubFactory = Callable[..., Awaitable[RunningHub]]
AS = "application/activity+json"
LD = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'


async def _get(url: str, accept: str = "text/html") -> tuple[int, str, str]:
    async with aiohttp.ClientSession() as s, s.get(url, headers={"Accept": accept},
                                                   allow_redirects=False) as r:
        return r.status, r.content_type, await r.text()


async def _json(url: str, accept: str = AS) -> tuple[int, dict]:
    async with aiohttp.ClientSession() as s, s.get(url, headers={"Accept": accept}) as r:
        return r.status, await r.json(content_type=None)


async def test_actor_is_a_followable_group(hubs: HubFactory) -> None:
    running = await hubs("redbridge")
    for accept in (AS, LD):
        status, actor = await _json(running.actor_url, accept)
        assert status == 200
        assert actor["type"] == "Group" and actor["preferredUsername"] == "redbridge"
        assert actor["publicKey"]["owner"] == actor["id"] == running.actor_url
        assert actor["publicKey"]["publicKeyPem"].startswith("-----BEGIN PUBLIC KEY-----")
        assert actor["endpoints"]["sharedInbox"] == f"{running.base_url}/inbox"
        for key in ("inbox", "outbox", "followers", "following"):
            assert actor[key].startswith(running.actor_url)
    status, content_type, page = await _get(running.actor_url)
    assert status == 200 and content_type == "text/html"
    assert "@redbridge@127.0.0.1" in page


async def test_webfinger_round_trip_and_errors(hubs: HubFactory) -> None:
    running = await hubs("redbridge")
    resource = f"acct:redbridge@{running.settings.domain}"
    status, doc = await _json(f"{running.base_url}/.well-known/webfinger?resource={resource}")
    assert status == 200 and doc["subject"] == resource
    assert {"rel": "self", "type": AS, "href": running.actor_url} in doc["links"]
    status, _ = await _json(f"{running.base_url}/.well-known/webfinger?resource="
                            f"acct:nobody@{running.settings.domain}")
    assert status == 404
    status, body = await _json(f"{running.base_url}/.well-known/webfinger")
    assert status == 400 and "error" in body


async def test_nodeinfo_both_versions(hubs: HubFactory) -> None:
    running = await hubs()
    status, links = await _json(f"{running.base_url}/.well-known/nodeinfo", "application/json")
    assert status == 200
    for link in links["links"]:
        status, doc = await _json(link["href"], "application/json")
        assert status == 200 and doc["software"]["name"] == "commonhub"
        assert doc["protocols"] == ["activitypub"]


async def test_posts_negotiate_and_collections_page(hubs: HubFactory) -> None:
    running = await hubs()
    urls = []
    for i in range(25):
        status, post = await running.api("POST", "/api/v1/posts", {"text": f"News {i} <b>x</b>"})
        assert status == 201
        urls.append(post["url"])
    status, note = await _json(urls[0])
    assert status == 200 and note["type"] == "Note"
    assert note["attributedTo"] == running.actor_url
    assert "&lt;b&gt;" in note["content"]  # staff text is text, never markup
    status, content_type, page = await _get(urls[0])
    assert status == 200 and content_type == "text/html" and "News 0" in page

    status, outbox = await _json(f"{running.actor_url}/outbox")
    assert outbox["totalItems"] == 25 and outbox["first"].endswith("?page=1")
    status, first = await _json(outbox["first"])
    assert len(first["orderedItems"]) == 20 and first["next"].endswith("?page=2")
    status, second = await _json(first["next"])
    assert len(second["orderedItems"]) == 5 and "next" not in second
    assert second["orderedItems"][-1]["object"]["id"] == urls[0]
    # A browser following the link lands on the hub's page.
    status, _, _ = await _get(f"{running.actor_url}/outbox")
    assert status == 303


async def test_deleted_post_is_a_tombstone(hubs: HubFactory) -> None:
    running = await hubs()
    _, post = await running.api("POST", "/api/v1/posts", {"text": "Soon gone"})
    status, _ = await running.api("DELETE", f"/api/v1/posts/{post['id']}")
    assert status == 200
    status, doc = await _json(post["url"])
    assert status == 410 and doc["type"] == "Tombstone" and doc["formerType"] == "Note"
    status, content_type, _ = await _get(post["url"])
    assert status == 410 and content_type == "text/html"


async def test_an_edit_or_deletion_is_stored_only_with_its_activity(hubs: HubFactory) -> None:
    # The change and its Update or Delete are one transaction: when the outbox cannot be
    # written, the post stays as it was and the caller gets a JSON 500.
    running = await hubs()
    _, post = await running.api("POST", "/api/v1/posts", {"text": "First words"})
    path = f"/api/v1/posts/{post['id']}"
    await running.hub.db.execute("CREATE TEMP TRIGGER no_outbox BEFORE INSERT ON outbox "
                                 "BEGIN SELECT RAISE(ABORT, 'disk gone'); END")
    status, body = await running.api("PATCH", path, {"text": "Second words"})
    assert status == 500 and "error" in body
    status, body = await running.api("DELETE", path)
    assert status == 500 and "error" in body
    await running.hub.db.execute("DROP TRIGGER temp.no_outbox")
    status, doc = await _json(post["url"])
    assert status == 200 and "First words" in doc["content"]
    await running.hub.db.execute("CREATE TEMP TRIGGER no_change BEFORE UPDATE ON posts "
                                 "BEGIN SELECT RAISE(ABORT, 'disk gone'); END")
    status, _ = await running.api("PATCH", path, {"text": "Second words"})
    assert status == 500
    types = await running.hub.db.fetchall("SELECT type FROM outbox WHERE object_id = ?",
                                          (post["url"],))
    assert [row["type"] for row in types] == ["Create"]
    await running.hub.db.execute("DROP TRIGGER temp.no_change")
    status, body = await running.api("PATCH", path, {"text": "Second words"})
    assert status == 200 and body["updated_at"] is not None and body["text"] == "Second words"


async def test_errors_are_explained(hubs: HubFactory) -> None:
    running = await hubs()
    status, content_type, page = await _get(f"{running.base_url}/posts/nope")
    assert status == 404 and content_type == "text/html" and "Not found" in page
    status, body = await _json(f"{running.base_url}/actors/someone-else")
    assert status == 404 and "error" in body
    status, body = await _json(f"{running.actor_url}/outbox?page=-1")
    assert status == 400 and "page" in body["error"]


async def test_a_fault_of_ours_is_still_answered_as_the_caller_reads(
        hubs: HubFactory) -> None:
    # An unexpected error (here a row the hub cannot read back) is a 500 page for a browser
    # and a JSON 500 for a client, not aiohttp's plain text.
    running = await hubs()
    status, event = await running.api("POST", "/api/v1/events", draft_input(
        start="2030-12-07T14:00", end="2030-12-07T16:00"))
    assert status == 201, event
    await running.hub.db.execute("UPDATE events SET hashtags = 'not json' WHERE uuid = ?",
                                 (event["id"],))
    status, content_type, page = await _get(event["url"])
    assert (status, content_type) == (500, "text/html") and "Server error" in page
    status, body = await _json(event["url"])
    assert status == 500 and "log" in body["error"]


async def test_api_needs_a_valid_token_and_valid_input(hubs: HubFactory) -> None:
    running = await hubs()
    async with aiohttp.ClientSession() as s:
        async with s.post(f"{running.base_url}/api/v1/posts", json={"text": "hi"}) as r:
            assert r.status == 401 and "Bearer" in (await r.json())["error"]
        headers = {"Authorization": "Bearer wrong"}
        async with s.post(f"{running.base_url}/api/v1/posts", json={"text": "hi"},
                          headers=headers) as r:
            assert r.status == 401
    status, body = await running.api("POST", "/api/v1/posts", {"text": "   "})
    assert status == 400 and "text" in body["error"]
    status, body = await running.api("POST", "/api/v1/posts", {"text": "x" * 5001})
    assert status == 400
    status, body = await running.api("PATCH", "/api/v1/posts/00000000-0000-0000-0000-000000000000",
                                     {"text": "x"})
    assert status == 404
    status, body = await running.api("POST", "/api/v1/following", {"target": "no-at-sign"})
    assert status == 400
    status, _ = await running.api("GET", "/api/v1/posts")
    assert status == 200
    status, spec = await running.api("GET", "/api/openapi.json")
    assert status == 200 and "/api/v1/posts" in spec["paths"]
