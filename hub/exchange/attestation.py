"""The home hub's signed statement of a volunteer's checks, and its verification.

The statement names the volunteer by pseudonym only and says which checks they hold, each
valid through a date, and which training they did; it is bound to one need and expires. The
home hub signs it with its Ed25519 key (FEP-8b32); the requesting hub verifies it with the
key the home hub's actor publishes, so a relay, a copy or a tampered statement is refused.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ed25519

from federation.errors import FederationError, SignatureError, ValidationError
from federation.integrity import add_proof, verification_method, verify_proof
from hub.activitypub import exchange as messages
from hub.activitypub.notes import iso
from hub.runtime import Hub
from hub.store.volunteers import Check, Training


def held_checks(checks: list[Check], wanted: frozenset[str], today: date) -> list[dict[str, str]]:
    """The clear checks of the wanted types valid today, each with the last day it is valid
    (the day before its renewal date, as hub.volunteers.model counts it)."""
    best: dict[str, date] = {}
    for check in checks:
        last = check.renewal_on - timedelta(days=1)
        if check.type in wanted and check.decision == "clear" and last >= today:
            best[check.type] = max(best.get(check.type, last), last)
    return [{"checkType": kind, "validThrough": until.isoformat()}
            for kind, until in sorted(best.items())]


def sign_attestation(hub: Hub, *, pseudonym: str, need_id: str,
                     checks: list[dict[str, str]], training: list[Training],
                     lifetime: float, now: float | None = None) -> dict[str, Any]:
    now = time.time() if now is None else now
    statement = messages.attestation(
        hub.urls, pseudonym=pseudonym, need_id=need_id, checks=checks,
        training=[{"course": t.course, "completedOn": t.completed_on.isoformat()}
                  for t in training],
        issued=now, expires=now + lifetime)
    return add_proof(statement, hub.keyring.assertion_private_key(),
                     hub.urls.assertion_key_id, created=iso(now))


@dataclass(frozen=True)
class Attested:
    checks: list[dict[str, str]]     # [{"checkType", "validThrough"}]
    training: list[dict[str, str]]


def _when(value: Any, name: str) -> datetime:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValidationError(f"attestation: {name} is not a date-time") from exc


async def verify_attestation(hub: Hub, statement: dict[str, Any], *, actor: str,
                             pseudonym: str, need_id: str, now: float | None = None) -> Attested:
    """The checks and training a neighbour attests, once its proof and binding check out.

    Raises `SignatureError` if the proof does not verify with a key of `actor` (the hub that
    sent the offer), `ValidationError` if the statement is for someone or something else,
    or has expired.
    """
    now = time.time() if now is None else now
    try:
        key = await hub.actors.key_lookup(verification_method(statement))
    except FederationError as exc:
        raise SignatureError(f"attestation: cannot find its key: {exc}") from exc
    if key.owner != actor or not isinstance(key.public_key, ed25519.Ed25519PublicKey):
        raise SignatureError("attestation: signed by another actor than the offering hub")
    verify_proof(statement, key.public_key)
    if statement.get("attributedTo") != actor or statement.get("type") != "Attestation":
        raise ValidationError("attestation: not an Attestation by the offering hub")
    if statement.get("pseudonym") != pseudonym or statement.get("forNeed") != need_id:
        raise ValidationError("attestation: made for another volunteer or need")
    if _when(statement.get("endTime"), "endTime").timestamp() <= now:
        raise ValidationError("attestation: expired")
    checks = [c for c in statement.get("checksHeld") or [] if isinstance(c, dict)]
    training = [t for t in statement.get("trainingDone") or [] if isinstance(t, dict)]
    for check in checks:
        if not isinstance(check.get("checkType"), str):
            raise ValidationError("attestation: a check without checkType")
        try:
            date.fromisoformat(str(check.get("validThrough")))
        except ValueError as exc:
            raise ValidationError("attestation: validThrough is not a date") from exc
    return Attested(checks, training)


def covers(attested: Attested, required: frozenset[str], last_day: date) -> list[str]:
    """The required checks the statement does not show valid through `last_day`."""
    valid = {c["checkType"] for c in attested.checks
             if date.fromisoformat(c["validThrough"]) >= last_day}
    return sorted(required - valid)


def utc_today(now: float) -> date:
    return datetime.fromtimestamp(now, UTC).date()
