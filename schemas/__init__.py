"""Data only: the JSON-LD contexts commonhub reads offline and publishes.

Sources and licences are listed in `contexts/README.md`; `commonhub.jsonld` is ours.
Keys of `CONTEXT_FILES` are canonical `https` URLs; `federation.jsonld` maps the variants
peers send (`http://`, trailing `/`) onto them. Nothing here imports `federation` or `hub`.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

COMMONHUB_CONTEXT_URL = "https://w3id.org/commonhub/ns"
ACTIVITYSTREAMS_CONTEXT_URL = "https://www.w3.org/ns/activitystreams"
SECURITY_V1_CONTEXT_URL = "https://w3id.org/security/v1"
DATA_INTEGRITY_V1_CONTEXT_URL = "https://w3id.org/security/data-integrity/v1"
MULTIKEY_V1_CONTEXT_URL = "https://w3id.org/security/multikey/v1"
FEP_8A8E_CONTEXT_URL = "https://w3id.org/fep/8a8e"
DID_V1_CONTEXT_URL = "https://www.w3.org/ns/did/v1"

CONTEXT_FILES: dict[str, str] = {
    ACTIVITYSTREAMS_CONTEXT_URL: "activitystreams.jsonld",
    SECURITY_V1_CONTEXT_URL: "security-v1.jsonld",
    DATA_INTEGRITY_V1_CONTEXT_URL: "data-integrity-v1.jsonld",
    MULTIKEY_V1_CONTEXT_URL: "multikey-v1.jsonld",
    FEP_8A8E_CONTEXT_URL: "fep-8a8e.jsonld",
    COMMONHUB_CONTEXT_URL: "commonhub.jsonld",
    # Contexts peers reference by URL in what they send us (Fedify actors, GoToSocial,
    # Bonfire, Bridgy Fed); without them those documents could not be expanded offline.
    DID_V1_CONTEXT_URL: "did-v1.jsonld",
    "https://joinmastodon.org/ns": "joinmastodon.jsonld",
    "https://gotosocial.org/ns": "gotosocial.jsonld",
    "https://schema.org": "schemaorg.jsonld",
    "https://purl.archive.org/miscellany": "miscellany.jsonld",
}
"""Context URL (canonical https form) -> file name under `schemas/contexts/`."""


def context_path(name: str) -> Path:
    """The file system path of a bundled context file, e.g. `context_path("commonhub.jsonld")`.

    Resolved through importlib.resources, so it works from an installed wheel as well as a
    checkout. Only the names in `CONTEXT_FILES` are served.
    """
    if name not in CONTEXT_FILES.values():
        raise KeyError(f"no bundled context file {name!r}")
    resource = resources.files(__name__) / "contexts" / name
    if not isinstance(resource, Path):  # e.g. a zip import, which has no file system path
        raise FileNotFoundError(f"{name} is not on the file system: {resource}")
    return resource


def load_context(url: str) -> dict[str, Any]:
    """A fresh copy of the bundled context document for `url` (exact canonical URL).

    Raises `KeyError` for any other URL; variants such as `http://` or a trailing slash are
    the caller's to normalise (see `federation.jsonld`).
    """
    name = CONTEXT_FILES.get(url)
    if name is None:
        raise KeyError(f"no bundled context for {url!r}")
    return json.loads(_read(name))


@cache
def _read(name: str) -> str:
    return (resources.files(__name__) / "contexts" / name).read_text(encoding="utf-8")
