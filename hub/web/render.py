"""Content negotiation: ActivityStreams JSON for servers, HTML for browsers."""

from __future__ import annotations

from typing import Any

import jinja2
import orjson
from aiohttp import web

from federation.errors import ValidationError
from hub.web.keys import HUB, TEMPLATES

AS_MEDIA_TYPE = "application/activity+json"
_AS_TYPES = ("application/activity+json", "application/ld+json")


def wants_activity_json(request: web.Request) -> bool:
    """True when the client asks for ActivityStreams (activity+json or the ld+json profile)."""
    accept = request.headers.get("Accept", "").lower()
    return any(t in accept for t in _AS_TYPES)


def activity_json(doc: dict[str, Any], *, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(doc), status=status, content_type=AS_MEDIA_TYPE,
                        headers={"Vary": "Accept", "Access-Control-Allow-Origin": "*"})


def json_response(data: Any, *, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json")


def make_templates() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.PackageLoader("hub", "templates"),
                             autoescape=jinja2.select_autoescape(["html"]),
                             undefined=jinja2.StrictUndefined)
    return env


def render_html(request: web.Request, template: str, *, status: int = 200,
                **context: Any) -> web.Response:
    hub = request.app[HUB]
    page = request.app[TEMPLATES].get_template(template).render(
        hub=hub.settings, urls=hub.urls, **context)
    return web.Response(text=page, status=status, content_type="text/html",
                        headers={"Vary": "Accept"})


async def read_json_object(request: web.Request) -> dict[str, Any]:
    """The request's JSON object body; ValidationError (400) for any other body."""
    if request.content_type != "application/json":
        raise ValidationError("send a JSON body with Content-Type: application/json")
    try:
        data = orjson.loads(await request.read())
    except orjson.JSONDecodeError as exc:
        raise ValidationError(f"the body is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ValidationError("the body must be a JSON object")
    return data
