"""Email to volunteers goes through `volunteer_mail` and the job runner: a row id that comes
back after an erasure is still sent, and a message the mail server keeps refusing is given
up (its text forgotten) without holding up the mail after it."""

from __future__ import annotations

import socket
import time
from collections.abc import Awaitable, Callable
from typing import Any

from hub.jobs.registry import build_runner
from hub.jobs.runner import MAX_ATTEMPTS, RETRY_AFTER
from hub.mailsink import MailSink
from hub.store import staff as staff_store
from tests.hub.console.conftest import PASSWORD, Browser
from tests.hub.exchange.factories import check, enhanced_need, volunteer
from tests.support.hubs import RunningHub, wait_until

HubFactory = Callable[..., Awaitable[RunningHub]]


async def _volunteer(hub: RunningHub, name: str) -> str:
    status, made = await hub.api("POST", "/api/v1/volunteers",
                                 volunteer(name, consents={"match_here": True}))
    assert status == 201, made
    status, body = await hub.api("POST", f"/api/v1/volunteers/{made['id']}/checks", check())
    assert status == 201, body
    return str(made["id"])


async def _ask(hub: RunningHub, volunteer_id: str) -> str:
    """Ask the volunteer for a new need (by email); the need's id."""
    status, need = await hub.api("POST", "/api/v1/needs", enhanced_need())
    assert status == 201, need
    status, body = await hub.api("POST", f"/api/v1/needs/{need['id']}/asks",
                                 {"volunteer": volunteer_id})
    assert status == 201 and body["items"][0]["channels"] == ["email"], body
    return str(need["id"])


async def _mail_rows(hub: RunningHub) -> list[dict[str, Any]]:
    rows = await hub.hub.db.fetchall("SELECT * FROM volunteer_mail ORDER BY id")
    return [dict(r) for r in rows]


async def test_a_mail_id_that_comes_back_after_an_erasure_is_sent(
        hubs: HubFactory, smtp: MailSink) -> None:
    hub = await hubs("alder", smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_security="none")
    ana = await _volunteer(hub, "Ana Lima")
    await _ask(hub, ana)
    await wait_until(lambda: _sent_to(smtp, "ana@example.org"), what="Ana's ask email")

    async def marked_sent() -> bool:  # the row is marked once the server has answered
        return all(row["sent_at"] for row in await _mail_rows(hub))

    await wait_until(marked_sent, what="Ana's email marked sent")
    [first] = await _mail_rows(hub)
    # Erasing Ana takes her mail rows with her, so SQLite hands the same id out again.
    status, body = await hub.api("DELETE", f"/api/v1/volunteers/{ana}")
    assert status in (200, 204), body
    bob = await _volunteer(hub, "Bob Ode")
    await _ask(hub, bob)
    [again] = await _mail_rows(hub)
    assert again["id"] == first["id"]
    await wait_until(lambda: _sent_to(smtp, "bob@example.org"), what="Bob's ask email")


async def _sent_to(smtp: MailSink, address: str) -> bool:
    return any(m["To"] == address for m in smtp.messages)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_a_message_refused_to_the_end_is_given_up_and_the_next_still_goes(
        hubs: HubFactory) -> None:
    hub = await hubs("alder", smtp_host="127.0.0.1", smtp_port=_closed_port(),
                     smtp_security="none")
    ana = await _volunteer(hub, "Ana Lima")
    need = await _ask(hub, ana)
    db = hub.hub.db

    async def job() -> dict[str, Any] | None:
        row = await db.fetchone("SELECT * FROM scheduled_jobs WHERE kind = 'volunteer_mail' "
                                "AND attempts > 0")
        return None if row is None else dict(row)

    # The hub's runner, woken by the ask, tried once; a runner whose clock moves on by the
    # retry interval each time makes the other tries.
    await wait_until(job, what="the first try")
    now = time.time()
    runner = build_runner(hub.hub)
    for _ in range(1, MAX_ATTEMPTS):
        now += RETRY_AFTER + 1
        runner.clock = lambda at=now: at
        await runner.tick()
    tried = await job()
    assert tried is not None and tried["state"] == "failed"
    assert tried["attempts"] == MAX_ATTEMPTS and "could not send" in tried["last_error"]
    [given_up] = await _mail_rows(hub)
    assert given_up["sent_at"] is None and given_up["given_up_at"] is not None
    assert given_up["body"] is None  # the private answer link is not kept
    # Staff see it beside the ask: in the API (the channels it did not reach) and on the
    # need's page.
    status, body = await hub.api("GET", f"/api/v1/needs/{need}/matching")
    assert status == 200, body
    [ask] = body["asks"]
    assert ask["channels"] == ["email"] and ask["undelivered"] == ["email"]
    await staff_store.add_staff(db, "alice", PASSWORD, "coordinator")
    browser = Browser(hub)
    try:
        assert (await browser.login("alice")).status == 303
        page = await browser.get(f"/console/needs/{need}")
        assert page.status == 200 and "Ana Lima" in page.text
        assert "Email not delivered" in page.text
    finally:
        await browser.close()
    # The next message is planned as usual.
    bob = await _volunteer(hub, "Bob Ode")
    await _ask(hub, bob)
    await runner.tick()
    keys = [r["key"] for r in await db.fetchall(
        "SELECT key FROM scheduled_jobs WHERE kind = 'volunteer_mail' ORDER BY id")]
    assert len(keys) == 2 and len(set(keys)) == 2


async def test_a_job_left_by_an_erased_volunteer_leaves_the_next_mail_with_its_id_alone(
        hubs: HubFactory) -> None:
    hub = await hubs("alder", smtp_host="127.0.0.1", smtp_port=_closed_port(),
                     smtp_security="none")
    db = hub.hub.db

    async def jobs() -> list[dict[str, Any]]:
        rows = await db.fetchall("SELECT * FROM scheduled_jobs WHERE kind = 'volunteer_mail' "
                                 "ORDER BY id")
        return [dict(r) for r in rows]

    async def tried(count: int) -> bool:
        return [j["attempts"] for j in await jobs()] == [1] * count

    # Ana's ask email is refused once and waits for its next try; then she is erased, and
    # Bob's ask email gets the id hers had.
    ana = await _volunteer(hub, "Ana Lima")
    await _ask(hub, ana)
    await wait_until(lambda: tried(1), what="Ana's email tried once")
    [hers] = await _mail_rows(hub)
    status, body = await hub.api("DELETE", f"/api/v1/volunteers/{ana}")
    assert status in (200, 204), body
    await _ask(hub, await _volunteer(hub, "Bob Ode"))
    await wait_until(lambda: tried(2), what="Bob's email tried once")
    [his] = await _mail_rows(hub)
    assert his["id"] == hers["id"]
    # Ana's job finds nothing of hers; Bob's is tried to the end, then given up.
    now, runner = time.time(), build_runner(hub.hub)
    for _ in range(1, MAX_ATTEMPTS):
        now += RETRY_AFTER + 1
        runner.clock = lambda at=now: at
        await runner.tick()
    left, own = await jobs()
    assert (left["state"], left["last_error"]) == ("skipped", "nothing left to send")
    assert (own["state"], own["attempts"]) == ("failed", MAX_ATTEMPTS)
    [given_up] = await _mail_rows(hub)
    assert given_up["given_up_at"] is not None and given_up["body"] is None
