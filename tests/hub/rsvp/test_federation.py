"""RSVPs end to end: a real hub on loopback, and a fake remote server whose actors send
Mobilizon-, Friendica- and Mastodon-shaped activities, signed as those servers sign them."""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from hub.activitypub.context import AS_PUBLIC
from hub.jobs.registry import build_runner
from hub.rsvp import service as rsvp
from hub.store import events as event_store
from hub.store import jobs as job_store
from hub.store import participants as participant_store
from hub.store import polls as poll_store
from tests.hub.events.factories import draft_input
from tests.support.hubs import RunningHub, wait_until
from tests.support.remote import RemoteActor, RemoteServer

HubFactory = Callable[..., Awaitable[RunningHub]]
# Mobilizon's JSON-LD header (lib/federation/activity_pub/utils.ex, make_json_ld_header), cut
# to the terms a Join uses.
MOBILIZON_CONTEXT = [
    "https://www.w3.org/ns/activitystreams", "https://litepub.social/litepub/context.jsonld",
    {"sc": "http://schema.org#", "mz": "https://joinmobilizon.org/ns#",
     "participationMessage": {"@id": "mz:participationMessage", "@type": "sc:Text"}}]
FRIENDICA_CONTEXT = [
    "https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1",
    {"vcard": "http://www.w3.org/2006/vcard/ns#", "dfrn": "http://purl.org/macgirvin/dfrn/1.0/",
     "diaspora": "https://diasporafoundation.org/ns/", "litepub": "http://litepub.social/ns#",
     "toot": "http://joinmastodon.org/ns#", "schema": "http://schema.org#",
     "directMessage": "litepub:directMessage"}]
MASTODON_CONTEXT = [
    "https://www.w3.org/ns/activitystreams",
    {"ostatus": "http://ostatus.org#", "atomUri": "ostatus:atomUri",
     "inReplyToAtomUri": "ostatus:inReplyToAtomUri", "conversation": "ostatus:conversation",
     "sensitive": "as:sensitive", "toot": "http://joinmastodon.org/ns#",
     "votersCount": "toot:votersCount"}]


async def new_event(running: RunningHub, **fields: Any) -> dict[str, Any]:
    status, event = await running.api("POST", "/api/v1/events", draft_input(
        **{"start": "2030-12-07T14:00", "end": "2030-12-07T16:00", **fields}))
    assert status == 201, event
    return event


async def participants(running: RunningHub, event: dict[str, Any]) -> dict[str, Any]:
    status, body = await running.api("GET", f"/api/v1/events/{event['id']}/participants")
    assert status == 200, body
    return body


async def received(remote: RemoteServer, check: Callable[[dict[str, Any]], bool],
                   what: str) -> dict[str, Any]:
    async def found() -> dict[str, Any] | None:
        return next((a for a in remote.received if check(a)), None)
    return await wait_until(found, what=what)


def answer_to(kind: str, join: dict[str, Any]) -> Callable[[dict[str, Any]], bool]:
    return lambda a: (a["type"] == kind and isinstance(a.get("object"), dict)
                      and a["object"].get("id") == join["id"])


def dm_to(actor: RemoteActor, text: str) -> Callable[[dict[str, Any]], bool]:
    return lambda a: (a["type"] == "Create" and isinstance(a["object"], dict)
                      and a["object"].get("type") == "Note"
                      and a["object"]["to"] == [actor.id] and text in a["object"]["content"])


async def post(running: RunningHub, actor: RemoteActor, activity: dict[str, Any]) -> None:
    status, body = await actor.post(running.hub.urls.inbox, activity)
    assert status == 202, body


def mobilizon_join(actor: RemoteActor, event_url: str,
                   message: str | None = None) -> dict[str, Any]:
    """A Join as Mobilizon sends it: its id is the participation's URL."""
    return {"@context": MOBILIZON_CONTEXT, "type": "Join",
            "id": f"{actor.server.base_url}/join/event/{uuid.uuid4()}", "actor": actor.id,
            "object": event_url, "participationMessage": message,
            "to": [actor.id, event_url.rsplit("/events/", 1)[0]], "cc": [],
            "published": "2030-11-01T10:00:00Z"}


async def test_mobilizon_join_leave_and_the_waitlist(hubs: HubFactory,
                                                    remote: RemoteServer) -> None:
    running = await hubs()
    event = await new_event(running, capacity=1)
    ada, bo = remote.actor("ada"), remote.actor("bo")

    # Given a Mobilizon Join, with a message, to an event with one place: Accept of it.
    ada_join = mobilizon_join(ada, event["url"], "Can I bring my daughter?")
    await post(running, ada, ada_join)
    accept = await received(remote, answer_to("Accept", ada_join), "Accept of ada's Join")
    assert accept["actor"] == running.actor_url and accept["to"] == [ada.id]
    assert accept["object"] == {"id": ada_join["id"], "type": "Join", "actor": ada.id,
                                "object": event["url"]}
    # When the event is full, the next Join is answered TentativeAccept: waitlisted.
    bo_join = mobilizon_join(bo, event["url"])
    await post(running, bo, bo_join)
    tentative = await received(remote, answer_to("TentativeAccept", bo_join),
                               "TentativeAccept of bo's Join")
    assert "number 1" in tentative["content"]
    listed = await participants(running, event)
    assert [(p["handle"], p["state"], p["position"], p["via"]) for p in listed["items"]] == [
        (f"@ada@{remote.base_url[7:]}", "going", None, "join"),
        (f"@bo@{remote.base_url[7:]}", "waitlisted", 1, "join")]
    assert listed["items"][0]["message"] == "Can I bring my daughter?"

    # When ada leaves (Mobilizon's Leave names the event), bo is promoted: Accept of bo's Join.
    await post(running, ada, ada.activity("Leave", event["url"]))
    await received(remote, answer_to("Accept", bo_join), "Accept of bo's Join")
    listed = await participants(running, event)
    assert [(p["actor"], p["state"]) for p in listed["items"]] == [
        (bo.id, "going"), (ada.id, "not_going")]
    # And the event's counts went to followers as Updates (here: the event JSON has them).
    status, fresh = await running.api("GET", f"/api/v1/events/{event['id']}")
    assert (status, fresh["going"], fresh["waitlisted"]) == (200, 1, 0)


async def _ada_going_bo_waiting(hubs: HubFactory, remote: RemoteServer) -> tuple[
        RunningHub, dict[str, Any], RemoteActor, RemoteActor, dict[str, Any]]:
    """An event with one place: ada (Mobilizon) has it, bo waits first in line."""
    running = await hubs()
    event = await new_event(running, capacity=1)
    ada, bo = remote.actor("ada"), remote.actor("bo")
    await post(running, ada, mobilizon_join(ada, event["url"]))
    bo_join = mobilizon_join(bo, event["url"])
    await post(running, bo, bo_join)
    await received(remote, answer_to("TentativeAccept", bo_join), "bo waitlisted")
    return running, event, ada, bo, bo_join


async def test_a_promotion_whose_request_stopped_is_still_told(
        hubs: HubFactory, remote: RemoteServer) -> None:
    # Someone promoted from the waitlist is owed a message, written with the promotion. If
    # the request stopped after its transaction, before sending it, the job runner sends it
    # a minute later, once.
    running, event, ada, bo, bo_join = await _ada_going_bo_waiting(hubs, remote)
    db = running.hub.db
    key = await db.fetchval("SELECT person_key FROM participants WHERE actor_id = ?", (ada.id,))
    stored = await event_store.get_event(db, event["id"])
    assert stored is not None
    # ada leaves: the change is written, and then the request stops (nothing is sent).
    applied = await participant_store.apply_change(db, stored.id, key, rsvp.decide_leave)
    assert [p.actor_id for p in applied.promoted] == [bo.id] and len(applied.notices) == 1
    accepts = "SELECT count(*) FROM outbox WHERE type = 'Accept'"
    before = await db.fetchval(accepts)
    runner = build_runner(running.hub)
    await runner.tick()  # too soon: the request that owes it may still be sending it
    assert await db.fetchval(accepts) == before
    runner.clock = lambda: time.time() + 61
    await runner.tick()
    await received(remote, answer_to("Accept", bo_join), "Accept of bo's Join")
    await runner.tick()

    async def all_sent() -> bool:
        return await db.fetchval("SELECT count(*) FROM deliveries WHERE state = 'pending'") == 0

    await wait_until(all_sent, what="the deliveries sent")
    assert len([a for a in remote.received if answer_to("Accept", bo_join)(a)]) == 1
    sent = await db.fetchval("SELECT sent_at FROM rsvp_notifications WHERE id = ?",
                             (applied.notices[0],))
    assert sent is not None


async def test_a_promoted_person_out_of_reach_does_not_stop_anothers_leave(
        hubs: HubFactory, remote: RemoteServer) -> None:
    # bo's server refuses the hub's look-up when ada leaves and bo is promoted: ada's Leave
    # is still processed whole (bo keeps the place, followers get the counts), and bo is
    # told once the job runner finds them reachable again.
    running, event, ada, bo, bo_join = await _ada_going_bo_waiting(hubs, remote)
    db = running.hub.db
    await db.execute("UPDATE remote_actors SET fetched_at = 0 WHERE id = ?", (bo.id,))
    remote.forbidden.add("bo")
    await post(running, ada, ada.activity("Leave", event["url"]))
    await wait_until(_inbound_settled(running), what="ada's Leave processed")
    assert await db.fetchval("SELECT count(*) FROM inbound WHERE state != 'done'") == 0
    assert [(p["actor"], p["state"]) for p in (await participants(running, event))["items"]
            ] == [(bo.id, "going"), (ada.id, "not_going")]
    runner = build_runner(running.hub)
    runner.clock = lambda: time.time() + 61
    await runner.tick()  # still refused: the job will try again, up to five times
    [job] = await job_store.jobs_of_kind(db, "rsvp_notice")
    assert job["state"] == "pending" and job["attempts"] == 1
    await db.execute("UPDATE scheduled_jobs SET state = 'failed' WHERE id = ?", (job["id"],))
    remote.forbidden.discard("bo")  # back after those five tries: the next hour's job tells
    runner.clock = lambda: time.time() + 3661
    await runner.tick()
    await received(remote, answer_to("Accept", bo_join), "Accept of bo's Join")


async def test_a_join_to_an_event_without_signup_is_ignored(hubs: HubFactory,
                                                           remote: RemoteServer) -> None:
    running = await hubs()
    event = await new_event(running, join_mode="none")
    ada = remote.actor("ada")
    join = mobilizon_join(ada, event["url"])
    await post(running, ada, join)
    ignore = await received(remote, answer_to("Ignore", join), "Ignore of the Join")
    assert ignore["to"] == [ada.id]
    assert (await participants(running, event))["items"] == []


async def test_counts_reach_followers_as_an_update(hubs: HubFactory,
                                                   remote: RemoteServer) -> None:
    running = await hubs()
    follower = remote.actor("fan")
    follow = follower.activity("Follow", running.actor_url)
    await post(running, follower, follow)
    await received(remote, lambda a: a["type"] == "Accept", "the follow's Accept")
    event = await new_event(running, capacity=5)
    ada = remote.actor("ada")
    await post(running, ada, mobilizon_join(ada, event["url"]))
    update = await received(remote, lambda a: a["type"] == "Update"
                            and a["object"].get("participantCount") == 1, "the Update")
    assert update["object"]["remainingAttendeeCapacity"] == 4
    assert update["object"]["summary"].endswith("4 places left")


async def test_friendica_answers_to_the_event(hubs: HubFactory, remote: RemoteServer) -> None:
    running = await hubs()
    event = await new_event(running, capacity=1)
    fred, gus = remote.actor("fred"), remote.actor("gus")

    def answer(actor: RemoteActor, kind: str) -> dict[str, Any]:
        return {"@context": FRIENDICA_CONTEXT, "id": f"{remote.base_url}/objects/{uuid.uuid4()}",
                "type": kind, "actor": actor.id, "object": event["url"],
                "to": [running.actor_url], "cc": [], "published": "2030-11-01T10:00:00Z"}

    async def states() -> list[tuple[str, str]]:
        return [(p["actor"], p["state"]) for p in (await participants(running, event))["items"]]

    # Accept is going, TentativeAccept maybe (no place), Reject not going.
    await post(running, fred, answer(fred, "TentativeAccept"))
    await wait_until(lambda: _equals(states(), [(fred.id, "maybe")]), what="fred's maybe")
    await post(running, fred, answer(fred, "Accept"))
    await wait_until(lambda: _equals(states(), [(fred.id, "going")]), what="fred going")
    # A second Accept when full is waitlisted, and told so by direct message.
    await post(running, gus, answer(gus, "Accept"))
    await received(remote, dm_to(gus, "number 1"), "gus's waitlist message")
    await post(running, fred, answer(fred, "Reject"))
    await wait_until(lambda: _equals(states(), [(gus.id, "going"), (fred.id, "not_going")]),
                     what="fred out, gus promoted")
    await received(remote, dm_to(gus, "a place came free"), "gus's promotion message")
    # TentativeReject ("probably not") is a Reject: gus's place is freed too.
    await post(running, gus, answer(gus, "TentativeReject"))
    await wait_until(lambda: _equals(states(), [(fred.id, "not_going"), (gus.id, "not_going")]),
                     what="gus probably not going")
    # The hub's own follow answers still work beside these (see test_incoming).


async def _equals(value: Awaitable[Any], expected: Any) -> bool:
    return await value == expected


def mastodon_reply(actor: RemoteActor, running: RunningHub, text: str,
                   in_reply_to: str | None) -> dict[str, Any]:
    hub_acct = f"@hub@{running.settings.domain}"
    note: dict[str, Any] = {
        "id": f"{actor.id}/statuses/{uuid.uuid4().int % 10**18}", "type": "Note",
        "summary": None, "inReplyTo": in_reply_to, "published": "2030-11-01T10:00:00Z",
        "url": f"{actor.server.base_url}/@{actor.username}/1", "attributedTo": actor.id,
        "to": [AS_PUBLIC], "cc": [f"{actor.id}/followers", running.actor_url],
        "sensitive": False,
        "content": (f'<p><span class="h-card" translate="no"><a href="{running.actor_url}" '
                    f'class="u-url mention">@<span>hub</span></a></span> {text}</p>'),
        "tag": [{"type": "Mention", "href": running.actor_url, "name": hub_acct}]}
    return {"@context": MASTODON_CONTEXT, "id": f"{note['id']}/activity", "type": "Create",
            "actor": actor.id, "published": note["published"], "to": note["to"],
            "cc": note["cc"], "object": note}


async def test_a_mastodon_reply_is_an_rsvp_with_a_dm_confirmation(
        hubs: HubFactory, remote: RemoteServer) -> None:
    running = await hubs()
    event = await new_event(running, capacity=1)
    mo, nia = remote.actor("mo"), remote.actor("nia")

    # Given mo (whom the hub does not follow) replies "count me in!" to the event,
    reply = mastodon_reply(mo, running, "count me in!", event["url"])
    await post(running, mo, reply)
    # then mo is going, and gets a direct message: to mo alone, mentioning mo, in the thread.
    dm = await received(remote, dm_to(mo, "You're going"), "mo's confirmation")
    note = dm["object"]
    assert dm["to"] == [mo.id] and dm["cc"] == [] and note["cc"] == []
    assert note["tag"] == [{"type": "Mention", "href": mo.id,
                            "name": f"@mo@{remote.base_url[7:]}"}]
    assert note["inReplyTo"] == reply["object"]["id"]
    assert note["id"].startswith(event["url"] + "/messages/")
    assert AS_PUBLIC not in str(dm)

    # A mention that links the event, when full, puts nia on the waitlist.
    mention = mastodon_reply(nia, running, f"I'll be there {event['url']}", None)
    await post(running, nia, mention)
    await received(remote, dm_to(nia, "number 1"), "nia's waitlist message")
    # Unclear words get the words to use.
    await post(running, nia, mastodon_reply(nia, running, "Looks lovely!", event["url"]))
    await received(remote, dm_to(nia, "reply with one of"), "nia's help message")
    # mo replying "can't come" to the hub's message frees the place: nia is promoted.
    await post(running, mo, mastodon_reply(mo, running, "Sorry, can\u2019t come", note["id"]))
    await received(remote, dm_to(mo, "not going"), "mo's not-going message")
    await received(remote, dm_to(nia, "a place came free"), "nia's promotion")
    listed = await participants(running, event)
    assert [(p["actor"], p["state"], p["via"]) for p in listed["items"]] == [
        (nia.id, "going", "mention"), (mo.id, "not_going", "mention")]
    # An ordinary mention, with no answer in it, is not taken for one.
    before = len(remote.received)
    await post(running, mo, mastodon_reply(mo, running, "Hello there", None))
    await wait_until(_inbound_settled(running), what="the mention to be processed")
    assert len(remote.received) == before


def _inbound_settled(running: RunningHub) -> Callable[[], Awaitable[bool]]:
    async def settled() -> bool:
        pending = await running.hub.db.fetchval(
            "SELECT count(*) FROM inbound WHERE state = 'pending'")
        return pending == 0
    return settled


async def _poll_for_vee(hubs: HubFactory, remote: RemoteServer) -> tuple[
        RunningHub, dict[str, Any], RemoteActor, dict[str, Any]]:
    """Staff send vee a poll about an event with ten places."""
    running = await hubs()
    event = await new_event(running, capacity=10)
    voter = remote.actor("vee")
    status, poll = await running.api("POST", f"/api/v1/events/{event['id']}/poll",
                                     {"to": [voter.id]})
    assert status == 201, poll
    return running, event, voter, poll


async def test_a_mastodon_poll_vote_counts(hubs: HubFactory, remote: RemoteServer) -> None:
    # Given staff send vee a poll,
    running, event, voter, poll = await _poll_for_vee(hubs, remote)
    create = await received(remote, lambda a: a["type"] == "Create"
                            and a["object"]["type"] == "Question", "the poll")
    question = create["object"]
    assert question["id"] == poll["url"] and question["to"] == [voter.id]
    assert [o["name"] for o in question["oneOf"]] == ["Going", "Maybe", "Can't come"]
    assert question["endTime"] == "2030-12-07T14:00:00Z"
    assert question["tag"][0]["href"] == voter.id

    # when vee votes as Mastodon does (a Note named after the option, no content),
    vote = {"id": f"{voter.id}#votes/1", "type": "Note", "name": "Going",
            "attributedTo": voter.id, "inReplyTo": question["id"], "to": [running.actor_url]}
    await post(running, voter, {"@context": MASTODON_CONTEXT, "id": f"{vote['id']}/activity",
                                "type": "Create", "actor": voter.id,
                                "to": [running.actor_url], "object": vote})
    # then vee is going, told by direct message, and the poll counts the vote.
    await received(remote, dm_to(voter, "You're going"), "vee's confirmation")
    assert [(p["actor"], p["state"], p["via"]) for p in
            (await participants(running, event))["items"]] == [(voter.id, "going", "poll")]
    update = await received(remote, lambda a: a["type"] == "Update"
                            and a["object"]["type"] == "Question", "the poll's Update")
    assert update["object"]["votersCount"] == 1
    async with aiohttp.ClientSession() as session, session.get(
            poll["url"], headers={"Accept": "application/activity+json"}) as response:
        served = await response.json(content_type=None)
    assert served["votersCount"] == 1
    assert [o["replies"]["totalItems"] for o in served["oneOf"]] == [1, 0, 0]

    # And someone who was not sent the poll, but knows its URL, cannot vote in it.
    stranger = remote.actor("stranger")
    vote = {"id": f"{stranger.id}#votes/1", "type": "Note", "name": "Can't come",
            "attributedTo": stranger.id, "inReplyTo": question["id"], "to": [running.actor_url]}
    await post(running, stranger, {"@context": MASTODON_CONTEXT,
                                   "id": f"{vote['id']}/activity", "type": "Create",
                                   "actor": stranger.id, "to": [running.actor_url],
                                   "object": vote})
    await wait_until(_inbound_settled(running), what="the stranger's vote to be processed")
    async with aiohttp.ClientSession() as session, session.get(
            poll["url"], headers={"Accept": "application/activity+json"}) as response:
        served = await response.json(content_type=None)
    assert [o["replies"]["totalItems"] for o in served["oneOf"]] == [1, 0, 0]
    assert [p["actor"] for p in (await participants(running, event))["items"]] == [voter.id]


async def test_a_vote_recorded_before_a_stop_is_answered_when_processed_again(
        hubs: HubFactory, remote: RemoteServer) -> None:
    # A vote is counted, then answered through the RSVP engine, each in its own transaction.
    # If the hub stopped in between, the vote is processed again after the restart: the same
    # vote (the same Note) must then get its place, not be ignored as a repeat.
    running, event, voter, poll = await _poll_for_vee(hubs, remote)
    vote = {"id": f"{voter.id}#votes/1", "type": "Note", "name": "Going",
            "attributedTo": voter.id, "inReplyTo": poll["url"], "to": [running.actor_url]}
    stored = await poll_store.get_poll(running.hub.db, poll["id"])
    assert stored is not None  # what the first processing wrote before the stop:
    assert await poll_store.record_vote(running.hub.db, stored, voter.id, "going", vote["id"])
    await post(running, voter, {"@context": MASTODON_CONTEXT, "id": f"{vote['id']}/activity",
                                "type": "Create", "actor": voter.id,
                                "to": [running.actor_url], "object": vote})
    await received(remote, dm_to(voter, "You're going"), "vee's confirmation")
    assert [(p["actor"], p["state"]) for p in
            (await participants(running, event))["items"]] == [(voter.id, "going")]
    # Processed again once answered (the inbox retries an activity whose later steps
    # failed), it is not answered or confirmed again.
    await wait_until(lambda: running.hub.db.fetchval(
        "SELECT answered_at FROM poll_votes WHERE note_id = ?", (vote["id"],)),
        what="the vote marked answered")
    assert not await poll_store.record_vote(running.hub.db, stored, voter.id, "going",
                                            vote["id"])
    # A second vote for the same option, in a new Note, is a repeat: nothing more happens.
    again = {**vote, "id": f"{voter.id}#votes/2"}
    await post(running, voter, {"@context": MASTODON_CONTEXT, "id": f"{again['id']}/activity",
                                "type": "Create", "actor": voter.id,
                                "to": [running.actor_url], "object": again})
    await wait_until(_inbound_settled(running), what="the repeated vote to be processed")
    assert len([a for a in remote.received if dm_to(voter, "You're going")(a)]) == 1


async def test_restricted_events_answer_when_staff_decide(hubs: HubFactory,
                                                         remote: RemoteServer) -> None:
    running = await hubs()
    event = await new_event(running, capacity=5, join_mode="restricted")
    ada, bo = remote.actor("ada"), remote.actor("bo")
    ada_join, bo_join = mobilizon_join(ada, event["url"]), mobilizon_join(bo, event["url"])
    await post(running, ada, ada_join)
    await post(running, bo, bo_join)
    await wait_until(_inbound_settled(running), what="the Joins to be processed")
    listed = await participants(running, event)
    assert [p["state"] for p in listed["items"]] == ["pending", "pending"]
    ids = {p["actor"]: p["id"] for p in listed["items"]}
    base = f"/api/v1/events/{event['id']}/participants"
    status, body = await running.api("POST", f"{base}/{ids[ada.id]}/approve")
    assert (status, body["state"]) == (200, "going")
    await received(remote, answer_to("Accept", ada_join), "Accept after approval")
    status, body = await running.api("POST", f"{base}/{ids[bo.id]}/decline")
    assert (status, body["state"]) == (200, "declined")
    await received(remote, answer_to("Reject", bo_join), "Reject after declining")


async def test_a_mention_that_names_an_event(hubs: HubFactory, remote: RemoteServer) -> None:
    running = await hubs()
    await new_event(running, title="Repair café")
    event = await new_event(running, title="Knit and natter")
    ola = remote.actor("ola")
    # A mention naming the event's title (any case) answers for it,
    await post(running, ola, mastodon_reply(ola, running, "yes to knit and natter!", None))
    await received(remote, dm_to(ola, "You're going to Knit and natter"), "ola's confirmation")
    assert [p["state"] for p in (await participants(running, event))["items"]] == ["going"]
    # and one that names no event asks which.
    await post(running, ola, mastodon_reply(ola, running, "count me in", None))
    await received(remote, dm_to(ola, "Which event"), "ola's question")
