"""Inbox checks in worker processes (`federation.verifier`): the known-key check, and the
pool's life: a lazy start, answers, a worker that dies, and a clean stop.

The receiver's behaviour with a verifier process is covered by running every test of
`test_inbox.py` in both variants; these tests cover what only the pool does.
"""

import asyncio
import os
import signal
import time

import orjson
import pytest

from federation.errors import DigestError, SignatureError, ValidationError
from federation.keys import PublicKey, SigningKey, generate_rsa_key
from federation.signatures import sign_request, verify_with_key
from federation.verifier import Checked, Refused, VerifierPool

URL = "https://hub.example/inbox"
ALICE = "https://alice.example/users/alice"
KEY = SigningKey(f"{ALICE}#main-key", generate_rsa_key())
KNOWN = PublicKey(KEY.key_id, ALICE, KEY.private_key.public_key())
OTHER = PublicKey(KEY.key_id, ALICE, generate_rsa_key().public_key())  # a rotated key


def delivery(scheme: str = "draft-cavage", **changes: object) -> tuple[dict[str, str], bytes]:
    activity = {"id": "https://alice.example/a/1", "type": "Follow", "actor": ALICE,
                "object": "https://hub.example/actors/hub", **changes}
    body = orjson.dumps(activity)
    headers = sign_request("POST", URL, {"Content-Type": "application/activity+json"}, body,
                           KEY, scheme=scheme)
    return headers, body


def raw(headers: dict[str, str]) -> tuple[tuple[bytes, bytes], ...]:
    return tuple((k.encode(), v.encode()) for k, v in headers.items())


async def first_answer(pool: VerifierPool, headers: dict[str, str],
                       body: bytes) -> Checked | Refused:
    """Check until a worker answers (None means the caller would check it itself)."""
    async with asyncio.timeout(30):
        while True:
            result = await pool.check("POST", URL, raw(headers), body, KNOWN, window=3900,
                                      max_depth=32)
            if result is not None:
                return result
            await asyncio.sleep(0.05)


@pytest.mark.parametrize("scheme", ["draft-cavage", "rfc9421"])
def test_a_known_key_verifies_and_any_doubt_is_left_to_the_full_path(scheme: str) -> None:
    headers, body = delivery(scheme)
    verified = verify_with_key("POST", URL, headers, body, KNOWN)
    assert verified is not None and (verified.key_id, verified.owner) == (KEY.key_id, ALICE)
    # Another key under the same id (rotated since it was cached): undecided, not refused,
    # so the inbox can fetch the new key.
    assert verify_with_key("POST", URL, headers, body, OTHER) is None
    # A key with another id: undecided too.
    assert verify_with_key("POST", URL, headers, body,
                           PublicKey("https://x.example/k", ALICE, KNOWN.public_key)) is None


@pytest.mark.parametrize("scheme", ["draft-cavage", "rfc9421"])
def test_a_known_key_does_not_excuse_a_bad_digest_or_date(scheme: str) -> None:
    headers, body = delivery(scheme)
    with pytest.raises(DigestError):
        verify_with_key("POST", URL, headers, body + b" ", KNOWN)
    with pytest.raises(SignatureError):
        verify_with_key("POST", URL, headers, body, KNOWN, now=time.time() + 7200)


async def test_workers_start_only_after_start_after_checks() -> None:
    pool = VerifierPool(1, start_after=3)
    headers, body = delivery()
    try:
        for _ in range(3):  # the first checks are the caller's, in-process; nothing starts
            assert await pool.check("POST", URL, raw(headers), body, KNOWN, window=3900,
                                    max_depth=32) is None
            assert pool.pids() == []
        result = await first_answer(pool, headers, body)
        assert isinstance(result, Checked)
        assert len(pool.pids()) == 1
    finally:
        await pool.close()


async def test_a_worker_answers_checked_refused_or_undecided() -> None:
    pool = VerifierPool(1, start_after=0)
    try:
        async with asyncio.timeout(30):
            await pool.ready()
        headers, body = delivery()
        assert await pool.check("POST", URL, raw(headers), body, KNOWN, window=3900,
                                max_depth=32) == Checked("https://alice.example/a/1", ALICE,
                                                         KEY.key_id)
        refused = await pool.check("POST", URL, raw(headers), body + b" ", KNOWN,
                                   window=3900, max_depth=32)
        assert isinstance(refused, Refused) and isinstance(refused.error, DigestError)
        assert refused.actor_id == ALICE  # the inbox checks its block list first
        bad_json = await pool.check("POST", URL, raw(headers), b"{", KNOWN, window=3900,
                                    max_depth=32)
        assert isinstance(bad_json, Refused) and isinstance(bad_json.error, ValidationError)
        assert bad_json.actor_id is None
        assert await pool.check("POST", URL, raw(headers), body, OTHER, window=3900,
                                max_depth=32) is None
        assert pool.answered == 4
    finally:
        await pool.close()


async def test_a_worker_that_dies_is_replaced_and_meanwhile_nothing_is_lost() -> None:
    pool = VerifierPool(1, start_after=0)
    headers, body = delivery()
    try:
        async with asyncio.timeout(30):
            await pool.ready()
        [pid] = pool.pids()
        os.kill(pid, signal.SIGKILL)
        # Until another worker is ready, every check is the caller's (None), never lost.
        result = await first_answer(pool, headers, body)
        assert isinstance(result, Checked)
        assert pool.pids() and pool.pids() != [pid]
    finally:
        await pool.close()


async def test_close_stops_every_worker() -> None:
    pool = VerifierPool(2, start_after=0)
    async with asyncio.timeout(30):
        await pool.ready()
    pids = pool.pids()
    assert len(pids) == 2
    await pool.close()
    assert pool.pids() == []
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    headers, body = delivery()
    assert await pool.check("POST", URL, raw(headers), body, KNOWN, window=3900,
                            max_depth=32) is None


def test_an_unforeseen_error_in_a_worker_leaves_the_decision_to_the_inbox() -> None:
    """Anything but a refusal (a bug, an input no check foresaw) is "undecided": the inbox
    checks the delivery itself and the worker lives on."""
    from federation.verifier import _UNDECIDED, _run_job, _spki

    _, body = delivery()
    broken = ((b"content-type", 42),)  # a header value that is not bytes
    job = (7, "POST", URL, broken, body, KEY.key_id, ALICE, _spki(KNOWN.public_key), 3900, 32)
    assert _run_job(job, {}) == (_UNDECIDED, 7)
