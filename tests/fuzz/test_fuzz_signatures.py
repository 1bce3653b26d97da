"""Fuzzing the signature parsers: draft-cavage `Signature` and RFC 9421 structured fields.

The contract: whatever the header says, verification answers with a `Verified` or raises
`SignatureError` (a 401); nothing else escapes. Hypothesis searches near-valid inputs
(`strategies.py`), derandomised and bounded so CI runs the same examples every time; the
inputs kept in `corpus/` (past findings and hand-made edge cases) are replayed one by one.
"""

from __future__ import annotations

import asyncio
import time
from email.utils import formatdate

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from federation import cavage, rfc9421
from federation.digest import content_digest_header, digest_header
from federation.errors import KeyNotFound, SignatureError
from federation.keys import PublicKey, SigningKey, generate_rsa_key
from federation.signatures import verify_request
from tests.fuzz.strategies import FUZZ, cavage_headers, corpus_lines, structured_dictionaries

KEY = SigningKey("https://a.example/u#k", generate_rsa_key())
URL = "https://hub.example/inbox"
BODY = b'{"type":"Follow"}'


async def lookup(key_id: str, *, refresh: bool = False) -> PublicKey:
    if key_id != KEY.key_id:
        raise KeyNotFound(key_id)
    return PublicKey(key_id, "https://a.example/u", KEY.private_key.public_key())


def _headers(extra: dict[str, str], good_digest: bool, good_date: bool) -> dict[str, str]:
    headers = {"Host": "hub.example", "Content-Type": "application/activity+json"}
    headers["Date"] = formatdate(time.time(), usegmt=True) if good_date else "Tue, 99 Foo"
    headers["Digest"] = digest_header(BODY) if good_digest else "SHA-256=AAAA"
    headers["Content-Digest"] = content_digest_header(BODY) if good_digest else "sha-256=:AA=:"
    return {**headers, **extra}


def _verify(headers: dict[str, str]) -> None:
    try:
        verified = asyncio.run(verify_request("POST", URL, headers, BODY, lookup))
    except SignatureError:
        return
    raise AssertionError(f"a fuzzed signature verified: {verified}")


def check_cavage(value: str, good_digest: bool = True, good_date: bool = True) -> None:
    try:
        params = cavage.parse_signature_header(value)
    except SignatureError:
        params = None
    if params is not None:
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in params.items())
    _verify(_headers({"Signature": value}, good_digest, good_date))
    _verify(_headers({"Authorization": f"Signature {value}"}, good_digest, good_date))


def check_rfc9421(signature_input: str, signature: str, good_digest: bool = True) -> None:
    for text in (signature_input, signature):
        try:
            rfc9421.parse_dictionary(text)
        except SignatureError:
            pass
    headers = _headers({"Signature-Input": signature_input, "Signature": signature},
                       good_digest, True)
    _verify(headers)


@FUZZ
@given(cavage_headers(), st.booleans(), st.booleans())
@example('keyId="https://a.example/u#k",headers="(request-target) host date digest",'
         'signature="AAAA"', True, True)
@example('keyId="https://a.example/u#k",algorithm="hs2019",created=1,expires=x,'
         'headers="(request-target) host (created) (expires) digest",signature="AA=="',
         True, True)
def test_cavage_signatures_raise_only_signature_errors(
        value: str, good_digest: bool, good_date: bool) -> None:
    check_cavage(value, good_digest, good_date)


@FUZZ
@given(structured_dictionaries(), structured_dictionaries(), st.booleans())
@example('sig1=("@method" "@target-uri" "content-digest");created=1;keyid="https://a.example/u#k"',
         "sig1=:AAAA:", True)
@example('sig1=("@query-param";name="a" "@status");keyid="https://a.example/u#k"',
         "sig1=:AAAA:", True)
def test_rfc9421_signatures_raise_only_signature_errors(
        signature_input: str, signature: str, good_digest: bool) -> None:
    check_rfc9421(signature_input, signature, good_digest)


@pytest.mark.parametrize("value", corpus_lines("cavage.txt"))
def test_cavage_corpus_replays(value: str) -> None:
    check_cavage(value)


@pytest.mark.parametrize("line", corpus_lines("rfc9421.txt"))
def test_rfc9421_corpus_replays(line: str) -> None:
    signature_input, _, signature = line.partition("\t")
    check_rfc9421(signature_input, signature)
