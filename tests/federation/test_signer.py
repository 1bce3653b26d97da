"""The signing threads: every call gets its own result or error, however many wait."""

from __future__ import annotations

import asyncio
import base64
import threading

import pytest

from federation.keys import SigningKey, generate_rsa_key, verify_bytes
from federation.signatures import sign_request
from federation.signer import BatchSigner

KEY = SigningKey("https://hub.example/hub#main-key", generate_rsa_key())


async def test_each_call_gets_its_own_result_while_calls_pile_up_behind_busy_threads() -> None:
    gate, threads = threading.Event(), set()

    def work(n: int) -> int:
        threads.add(threading.current_thread().name)
        gate.wait(5)  # both threads held: the other calls wait in the queue
        return n * n

    signer = BatchSigner(2)
    calls = [asyncio.ensure_future(signer.sign(work, n)) for n in range(50)]
    await asyncio.sleep(0.05)
    gate.set()
    assert await asyncio.gather(*calls) == [n * n for n in range(50)]
    assert threads <= {f"sign_{i}" for i in range(2)}
    signer.close()


async def test_one_failing_call_fails_alone() -> None:
    def work(n: int) -> int:
        if n == 3:
            raise KeyError("no key")
        return n

    signer = BatchSigner(1)
    results = await asyncio.gather(*(signer.sign(work, n) for n in range(6)),
                                   return_exceptions=True)
    assert [r if not isinstance(r, Exception) else "error" for r in results] == [
        0, 1, 2, "error", 4, 5]
    signer.close()


async def test_a_cancelled_call_does_not_disturb_the_others() -> None:
    gate = threading.Event()
    signer = BatchSigner(1)
    first = asyncio.ensure_future(signer.sign(gate.wait, 5))
    waiting = [asyncio.ensure_future(signer.sign(lambda n: n, n)) for n in range(4)]
    await asyncio.sleep(0.01)
    waiting[1].cancel()
    gate.set()
    assert await first is True
    assert [await waiting[n] for n in (0, 2, 3)] == [0, 2, 3]
    signer.close()


async def test_signatures_made_in_batches_verify() -> None:
    signer = BatchSigner(2)
    headers = {"Content-Type": "application/activity+json"}
    urls = [f"https://peer{n}.example/inbox" for n in range(12)]
    signed = await asyncio.gather(*(signer.sign(sign_request, "POST", url, headers, b"{}", KEY)
                                    for url in urls))
    for url, out in zip(urls, signed, strict=True):
        assert out["Host"] == url.split("/")[2]
        signature = out["Signature"].split('signature="')[1].rstrip('"')
        text = (f"(request-target): post /inbox\nhost: {out['Host']}\ndate: {out['Date']}\n"
                f"digest: {out['Digest']}\ncontent-type: application/activity+json")
        assert verify_bytes(KEY.private_key.public_key(), base64.b64decode(signature),
                            text.encode(), "rsa-v1_5-sha256")
    signer.close()


async def test_calls_after_close_fail() -> None:
    signer = BatchSigner(1)
    signer.close()
    with pytest.raises(RuntimeError):
        await signer.sign(lambda: 1)
