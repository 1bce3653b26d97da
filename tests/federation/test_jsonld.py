"""Offline JSON-LD: bundled contexts resolve, nothing else is fetched, our terms expand right."""

import copy
import json
from typing import Any

import pytest

import schemas
from federation import jsonld
from federation.errors import ValidationError

AS = "https://www.w3.org/ns/activitystreams#"
FEP = "https://w3id.org/fep/8a8e/"
CH = "https://w3id.org/commonhub/ns#"

# The shape Mastodon 4.x delivers for a public post (ids shortened), inline context included.
MASTODON_CREATE: dict[str, Any] = {
    "@context": [
        "https://www.w3.org/ns/activitystreams",
        {
            "ostatus": "http://ostatus.org#",
            "atomUri": "ostatus:atomUri",
            "inReplyToAtomUri": "ostatus:inReplyToAtomUri",
            "conversation": "ostatus:conversation",
            "sensitive": "as:sensitive",
            "toot": "http://joinmastodon.org/ns#",
            "votersCount": "toot:votersCount",
            "blurhash": "toot:blurhash",
            "focalPoint": {"@container": "@list", "@id": "toot:focalPoint"},
            "Hashtag": "as:Hashtag",
        },
    ],
    "id": "https://mastodon.example/users/alice/statuses/1/activity",
    "type": "Create",
    "actor": "https://mastodon.example/users/alice",
    "published": "2026-03-01T10:00:00Z",
    "to": ["https://www.w3.org/ns/activitystreams#Public"],
    "cc": ["https://mastodon.example/users/alice/followers"],
    "object": {
        "id": "https://mastodon.example/users/alice/statuses/1",
        "type": "Note",
        "summary": None,
        "inReplyTo": None,
        "published": "2026-03-01T10:00:00Z",
        "url": "https://mastodon.example/@alice/1",
        "attributedTo": "https://mastodon.example/users/alice",
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "cc": ["https://mastodon.example/users/alice/followers"],
        "sensitive": False,
        "atomUri": "https://mastodon.example/users/alice/statuses/1",
        "conversation": "tag:mastodon.example,2026-03-01:objectId=1:objectType=Conversation",
        "content": '<p>Repair café on Saturday <a href="https://mastodon.example/tags/repair">#repair</a></p>',
        "contentMap": {"en": "<p>Repair café on Saturday</p>"},
        "attachment": [],
        "tag": [
            {"type": "Hashtag", "href": "https://mastodon.example/tags/repair", "name": "#repair"}
        ],
    },
}


def test_every_bundled_context_file_is_present_and_parses() -> None:
    for url, name in schemas.CONTEXT_FILES.items():
        path = schemas.context_path(name)
        assert path.is_file(), name
        assert "@context" in json.loads(path.read_text(encoding="utf-8")), name
        assert "@context" in schemas.load_context(url)


def test_load_context_returns_a_fresh_copy() -> None:
    first = schemas.load_context(schemas.COMMONHUB_CONTEXT_URL)
    first["@context"]["area"] = "tampered"
    assert schemas.load_context(schemas.COMMONHUB_CONTEXT_URL)["@context"]["area"] != "tampered"


def test_schemas_refuse_unknown_names() -> None:
    with pytest.raises(KeyError):
        schemas.context_path("../__init__.py")
    with pytest.raises(KeyError):
        schemas.load_context("https://example.com/context")


@pytest.mark.parametrize(
    ("sent", "canonical"),
    [
        ("https://www.w3.org/ns/activitystreams", "https://www.w3.org/ns/activitystreams"),
        ("http://www.w3.org/ns/activitystreams", "https://www.w3.org/ns/activitystreams"),
        ("https://www.w3.org/ns/activitystreams/", "https://www.w3.org/ns/activitystreams"),
        ("https://www.w3.org/ns/activitystreams#", "https://www.w3.org/ns/activitystreams"),
        ("https://www.w3.org/ns/activitystreams.jsonld", "https://www.w3.org/ns/activitystreams"),
        ("http://w3id.org/security/v1/", "https://w3id.org/security/v1"),
        (
            "https://w3id.org/security/data-integrity/v1",
            "https://w3id.org/security/data-integrity/v1",
        ),
        ("https://w3id.org/security/multikey/v1", "https://w3id.org/security/multikey/v1"),
        ("https://w3id.org/fep/8a8e", "https://w3id.org/fep/8a8e"),
        ("https://w3id.org/commonhub/ns", "https://w3id.org/commonhub/ns"),
    ],
)
def test_loader_serves_bundled_contexts_and_their_variants(sent: str, canonical: str) -> None:
    remote = jsonld.document_loader(sent, {})
    assert remote["documentUrl"] == canonical
    assert remote["tag"] == "static"
    assert remote["document"] == schemas.load_context(canonical)


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/context.jsonld",
        "https://litepub.social/litepub/context.jsonld",
        "https://www.w3.org/ns/activitystreams-evil",
        "https://www.w3.org/ns/activitystreams/../../evil",
        "https://w3id.org/security/v2",
        "file:///etc/passwd",
        "",
    ],
)
def test_loader_refuses_everything_else(url: str) -> None:
    with pytest.raises(ValidationError):
        jsonld.document_loader(url)


def test_expand_a_mastodon_create() -> None:
    original = copy.deepcopy(MASTODON_CREATE)
    [activity] = jsonld.expand(MASTODON_CREATE)
    assert MASTODON_CREATE == original  # the input is left alone
    assert activity["@type"] == [AS + "Create"]
    assert activity[AS + "actor"] == [{"@id": "https://mastodon.example/users/alice"}]
    [note] = activity[AS + "object"]
    assert note["@type"] == [AS + "Note"]
    assert note[AS + "sensitive"] == [{"@value": False}]
    assert note[AS + "tag"][0]["@type"] == [AS + "Hashtag"]
    assert {"@value": "<p>Repair café on Saturday</p>", "@language": "en"} in note[AS + "content"]


def test_expand_refuses_an_unknown_remote_context() -> None:
    contexts = ["https://www.w3.org/ns/activitystreams", "https://evil.example/ctx"]
    doc = MASTODON_CREATE | {"@context": contexts}
    with pytest.raises(ValidationError, match=r"evil\.example"):
        jsonld.expand(doc)


def test_compact_round_trip_to_activitystreams() -> None:
    compacted = jsonld.compact(jsonld.expand(MASTODON_CREATE), schemas.ACTIVITYSTREAMS_CONTEXT_URL)
    assert compacted["@context"] == schemas.ACTIVITYSTREAMS_CONTEXT_URL
    assert compacted["type"] == "Create"
    assert compacted["object"]["attributedTo"] == "https://mastodon.example/users/alice"


def test_commonhub_context_gives_our_terms_their_iris() -> None:
    hub = {
        "@context": [schemas.ACTIVITYSTREAMS_CONTEXT_URL, schemas.COMMONHUB_CONTEXT_URL],
        "id": "https://hub.example/actor",
        "type": "Group",
        "discoverable": True,
        "manuallyApprovesFollowers": False,
        "area": {"type": "Place", "latitude": 51.5, "longitude": -0.1, "radius": 5000},
    }
    [expanded] = jsonld.expand(hub)
    assert expanded["http://joinmastodon.org/ns#discoverable"] == [{"@value": True}]
    assert expanded[AS + "manuallyApprovesFollowers"] == [{"@value": False}]
    [area] = expanded[CH + "area"]
    assert area["@type"] == [AS + "Place"]
    # Inside `area`, radius is ours (metres, xsd:double); elsewhere it stays as:radius.
    assert area[CH + "radius"] == [
        {"@value": 5000, "@type": "http://www.w3.org/2001/XMLSchema#double"}
    ]
    compacted = jsonld.compact(expanded, hub["@context"])
    assert compacted["area"]["radius"] == 5000


def test_commonhub_context_event_terms() -> None:
    event = {
        "@context": [schemas.ACTIVITYSTREAMS_CONTEXT_URL, schemas.COMMONHUB_CONTEXT_URL],
        "type": "Event",
        "name": "Repair café",
        "timezone": "Europe/London",
        "joinMode": "free",
        "eventStatus": "EventScheduled",
        "category": "WORKSHOPS_SKILL_SHARING",
        "maximumAttendeeCapacity": 20,
        "remainingAttendeeCapacity": 4,
        "participantCount": 16,
        "location": {
            "type": "Place",
            "radius": 100,
            "address": {"type": "PostalAddress", "postalCode": "E1"},
        },
    }
    [expanded] = jsonld.expand(event)
    assert expanded[FEP + "timezone"] == [{"@value": "Europe/London"}]
    assert expanded[FEP + "joinMode"] == [{"@value": "free"}]
    assert expanded[FEP + "eventStatus"] == [{"@id": FEP + "EventScheduled"}]
    assert expanded[FEP + "category"] == [{"@list": [{"@value": "WORKSHOPS_SKILL_SHARING"}]}]
    assert expanded["http://schema.org/maximumAttendeeCapacity"] == [{"@value": 20}]
    assert expanded["http://schema.org/remainingAttendeeCapacity"] == [{"@value": 4}]
    assert expanded["https://joinmobilizon.org/ns#participantCount"] == [{"@value": 16}]
    [place] = expanded[AS + "location"]
    assert AS + "radius" in place  # outside `area` the ActivityStreams term is untouched
    assert place["http://schema.org/address"][0]["http://schema.org/postalCode"]


@pytest.mark.parametrize(
    "contexts",
    [
        # GoToSocial actors
        [
            "https://w3id.org/security/v1",
            "https://www.w3.org/ns/activitystreams",
            "http://joinmastodon.org/ns",
            "http://schema.org",
        ],
        # Fedify actors
        [
            "https://www.w3.org/ns/activitystreams",
            "https://w3id.org/security/v1",
            "https://w3id.org/security/data-integrity/v1",
            "https://www.w3.org/ns/did/v1",
            "https://w3id.org/security/multikey/v1",
        ],
        ["https://www.w3.org/ns/activitystreams", "https://gotosocial.org/ns"],
        ["https://www.w3.org/ns/activitystreams", "https://purl.archive.org/miscellany"],
    ],
)
def test_contexts_peers_reference_resolve_offline(contexts: list[str]) -> None:
    actor = {"@context": contexts, "id": "https://peer.example/u/a", "type": "Person"}
    assert jsonld.has_only_known_contexts(actor)
    [expanded] = jsonld.expand(actor)
    assert expanded["@id"] == "https://peer.example/u/a"
    # No exact type check: GoToSocial lists schema.org last, so its "Person" really does
    # expand to http://schema.org/Person. One more reason to read the compact form.
    assert expanded["@type"] in ([AS + "Person"], ["http://schema.org/Person"])


def test_fep_8a8e_context_resolves_offline() -> None:
    event = {
        "@context": [schemas.FEP_8A8E_CONTEXT_URL, schemas.ACTIVITYSTREAMS_CONTEXT_URL],
        "type": "Event",
        "joinMode": "external",
        "eventStatus": "EventCancelled",
    }
    [expanded] = jsonld.expand(event)
    assert expanded[FEP + "eventStatus"] == [{"@id": FEP + "EventCancelled"}]


def test_bundled_contexts_are_loaded_once_and_then_cached(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    loads: list[str] = []
    real_load = schemas.load_context

    def counting_load(url: str) -> dict[str, Any]:
        loads.append(url)
        return real_load(url)

    monkeypatch.setattr(schemas, "load_context", counting_load)
    monkeypatch.setattr(jsonld, "_resolved_contexts", jsonld._LRUCache(8))
    for _ in range(5):
        jsonld.expand(MASTODON_CREATE)
    assert loads == [schemas.ACTIVITYSTREAMS_CONTEXT_URL]


@pytest.mark.parametrize(
    ("document", "known"),
    [
        (MASTODON_CREATE, True),
        ({"@context": "http://www.w3.org/ns/activitystreams/"}, True),
        ({"@context": {"name": "http://schema.org/name"}}, True),
        ({"@context": ["https://www.w3.org/ns/activitystreams", "https://x.example/c"]}, False),
        ({"@context": {"@import": "https://x.example/c"}}, False),
        ({"@context": {"area": {"@id": "ch:area", "@context": "https://x.example/c"}}}, False),
        ({"@context": schemas.ACTIVITYSTREAMS_CONTEXT_URL,
          "object": {"@context": "https://x.example/c", "type": "Note"}}, False),
        ({"object": [{"@context": ["https://w3id.org/security/v1"]}]}, True),
        ({"type": "Note"}, True),
    ],
)  # fmt: skip
def test_has_only_known_contexts(document: dict[str, Any], known: bool) -> None:
    assert jsonld.has_only_known_contexts(document) is known
