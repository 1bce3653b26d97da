"""The matching messages' terms: each survives JSON-LD expansion (a full processor such as
Fedify keeps it), and means the same under our published vocabulary as inline."""

from __future__ import annotations

from typing import Any

from federation import jsonld
from hub.activitypub import exchange as messages
from hub.urls import Urls

URLS = Urls("https://birch.example", "birch")
PUBLISHED = ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1",
             "https://w3id.org/commonhub/ns"]


def _documents() -> list[dict[str, Any]]:
    statement = messages.attestation(
        URLS, pseudonym="k3Xq9v", need_id="https://alder.example/needs/1",
        checks=[{"checkType": "dbs_enhanced_adult", "validThrough": "2028-10-22"}],
        training=[{"course": "safeguarding_adults", "completedOn": "2026-03-14"}],
        issued=1.8e9, expires=1.8e9 + 3600)
    offer = messages.offer(
        URLS, offer_id="https://birch.example/offers/1", to_actor="https://alder.example/a",
        need_id="https://alder.example/needs/1", pseudonym="k3Xq9v",
        distance_band="1 to 2 km", skills=["befriending"], overlap=["Tue afternoon"],
        languages=["pa"], signed_attestation=statement, expires=1.8e9, when=1.8e9)
    contact = messages.contact_note(
        URLS, to_actor="https://alder.example/a", offer_id="https://birch.example/offers/1",
        lines=["Contact"], contact={"name": "N", "email": "e@x.example", "telephone": "1",
                                    "handle": "@n@x.example", "organisation": "O",
                                    "note": "n"}, when=1.8e9)
    return [statement, offer, contact]


def _keys(node: Any) -> set[str]:
    if isinstance(node, list):
        return set().union(*(_keys(item) for item in node)) if node else set()
    if isinstance(node, dict):
        inner = {k: v for k, v in node.items() if k != "@context"}
        return set(inner) | _keys(list(inner.values()))
    return set()


def _iri(context: Any, term: str) -> str:
    expanded = jsonld.expand({"@context": context, term: "x"})
    keys = [k for k in (expanded[0] if expanded else {}) if k not in ("@id", "@type")]
    return keys[0] if keys else {"id": "@id", "type": "@type"}.get(term, "")


def test_every_term_expands_and_means_the_same_as_published() -> None:
    for document in _documents():
        for term in sorted(_keys(document) - {"proof"}):
            inline = _iri(messages.EXCHANGE_CONTEXT, term)
            assert inline and not inline.startswith("_:"), f"{term} does not expand"
            assert _iri(PUBLISHED, term) == inline, term
