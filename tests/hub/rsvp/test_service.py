"""The RSVP engine: one capacity and one FIFO waitlist, whatever the path."""

from __future__ import annotations

import asyncio
import sqlite3
import time

import pytest

from federation.errors import NotFound
from hub.events import service as events
from hub.jobs.registry import build_runner
from hub.rsvp import service
from hub.rsvp.service import Person
from hub.runtime import Hub
from hub.store import events as event_store
from hub.store import participants as store
from tests.hub.rsvp.conftest import EventFactory


def person(n: int | str) -> Person:
    return Person(f"Person {n}", email=f"p{n}@example.org")


async def counts(hub: Hub, event_id: int) -> tuple[int, int]:
    return await event_store.participation_counts(hub.db, event_id)


async def test_places_then_a_waitlist_then_promotion_in_order(
        hub: Hub, make_event: EventFactory) -> None:
    event = await make_event(capacity=2)
    # Given two places, the first two are going and the next two wait, in order.
    outcomes = [await service.request_place(hub, event, person(n), "web") for n in range(4)]
    assert [o.state for o in outcomes] == ["going", "going", "waitlisted", "waitlisted"]
    assert [o.position for o in outcomes] == [None, None, 1, 2]
    assert await counts(hub, event.id) == (2, 2)
    # When someone going leaves, the first on the waitlist is promoted, and told (email row).
    left = await service.leave(hub, event, person(0))
    assert left.state == "not_going" and left.changed
    assert [p.email for p in left.promoted] == ["p2@example.org"]
    assert await counts(hub, event.id) == (2, 1)
    third = await store.find_participant(hub.db, event.id, person(3).key)
    assert third is not None and await store.waitlist_position(hub.db, third) == 1
    promoted = left.promoted[0]
    assert [n["news"] for n in await store.list_notifications(hub.db, promoted.id)] == [
        "promoted"]
    # Someone on the waitlist leaving promotes nobody.
    assert (await service.leave(hub, event, person(3))).promoted == ()
    assert await counts(hub, event.id) == (2, 0)


async def test_asking_again_changes_nothing(hub: Hub, make_event: EventFactory) -> None:
    event = await make_event(capacity=1)
    first = await service.request_place(hub, event, person(1), "web")
    again = await service.request_place(hub, event, person(1), "mention")
    assert first.changed and first.token is not None
    assert again.state == "going" and not again.changed and again.token is None
    waiting = await service.request_place(hub, event, person(2), "web")
    waiting_again = await service.request_place(hub, event, person(2), "web")
    assert (waiting_again.state, waiting_again.position, waiting_again.changed) == (
        "waitlisted", 1, False)
    assert waiting.participant and waiting_again.participant
    assert waiting_again.participant.requested_at == waiting.participant.requested_at
    assert await counts(hub, event.id) == (1, 1)


async def test_maybe_holds_no_place_and_gives_one_up(hub: Hub,
                                                    make_event: EventFactory) -> None:
    event = await make_event(capacity=1)
    await service.request_place(hub, event, person(1), "web")
    await service.request_place(hub, event, person(2), "web")
    maybe = await service.say_maybe(hub, event, person(1), "friendica")
    assert maybe.state == "maybe"
    assert [p.email for p in maybe.promoted] == ["p2@example.org"]
    assert await counts(hub, event.id) == (1, 0)
    # Asking again from maybe joins the back of the queue.
    back = await service.request_place(hub, event, person(1), "web")
    assert (back.state, back.position) == ("waitlisted", 1)


async def test_restricted_events_wait_for_staff(hub: Hub, make_event: EventFactory) -> None:
    event = await make_event(capacity=1, join_mode="restricted")
    first = await service.request_place(hub, event, person(1), "web")
    second = await service.request_place(hub, event, person(2), "web")
    assert (first.state, second.state) == ("pending", "pending")
    assert await counts(hub, event.id) == (0, 0)
    assert first.participant and second.participant
    assert (await service.approve(hub, first.participant)).state == "going"
    assert (await service.approve(hub, second.participant)).state == "waitlisted"
    # Declining someone going gives their place to the (approved) waitlist.
    declined = await service.decline(hub, first.participant)
    assert declined.state == "declined"
    assert [p.email for p in declined.promoted] == ["p2@example.org"]
    # A declined person asking again is refused; staff may still add them.
    assert (await service.request_place(hub, event, person(1), "web")).reason == "declined"
    assert (await service.request_place(hub, event, person(1), "staff")).state == "waitlisted"
    # Staff sign-ups skip approval.
    assert (await service.request_place(hub, event, person(3), "staff")).state == "waitlisted"


@pytest.mark.parametrize(("fields", "reason", "link"), [
    ({"join_mode": "none"}, "no_signup", None),
    ({"join_mode": "external", "external_url": "https://signup.example/knit"}, "external",
     "https://signup.example/knit"),
])
async def test_events_without_signup_here_refuse(hub: Hub, make_event: EventFactory,
                                                 fields: dict, reason: str,
                                                 link: str | None) -> None:
    event = await make_event(capacity=5, **fields)
    outcome = await service.request_place(hub, event, person(1), "join")
    assert (outcome.state, outcome.reason, outcome.external_url) == ("refused", reason, link)
    assert outcome.participant is None and await counts(hub, event.id) == (0, 0)


async def test_cancelled_deleted_and_started_events_refuse(hub: Hub,
                                                           make_event: EventFactory) -> None:
    cancelled = await events.cancel_event(hub, (await make_event()).uuid)
    assert (await service.request_place(hub, cancelled, person(1), "web")).reason == "cancelled"
    deleted = await events.delete_event(hub, (await make_event()).uuid)
    assert (await service.request_place(hub, deleted, person(1), "web")).reason == "deleted"
    started = await make_event(start="2020-01-01T10:00", end="2020-01-01T12:00")
    outcome = await service.say_maybe(hub, started, person(1), "mention")
    assert (outcome.state, outcome.reason) == ("refused", "started")
    # Leaving a cancelled event is fine; there is just no one to promote.
    assert (await service.leave(hub, cancelled, person(1))).reason == "cancelled"
    with pytest.raises(ValueError):
        await service.answer(hub, started, person(1), "web", "perhaps")


async def test_fifty_concurrent_requests_for_ten_places(hub: Hub,
                                                        make_event: EventFactory) -> None:
    event = await make_event(capacity=10)
    outcomes = await asyncio.gather(*(service.request_place(hub, event, person(n), "web")
                                      for n in range(50)))
    states = [o.state for o in outcomes]
    assert states.count("going") == 10 and states.count("waitlisted") == 40
    assert sorted(o.position for o in outcomes if o.position) == list(range(1, 41))
    assert await counts(hub, event.id) == (10, 40)
    # And ten leaving at once promote exactly the first ten waiting.
    going = [o.participant for o in outcomes if o.state == "going"]
    first_waiting = sorted((o for o in outcomes if o.position), key=lambda o: o.position)[:10]
    left = await asyncio.gather(*(service.leave(hub, event, Person(p.name, email=p.email))
                                  for p in going if p))
    promoted = {p.id for o in left for p in o.promoted}
    assert promoted == {o.participant.id for o in first_waiting if o.participant}
    assert await counts(hub, event.id) == (10, 30)


async def test_counts_changes_send_one_update_each(hub: Hub, make_event: EventFactory) -> None:
    event = await make_event(capacity=3)

    async def updates() -> int:
        return int(await hub.db.fetchval("SELECT count(*) FROM outbox WHERE type = 'Update'"))

    await service.request_place(hub, event, person(1), "web")
    assert await updates() == 1
    # A maybe changes no count: no Update.
    await service.say_maybe(hub, event, person(2), "web")
    assert await updates() == 1
    # Concurrent requests coalesce into fewer Updates, the last with the final count.
    await asyncio.gather(*(service.request_place(hub, event, person(n), "web")
                           for n in range(3, 8)))
    assert await updates() < 6
    body = await hub.db.fetchval(
        "SELECT body FROM outbox WHERE type = 'Update' ORDER BY id DESC LIMIT 1")
    assert b'"participantCount":3' in body and b'"remainingAttendeeCapacity":0' in body


async def test_a_count_change_is_claimed_only_with_its_update(
        hub: Hub, make_event: EventFactory) -> None:
    # The claim on a count change and the Update it sends are one transaction: if the
    # Update cannot be queued, the change stays unclaimed, and the job runner sends it.
    event = await make_event(capacity=3)
    await hub.db.execute("CREATE TEMP TRIGGER no_outbox BEFORE INSERT ON outbox "
                         "BEGIN SELECT RAISE(ABORT, 'disk gone'); END")
    with pytest.raises(sqlite3.IntegrityError, match="disk gone"):
        await service.request_place(hub, event, person(1), "web")
    await hub.db.execute("DROP TRIGGER temp.no_outbox")
    assert await counts(hub, event.id) == (1, 0)  # the place itself was taken
    assert await store.count_changed(hub.db, event.id)
    runner = build_runner(hub)
    runner.clock = lambda: time.time() + 61
    await runner.tick()
    assert not await store.count_changed(hub.db, event.id)
    body = await hub.db.fetchval("SELECT body FROM outbox WHERE type = 'Update'")
    assert b'"participantCount":1' in body


async def test_raising_capacity_fills_places_from_the_waitlist(
        hub: Hub, make_event: EventFactory) -> None:
    event = await make_event(capacity=1)
    for n in range(3):
        await service.request_place(hub, event, person(n), "web")
    # Raising the capacity promotes the first waiting at once (the events service does it),
    bigger = await events.update_event(hub, event.uuid, {"capacity": 2})
    going = await store.list_participants(hub.db, event.id, "going")
    assert [p.email for p in going] == ["p0@example.org", "p1@example.org"]
    assert await service.promote_waitlist(hub, bigger) == ()
    # and a newcomer does not jump the queue: the next in line gets the next place.
    await events.update_event(hub, event.uuid, {"capacity": 3})
    newcomer = await service.request_place(hub, await events.live_event(hub, event.uuid),
                                           person(9), "web")
    assert newcomer.state == "waitlisted"
    going = await store.list_participants(hub.db, event.id, "going")
    assert [p.email for p in going][-1] == "p2@example.org"


async def test_cancel_link_frees_the_place(hub: Hub, make_event: EventFactory) -> None:
    event = await make_event(capacity=1)
    first = await service.request_place(hub, event, person(1), "web")
    await service.request_place(hub, event, person(2), "web")
    assert first.token is not None
    _, outcome = await service.cancel_by_token(hub, first.token)
    assert outcome.state == "not_going"
    assert [p.email for p in outcome.promoted] == ["p2@example.org"]


async def test_a_web_link_to_a_fediverse_person_ends_when_they_answer_themselves(
        hub: Hub, make_event: EventFactory) -> None:
    # Given someone who typed Alice's handle into the web form, and so holds a private
    # cancel link to her row, then gave her place up with it
    event = await make_event(capacity=5)
    alice = Person("Alice", actor_id="https://social.example/users/alice")
    by_web = await service.request_place(hub, event, alice, "web")
    assert by_web.token is not None
    await service.cancel_by_token(hub, by_web.token)
    # When Alice herself joins, with a signed Join
    joined = await service.request_place(hub, event, alice, "join",
                                         join_id="https://social.example/joins/1")
    assert joined.state == "going"
    # Then the link the web visitor kept no longer controls her place
    with pytest.raises(NotFound):
        await service.cancel_by_token(hub, by_web.token)
    row = await store.find_participant(hub.db, event.id, alice.key)
    assert row is not None and row.state == "going"
