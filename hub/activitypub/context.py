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
}

CONTEXT = [AS_CONTEXT_URL, SECURITY_CONTEXT_URL, HUB_TERMS]
