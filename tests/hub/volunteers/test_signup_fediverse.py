"""Signing up from a Mastodon account, end to end on loopback: a direct message to the hub
(a Mastodon-shaped fixture, signed by the fake server's actor), the hub's direct message with
a link bound to that account, the form with the handle locked, a proven handle stored, the
link used once; and mentions that are not sign-ups left alone."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from hub.rsvp.mastodon import note_text
from hub.store import volunteers as store
from hub.volunteers.fediverse import wants_to_sign_up
from tests.hub.volunteers.web import Visitor, signup_form
from tests.support.hubs import RunningHub, wait_until
from tests.support.remote import RemoteActor, RemoteServer

HubFactory = Callable[..., Awaitable[RunningHub]]
DATA = Path(__file__).resolve().parents[2] / "data"
_LINK = re.compile(r"(https?://[^\s<\"]+/(?:volunteer/invite|me)/[A-Za-z0-9_-]+)")


def fixture(name: str, running: RunningHub, actor: RemoteActor) -> dict[str, Any]:
    """A fixture moved to this hub and this fake actor, with fresh ids."""
    text = (DATA / name).read_text(encoding="utf-8")
    text = (text.replace("https://mastodon.example/users/alice", actor.id)
            .replace("https://mastodon.example/@alice", f"{actor.server.base_url}/@alice")
            .replace("https://hub.example.org/actors/riverside", running.actor_url)
            .replace("https://hub.example.org/@riverside", running.hub.urls.profile)
            .replace("113530118273645511", str(uuid.uuid4().int)[:18])
            .replace("113523456789012345", str(uuid.uuid4().int)[:18]))
    return orjson.loads(text)


@pytest.fixture
async def running(hubs: HubFactory) -> RunningHub:
    return await hubs("riverside")


@pytest.fixture
async def visitor(running: RunningHub) -> AsyncIterator[Visitor]:
    client = Visitor(running.base_url)
    yield client
    await client.close()


async def deliver(running: RunningHub, actor: RemoteActor, activity: dict[str, Any]) -> None:
    status, body = await actor.post(running.hub.urls.inbox, activity)
    assert status == 202, body


def dms_to(remote: RemoteServer, actor: RemoteActor) -> list[dict[str, Any]]:
    return [a["object"] for a in remote.received if a.get("type") == "Create"
            and isinstance(a.get("object"), dict) and a["object"].get("to") == [actor.id]]


async def next_dm(remote: RemoteServer, actor: RemoteActor, seen: int) -> dict[str, Any]:
    async def arrived() -> dict[str, Any] | None:
        found = dms_to(remote, actor)
        return found[seen] if len(found) > seen else None
    return await wait_until(arrived, what="the hub's direct message")


async def settled(running: RunningHub) -> bool:
    return await running.hub.db.fetchval(
        "SELECT count(*) FROM inbound WHERE state = 'pending'") == 0


async def test_a_mastodon_dm_gets_a_sign_up_link_bound_to_the_account(
        running: RunningHub, remote: RemoteServer, visitor: Visitor) -> None:
    # Given alice on a Mastodon server sends the hub a direct message: "I'd like to volunteer"
    alice = remote.actor("alice")
    message = fixture("mastodon_direct_message_volunteer.json", running, alice)
    await deliver(running, alice, message)

    # Then the hub answers her alone, in reply, with a sign-up link
    dm = await next_dm(remote, alice, 0)
    assert dm["inReplyTo"] == message["object"]["id"]
    assert dm["tag"][0]["href"] == alice.id
    link = _LINK.search(html.unescape(dm["content"]))
    assert link and "/volunteer/invite/" in link[1], dm["content"]
    handle = f"@alice@{remote.base_url.split('//')[1]}"
    assert handle in html.unescape(dm["content"])

    # When she opens it, the form knows her handle and will not let it change
    page = await visitor.get(link[1])
    assert page.status == 200
    assert f'value="{handle}" readonly' in page.text
    assert " checked" not in page.text  # no consent is given for her
    form = signup_form(handle="@mallory@evil.example", email="")
    form["csrf_token"] = page.csrf()
    done = await visitor.post(link[1], form)
    assert done.status == 303 and done.location and done.location.startswith("/me/"), done.text

    # Then she is a pending volunteer whose handle is proven, with her actor id
    [volunteer] = await store.list_volunteers(running.hub.db)
    assert (volunteer.profile.handle, volunteer.actor_id) == (handle, alice.id)
    assert (volunteer.status, volunteer.source, volunteer.handle_verified) == (
        "pending", "fediverse", True)
    welcome = html.unescape((await visitor.get(done.location)).text)
    assert "confirmed: you signed up from this account" in welcome

    # And the link worked once only
    again = await visitor.get(link[1])
    assert again.status == 404 and "doesn't work" in html.unescape(again.text)
    form["csrf_token"] = page.csrf()
    assert (await visitor.post(link[1], form)).status == 404
    assert len(await store.list_volunteers(running.hub.db)) == 1

    # When she asks again later, she gets a fresh private link to her details instead
    await deliver(running, alice, fixture("mastodon_direct_message_volunteer.json", running,
                                          alice))
    dm = await next_dm(remote, alice, 1)
    assert "already signed up" in dm["content"]
    mine = _LINK.search(html.unescape(dm["content"]))
    assert mine and "/me/" in mine[1]
    status, data = await running.api("GET", mine[1].split(running.base_url)[1])
    assert status == 200 and data["handle"] == handle and data["handle_verified"]


async def test_changing_a_proven_handle_unproves_it(
        running: RunningHub, remote: RemoteServer, visitor: Visitor) -> None:
    alice = remote.actor("alice")
    await deliver(running, alice, fixture("mastodon_direct_message_volunteer.json", running,
                                          alice))
    link = _LINK.search(html.unescape((await next_dm(remote, alice, 0))["content"]))
    assert link
    page = await visitor.get(link[1])
    form = signup_form(email="")
    form["csrf_token"] = page.csrf()
    done = await visitor.post(link[1], form)
    assert done.location
    me = done.location.split("?")[0]
    assert (await visitor.post(f"{me}/edit", signup_form(handle="@alice@elsewhere.example"))
            ).status == 303
    [volunteer] = await store.list_volunteers(running.hub.db)
    assert (volunteer.handle_verified, volunteer.actor_id) == (False, None)


async def test_mentions_that_are_not_sign_ups_are_left_alone(
        running: RunningHub, remote: RemoteServer) -> None:
    alice = remote.actor("alice")
    # "Could the repair café use one more volunteer on Saturday?" mentions the hub and the
    # word, but asks no sign-up link.
    await deliver(running, alice, fixture("mastodon_create_note.body.json", running, alice))
    # A reply to one of the hub's own posts saying "volunteer" is not a sign-up either.
    reply = fixture("mastodon_direct_message_volunteer.json", running, alice)
    reply["object"]["inReplyTo"] = f"{running.base_url}/posts/{uuid.uuid4()}"
    await deliver(running, alice, reply)
    # Nor is a note that does not address the hub.
    aside = fixture("mastodon_direct_message_volunteer.json", running, alice)
    aside["object"]["tag"], aside["object"]["to"] = [], [f"{alice.id}/followers"]
    await deliver(running, alice, aside)
    await wait_until(lambda: settled(running), what="the notes to be processed")
    assert dms_to(remote, alice) == []
    assert await running.hub.db.fetchval("SELECT count(*) FROM volunteer_invites") == 0


@pytest.mark.parametrize(("text", "wanted"), [
    ("volunteer", True), ("Volunteer please!", True), ("hi, sign up", True),
    ("Sign me up", True), ("join", True),
    ("Hello! I'd like to volunteer.", True), ("I\u2019d love to volunteer with you", True),
    ("How can I volunteer?", True), ("please sign me up as a volunteer", True),
    ("I want to join as a volunteer", True),
    ("Could the repair café use one more volunteer on Saturday?", False),
    ("going", False), ("can't come", False), ("Thanks for organising this!", False),
    ("We need volunteers for the clean-up", False), ("join us on Saturday", False),
    ("I'd like to sign up for the repair café", False),
])
def test_which_words_ask_to_sign_up(text: str, wanted: bool) -> None:
    assert wants_to_sign_up(note_text(f"<p>{text}</p>")) is wanted
