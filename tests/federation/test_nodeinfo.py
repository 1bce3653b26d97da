"""NodeInfo documents checked against the official 2.0/2.1 schemas, and discovery over loopback."""

import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from federation.errors import UnsupportedMediaType, ValidationError
from federation.fetch import SafeFetcher
from federation.nodeinfo import (
    CONTENT_TYPE_2_0,
    CONTENT_TYPE_2_1,
    SCHEMA_2_0,
    SCHEMA_2_1,
    fetch_nodeinfo,
    nodeinfo_document,
    well_known_nodeinfo,
)

StartServer = Callable[[web.Application], Awaitable[TestServer]]
SCHEMAS = Path(__file__).parent.parent / "data" / "nodeinfo"
_IGNORED = {"$schema", "id", "description"}
_TYPES: dict[str, Callable[[Any], bool]] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
}


def schema_errors(schema: dict[str, Any], value: Any, path: str = "$") -> list[str]:
    """The draft-04 keywords the NodeInfo schemas use; an unknown keyword is an error too."""
    errors: list[str] = []
    for keyword, rule in schema.items():
        if keyword in _IGNORED:
            continue
        check = _CHECKS.get(keyword)
        if check is None:
            errors.append(f"{path}: checker does not know {keyword!r}")
        else:
            errors.extend(check(schema, rule, value, path))
    return errors


def _type(_s: dict, rule: str, value: Any, path: str) -> list[str]:
    return [] if _TYPES[rule](value) else [f"{path}: not {rule}"]


def _enum(_s: dict, rule: list, value: Any, path: str) -> list[str]:
    return [] if value in rule else [f"{path}: {value!r} not in enum"]


def _required(_s: dict, rule: list, value: Any, path: str) -> list[str]:
    if not isinstance(value, dict):
        return []
    return [f"{path}: missing {key}" for key in rule if key not in value]


def _properties(_s: dict, rule: dict, value: Any, path: str) -> list[str]:
    if not isinstance(value, dict):
        return []
    return [
        error
        for key, sub in rule.items()
        if key in value
        for error in schema_errors(sub, value[key], f"{path}.{key}")
    ]


def _additional(schema: dict, rule: bool, value: Any, path: str) -> list[str]:
    if rule is True or not isinstance(value, dict):
        return []
    extra = set(value) - set(schema.get("properties", {}))
    return [f"{path}: unexpected {key}" for key in sorted(extra)]


def _items(_s: dict, rule: dict, value: Any, path: str) -> list[str]:
    if not isinstance(value, list):
        return []
    return [e for i, item in enumerate(value) for e in schema_errors(rule, item, f"{path}[{i}]")]


def _pattern(_s: dict, rule: str, value: Any, path: str) -> list[str]:
    ok = not isinstance(value, str) or re.search(rule, value)
    return [] if ok else [f"{path}: {value!r} !~ {rule}"]


def _at_least(measure: Callable[[Any], float | None]) -> Callable[..., list[str]]:
    def check(_s: dict, rule: float, value: Any, path: str) -> list[str]:
        size = measure(value)
        return [] if size is None or size >= rule else [f"{path}: below {rule}"]

    return check


_CHECKS: dict[str, Callable[..., list[str]]] = {
    "type": _type,
    "enum": _enum,
    "required": _required,
    "properties": _properties,
    "additionalProperties": _additional,
    "items": _items,
    "pattern": _pattern,
    "minItems": _at_least(lambda v: len(v) if isinstance(v, list) else None),
    "minProperties": _at_least(lambda v: len(v) if isinstance(v, dict) else None),
    "minimum": _at_least(lambda v: v if isinstance(v, int) else None),
}


def load_schema(version: str) -> dict[str, Any]:
    return json.loads((SCHEMAS / f"schema-{version}.json").read_text())


def sample(version: Any, **overrides: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "software_name": "commonhub",
        "software_version": "0.1.0",
        "repository": "https://example.org/commonhub.git",
        "homepage": "https://commonhub.example",
        "users_total": 1,
        "users_active_month": 1,
        "users_active_halfyear": 1,
        "local_posts": 12,
        "metadata": {"nodeName": "Riverside hub", "commonhub": {"actor": "https://h.example/"}},
    }
    return nodeinfo_document(version, **(arguments | overrides))


@pytest.mark.parametrize("version", ["2.0", "2.1"])
def test_documents_validate_against_the_official_schema(version: str) -> None:
    document = sample(version)
    assert schema_errors(load_schema(version), document) == []
    assert document["version"] == version
    assert document["protocols"] == ["activitypub"]


def test_repository_and_homepage_only_in_2_1() -> None:
    assert set(sample("2.0")["software"]) == {"name", "version"}
    assert sample("2.1")["software"]["repository"] == "https://example.org/commonhub.git"
    bare = sample("2.1", repository=None, homepage=None)
    assert set(bare["software"]) == {"name", "version"}
    assert schema_errors(load_schema("2.1"), bare) == []


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["software"].update(name="CommonHub"), "!~"),
        (lambda d: d.update(version="2.2"), "not in enum"),
        (lambda d: d.update(protocols=[]), "below"),
        (lambda d: d["usage"]["users"].update(total=-1), "below"),
        (lambda d: d.pop("services"), "missing services"),
        (lambda d: d["software"].update(homepage="x"), "unexpected homepage"),
        (lambda d: d.update(openRegistrations="no"), "not boolean"),
    ],
)
def test_the_checker_catches_a_broken_document(mutate: Callable, message: str) -> None:
    # Guard against a checker that passes everything: each single mutation must fail.
    document = sample("2.0")
    mutate(document)
    errors = schema_errors(load_schema("2.0"), document)
    assert any(message in e for e in errors), errors


@pytest.mark.parametrize(
    "overrides",
    [
        {"software_name": "CommonHub"},
        {"software_name": "common hub"},
        {"protocols": ()},
        {"protocols": ("activitypub", "nostr")},
        {"local_posts": -1},
    ],
)
def test_invalid_input_is_refused(overrides: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        sample("2.1", **overrides)
    with pytest.raises(ValueError):
        sample("3.0")


def test_well_known_links_both_versions() -> None:
    assert well_known_nodeinfo("https://hub.example/") == {
        "links": [
            {"rel": SCHEMA_2_0, "href": "https://hub.example/nodeinfo/2.0"},
            {"rel": SCHEMA_2_1, "href": "https://hub.example/nodeinfo/2.1"},
        ]
    }


def test_content_types_carry_the_schema_profile() -> None:
    assert CONTENT_TYPE_2_1 == (
        'application/json; profile="http://nodeinfo.diaspora.software/ns/schema/2.1#"'
    )
    assert CONTENT_TYPE_2_0.endswith('schema/2.0#"')


def _peer(links: list[dict[str, str]], document_type: str = CONTENT_TYPE_2_1) -> web.Application:
    async def discovery(request: web.Request) -> web.Response:
        base = f"http://{request.host}"
        body = {"links": [{"rel": x["rel"], "href": base + x["href"]} for x in links]}
        return web.json_response(body)

    async def document(request: web.Request) -> web.Response:
        body = sample(request.match_info["version"])
        return web.Response(text=json.dumps(body), headers={"Content-Type": document_type})

    app = web.Application()
    app.router.add_get("/.well-known/nodeinfo", discovery)
    app.router.add_get("/nodeinfo/{version}", document)
    return app


@pytest.fixture
async def fetcher() -> AsyncIterator[SafeFetcher]:
    async with SafeFetcher(allow_loopback=True, https_only=False) as safe:
        yield safe


@pytest.mark.parametrize(
    ("links", "expected"),
    [
        (
            [
                {"rel": SCHEMA_2_0, "href": "/nodeinfo/2.0"},
                {"rel": SCHEMA_2_1, "href": "/nodeinfo/2.1"},
            ],
            "2.1",
        ),
        ([{"rel": SCHEMA_2_0, "href": "/nodeinfo/2.0"}], "2.0"),
        ([{"rel": SCHEMA_2_1 + "#", "href": "/nodeinfo/2.1"}], "2.1"),
    ],
)
async def test_fetch_prefers_2_1(
    serve: StartServer, fetcher: SafeFetcher, links: list[dict[str, str]], expected: str
) -> None:
    server = await serve(_peer(links))
    document = await fetch_nodeinfo(fetcher, str(server.make_url("/")))
    assert document["version"] == expected
    assert document["software"]["name"] == "commonhub"


async def test_fetch_without_a_2x_link_fails(serve: StartServer, fetcher: SafeFetcher) -> None:
    old = "http://nodeinfo.diaspora.software/ns/schema/1.0"
    server = await serve(_peer([{"rel": old, "href": "/nodeinfo/1.0"}]))
    with pytest.raises(ValidationError):
        await fetch_nodeinfo(fetcher, str(server.make_url("/")))


async def test_fetch_refuses_a_non_json_document(serve: StartServer, fetcher: SafeFetcher) -> None:
    links = [{"rel": SCHEMA_2_1, "href": "/nodeinfo/2.1"}]
    server = await serve(_peer(links, document_type="text/html"))
    with pytest.raises(UnsupportedMediaType):
        await fetch_nodeinfo(fetcher, str(server.make_url("/")))
