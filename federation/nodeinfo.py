"""NodeInfo 2.0 and 2.1: what software a server runs, so peers can recognise each other.

Documents follow the schemas at http://nodeinfo.diaspora.software/ns/schema/2.x: 2.0 has no
`repository`/`homepage`, and the software name must match `^[a-z0-9-]+$`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Literal

from federation.errors import ValidationError
from federation.fetch import SafeFetcher

NodeInfoVersion = Literal["2.0", "2.1"]

SCHEMA_2_0 = "http://nodeinfo.diaspora.software/ns/schema/2.0"
SCHEMA_2_1 = "http://nodeinfo.diaspora.software/ns/schema/2.1"
WELL_KNOWN_PATH = "/.well-known/nodeinfo"
CONTENT_TYPE_2_0 = f'application/json; profile="{SCHEMA_2_0}#"'
CONTENT_TYPE_2_1 = f'application/json; profile="{SCHEMA_2_1}#"'
CONTENT_TYPES: dict[str, str] = {"2.0": CONTENT_TYPE_2_0, "2.1": CONTENT_TYPE_2_1}

# The protocol names the schemas allow; anything else makes the document invalid.
PROTOCOLS = frozenset(
    {"activitypub", "buddycloud", "dfrn", "diaspora", "libertree", "ostatus", "pumpio", "tent",
     "xmpp", "zot"}
)  # fmt: skip
_SOFTWARE_NAME = re.compile(r"^[a-z0-9-]+$")
# Servers in the wild publish other media types for these documents; a NodeInfo document
# is plain JSON, so any JSON type is accepted when reading one.
_NODEINFO_MEDIA_TYPES = ("application/json", "application/jrd+json", "application/ld+json")


def nodeinfo_path(version: NodeInfoVersion) -> str:
    """Where we serve each document (the conventional `/nodeinfo/2.1`)."""
    return f"/nodeinfo/{version}"


def well_known_nodeinfo(base_url: str) -> dict[str, Any]:
    """The `/.well-known/nodeinfo` discovery document, linking both schema versions."""
    base = base_url.rstrip("/")
    return {
        "links": [
            {"rel": SCHEMA_2_0, "href": base + nodeinfo_path("2.0")},
            {"rel": SCHEMA_2_1, "href": base + nodeinfo_path("2.1")},
        ]
    }


def nodeinfo_document(
    version: NodeInfoVersion,
    *,
    software_name: str,
    software_version: str,
    repository: str | None = None,
    homepage: str | None = None,
    protocols: Iterable[str] = ("activitypub",),
    users_total: int,
    users_active_month: int,
    users_active_halfyear: int,
    local_posts: int,
    open_registrations: bool = False,
    metadata: dict[str, Any],
) -> dict[str, Any]:
    """A NodeInfo document valid against the 2.0 or 2.1 schema.

    `repository` and `homepage` exist only in 2.1 and are left out of 2.0.
    """
    protocol_list = list(protocols)
    counts = (users_total, users_active_month, users_active_halfyear, local_posts)
    _check_inputs(version, software_name, protocol_list, counts)
    software: dict[str, str] = {"name": software_name, "version": software_version}
    if version == "2.1":
        software |= {k: v for k, v in (("repository", repository), ("homepage", homepage)) if v}
    return {
        "version": version,
        "software": software,
        "protocols": protocol_list,
        "services": {"inbound": [], "outbound": []},
        "openRegistrations": open_registrations,
        "usage": {
            "users": {
                "total": users_total,
                "activeMonth": users_active_month,
                "activeHalfyear": users_active_halfyear,
            },
            "localPosts": local_posts,
        },
        "metadata": metadata,
    }


def _check_inputs(
    version: str, software_name: str, protocols: list[str], counts: tuple[int, ...]
) -> None:
    # Raised as ValueError: these come from our own settings, not from a peer.
    if version not in CONTENT_TYPES:
        raise ValueError(f"unsupported NodeInfo version {version!r}")
    if not _SOFTWARE_NAME.match(software_name):
        raise ValueError(f"software name {software_name!r} must match ^[a-z0-9-]+$")
    if not protocols or not PROTOCOLS.issuperset(protocols):
        raise ValueError(f"protocols {protocols!r} must be a non-empty subset of {PROTOCOLS}")
    if any(count < 0 for count in counts):
        raise ValueError("usage counts cannot be negative")


async def fetch_nodeinfo(fetcher: SafeFetcher, base_url: str) -> dict[str, Any]:
    """Discover and fetch a server's NodeInfo, preferring 2.1 over 2.0 (unsigned GETs).

    Raises `ValidationError` if the server links no 2.x document or serves one without a
    software name; fetch errors propagate as they are.
    """
    discovery = await fetcher.get_json(
        base_url.rstrip("/") + WELL_KNOWN_PATH,
        accept="application/json",
        media_types=_NODEINFO_MEDIA_TYPES,
        signed=False,
    )
    href = _preferred_link(discovery.data)
    document = await fetcher.get_json(
        href,
        accept=f"{CONTENT_TYPE_2_1}, {CONTENT_TYPE_2_0};q=0.9, application/json;q=0.8",
        media_types=_NODEINFO_MEDIA_TYPES,
        signed=False,
    )
    software = document.data.get("software")
    if not isinstance(software, dict) or not isinstance(software.get("name"), str):
        raise ValidationError(f"NodeInfo at {href} names no software")
    return document.data


def _preferred_link(discovery: dict[str, Any]) -> str:
    links = discovery.get("links")
    hrefs: dict[str, str] = {}
    for link in links if isinstance(links, list) else []:
        if isinstance(link, dict) and isinstance(link.get("href"), str):
            # Some servers add or drop the trailing "#" or "/" on the rel.
            rel = str(link.get("rel", "")).rstrip("#/")
            hrefs.setdefault(rel, link["href"])
    for rel in (SCHEMA_2_1, SCHEMA_2_0):
        if rel in hrefs:
            return hrefs[rel]
    raise ValidationError("no NodeInfo 2.0 or 2.1 link in the discovery document")
