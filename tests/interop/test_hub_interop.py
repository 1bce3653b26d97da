"""A real commonhub hub next to a real Fedify 2.3.6 server (alice), both on 127.0.0.1.

Each test drives one side through its ordinary interface (the hub's staff API, the peer's
control API) and checks what the other side made of it. A `received` entry at the peer means
Fedify verified the HTTP signature before handing the activity to a listener; a delivery's
`attempts` list each HTTP request Fedify made, with its signature scheme and the hub's answer.
Fedify resolves `acct:` handles over https only, so alice addresses the hub by its actor URL.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from hub.activitypub.context import AS_PUBLIC
from hub.services.keys import rotate_key
from hub.store import follows as follow_store
from hub.store import remote_objects
from tests.interop.fedify_peer import Entry, FedifyPeer
from tests.support.hubs import RunningHub, wait_until

pytestmark = pytest.mark.interop

HubFactory = Callable[..., Awaitable[RunningHub]]


def posts_by_scheme(result: Entry) -> list[tuple[str | None, int | None]]:
    """(signature scheme, status) of each POST a delivery result made, in order."""
    return [(a["scheme"], a["status"]) for a in result["attempts"] if a["method"] == "POST"]


def same_pem(a: str, b: str) -> bool:
    return "".join(a.split()) == "".join(b.split())


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def is_public(value: Any) -> bool:
    # Fedify re-serialises compacted JSON-LD, where the Public collection may read `as:Public`.
    return any(v in (AS_PUBLIC, "as:Public") for v in as_list(value))


async def follower_row(running: RunningHub, actor_id: str, state: str = "accepted") -> Any:
    row = await follow_store.get_follower(running.hub.db, actor_id)
    return row if row is not None and row["state"] == state else None


async def alice_follows(fedify_peer: FedifyPeer, running: RunningHub) -> Entry:
    """Given alice follows the hub and has its Accept; returns Fedify's delivery of the Follow."""
    follow = await fedify_peer.follow(running.actor_url)
    assert follow["ok"], (follow, await fedify_peer.diagnostics())
    await wait_until(lambda: follower_row(running, fedify_peer.actor_url),
                     what="the hub to store alice as an accepted follower")
    await fedify_peer.wait_for(lambda e: e["type"] == "Accept" and e["object"] == follow["id"])
    return follow


async def assert_hub_settled(running: RunningHub) -> None:
    """Every activity the hub received was processed, and every delivery it queued was taken
    by Fedify at the first attempt: nothing failed, ignored or retried on either queue."""
    db = running.hub.db

    async def drained() -> bool:
        pending = await db.fetchval(
            "SELECT (SELECT count(*) FROM inbound WHERE state = 'pending')"
            " + (SELECT count(*) FROM deliveries WHERE state = 'pending')")
        return pending == 0

    await wait_until(drained, what="the hub's inbound and delivery queues to drain")
    inbound = await db.fetchall(
        "SELECT activity_id, state, error FROM inbound WHERE state != 'done'")
    assert [dict(r) for r in inbound] == []
    deliveries = await db.fetchall(
        "SELECT inbox, state, attempts, last_status, last_error FROM deliveries"
        " WHERE state != 'done' OR attempts != 1 OR last_status != 202")
    assert [dict(r) for r in deliveries] == []


def activity_on(kind: str, object_id: str) -> Callable[[Entry], bool]:
    return lambda e: e["type"] == kind and e["object"] == object_id


async def post(running: RunningHub, text: str) -> dict[str, Any]:
    status, body = await running.api("POST", "/api/v1/posts", {"text": text})
    assert status == 201, body
    return body


async def test_fedify_follows_the_hub_and_verifies_its_accept(
    fedify_peer: FedifyPeer, hubs: HubFactory
) -> None:
    """Fedify's RFC 9421-signed Follow is taken at the first knock; the hub's draft-cavage
    Accept, naming the Follow by id, verifies at Fedify and completes the follow there."""
    # Given a hub
    running = await hubs("hub")

    # When alice follows it by its actor URL
    follow = await fedify_peer.follow(running.actor_url)

    # Then the hub accepted Fedify's first knock, signed RFC 9421
    assert follow["ok"], (follow, await fedify_peer.diagnostics())
    assert posts_by_scheme(follow) == [("rfc9421", 202)]
    # And stored alice as an accepted follower, under the Follow's id
    row = await wait_until(lambda: follower_row(running, fedify_peer.actor_url),
                           what="the hub to store alice as a follower")
    assert row["follow_id"] == follow["id"]
    # And Fedify verified the hub's draft-cavage signed Accept, whose object is the Follow
    accept = await fedify_peer.wait_for("Accept")
    assert accept["actor"] == running.actor_url
    assert accept["object"] == follow["id"]
    assert accept["scheme"] == "draft-cavage"
    assert accept["json"]["object"]["type"] == "Follow"
    assert await fedify_peer.following() == [
        {"id": running.actor_url, "follow": follow["id"], "accepted": True}
    ]
    assert await fedify_peer.rejected() == []
    # And the hub's queues settled: nothing failed, ignored or retried
    await assert_hub_settled(running)


async def test_a_post_its_edit_and_its_deletion_reach_fedify(
    fedify_peer: FedifyPeer, hubs: HubFactory
) -> None:
    """Create, Update and Delete of a news post, each verified by Fedify and parsed into its
    vocabulary with the hub as author and Public + the hub's followers as audience."""
    # Given alice follows the hub
    running = await hubs("hub")
    await alice_follows(fedify_peer, running)

    # When staff post
    body = await post(running, "Tea and chat, Thursday 2pm.\n\nAll welcome!")

    # Then Fedify receives Create{Note} from the hub, verified
    create = await fedify_peer.wait_for(activity_on("Create", body["url"]))
    assert create["actor"] == running.actor_url
    assert create["scheme"] == "draft-cavage"
    note = create["json"]["object"]
    assert note["type"] == "Note"
    assert note["id"] == body["url"]
    assert note["attributedTo"] == running.actor_url
    assert "<p>All welcome!</p>" in note["content"]
    for doc in (create["json"], note):
        assert is_public(doc["to"]), doc
        assert running.hub.urls.followers in as_list(doc["cc"]), doc

    # When staff edit it
    status, _ = await running.api("PATCH", f"/api/v1/posts/{body['id']}",
                                  {"text": "Tea and chat, Thursday 3pm"})
    assert status == 200

    # Then Fedify receives an Update carrying the new text
    update = await fedify_peer.wait_for(activity_on("Update", body["url"]))
    assert update["actor"] == running.actor_url
    assert "3pm" in update["json"]["object"]["content"]
    assert "updated" in update["json"]["object"]

    # When staff delete it
    status, _ = await running.api("DELETE", f"/api/v1/posts/{body['id']}")
    assert status == 200

    # Then Fedify receives a Delete of the post
    delete = await fedify_peer.wait_for(activity_on("Delete", body["url"]))
    assert delete["actor"] == running.actor_url
    assert delete["json"]["object"]["type"] == "Tombstone"
    assert await fedify_peer.rejected() == []
    # And the hub's queues settled: nothing failed, ignored or retried
    await assert_hub_settled(running)


async def test_the_hub_verifies_fedifys_rfc9421_deliveries(
    fedify_peer: FedifyPeer, hubs: HubFactory
) -> None:
    """The hub follows alice; Fedify's Accept and a Create from alice, both signed RFC 9421,
    verify at the hub's inbox at the first knock (no draft-cavage fallback was needed)."""
    # Given a hub
    running = await hubs("hub")

    # When staff follow alice by her actor URL
    status, body = await running.api("POST", "/api/v1/following",
                                     {"target": fedify_peer.actor_url})
    assert status == 202, body

    # Then Fedify verified the hub's Follow and auto-accepted it
    follow = await fedify_peer.wait_for("Follow")
    assert follow["actor"] == running.actor_url
    assert follow["scheme"] == "draft-cavage"
    answer = await fedify_peer.wait_for_background(lambda e: e["label"] == f"Accept {follow['id']}")
    assert answer["ok"], answer
    # And the Accept verified at the hub at the first knock, signed RFC 9421
    assert posts_by_scheme(answer) == [("rfc9421", 202)]

    async def accepted() -> bool:
        row = await follow_store.get_following(running.hub.db, fedify_peer.actor_url)
        return row is not None and row["state"] == "accepted"

    await wait_until(accepted, what="the hub to record alice's Accept")
    assert await fedify_peer.followers() == [running.actor_url]

    # When alice sends the hub a note
    note_id = f"{fedify_peer.actor_url}/notes/{uuid.uuid4()}"
    followers = f"{fedify_peer.actor_url}/followers"
    sent = await fedify_peer.send(running.actor_url, {
        "id": f"{note_id}/create",
        "type": "Create",
        "to": [AS_PUBLIC],
        "cc": [followers],
        "object": {"id": note_id, "type": "Note", "attributedTo": fedify_peer.actor_url,
                   "content": "<p>Hello from Fedify</p>", "to": [AS_PUBLIC], "cc": [followers]},
    })

    # Then the hub took it at the first knock and stores the note, by alice
    assert sent["ok"], sent
    assert posts_by_scheme(sent) == [("rfc9421", 202)]

    async def stored() -> Any:
        return await remote_objects.get_remote_object(running.hub.db, note_id)

    row = await wait_until(stored, what="the hub to store alice's note")
    assert row["actor_id"] == fedify_peer.actor_url
    assert row["document"]["content"] == "<p>Hello from Fedify</p>"
    # And the hub's queues settled: nothing failed, ignored or retried
    await assert_hub_settled(running)


async def test_fedify_falls_back_to_draft_cavage_after_a_401_and_the_hub_accepts_it(
    fedify_peer: FedifyPeer, hubs: HubFactory
) -> None:
    """Fedify's double-knock, provoked against the real, unmodified hub.

    The hub has never seen alice, so it must fetch her key to verify her first delivery. The
    peer makes its own actor document answer 503 once (a brief outage, as real servers have),
    so the hub cannot fetch the key for the RFC 9421 knock and answers 401 (`KeyNotFound`).
    Fedify then retries at once with draft-cavage; this time the key fetch succeeds and the
    hub verifies the draft-cavage signature and answers 202. Fedify remembers draft-cavage
    for the hub's origin, so its next delivery (the Undo) is signed draft-cavage first, and
    the hub accepts that too. So both halves are shown: our 401 is what triggers Fedify's
    fallback, and Fedify's draft-cavage signature verifies at our inbox.
    """
    # Given a hub that does not know alice, and alice's actor document briefly unavailable
    running = await hubs("hub")
    await fedify_peer.fail_next("/users/alice", method="GET", status=503)

    # When alice follows the hub
    follow = await fedify_peer.follow(running.actor_url)

    # Then the RFC 9421 knock got 401 (the key could not be fetched) and the draft-cavage
    # retry was verified and accepted
    assert follow["ok"], (follow, await fedify_peer.diagnostics())
    assert posts_by_scheme(follow) == [("rfc9421", 401), ("draft-cavage", 202)]
    # (the one refused GET was the hub's key fetch, signed by its instance actor)
    [refused] = [r for r in await fedify_peer.requests() if r.get("injected")]
    assert (refused["method"], refused["path"], refused["status"]) == ("GET", "/users/alice", 503)
    assert f'keyId="{running.hub.urls.instance_key_id}"' in refused["headers"]["signature"]
    row = await wait_until(lambda: follower_row(running, fedify_peer.actor_url),
                           what="the hub to store alice as a follower")
    assert row["follow_id"] == follow["id"]
    await fedify_peer.wait_for(activity_on("Accept", follow["id"]))

    # When alice undoes the follow, Fedify now signs draft-cavage first for this origin
    undo = await fedify_peer.undo_follow(running.actor_url)

    # Then the hub accepts it at once and drops alice
    assert undo["ok"], undo
    assert posts_by_scheme(undo) == [("draft-cavage", 202)]

    async def gone() -> bool:
        return await follow_store.get_follower(running.hub.db, fedify_peer.actor_url) is None

    await wait_until(gone, what="the hub to drop alice after her draft-cavage Undo")
    # And the hub's queues settled: nothing failed, ignored or retried
    await assert_hub_settled(running)


async def test_fedify_reads_the_hubs_documents_with_signed_gets(
    fedify_peer: FedifyPeer, hubs: HubFactory
) -> None:
    """Actor, outbox, followers, a post and the key id, each fetched by Fedify with an RFC 9421
    signed GET and parsed by Fedify: the hub serves ActivityStreams JSON Fedify understands."""
    # Given a hub with alice as a follower and one post
    running = await hubs("hub")
    await alice_follows(fedify_peer, running)
    body = await post(running, "Garden day on Sunday")
    urls = running.hub.urls

    # When Fedify fetches the hub actor, signed as alice
    fetched = await fedify_peer.fetch(running.actor_url)
    # Then the GET, signed RFC 9421, was answered with the actor document
    assert fetched["ok"], fetched
    assert [(a["scheme"], a["status"]) for a in fetched["attempts"]] == [("rfc9421", 200)]
    assert fetched["document"]["id"] == running.actor_url

    # And Fedify's lookupObject reads it as a Group with the hub's inbox and key
    actor = await fedify_peer.lookup(running.actor_url, signed=True)
    assert actor["ok"], actor
    assert (actor["type"], actor["isActor"]) == ("Group", True)
    group = actor["object"]
    assert group["id"] == running.actor_url
    assert group["preferredUsername"] == running.settings.name
    assert group["inbox"] == urls.inbox
    assert group["outbox"] == urls.outbox
    assert group["followers"] == urls.followers
    assert group["endpoints"]["sharedInbox"] == urls.shared_inbox
    assert group["publicKey"]["id"] == urls.key_id
    assert group["publicKey"]["owner"] == running.actor_url

    # And Fedify resolves the key id (actor#main-key) to the hub's current public key
    key = await fedify_peer.fetch_key(urls.key_id)
    assert key["ok"], key
    assert (key["id"], key["owner"]) == (urls.key_id, running.actor_url)
    assert same_pem(key["publicKeyPem"], running.hub.keyring.public_pem("hub"))
    # And the instance actor's key, which signs the hub's GETs, the same way
    instance_key = await fedify_peer.fetch_key(urls.instance_key_id)
    assert instance_key["ok"], instance_key
    assert instance_key["owner"] == urls.instance_actor
    assert same_pem(instance_key["publicKeyPem"], running.hub.keyring.public_pem("instance"))

    # And the outbox lists the post's Create
    outbox = await fedify_peer.lookup(urls.outbox, signed=True)
    assert outbox["ok"], outbox
    assert outbox["type"] == "OrderedCollection"
    assert outbox["object"]["totalItems"] >= 1
    page = await fedify_peer.lookup(urls.page(urls.outbox, 1), signed=True)
    assert page["ok"], page
    assert page["type"] == "OrderedCollectionPage"
    creates = [i for i in as_list(page["object"]["orderedItems"]) if i["type"] == "Create"]
    assert [c["object"]["id"] for c in creates] == [body["url"]]

    # And the followers collection counts and lists alice
    followers = await fedify_peer.lookup(urls.followers, signed=True)
    assert followers["ok"], followers
    assert followers["type"] == "OrderedCollection"
    assert followers["object"]["totalItems"] == 1
    first = await fedify_peer.lookup(urls.page(urls.followers, 1), signed=True)
    assert first["ok"], first
    assert first["type"] == "OrderedCollectionPage"
    assert as_list(first["object"]["orderedItems"]) == [fedify_peer.actor_url]

    # And the post is a Note by the hub
    note = await fedify_peer.lookup(body["url"], signed=True)
    assert note["ok"], note
    assert note["type"] == "Note"
    assert note["object"]["attributedTo"] == running.actor_url
    assert note["object"]["content"] == "<p>Garden day on Sunday</p>"

    # And every one of those GETs was signed RFC 9421 and answered 200 at the first knock
    results = [fetched, actor, key, instance_key, outbox, page, followers, first, note]
    gets = [(a["scheme"], a["status"]) for r in results for a in r["attempts"]]
    assert len(gets) >= len(results)
    assert set(gets) == {("rfc9421", 200)}
    # And the hub's queues settled: nothing failed, ignored or retried
    await assert_hub_settled(running)


async def test_fedify_verifies_the_hubs_signed_get(
    fedify_peer: FedifyPeer, hubs: HubFactory
) -> None:
    """The hub's SafeFetcher signs GETs as the instance actor (draft-cavage); Fedify's own
    authorized-fetch check (`getSignedKey`) verifies the signature and resolves the key to the
    hub's instance actor, fetched from the hub."""
    # Given a hub
    running = await hubs("hub")
    urls = running.hub.urls

    # When the hub fetches alice's actor through its fetcher
    actor = await running.hub.actors.fetch(fedify_peer.actor_url)

    # Then it parsed alice
    assert actor.id == fedify_peer.actor_url
    assert actor.inbox == fedify_peer.inbox_url
    assert actor.key_id == fedify_peer.key_id
    # And Fedify verified the signed GET and resolved its key to the hub's instance actor
    [get] = [r for r in await fedify_peer.requests()
             if r["method"] == "GET" and r["path"] == "/users/alice"]
    assert get["status"] == 200
    assert get["scheme"] == "draft-cavage"
    assert get["verified"] is True, await fedify_peer.diagnostics()
    assert get["signedKey"] == {"id": urls.instance_key_id, "owner": urls.instance_actor}
    # (Fedify got that key from the hub's instance actor document, served unsigned)
    key_fetches = [(a["method"], a["scheme"], a["status"]) for a in await fedify_peer.outgoing()
                   if a["url"].split("#")[0] == urls.instance_actor]
    assert key_fetches == [("GET", None, 200)]
    # And the hub's queues settled: nothing failed, ignored or retried
    await assert_hub_settled(running)


async def test_fedify_keeps_verifying_after_the_hub_rotates_its_key(
    fedify_peer: FedifyPeer, hubs: HubFactory
) -> None:
    """After `rotate_key` (what `commonhub keys rotate` runs), the hub signs with the new key.
    Fedify had cached the old one: its log shows the cached key failing to verify and the key
    being refetched from the hub, after which the actor `Update` (carrying the new key) and
    the next post both verify. Nothing is rejected."""
    # Given alice follows the hub and has verified a post signed with its first key
    running = await hubs("hub")
    await alice_follows(fedify_peer, running)
    first = await post(running, "Before the rotation")
    await fedify_peer.wait_for(activity_on("Create", first["url"]))
    old_pem = running.hub.keyring.public_pem("hub")

    # When the hub rotates its key
    queued = await rotate_key(running.hub)

    # Then the Update is queued for alice's (shared) inbox only, with the new key in it
    assert queued == 1
    new_pem = running.hub.keyring.public_pem("hub")
    assert not same_pem(new_pem, old_pem)
    update = await fedify_peer.wait_for(activity_on("Update", running.actor_url))
    assert update["actor"] == running.actor_url
    assert same_pem(update["json"]["object"]["publicKey"]["publicKeyPem"], new_pem)

    # When staff post again
    second = await post(running, "After the rotation")

    # Then Fedify verified it with the new key, refetched once its cached key failed
    create = await fedify_peer.wait_for(activity_on("Create", second["url"]))
    assert create["scheme"] == "draft-cavage"
    assert await fedify_peer.rejected() == []
    refetched = f"Failed to verify with the cached key {running.hub.urls.key_id}"
    assert any(r["message"].startswith(refetched) for r in await fedify_peer.log())
    key = await fedify_peer.fetch_key(running.hub.urls.key_id)
    assert same_pem(key["publicKeyPem"], new_pem)
    # And the hub's queues settled: nothing failed, ignored or retried
    await assert_hub_settled(running)


async def test_undo_removes_fedify_and_later_posts_are_not_sent_to_it(
    fedify_peer: FedifyPeer, hubs: HubFactory
) -> None:
    """Fedify's `Undo{Follow}` verifies at the hub, which drops alice; a later post queues no
    delivery for her, and none arrives."""
    # Given alice follows the hub
    running = await hubs("hub")
    await alice_follows(fedify_peer, running)

    # When alice undoes her follow
    undo = await fedify_peer.undo_follow(running.actor_url)

    # Then the hub took it and no longer lists her as a follower
    assert undo["ok"], undo
    assert posts_by_scheme(undo) == [("rfc9421", 202)]

    async def gone() -> bool:
        return await follow_store.get_follower(running.hub.db, fedify_peer.actor_url) is None

    await wait_until(gone, what="the hub to drop alice")
    assert await follow_store.follower_inboxes(running.hub.db) == []

    # When staff post afterwards
    body = await post(running, "Only for those still following")

    # Then no delivery was queued for the post, so nothing can reach alice
    deliveries = await running.hub.db.fetchval(
        "SELECT count(*) FROM deliveries AS d JOIN outbox AS o ON o.id = d.outbox_id "
        "WHERE o.object_id = ?", (body["url"],))
    assert deliveries == 0
    assert await fedify_peer.received("Create") == []
    # And the hub's queues settled: nothing failed, ignored or retried
    await assert_hub_settled(running)
