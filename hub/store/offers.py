"""Offers between hubs: those received for this hub's needs, and those sent for its volunteers."""

from __future__ import annotations

import sqlite3
import time
import uuid
from dataclasses import dataclass
from typing import Any

import aiosqlite
import orjson

from hub.store.db import Database
from hub.store.matches import write_match

OPEN = "offered"


@dataclass(frozen=True)
class OfferReceived:
    """A neighbour's pseudonymous candidate for one of this hub's needs."""

    id: int
    uuid: str
    offer_id: str
    actor: str
    need_id: int
    pseudonym: str
    distance_band: str
    skills: tuple[str, ...]
    availability: tuple[str, ...]
    languages: tuple[str, ...]
    checks_held: tuple[dict[str, Any], ...]
    attestation: dict[str, Any]
    status: str
    received_at: float
    expires_at: float
    decided_at: float | None


@dataclass(frozen=True)
class OfferSent:
    id: int
    ask_id: int
    offer_id: str
    remote_need_id: int
    to_actor: str
    status: str
    sent_at: float
    expires_at: float
    answered_at: float | None


def _received(row: aiosqlite.Row) -> OfferReceived:
    loads = orjson.loads
    return OfferReceived(
        row["id"], row["uuid"], row["offer_id"], row["actor"], row["need_id"], row["pseudonym"],
        row["distance_band"], tuple(loads(row["skills"])), tuple(loads(row["availability"])),
        tuple(loads(row["languages"])), tuple(loads(row["checks_held"])),
        loads(row["attestation"]), row["status"], row["received_at"], row["expires_at"],
        row["decided_at"])


def _sent(row: aiosqlite.Row) -> OfferSent:
    return OfferSent(row["id"], row["ask_id"], row["offer_id"], row["remote_need_id"],
                     row["to_actor"], row["status"], row["sent_at"], row["expires_at"],
                     row["answered_at"])


# Received -----------------------------------------------------------------------------------
async def add_offer_received(db: Database, *, offer_id: str, actor: str, need_id: int,
                             pseudonym: str, distance_band: str, skills: list[str],
                             availability: list[str], languages: list[str],
                             checks_held: list[dict[str, Any]], attestation: dict[str, Any],
                             expires_at: float, now: float | None = None) -> bool:
    """Store an offer; False if it (or the same volunteer's offer for that need) is known."""
    now = time.time() if now is None else now
    dumps = orjson.dumps
    try:
        await db.execute(
            "INSERT INTO offers_received (uuid, offer_id, actor, need_id, pseudonym, "
            "distance_band, skills, availability, languages, checks_held, attestation, "
            "received_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (str(uuid.uuid4()), offer_id, actor, need_id, pseudonym, distance_band,
             dumps(skills).decode(), dumps(availability).decode(), dumps(languages).decode(),
             dumps(checks_held).decode(), dumps(attestation).decode(), now, expires_at))
    except sqlite3.IntegrityError:
        return False
    return True


async def get_offer_received(db: Database, offer_id: str) -> OfferReceived | None:
    row = await db.fetchone("SELECT * FROM offers_received WHERE offer_id = ?", (offer_id,))
    return None if row is None else _received(row)


async def offer_received_by_uuid(db: Database, offer_uuid: str) -> OfferReceived | None:
    row = await db.fetchone("SELECT * FROM offers_received WHERE uuid = ?", (offer_uuid,))
    return None if row is None else _received(row)


async def offers_for_need(db: Database, need_id: int) -> list[OfferReceived]:
    rows = await db.fetchall("SELECT * FROM offers_received WHERE need_id = ? ORDER BY id",
                             (need_id,))
    return [_received(r) for r in rows]


def write_reject_received(conn: sqlite3.Connection, offer: OfferReceived, now: float) -> bool:
    """Reject an open offer, inside the caller's transaction (which queues the Reject); False
    if it was no longer open."""
    return conn.execute("UPDATE offers_received SET status = 'rejected', decided_at = ? "
                        "WHERE id = ? AND status = ?", (now, offer.id, OPEN)).rowcount > 0


def write_accept_received(conn: sqlite3.Connection, offer: OfferReceived, *,
                          now: float) -> str | None:
    """Staff accepted a neighbour's open offer, inside the caller's transaction (which also
    queues the Accept): the offer is accepted and its match made, so nobody reads one without
    the other. The match's uuid, or None if the offer was decided or its need closed."""
    cursor = conn.execute(
        "UPDATE offers_received SET status = 'accepted', decided_at = ? "
        "WHERE id = ? AND status = ? AND EXISTS (SELECT 1 FROM needs WHERE needs.id = ? "
        "AND needs.status IN ('open', 'matching') AND needs.deleted_at IS NULL)",
        (now, offer.id, OPEN, offer.need_id))
    if cursor.rowcount == 0:
        return None
    return write_match(conn, need_id=offer.need_id, offer_received_id=offer.id, now=now)


async def withdraw_offer(db: Database, offer: OfferReceived, *,
                         now: float | None = None) -> bool:
    """The offering hub's volunteer withdrew: the offer (open or accepted) is withdrawn and
    its match, if any, ended, in one transaction, so nobody reads one without the other and a
    crash leaves neither half done. False if the offer was already decided otherwise."""
    return await _withdraw(db, "offers_received", "decided_at", "offer_received_id",
                           offer.id, now)


async def _withdraw(db: Database, table: str, when: str, match_column: str, offer_id: int,
                    now: float | None) -> bool:
    now = time.time() if now is None else now
    withdrawn: bool = await db.run_in_writer(
        lambda conn: _write_withdraw(conn, table, when, match_column, offer_id, now))
    return withdrawn


def _write_withdraw(conn: sqlite3.Connection, table: str, when: str, match_column: str,
                    offer_id: int, now: float) -> bool:
    cursor = conn.execute(f"UPDATE {table} SET status = 'withdrawn', {when} = ? "
                          "WHERE id = ? AND status IN ('offered', 'accepted')", (now, offer_id))
    if cursor.rowcount == 0:
        return False
    conn.execute("UPDATE matches SET status = 'ended', ended_at = ? "
                 f"WHERE {match_column} = ? AND status = 'active'", (now, offer_id))
    return True


async def expire_offers(db: Database, now: float | None = None) -> int:
    """Offers received and sent that nobody answered in time; returns how many."""
    now = time.time() if now is None else now
    async with db.transaction() as conn:
        a = await conn.execute("UPDATE offers_received SET status = 'expired', decided_at = ? "
                               "WHERE status = 'offered' AND expires_at <= ?", (now, now))
        b = await conn.execute("UPDATE offers_sent SET status = 'expired', answered_at = ? "
                               "WHERE status = 'offered' AND expires_at <= ?", (now, now))
        return a.rowcount + b.rowcount


async def needs_closed_with_open_offers(db: Database) -> list[int]:
    """Needs that no longer take volunteers (filled, closed, cancelled or removed) but still
    have offers open: closing a need declines its offers one by one after its own change, so
    a stop in between leaves some (the exchange sweep declines them)."""
    rows = await db.fetchall(
        "SELECT DISTINCT o.need_id FROM offers_received o JOIN needs n ON n.id = o.need_id "
        "WHERE o.status = ? AND (n.status NOT IN ('open', 'matching') "
        "OR n.deleted_at IS NOT NULL) ORDER BY o.need_id", (OPEN,))
    return [int(row["need_id"]) for row in rows]


# Sent ---------------------------------------------------------------------------------------
def write_offer_sent(conn: sqlite3.Connection, *, ask_id: int, offer_id: str,
                     remote_need_id: int, to_actor: str, expires_at: float, now: float) -> None:
    """Written in the transaction that queues the Offer (see `hub.services.outbox`)."""
    conn.execute(
        "INSERT INTO offers_sent (ask_id, offer_id, remote_need_id, to_actor, sent_at, "
        "expires_at) VALUES (?, ?, ?, ?, ?, ?)",
        (ask_id, offer_id, remote_need_id, to_actor, now, expires_at))


async def get_offer_sent(db: Database, offer_id: str) -> OfferSent | None:
    row = await db.fetchone("SELECT * FROM offers_sent WHERE offer_id = ?", (offer_id,))
    return None if row is None else _sent(row)


async def offer_sent_for_ask(db: Database, ask_id: int) -> OfferSent | None:
    row = await db.fetchone("SELECT * FROM offers_sent WHERE ask_id = ?", (ask_id,))
    return None if row is None else _sent(row)


async def standing_offers_sent(db: Database, volunteer_id: int) -> list[OfferSent]:
    """The offers made for a volunteer that still stand (open or accepted)."""
    return [_sent(r) for r in await db.fetchall(_STANDING, (volunteer_id,))]


def any_standing_in(conn: sqlite3.Connection, volunteer_id: int) -> bool:
    """`standing_offers_sent` is not empty, read in the caller's transaction."""
    return conn.execute(_STANDING, (volunteer_id,)).fetchone() is not None


_STANDING = ("SELECT o.* FROM offers_sent o JOIN asks a ON a.id = o.ask_id "
             "WHERE a.volunteer_id = ? AND o.status IN ('offered', 'accepted') ORDER BY o.id")


def write_recall_contact_notes(conn: sqlite3.Connection, volunteer_id: int, now: float) -> int:
    """The volunteer is being erased (in the caller's transaction): the contact notes we sent
    about their offers lose their bodies, and those not yet delivered never will be; how
    many. (A note answers its offer, so its body holds the offer's id, JSON-quoted.)"""
    notes = [row[0] for row in conn.execute(
        "SELECT id FROM outbox WHERE type = 'Create' AND public = 0 "
        "AND instr(CAST(body AS TEXT), '\"contact\"') > 0 AND EXISTS ("
        "SELECT 1 FROM offers_sent o JOIN asks a ON a.id = o.ask_id WHERE a.volunteer_id = ? "
        "AND instr(CAST(outbox.body AS TEXT), json_quote(o.offer_id)) > 0)", (volunteer_id,))]
    for outbox_id in notes:
        conn.execute("UPDATE deliveries SET state = 'failed', finished_at = ?, "
                     "last_error = 'recalled: the volunteer was erased' "
                     "WHERE outbox_id = ? AND state = 'pending'", (now, outbox_id))
        conn.execute("UPDATE outbox SET body = ? WHERE id = ?", (b"{}", outbox_id))
    return len(notes)


def write_withdraw_sent(conn: sqlite3.Connection, offer: OfferSent, now: float) -> bool:
    """Our volunteer withdrew, inside the caller's transaction (with their ask and the Undo):
    the offer we sent (open or accepted) is withdrawn and its match, if any, ended. False if
    it was already answered otherwise."""
    return _write_withdraw(conn, "offers_sent", "answered_at", "offer_sent_id", offer.id, now)


def write_accept_sent(conn: sqlite3.Connection, offer: OfferSent, *, volunteer_id: int,
                      now: float) -> bool:
    """The neighbour accepted the offer we sent for our volunteer, inside the caller's
    transaction (which also queues the volunteer's contact): the offer is accepted and the
    volunteer's match made. False if the offer was no longer open (withdrawn or expired
    meanwhile, or a repeated Accept)."""
    cursor = conn.execute("UPDATE offers_sent SET status = 'accepted', answered_at = ? "
                          "WHERE id = ? AND status = ?", (now, offer.id, OPEN))
    if cursor.rowcount == 0:
        return False
    write_match(conn, remote_need_id=offer.remote_need_id, volunteer_id=volunteer_id,
                offer_sent_id=offer.id, now=now)
    return True


async def answer_offer_sent(db: Database, offer: OfferSent, status: str, *,
                            now: float | None = None) -> bool:
    """The neighbour's answer (rejected) or ours (expired) to an open offer we sent; False
    if it was no longer open."""
    now = time.time() if now is None else now
    answered: bool = await db.run_in_writer(
        lambda conn: write_answer_sent(conn, offer, status, now))
    return answered


def write_answer_sent(conn: sqlite3.Connection, offer: OfferSent, status: str,
                      now: float) -> bool:
    """`answer_offer_sent` inside the caller's transaction."""
    return conn.execute("UPDATE offers_sent SET status = ?, answered_at = ? "
                        "WHERE id = ? AND status = ?", (status, now, offer.id, OPEN)).rowcount > 0
