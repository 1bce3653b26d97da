"""The published need: what Mastodon renders from it (a converted `Page`: name, summary,
link), the ValueFlows/FEP-0837 shape, every term surviving JSON-LD expansion, the wire format
kept in tests/data/commonhub_create_need.json, and a peer hub's parser reading it back."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from federation import jsonld
from federation.errors import ValidationError
from hub.activitypub.context import CONTEXT
from hub.activitypub.needs import deleted_need_activity, need_activity, need_object
from hub.needs.model import check_whole, parse_need
from hub.needs.remote import is_need, parse_remote_need
from hub.store.needs import LocalNeed
from hub.urls import Urls
from tests.hub.needs.factories import NEIGHBOUR_NOTES

URLS = Urls("https://hub.example.org", "redbridge")
UUID = "5f0c2a8e-3b1d-4c6e-9a7f-2d4b6c8e0a1f"
FIXTURE = Path(__file__).parents[2] / "data" / "commonhub_create_need.json"
# Mastodon's ActivityPub::Activity::CONVERTED_TYPES and SUPPORTED_TYPES (app/lib/activitypub).
MASTODON_CONVERTED = {"Image", "Audio", "Video", "Article", "Page", "Event"}
MASTODON_SUPPORTED = {"Note", "Question"}


def make_need(**fields: Any) -> LocalNeed:
    data = {"kind": "regular", "title": "Weekly befriending",
            "description": "A retired teacher who loves crosswords would enjoy a weekly chat.",
            "private_notes": NEIGHBOUR_NOTES, "starts_on": "2026-12-01",
            "slots": {"tue": ["afternoon"]}, "effort_minutes": 60, "skills": ["befriending"],
            "interests": ["reading-books"], "checks_required": ["dbs_enhanced_adult"],
            "languages_preferred": ["pa"], "district": "IG1", "latitude": 51.5588,
            "longitude": 0.0712, "accessibility": "Ground floor flat, step-free.", **fields}
    draft = check_whole(parse_need(data, default_timezone="Europe/London"))
    return LocalNeed(1, UUID, draft, None, "open", 1_790_000_000.0, None, 1_790_000_000.0,
                     None, None, None)


def mastodon_text(obj: dict[str, Any]) -> str:
    """What Mastodon shows for a converted object (StatusParser#processed_text)."""
    return "\n\n".join(p for p in (f"<h2>{obj['name']}</h2>", obj.get("summary"),
                                   obj.get("url") or obj["id"]) if p)


def test_mastodon_keeps_and_renders_the_need() -> None:
    obj = need_object(make_need(), URLS)
    types = set(obj["type"])
    assert types & MASTODON_CONVERTED and not types & MASTODON_SUPPORTED
    assert obj["type"][0] == "Page"  # Misskey reads the first type of an array
    text = mastodon_text(obj)
    # What, when, where (district only), skills and checks, and the link.
    for shown in ("Weekly befriending", "Regular commitment", "Tue afternoons",
                  "about 1 hour", "IG1", "Befriending", "Reading and books",
                  "enhanced DBS (adult workforce) needed", URLS.need(UUID)):
        assert shown in text, shown
    assert obj["content"].startswith("<p>A retired teacher")
    assert obj["url"] == URLS.need(UUID) and obj["to"] == [
        "https://www.w3.org/ns/activitystreams#Public"]


def test_it_is_a_fep_0837_request_proposal() -> None:
    obj = need_object(make_need(volunteers_wanted=2), URLS)
    assert "Proposal" in obj["type"] and obj["purpose"] == "request"
    intent = obj["publishes"]
    assert intent["type"] == "Intent" and intent["id"] == URLS.need(UUID) + "#primary"
    assert intent["action"] == "work"
    assert intent["resourceQuantity"] == {"hasUnit": "one", "hasNumericalValue": "2"}
    assert intent["effortQuantity"] == {"hasUnit": "minute-Time", "hasNumericalValue": "60"}
    assert obj["hasBeginning"] == "2026-12-01T00:00:00+00:00"
    assert obj["attributedTo"] == URLS.actor


def test_private_notes_never_reach_the_object() -> None:
    need = make_need()
    for doc in (need_object(need, URLS), need_activity("Create", need, URLS, when=1.0),
                deleted_need_activity(need, URLS, when=2.0)):
        text = json.dumps(doc)
        for secret in ("Kaur", "Cranbrook", "07700", "4DU", "4471"):
            assert secret not in text


def test_the_wire_format_is_the_documented_one() -> None:
    activity = need_activity("Create", make_need(), URLS, when=1_790_000_000.0)
    activity["id"] = "https://hub.example.org/activities/0e3b1c9a-7d2f-4b8e-a1c5-6f9d2e4b7a30"
    assert activity == json.loads(FIXTURE.read_text(encoding="utf-8"))


def _keys(node: Any) -> set[str]:
    if isinstance(node, list):
        return set().union(*(_keys(i) for i in node)) if node else set()
    if isinstance(node, dict):
        inner = [v for k, v in node.items() if k != "@context"]
        return {k for k in node if k != "@context"}.union(*(_keys(v) for v in inner))
    return set()


def _iri(term: str, context: Any = CONTEXT) -> str:
    expanded = jsonld.expand({"@context": context, term: "x"})
    keys = [k for k in (expanded[0] if expanded else {}) if k not in ("@id", "@type")]
    return keys[0] if keys else {"id": "@id", "type": "@type"}.get(term, "")


def test_every_term_survives_expansion_and_means_the_same_in_the_published_context() -> None:
    activity = need_activity("Create", make_need(max_distance_km=5, volunteers_wanted=2,
                                                 tags=["crosswords"],
                                                 languages_required=["en"]),
                             URLS, when=1.0)
    expanded = json.dumps(jsonld.expand(activity))
    published = ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1",
                 "https://w3id.org/commonhub/ns"]
    for term in sorted(_keys(activity)):
        iri = _iri(term)
        assert iri and not iri.startswith("_:"), f"{term} does not expand"
        assert json.dumps(iri) in expanded, f"{term} ({iri}) was dropped"
        if iri.startswith("http"):
            assert _iri(term, published) == iri, term
    assert "https://w3id.org/valueflows/ont/vf#Proposal" in expanded


def test_a_peer_reads_back_the_same_need() -> None:
    need = make_need(max_distance_km=5.0, volunteers_wanted=2, tags=["crosswords"])
    obj = need_object(need, URLS, with_context=False)
    assert is_need(obj)
    draft, status = parse_remote_need(obj)
    assert status == "open"
    assert draft == replace(need.draft, private_notes="")


def test_foreign_shapes_are_not_needs_or_are_refused_cleanly() -> None:
    assert not is_need({"type": "Note", "content": "hi"})
    assert not is_need({"type": ["Page", "Proposal"]})  # a marketplace listing, not a need
    assert not is_need("https://x.example/1")
    obj = need_object(make_need(), URLS, with_context=False)
    for broken in ({**obj, "ch:needKind": "chores"}, {**obj, "ch:weeklySlots": "soon"},
                   {**obj, "ch:checksRequired": ["DROP TABLE"]}, {**obj, "name": None},
                   {**obj, "ch:startsOn": 20261201}):
        try:
            parse_remote_need(broken)
        except ValidationError:
            continue
        raise AssertionError(f"accepted {broken}")


def test_each_kind_says_what_and_when_in_its_summary() -> None:
    one_off = make_need(kind="one_off", starts_on=None, slots=None, effort_minutes=None,
                        on_date="2026-12-10", start_time="10:00", end_time="11:30",
                        volunteers_wanted=2, checks_required=[])
    text = mastodon_text(need_object(one_off, URLS))
    assert "One-off task · Thu 10 Dec 2026, 10:00\u201311:30 · IG1" in text
    assert "2 volunteers wanted" in text and "DBS" not in text
    assert need_object(one_off, URLS)["hasEnd"] == "2026-12-10T11:30:00+00:00"
    filled = replace(make_need(), status="filled")
    assert need_object(filled, URLS)["summary"].startswith("Filled · Regular commitment")
    cancelled = replace(make_need(), status="cancelled", closed_at=1_790_000_500.0)
    assert need_object(cancelled, URLS)["type"] == "Tombstone"
