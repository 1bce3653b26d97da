"""The OpenAPI 3.1 description of the staff JSON API (served at /api/openapi.json)."""

from __future__ import annotations

from typing import Any


def _op(summary: str, body: dict[str, Any] | None = None, ok: str = "200") -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": summary,
        "security": [{"staffToken": []}],
        "responses": {ok: {"description": "done", "content": {"application/json": {}}},
                      "400": {"$ref": "#/components/responses/Error"},
                      "401": {"$ref": "#/components/responses/Error"}},
    }
    if body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": list(body), "properties": body}}}}
    return op


_TEXT = {"text": {"type": "string", "minLength": 1, "maxLength": 5000}}
_TARGET = {"target": {"type": "string", "description": "actor URL or @user@host"}}
_ACTOR = {"actor": {"type": "string", "format": "uri"}}
_UUID_PARAM = [{"name": "uuid", "in": "path", "required": True, "schema": {"type": "string"}}]

OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "commonhub staff API", "version": "1"},
    "components": {
        "securitySchemes": {"staffToken": {"type": "http", "scheme": "bearer",
                                           "description": "from `commonhub token create`"}},
        "responses": {"Error": {"description": "what went wrong", "content": {
            "application/json": {"schema": {"type": "object", "properties": {
                "error": {"type": "string"}}}}}}},
    },
    "paths": {
        "/api/v1/hub": {"get": _op("The hub's name, counts and delivery queue")},
        "/api/v1/posts": {"get": _op("List news posts"),
                          "post": _op("Publish a news post to followers", _TEXT, "201")},
        "/api/v1/posts/{uuid}": {"parameters": _UUID_PARAM,
                                 "patch": _op("Edit a post (sends Update)", _TEXT),
                                 "delete": _op("Delete a post (sends Delete)")},
        "/api/v1/following": {"get": _op("Whom the hub follows"),
                              "post": _op("Follow an actor", _TARGET, "202")},
        "/api/v1/following/remove": {"post": _op("Stop following an actor", _TARGET)},
        "/api/v1/followers": {"get": _op("Followers (state=accepted|pending)")},
        "/api/v1/followers/approve": {"post": _op("Approve a pending follower", _ACTOR)},
        "/api/v1/followers/reject": {"post": _op("Refuse or remove a follower", _ACTOR)},
    },
}
