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


# Events ----------------------------------------------------------------------------------
_S, _INT, _NUM = {"type": "string"}, {"type": "integer"}, {"type": "number"}
_LOCAL = {"type": "string", "description": "local wall-clock time, no offset: 2026-12-06T14:00"}
_NULL_S = {"type": ["string", "null"]}
_PLACE = {"type": ["object", "null"], "required": ["name"], "properties": {
    "name": _S, "street_address": _S, "locality": _S, "postal_code": _S, "region": _S,
    "country": _S, "latitude": {**_NUM, "minimum": -90, "maximum": 90},
    "longitude": {**_NUM, "minimum": -180, "maximum": 180}},
    "description": "latitude and longitude go together"}
_RECURRENCE = {"type": "object", "required": ["frequency"], "properties": {
    "frequency": {"enum": ["weekly", "fortnightly", "monthly_by_date", "monthly_by_weekday"]},
    "until": {"type": "string", "format": "date"}, "count": {**_INT, "minimum": 1},
    "exceptions": {"type": "array", "items": {"type": "string", "format": "date"}},
    "week": {"enum": [1, 2, 3, 4, 5, -1], "description": "monthly_by_weekday; -1 = last"}},
    "description": "the first start must fall on the rule; occurrences are made 26 weeks ahead"}
_EVENT_FIELDS: dict[str, Any] = {
    "title": {**_S, "maxLength": 200}, "kind": {"enum": ["event", "skillshare"]},
    "description": {**_S, "description": "Markdown"}, "timezone": {
        **_S, "description": "IANA name, e.g. Europe/London"}, "start": _LOCAL, "end": _LOCAL,
    "place": _PLACE, "online_url": {**_NULL_S, "format": "uri"},
    "capacity": {"type": ["integer", "null"], "minimum": 1, "description": "null: unlimited"},
    "join_mode": {"enum": ["free", "restricted", "none", "external"]},
    "external_url": {**_NULL_S, "description": "required when join_mode is external"},
    "category": {**_NULL_S, "description": "one of the FEP-8a8e categories "
                                           "(schemas/event-categories.json)"},
    "hashtags": {"type": "array", "maxItems": 10, "items": _S},
    "banner": {**_NULL_S, "description": "id of an image from POST /api/v1/media"},
    "language": _S, "learning_outcome": _NULL_S,
    "level": {"enum": ["beginner", "intermediate", "advanced", "all_levels", None]},
    "what_to_bring": _NULL_S,
    "teacher": {**_NULL_S, "description": "a name, or a fediverse @user@host / actor URL "
                                          "(mentioned, so they are notified)"},
}
_STATUS = {"status": {"enum": ["scheduled", "postponed", "cancelled", "moved_online",
                               "rescheduled"]},
           "online_url": {**_S, "description": "moved_online"},
           "start": _LOCAL, "end": _LOCAL, "timezone": {**_S, "description": "rescheduled"}}


def _with_field_errors(op: dict[str, Any], *extra: str) -> dict[str, Any]:
    responses = op["responses"]
    responses["400"] = {"description": "a bad field: {\"error\": ..., \"field\": ...}",
                        "content": {"application/json": {}}}
    for status in extra:
        responses[status] = {"$ref": "#/components/responses/Error"}
    return op


def _required(op: dict[str, Any], names: list[str]) -> dict[str, Any]:
    op["requestBody"]["content"]["application/json"]["schema"]["required"] = names
    return op


def _partial(summary: str, fields: dict[str, Any], ok: str = "200") -> dict[str, Any]:
    return _with_field_errors(_required(_op(summary, fields, ok), []), "404")


def _create_event() -> dict[str, Any]:
    op = _op("Publish an event (Create to followers); with `recurrence`, a series of "
             "occurrences", {**_EVENT_FIELDS, "recurrence": _RECURRENCE}, "201")
    return _with_field_errors(_required(op, ["title", "timezone", "start", "end"]))


def _upload() -> dict[str, Any]:
    op = _with_field_errors(_op("Upload a banner image (JPEG, PNG, WebP or GIF, at most 5 MB)",
                                ok="201"), "413", "415")
    op["requestBody"] = {"required": True, "content": {"multipart/form-data": {"schema": {
        "type": "object", "required": ["file"], "properties": {
            "file": {"type": "string", "format": "binary"},
            "alt": {**_S, "maxLength": 1500, "description": "alt text"}}}}}}
    return op


OPENAPI["paths"].update({
    "/api/v1/events": {
        "get": _op("Upcoming events, soonest first (?limit, ?offset, ?tag, ?category)"),
        "post": _create_event()},
    "/api/v1/events/{uuid}": {
        "parameters": _UUID_PARAM, "get": _op("An event"),
        "patch": _partial("Edit some fields of an event (sends Update)", _EVENT_FIELDS),
        "delete": _op("Delete an event (sends Delete; an occurrence becomes an exception)")},
    "/api/v1/events/{uuid}/status": {
        "parameters": _UUID_PARAM,
        "post": _with_field_errors(_required(_op(
            "Postpone, cancel, move online (online_url), reschedule (start, end) or restore; "
            "sends Update", _STATUS), ["status"]), "404")},
    "/api/v1/series/{uuid}": {
        "parameters": _UUID_PARAM, "get": _op("A series and its occurrences"),
        "patch": _partial("Edit a series: only occurrences not yet started change",
                          {**_EVENT_FIELDS, "recurrence": _RECURRENCE}),
        "delete": _op("End a series: future occurrences are deleted")},
    "/api/v1/series/{uuid}/exceptions": {
        "parameters": _UUID_PARAM,
        "post": _with_field_errors(_op("Skip dates: occurrences on them are deleted", {
            "dates": {"type": "array", "items": {"type": "string", "format": "date"}}}),
            "404")},
    "/api/v1/media": {"post": _upload()},
})


# RSVPs -------------------------------------------------------------------------------------
_PARTICIPANT_PARAMS = [*_UUID_PARAM, {"name": "id", "in": "path", "required": True,
                                      "schema": {"type": "integer"}}]
_SIGNUP = {"name": {**_S, "maxLength": 100},
           "contact": {**_S, "description": "an email address, or a fediverse @user@host "
                                            "handle or actor URL"}}
_POLL = {"to": {"type": "array", "maxItems": 100, "items": _S,
                "description": "actor URLs or @user@host: the poll goes to them as a direct "
                               "message"},
         "followers": {"type": "boolean", "description": "or send it to all followers"}}

OPENAPI["paths"].update({
    "/api/v1/events/{uuid}/participants": {
        "parameters": _UUID_PARAM,
        "get": _op("Who is coming: going, waitlisted (in order, with `position`), pending, "
                   "maybe, not going, declined; ?state= one of them. Includes email "
                   "addresses: staff only"),
        "post": _with_field_errors(_op("Sign someone up (no approval needed): a place, or "
                                       "the waitlist when full", _SIGNUP, "201"), "404", "409")},
    "/api/v1/events/{uuid}/participants/{id}/approve": {
        "parameters": _PARTICIPANT_PARAMS,
        "post": _with_field_errors(_op("Approve a pending request (restricted events): a "
                                       "place, or the waitlist when full; they are told"),
                                   "404")},
    "/api/v1/events/{uuid}/participants/{id}/decline": {
        "parameters": _PARTICIPANT_PARAMS,
        "post": _with_field_errors(_op("Decline a request (or take back a place, which goes "
                                       "to the first on the waitlist); they are told"), "404")},
    "/api/v1/events/{uuid}/poll": {
        "parameters": _UUID_PARAM,
        "post": _with_field_errors(_required(_op(
            "Send an RSVP poll (a Question: Going / Maybe / Can't come, closing when the "
            "event starts) whose votes count as answers", _POLL, "201"), []), "404")},
})


# Volunteers --------------------------------------------------------------------------------
_ID_PARAM = [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}]
_DATE = {"type": "string", "format": "date"}
_IDS = {"type": "array", "maxItems": 30, "items": _S}
_VOLUNTEER_FIELDS: dict[str, Any] = {
    "name": {**_S, "maxLength": 100},
    "email": {**_NULL_S, "description": "email and/or handle is required"},
    "handle": {**_NULL_S, "description": "fediverse @user@host"}, "phone": _NULL_S,
    "district": {**_NULL_S, "description": "UK postcode district, e.g. IG1 (or give a point)"},
    "latitude": {"type": ["number", "null"], "description": "rounded to 0.01 degree on "
                                                          "receipt; the exact point is not kept"},
    "longitude": {"type": ["number", "null"]},
    "skills": {**_IDS, "description": "concept ids"}, "interests": _IDS, "tags": _IDS,
    "languages": {**_IDS, "description": "BCP 47 codes: en, cy, pa-Guru"},
    "availability": {"type": "object", "description": '{"mon": ["morning", "evening"]}: '
                                                      "days mon..sun, parts morning, "
                                                      "afternoon, evening"},
    "max_commitments": {**_INT, "minimum": 1, "maximum": 20},
    "consents": {"type": "object", "properties": {
        "match_here": {"type": "boolean"}, "match_neighbours": {"type": "boolean"},
        "contact_by_dm": {"type": "boolean"}}},
    "references_received": {**_INT, "minimum": 0, "description": "staff only"},
    "references_on": {**_DATE, "description": "staff only"},
}
_CHECK = {"type": {"enum": ["dbs_basic", "dbs_standard", "dbs_enhanced_adult",
                            "dbs_enhanced_child", "dbs_enhanced_adult_child",
                            "dbs_enhanced_adult_barred", "dbs_enhanced_child_barred",
                            "dbs_enhanced_adult_child_barred"]},
          "checked_on": _DATE, "renewal_on": {**_DATE, "description": "after checked_on"},
          "decision": {"enum": ["clear", "not_clear"]}}
_TRAINING = {"course": {**_S, "description": "e.g. safeguarding_adults"},
             "completed_on": _DATE}
_TOKEN_PARAM = [{"name": "token", "in": "path", "required": True, "schema": _S}]


def _audited(summary: str, *args: Any) -> dict[str, Any]:
    return _with_field_errors(_op(summary + " (audited)", *args), "404", "410")


OPENAPI["paths"].update({
    "/api/v1/volunteers": {
        "get": _audited("Volunteers with their personal details (?skill= a skill or "
                        "interest id, ?district=, ?status= pending or active)"),
        "post": _with_field_errors(_required(_op("Add a volunteer (audited)",
                                                 _VOLUNTEER_FIELDS, "201"), ["name"]))},
    "/api/v1/volunteers/{id}": {
        "parameters": _ID_PARAM, "get": _audited("A volunteer's profile"),
        "patch": _with_field_errors(_required(_op("Correct some fields (audited)",
                                                  _VOLUNTEER_FIELDS), []), "404", "410"),
        "delete": _audited("Erase a volunteer: personal data, checks, training and "
                           "consent history; a tombstone of random ids remains")},
    "/api/v1/volunteers/{id}/export": {
        "parameters": _ID_PARAM,
        "get": _audited("Everything stored about a volunteer, as JSON")},
    "/api/v1/volunteers/{id}/access-link": {
        "parameters": _ID_PARAM,
        "post": _audited("A private /me/{token} link for the volunteer (30 days; replaces "
                         "the previous one)", None, "201")},
    "/api/v1/volunteers/{id}/approve": {
        "parameters": _ID_PARAM,
        "post": _audited("Approve a pending self sign-up: the volunteer can now be matched")},
    "/api/v1/volunteers/{id}/checks": {
        "parameters": _ID_PARAM,
        "post": _audited("Record a check's status (never certificate contents)", _CHECK,
                         "201")},
    "/api/v1/volunteers/{id}/checks/{check}": {
        "parameters": [*_ID_PARAM, {"name": "check", "in": "path", "required": True,
                                    "schema": _S}],
        "delete": _audited("Delete a recorded check")},
    "/api/v1/volunteers/{id}/training": {
        "parameters": _ID_PARAM,
        "post": _audited("Record training done", _TRAINING, "201")},
    "/api/v1/checks/lapsing": {
        "get": _op("Clear checks due for renewal within ?within_days= (default 30), and "
                   "lapsed ones not yet renewed")},
})


def _own_op(summary: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """The volunteer's own link: no staff token, the path's token is the credential."""
    op = _op(summary, body)
    op["security"] = []
    op["responses"]["404"] = op["responses"].pop("401")
    return op


for _path, _summary in (("/me/{token}", "The volunteer's own data (GET), corrected (PATCH) "
                                         "or erased (DELETE)"),
                        ("/me/{token}/export", "Everything stored about the volunteer")):
    OPENAPI["paths"][_path] = {"parameters": _TOKEN_PARAM, "get": _own_op(_summary)}
OPENAPI["paths"]["/me/{token}"].update({
    "patch": _with_field_errors(_required(_own_op("Correct my data", _VOLUNTEER_FIELDS), [])),
    "delete": _own_op("Delete my data")})


# Needs -------------------------------------------------------------------------------------
_NEED_ID = [{"name": "id", "in": "path", "required": True, "schema": _S}]
_CONFIRM = {"name": "confirm", "in": "query", "schema": {"enum": ["true", "false"]},
            "description": "true: save even if the public text looks like personal details"}
_NEED_FIELDS: dict[str, Any] = {
    "kind": {"enum": ["one_off", "regular", "group_role"], "description": "fixed once posted"},
    "title": {**_S, "maxLength": 200}, "description": {**_S, "maxLength": 5000,
                                                       "description": "public, plain text"},
    "private_notes": {**_S, "maxLength": 5000, "description": "staff only: never federated "
                                                              "or shown publicly"},
    "skills": {**_IDS, "description": "concept ids"}, "interests": _IDS, "tags": _IDS,
    "checks_required": {**_IDS, "description": "check types; the hub's policy adds its own"},
    "languages_required": _IDS, "languages_preferred": _IDS,
    "accessibility": {**_S, "maxLength": 1000},
    "district": {**_NULL_S, "description": "UK postcode district, e.g. IG1"},
    "latitude": {"type": ["number", "null"], "description": "rounded to 0.01 degree"},
    "longitude": {"type": ["number", "null"]},
    "max_distance_km": {"type": ["number", "null"], "exclusiveMinimum": 0, "maximum": 200},
    "volunteers_wanted": {**_INT, "minimum": 1, "maximum": 100},
    "timezone": {**_S, "description": "IANA name; default: the hub's default_timezone"},
    "on_date": {**_DATE, "description": "one-off tasks and group roles"},
    "start_time": {**_S, "description": "HH:MM, local"}, "end_time": {**_S,
                                                                     "description": "HH:MM"},
    "starts_on": {**_DATE, "description": "regular commitments"}, "ends_on": _DATE,
    "slots": {"type": "object", "description": 'regular commitments: {"tue": ["afternoon"]}'},
    "effort_minutes": {"type": ["integer", "null"], "minimum": 1, "maximum": 1440},
    "event": {**_NULL_S, "description": "group roles: the id of the activity on this hub"},
}


def _need_op(summary: str, body: dict[str, Any] | None = None, ok: str = "200",
             *extra: str, required: list[str] | None = None) -> dict[str, Any]:
    op = _with_field_errors(_op(summary, body, ok), "404", *extra)
    if body is not None:
        _required(op, required or [])
    return op


def _confirmable(op: dict[str, Any]) -> dict[str, Any]:
    op["parameters"] = [_CONFIRM]
    op["responses"]["422"] = {"description": "{\"error\", \"warnings\": [{\"field\", "
                                             "\"kind\", \"excerpt\", \"message\"}]}",
                              "content": {"application/json": {}}}
    return op


OPENAPI["paths"].update({
    "/api/v1/needs": {
        "get": _op("Live needs, newest first (?status=open,matching, ?kind=)"),
        "post": _confirmable(_need_op("Post a need (Create to followers)", _NEED_FIELDS,
                                      "201", required=["kind", "title"]))},
    "/api/v1/needs/{id}": {
        "parameters": _NEED_ID, "get": _need_op("A need, with its private notes"),
        "patch": _confirmable(_need_op("Edit some fields (Update to followers when anything "
                                       "public changed)", _NEED_FIELDS, "200", "409")),
        "delete": _need_op("Remove a need (Delete to followers)")},
    "/api/v1/needs/{id}/status": {
        "parameters": _NEED_ID,
        "post": _need_op("A lifecycle move: open, matching, filled, closed or cancelled "
                         "(cancelled sends Delete); 409 with the allowed moves otherwise",
                         {"status": {"enum": ["open", "matching", "filled", "closed",
                                              "cancelled"]}}, "200", "409",
                         required=["status"])},
    "/api/v1/needs/{id}/candidates": {
        "parameters": _NEED_ID,
        "get": _need_op("This hub's volunteers ranked for the need, with the reasons for each "
                        "rank (?limit=1..200, ?excluded=true adds who was left out and why; "
                        "audited)")},
    "/api/v1/remote-needs": {
        "get": _op("Needs published by hubs this hub follows (?status=, ?actor=)")},
    "/api/v1/remote-needs/candidates": {
        "get": _need_op("This hub's volunteers ranked for a neighbouring hub's need (?id= its "
                        "ActivityPub id; only volunteers who consented to match_neighbours; "
                        "?limit, ?excluded=true; audited)")},
})

# Matching: asks, offers between hubs, matches and hours (hub/web/exchange_api.py).
_UUID_PARAM = [{"name": "uuid", "in": "path", "required": True, "schema": {"type": "string"}}]
_ASK_BODY = {"count": {"type": "integer", "minimum": 1, "maximum": 20},
             "volunteer": {"type": "string", "description": "a volunteer's id"}}
_SHARE = {"shared_note": {"type": "string", "maxLength": 1000,
                          "description": "a line for the volunteer with the coordinator's "
                                         "contact; never the neighbour's private notes"}}


def _exchange_op(summary: str, body: dict[str, Any] | None = None, ok: str = "200",
                 *extra: str, required: list[str] | None = None) -> dict[str, Any]:
    op = _op(summary, body, ok)
    if body is not None:
        op["requestBody"]["content"]["application/json"]["schema"]["required"] = required or []
    for status in ("404", *extra):
        op["responses"][status] = {"$ref": "#/components/responses/Error"}
    return op


OPENAPI["paths"].update({
    "/api/v1/needs/{id}/asks": {
        "parameters": _NEED_ID,
        "post": _exchange_op("Ask the `count` best-ranked volunteers not yet asked (default 3), "
                             "or one `volunteer`, by their own channels", _ASK_BODY, "201")},
    "/api/v1/needs/{id}/matching": {
        "parameters": _NEED_ID,
        "get": _exchange_op("The asks, the neighbours' offers and the matches for a need, "
                            "with the time it took to fill")},
    "/api/v1/neighbour-needs/asks": {
        "post": _exchange_op("Ask volunteers for a neighbouring hub's need (`need`: its id)",
                             {"need": {"type": "string"}, **_ASK_BODY}, "201",
                             required=["need"])},
    "/api/v1/offers/{uuid}/accept": {
        "parameters": _UUID_PARAM,
        "post": _exchange_op("Accept a neighbour's offer: Accept, then the coordinator's "
                             "contact, to that hub", _SHARE, "200", "409")},
    "/api/v1/offers/{uuid}/reject": {
        "parameters": _UUID_PARAM,
        "post": _exchange_op("Decline a neighbour's offer (Reject to that hub)", None, "200",
                             "409")},
    "/api/v1/asks/{uuid}/accept": {
        "parameters": _UUID_PARAM,
        "post": _exchange_op("Accept a volunteer of this hub who said yes", _SHARE, "200",
                             "409")},
    "/api/v1/matches/{uuid}": {
        "parameters": _UUID_PARAM,
        "get": _exchange_op("A match: its contact and the sessions logged")},
    "/api/v1/matches/{uuid}/sessions": {
        "parameters": _UUID_PARAM,
        "post": _exchange_op("Log a session for a match", {
            "date": {"type": "string", "format": "date"},
            "minutes": {"type": "integer", "minimum": 1, "maximum": 1440}}, "201", "409",
            required=["date", "minutes"])},
})


# "Near us" searches: public, no token (hub.neighbours.near) -----------------------------------
_NEAR_PARAMS = [
    {"name": "near", "in": "query", "schema": {"type": "string"},
     "description": "a UK postcode district (the part before the space: SW9, E8)"},
    {"name": "lat", "in": "query", "schema": {**_NUM, "minimum": -90, "maximum": 90}},
    {"name": "lon", "in": "query", "schema": {**_NUM, "minimum": -180, "maximum": 180}},
    {"name": "km", "in": "query", "schema": {**_NUM, "minimum": 0.1, "maximum": 200},
     "description": "only within this distance; default, with a place: the hub's "
                    "neighbourhood radius"}]
_DAYS_PARAM = {"name": "days", "in": "query", "schema": {**_INT, "minimum": 1, "maximum": 366},
               "description": "only events starting within this many days; default, with "
                              "a place: 7"}


def _public(summary: str, params: list[dict[str, Any]]) -> dict[str, Any]:
    return {"summary": summary, "security": [], "parameters": params,
            "responses": {"200": {"description": "found, nearest first when a place is given",
                                  "content": {"application/json": {}}},
                          "400": {"$ref": "#/components/responses/Error"}}}


OPENAPI["paths"].update({
    "/calendar/nearby.json": {"get": _public(
        "Upcoming events of the servers the hub follows, near a place", [*_NEAR_PARAMS,
                                                                        _DAYS_PARAM])},
    "/needs/nearby.json": {"get": _public(
        "Open needs of this hub and the hubs it follows, near a place", _NEAR_PARAMS)},
})
