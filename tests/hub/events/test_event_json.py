"""The `Event` JSON: FEP-8a8e and Mobilizon fields, locations, banner, mentions, and that a
full JSON-LD processor keeps every term we send."""

from __future__ import annotations

from typing import Any

import pytest

from federation import jsonld
from hub.activitypub.context import AS_PUBLIC, CONTEXT
from hub.activitypub.events import (
    EventExtras,
    deleted_event_activity,
    event_activity,
    event_object,
    series_collection,
)
from hub.events.rows import Resolved
from hub.store.media import Media
from tests.hub.events.factories import URLS, UUID, make_event

BANNER = Media(id=3, uuid="0d4c1f43-21b1-4a40-9a5e-5a3b0c9e7f10", file_name="a.png",
               content_type="image/png", size=1234, width=1200, height=630,
               alt_text="Hands knitting red wool", sha256="0" * 64, created_at=0.0)
TEACHER = Resolved(teacher_name="@ada@craft.example",
                   teacher_actor_id="https://craft.example/users/ada")
SERIES = "7e3c9a52-6a43-4bb7-8f2c-3b8f7d1d2e55"


def skillshare_event() -> Any:
    return make_event(
        kind="skillshare", description="Learn to **knit**.", capacity=12,
        category="WORKSHOPS_SKILL_SHARING", hashtags=["Knitting", "crafts"],
        online_url="https://meet.example/knit", learning_outcome="Cast on and knit a row",
        level="beginner", what_to_bring="Needles", teacher="@ada@craft.example",
        resolved=TEACHER)


def test_fep_8a8e_and_mobilizon_fields() -> None:
    doc = event_object(skillshare_event(), URLS, EventExtras(BANNER, going=4,
                                                             series_uuid=SERIES))
    assert doc["@context"] == CONTEXT
    assert doc["type"] == "Event" and doc["id"] == doc["url"] == URLS.event(UUID)
    assert doc["name"] == "Knit and natter" and doc["uuid"] == UUID
    assert doc["startTime"] == "2026-12-05T14:00:00+00:00"
    assert doc["endTime"] == "2026-12-05T16:00:00+00:00"
    assert doc["timezone"] == "Europe/London"
    assert doc["summary"].endswith("Redbridge Library & online · 8 places left")
    assert doc["maximumAttendeeCapacity"] == 12 and doc["remainingAttendeeCapacity"] == 8
    assert doc["participantCount"] == 4
    assert doc["joinMode"] == "free" and doc["eventStatus"] == "EventScheduled"
    assert doc["ical:status"] == doc["status"] == "CONFIRMED"
    assert doc["category"] == "WORKSHOPS_SKILL_SHARING"
    assert doc["attributedTo"] == URLS.actor and doc["to"] == [AS_PUBLIC]
    assert doc["organizers"]["items"] == [URLS.actor]
    assert doc["isOnline"] is False and doc["inLanguage"] == "en"
    assert doc["commentsEnabled"] is False and doc["anonymousParticipationEnabled"] is True
    assert doc["ch:series"] == URLS.series(SERIES)
    assert "<strong>knit</strong>" in doc["content"]
    assert doc["source"] == {"content": "Learn to **knit**.", "mediaType": "text/markdown"}


def test_hybrid_location_is_an_array_of_place_and_virtual_location() -> None:
    place, online = event_object(skillshare_event(), URLS, EventExtras())["location"]
    assert place["type"] == "Place" and place["name"] == "Redbridge Library"
    assert place["address"] == {"type": "PostalAddress", "streetAddress": "Clements Road",
                                "addressLocality": "Ilford", "postalCode": "IG1 1EA",
                                "addressCountry": "GB"}
    assert (place["latitude"], place["longitude"]) == (51.5586, 0.0725)
    assert online == {"type": "VirtualLocation", "name": "Online",
                      "url": "https://meet.example/knit"}


def test_single_locations_are_objects_never_text() -> None:
    physical = event_object(make_event(), URLS, EventExtras())["location"]
    assert physical["type"] == "Place"
    online = event_object(make_event(place=None, online_url="https://meet.example/x"), URLS,
                          EventExtras())
    assert online["location"]["type"] == "VirtualLocation" and online["isOnline"] is True
    moved = event_object(make_event(online_url="https://meet.example/x",
                                    status="moved_online"), URLS, EventExtras())
    assert moved["location"]["type"] == "VirtualLocation"
    assert moved["eventStatus"] == "EventMovedOnline" and moved["isOnline"] is True
    nowhere = event_object(make_event(place=None), URLS, EventExtras())
    assert "location" not in nowhere


def test_banner_is_the_first_attachment() -> None:
    attachments = event_object(skillshare_event(), URLS, EventExtras(BANNER))["attachment"]
    banner, link = attachments
    assert banner == {"type": "Document", "mediaType": "image/png",
                      "url": URLS.media(BANNER.uuid), "name": "Hands knitting red wool",
                      "isBannerImage": True, "width": 1200, "height": 630}
    # Mobilizon's way of carrying the online address.
    assert link == {"type": "Link", "name": "Website", "mediaType": "text/html",
                    "href": "https://meet.example/knit"}


def test_hashtags_and_a_mention_of_the_fediverse_teacher() -> None:
    event = skillshare_event()
    doc = event_object(event, URLS, EventExtras())
    assert doc["tag"] == [
        {"type": "Hashtag", "href": "https://hub.example.org/tags/knitting",
         "name": "#Knitting"},
        {"type": "Hashtag", "href": "https://hub.example.org/tags/crafts", "name": "#crafts"},
        {"type": "Mention", "href": "https://craft.example/users/ada",
         "name": "@ada@craft.example"}]
    assert doc["cc"] == [URLS.followers, "https://craft.example/users/ada"]
    assert doc["ch:teacher"] == {"id": "https://craft.example/users/ada", "type": "Person",
                                 "name": "@ada@craft.example"}
    assert doc["ch:level"] == "beginner" and doc["ch:whatToBring"] == "Needles"
    assert doc["ch:learningOutcome"] == "Cast on and knit a row"
    assert 'class="u-url mention"' in doc["content"]
    activity = event_activity("Create", event, URLS, EventExtras(), when=0.0)
    assert activity["cc"] == doc["cc"] and activity["object"]["id"] == doc["id"]
    assert "@context" not in activity["object"]


def test_a_local_teacher_is_a_name_without_mention() -> None:
    doc = event_object(make_event(kind="skillshare", teacher="Ada from number 12"), URLS,
                       EventExtras())
    assert doc["ch:teacher"] == {"type": "Person", "name": "Ada from number 12"}
    assert not [t for t in doc["tag"] if t["type"] == "Mention"]
    assert doc["cc"] == [URLS.followers]


@pytest.mark.parametrize(("status", "fep", "ical"), [
    ("scheduled", "EventScheduled", "CONFIRMED"), ("postponed", "EventPostponed", "TENTATIVE"),
    ("cancelled", "EventCancelled", "CANCELLED"), ("rescheduled", "EventRescheduled",
                                                   "CONFIRMED")])
def test_statuses(status: str, fep: str, ical: str) -> None:
    row = {"previous_start_at": 1_796_000_000.0} if status == "rescheduled" else {}
    doc = event_object(make_event(status=status, row=row), URLS, EventExtras())
    assert (doc["eventStatus"], doc["ical:status"]) == (fep, ical)
    assert ("previousStartTime" in doc) == (status == "rescheduled")


def test_unlimited_capacity_sends_no_capacity_terms() -> None:
    doc = event_object(make_event(), URLS, EventExtras(going=3))
    assert "maximumAttendeeCapacity" not in doc and "remainingAttendeeCapacity" not in doc
    assert doc["participantCount"] == 3


def test_deleted_event_is_a_tombstone_and_its_delete_is_addressed() -> None:
    event = make_event(resolved=TEACHER, kind="skillshare", teacher="@ada@craft.example",
                       row={"deleted_at": 1_790_000_100.0})
    doc = event_object(event, URLS, EventExtras())
    assert doc["type"] == "Tombstone" and doc["formerType"] == "Event"
    delete = deleted_event_activity(event, URLS, when=1_790_000_100.0)
    assert delete["type"] == "Delete" and delete["object"]["id"] == URLS.event(UUID)
    assert "https://craft.example/users/ada" in delete["cc"]


def test_series_collection() -> None:
    doc = series_collection(SERIES, "Knit and natter", URLS, [make_event()])
    assert doc["type"] == "OrderedCollection" and doc["orderedItems"] == [URLS.event(UUID)]


# JSON-LD: no term silently dropped ---------------------------------------------------------
def _keys(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, list):
        for item in node:
            found |= _keys(item)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key != "@context":
                found.add(key)
                found |= _keys(value)
    return found


def _expanded_keys(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, list):
        for item in node:
            found |= _expanded_keys(item)
    elif isinstance(node, dict):
        for key, value in node.items():
            found.add(key)
            found |= _expanded_keys(value)
    return found


def _iri(term: str) -> str:
    """What `term` expands to under our context (a one-key document per term)."""
    expanded = jsonld.expand({"@context": CONTEXT, term: "x"})
    keys = [k for k in (expanded[0] if expanded else {}) if k not in ("@id", "@type")]
    return keys[0] if keys else {"id": "@id", "type": "@type"}.get(term, "")


def test_every_term_survives_expansion() -> None:
    # Given the richest event we send, embedded in its Create,
    event = make_event(
        kind="skillshare", description="Learn", capacity=12, category="CRAFTS",
        hashtags=["Knitting"], online_url="https://meet.example/knit", level="beginner",
        learning_outcome="A row", what_to_bring="Needles", teacher="@ada@craft.example",
        join_mode="external", external_url="https://tickets.example/knit",
        resolved=TEACHER, status="rescheduled", row={"previous_start_at": 1_796_000_000.0,
                                                    "updated_at": 1_790_000_500.0})
    activity = event_activity("Update", event, URLS, EventExtras(BANNER, 2, SERIES),
                              when=1_790_000_500.0)
    # when a full JSON-LD processor expands it with the bundled contexts,
    expanded = jsonld.expand(activity)
    present = _expanded_keys(expanded)
    # then every key we wrote maps to a real IRI that is in the result (none became `_:x`).
    for term in sorted(_keys(activity)):
        iri = _iri(term)
        assert iri and not iri.startswith("_:"), f"{term} does not expand"
        assert iri in present, f"{term} ({iri}) was dropped"
    fep = "https://w3id.org/fep/8a8e/"
    status = expanded[0]["https://www.w3.org/ns/activitystreams#object"][0][f"{fep}eventStatus"]
    assert status == [{"@id": f"{fep}EventRescheduled"}]


def test_the_published_vocabulary_defines_the_same_terms() -> None:
    # schemas/contexts/commonhub.jsonld is the document behind our `ch:` namespace: every
    # key an Event carries must mean the same there as in the inline context.
    published = ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1",
                 "https://w3id.org/commonhub/ns"]
    event = make_event(kind="skillshare", capacity=3, teacher="Ada", level="beginner",
                       online_url="https://meet.example/x", category="CRAFTS",
                       learning_outcome="A row", what_to_bring="Needles",
                       row={"previous_start_at": 1.0}, status="rescheduled")
    doc = event_object(event, URLS, EventExtras(BANNER, 1, SERIES))
    for term in sorted(_keys(doc)):
        inline = _iri(term)
        expanded = jsonld.expand({"@context": published, term: "x"})
        keys = [k for k in (expanded[0] if expanded else {}) if k not in ("@id", "@type")]
        assert (keys[0] if keys else _iri(term)) == inline, term
