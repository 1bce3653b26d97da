"""Hypothesis strategies for the fuzz tests: near-valid inputs, so the search reaches deep.

Pure random text rarely gets past a parser's first character; these build values from the
grammar's own pieces (quotes, commas, `=`, parameter names, structured-field syntax) and
mix them with arbitrary text.
"""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

CORPUS = Path(__file__).parent / "corpus"

# Deterministic and bounded in CI; `FUZZ_EXAMPLES=20000` for a long local search. A failure
# found that way goes into corpus/ so that every later run replays it.
FUZZ = settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", "150")), derandomize=True,
                database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_CAVAGE_NAMES = st.sampled_from(["keyId", "algorithm", "headers", "signature", "created",
                                 "expires", "keyid", "Signature", "x"])
_PIECES = st.sampled_from(['"', ",", "=", " ", "\\", "\t", "(request-target)", "host", "date",
                           "digest", "rsa-sha256", "hs2019", "https://a.example/u#k", "(created)",
                           "(expires)", "\u00e9", "\x00", "\r\n"])
_VALUES = st.one_of(st.text(max_size=40), st.integers().map(str),
                    st.lists(_PIECES, max_size=8).map("".join))


@st.composite
def cavage_headers(draw: st.DrawFn) -> str:
    """A draft-cavage `Signature` value: params, sometimes broken, sometimes bare text."""
    if draw(st.booleans()):
        return draw(st.one_of(st.text(max_size=80), st.lists(_PIECES, max_size=20).map("".join)))
    params = draw(st.lists(st.tuples(_CAVAGE_NAMES, _VALUES, st.booleans()), max_size=6))
    parts = [f'{name}="{value}"' if quoted else f"{name}={value}"
             for name, value, quoted in params]
    return draw(st.sampled_from([",", ", ", " ,", ",,"])).join(parts)


_SF_KEYS = st.sampled_from(["sig1", "sig", "a", "Sig", "1x", "*k", "sig-b"])
_SF_ITEMS = st.one_of(
    st.sampled_from(['"@method"', '"@target-uri"', '"@authority"', '"content-digest"',
                     '"Date"', "@method", '"x";req', '"@query-param";name="a"']),
    st.integers(-10**16, 10**16).map(str), st.floats(allow_nan=False).map(str),
    st.binary(max_size=24).map(lambda b: ":" + __import__("base64").b64encode(b).decode() + ":"),
    st.sampled_from(["?1", "?0", "?2", ":@@:", '"\\x"', "tok/en", '"\x7f"']),
)
_SF_PARAMS = st.lists(st.tuples(st.sampled_from(["created", "expires", "keyid", "alg", "nonce",
                                                 "tag", "X"]), _SF_ITEMS), max_size=4).map(
    lambda ps: "".join(f";{k}={v}" for k, v in ps))


@st.composite
def structured_dictionaries(draw: st.DrawFn) -> str:
    """An RFC 8941 dictionary such as `Signature-Input`, well formed or nearly."""
    if draw(st.integers(0, 4)) == 0:
        return draw(st.text(max_size=80))
    members = []
    for _ in range(draw(st.integers(0, 3))):
        key = draw(_SF_KEYS)
        if draw(st.booleans()):
            inner = " ".join(draw(st.lists(_SF_ITEMS, max_size=5)))
            value = f"({inner})"
        else:
            value = draw(_SF_ITEMS)
        members.append(f"{key}={value}{draw(_SF_PARAMS)}")
    return draw(st.sampled_from([", ", ",", " , ", ",,"])).join(members)


_JSON_LEAVES = st.one_of(st.none(), st.booleans(), st.integers(-2**63, 2**64 - 1),
                         st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=20),
                         st.sampled_from(["https://a.example/users/a", "https://b.example/x",
                                          "Create", "Follow", "Note", "Delete", "Update"]))
_JSON = st.recursive(_JSON_LEAVES, lambda inner: st.one_of(
    st.lists(inner, max_size=4),
    st.dictionaries(st.sampled_from(["id", "type", "actor", "object", "to", "@context",
                                     "attributedTo", "content", "x"]), inner, max_size=5)),
    max_leaves=25)


@st.composite
def activities(draw: st.DrawFn) -> dict:
    """An activity-shaped JSON object: the inbox's fields present often, in odd types."""
    activity = draw(st.dictionaries(st.sampled_from(["id", "type", "actor", "object", "to"]),
                                    _JSON, max_size=5))
    if draw(st.booleans()):
        activity.setdefault("id", "https://a.example/activities/1")
        activity.setdefault("type", draw(st.sampled_from(["Create", "Follow", "Update"])))
        activity.setdefault("actor", "https://a.example/users/a")
    return activity


def corpus_lines(name: str) -> list[str]:
    """The kept inputs of one corpus file, one per line (`\\n` and `\\t` escaped)."""
    text = (CORPUS / name).read_text(encoding="utf-8")
    return [line.encode().decode("unicode_escape") for line in text.splitlines()
            if line and not line.startswith("# ")]
