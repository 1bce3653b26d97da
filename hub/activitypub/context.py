"""The JSON-LD @context every document the hub publishes carries.

The extension terms are inlined (not only referenced by URL) because servers that do full
JSON-LD processing, such as Fedify, would otherwise try to fetch our context URL.
"""

from __future__ import annotations

AS_PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
AS_CONTEXT_URL = "https://www.w3.org/ns/activitystreams"
SECURITY_CONTEXT_URL = "https://w3id.org/security/v1"

HUB_TERMS = {
    "ch": "https://w3id.org/commonhub/ns#",
    "toot": "http://joinmastodon.org/ns#",
    "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
    "sensitive": "as:sensitive",
    "Hashtag": "as:Hashtag",
    "discoverable": "toot:discoverable",
    "indexable": "toot:indexable",
    "votersCount": "toot:votersCount",
    # The hub's area (a Place whose `radius` is in km) and the hubs it peers with; the same
    # definitions as schemas/contexts/commonhub.jsonld.
    "area": {"@id": "ch:area", "@type": "@id",
             "@context": {"radius": {"@id": "ch:radius", "@type": "xsd:double"}}},
    "peers": {"@id": "ch:peers", "@type": "@id"},
}

_FEP = "https://w3id.org/fep/8a8e/"

# What an `Event` uses beyond ActivityStreams: FEP-8a8e terms at their FEP IRIs, schema.org
# (`sc:`) for capacities and addresses, Mobilizon (`mz:`), PeerTube (`pt:`) and iCalendar
# (`ical:`) where Mobilizon reads them, and ours (`ch:`). Full JSON-LD processors (Fedify)
# drop any term they cannot expand, so every key an Event carries is defined here.
EVENT_TERMS = {
    "sc": "http://schema.org/",
    "mz": "https://joinmobilizon.org/ns#",
    "pt": "https://joinpeertube.org/ns#",
    "ical": "http://www.w3.org/2002/12/cal/ical#",
    "timezone": f"{_FEP}timezone",
    "joinMode": f"{_FEP}joinMode",
    "externalParticipationUrl": f"{_FEP}externalParticipationUrl",
    "category": {"@id": f"{_FEP}category", "@container": "@list"},
    "eventStatus": {"@id": f"{_FEP}eventStatus", "@type": "@vocab"},
    "EventScheduled": f"{_FEP}EventScheduled",
    "EventCancelled": f"{_FEP}EventCancelled",
    "EventMovedOnline": f"{_FEP}EventMovedOnline",
    "EventPostponed": f"{_FEP}EventPostponed",
    "EventRescheduled": f"{_FEP}EventRescheduled",
    "EventTentative": f"{_FEP}EventTentative",
    "previousStartTime": {"@id": f"{_FEP}previousStartTime", "@type": "xsd:dateTime"},
    "organizers": f"{_FEP}organizers",
    "isBannerImage": f"{_FEP}isBannerImage",
    "maximumAttendeeCapacity": "sc:maximumAttendeeCapacity",
    "remainingAttendeeCapacity": "sc:remainingAttendeeCapacity",
    "participantCount": "mz:participantCount",
    "isOnline": "mz:isOnline",
    "anonymousParticipationEnabled": "mz:anonymousParticipationEnabled",
    "commentsEnabled": "pt:commentsEnabled",
    "uuid": "sc:identifier",
    "inLanguage": "sc:inLanguage",
    "status": "ical:status",
    "address": "sc:address",
    "PostalAddress": "sc:PostalAddress",
    "streetAddress": "sc:streetAddress",
    "postalCode": "sc:postalCode",
    "addressLocality": "sc:addressLocality",
    "addressRegion": "sc:addressRegion",
    "addressCountry": "sc:addressCountry",
    "VirtualLocation": "sc:VirtualLocation",
    "ch:series": {"@id": "ch:series", "@type": "@id"},
}

_VF = "https://w3id.org/valueflows/ont/vf#"

# What a volunteer need uses (hub/activitypub/needs.py): ValueFlows' Proposal and Intent as
# FEP-0837 does, units from the Ontology of units of Measure (`om2:`), and ours (`ch:`).
NEED_TERMS = {
    "vf": _VF,
    "om2": "http://www.ontology-of-units-of-measure.org/resource/om-2/",
    "Proposal": "vf:Proposal",
    "Intent": "vf:Intent",
    "purpose": "vf:purpose",
    "publishes": "vf:publishes",
    "unitBased": "vf:unitBased",
    "action": "vf:action",
    "resourceConformsTo": {"@id": "vf:resourceConformsTo", "@type": "@id"},
    "resourceQuantity": "vf:resourceQuantity",
    "effortQuantity": "vf:effortQuantity",
    "hasUnit": "om2:hasUnit",
    "hasNumericalValue": "om2:hasNumericalValue",
    "hasBeginning": {"@id": "vf:hasBeginning", "@type": "xsd:dateTime"},
    "hasEnd": {"@id": "vf:hasEnd", "@type": "xsd:dateTime"},
    "ch:needKind": {"@id": "ch:needKind"},
    "ch:needStatus": {"@id": "ch:needStatus"},
    "ch:skills": {"@id": "ch:skills", "@container": "@set"},
    "ch:interests": {"@id": "ch:interests", "@container": "@set"},
    "ch:tags": {"@id": "ch:tags", "@container": "@set"},
    "ch:checksRequired": {"@id": "ch:checksRequired", "@container": "@set"},
    "ch:languagesRequired": {"@id": "ch:languagesRequired", "@container": "@set"},
    "ch:languagesPreferred": {"@id": "ch:languagesPreferred", "@container": "@set"},
    "ch:accessibility": {"@id": "ch:accessibility"},
    "ch:district": {"@id": "ch:district"},
    "ch:maxDistanceKm": {"@id": "ch:maxDistanceKm", "@type": "xsd:double"},
    "ch:volunteersWanted": {"@id": "ch:volunteersWanted", "@type": "xsd:integer"},
    "ch:effortMinutes": {"@id": "ch:effortMinutes", "@type": "xsd:integer"},
    "ch:onDate": {"@id": "ch:onDate", "@type": "xsd:date"},
    "ch:startsOn": {"@id": "ch:startsOn", "@type": "xsd:date"},
    "ch:endsOn": {"@id": "ch:endsOn", "@type": "xsd:date"},
    "ch:startTime": {"@id": "ch:startTime"},
    "ch:endTime": {"@id": "ch:endTime"},
    "ch:weeklySlots": {"@id": "ch:weeklySlots", "@container": "@set"},
}

CONTEXT = [AS_CONTEXT_URL, SECURITY_CONTEXT_URL, {**HUB_TERMS, **EVENT_TERMS, **NEED_TERMS}]

# Documents that carry Multikeys (the actor's assertionMethod) or integrity proofs (FEP-8b32)
# add the contexts defining them, in the order Fedify uses.
# `assertionMethod` itself is defined by the DID context: without it a JSON-LD processor
# (Fedify) drops the actor's keys.
DATA_INTEGRITY_CONTEXT_URL = "https://w3id.org/security/data-integrity/v1"
DID_CONTEXT_URL = "https://www.w3.org/ns/did/v1"
MULTIKEY_CONTEXT_URL = "https://w3id.org/security/multikey/v1"
PROOF_CONTEXT = [AS_CONTEXT_URL, SECURITY_CONTEXT_URL, DATA_INTEGRITY_CONTEXT_URL,
                 DID_CONTEXT_URL, MULTIKEY_CONTEXT_URL,
                 {**HUB_TERMS, **EVENT_TERMS, **NEED_TERMS}]
