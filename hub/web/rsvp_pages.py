"""The public RSVP pages: the web form, the private cancel link, and RSVP polls.

- `POST /events/{uuid}/rsvp`: a name plus an email address or a fediverse handle; no
  account. The form on the event page (`rsvp_form.html`) cannot carry a CSRF token (that
  page sets no cookie), so a submission without a valid token stores nothing and shows the
  details back with a token, to be confirmed ("check your answers"); `GET` of the same URL
  is that form with its token from the start. The token is a double-submit cookie, as on
  the console's login form. Both are rate-limited.
  When the hub can reach the contact given (see `hub.rsvp.confirmations`), a genuine
  submission takes no place yet: it sends a link there, `/rsvp/confirm/{token}`, whose
  button (a POST) asks for the place.
- `/rsvp/{token}`: where someone who signed up on the web sees where they stand and can
  cancel (a POST). The token is the only key: the page is never cached or indexed.
- `/polls/{uuid}`: an RSVP poll's `Question` (JSON), or a small page with its counts.

Email addresses stay here and in staff views: they are never federated or shown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from federation.errors import FederationError, NotFound
from hub.activitypub.rsvp import POLL_OPTIONS
from hub.events.summary import when_text
from hub.mail import MailError
from hub.rsvp import confirmations, messages, polls, service
from hub.rsvp.service import Person
from hub.runtime import Hub
from hub.services.follows import resolve_actor_id
from hub.store import events as event_store
from hub.store import participants as participant_store
from hub.store import polls as poll_store
from hub.store.events import Event
from hub.store.participants import Participant
from hub.web.console.auth import foreign_origin
from hub.web.keys import HUB
from hub.web.public_forms import form_is_genuine, form_token, set_form_cookie
from hub.web.ratelimit import rate_limited
from hub.web.render import activity_json, render_html, wants_activity_json

SUBMISSIONS, WINDOW = 10, 600          # form posts per client address per window (s)
CSRF_COOKIE = "commonhub_rsvp_csrf"
MAX_NAME, MAX_CONTACT = 100, 254
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32,64}$")
_EMAIL = re.compile(r"^[^@\s<>()\[\],;:\"']+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
_HANDLE = re.compile(r"^@[^@\s/]+@[^@\s/]+$")
# Not `Referrer-Policy: no-referrer`: with it browsers send `Origin: null` on these pages'
# forms, which the CSRF and origin checks refuse. The app's `same-origin` keeps the private
# links from other sites.
_PRIVATE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}
STATE_TEXT = {
    "going": "You're going.", "waitlisted": "You're on the waitlist.",
    "pending": "You asked for a place: the hub's staff will confirm it.",
    "maybe": "You said maybe: that doesn't hold a place.",
    "not_going": "You're not going: your place was given up.",
    "declined": "The hub's staff couldn't offer you a place."}


class FormError(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field, self.message = field, message


@dataclass(frozen=True)
class SignUp:
    name: str
    email: str | None = None
    handle: str | None = None     # @user@host, or an actor URL


def parse_signup(name: str, contact: str) -> SignUp:
    """A name, and an email address or a fediverse handle (which starts with @)."""
    name, contact = " ".join(name.split()), contact.strip()
    if not name or len(name) > MAX_NAME:
        raise FormError("name", f"Enter your name (at most {MAX_NAME} characters).")
    if len(contact) > MAX_CONTACT or not contact:
        raise FormError("contact", "Enter your email address or fediverse handle.")
    if _HANDLE.match(contact) or contact.startswith(("https://", "http://")):
        return SignUp(name, handle=contact)
    if _EMAIL.match(contact):
        return SignUp(name, email=contact)
    raise FormError("contact", "Enter an email address like name@example.org, or a fediverse "
                               "handle like @you@mastodon.social.")


def _event_view(hub: Hub, event: Event) -> dict[str, Any]:
    """What `rsvp_form.html` reads, in the shape of the event page's view."""
    notes = {"none": "No sign-up needed: just come along."}
    return {"title": event.title, "url": hub.urls.event(event.uuid), "status": event.status,
            "external_url": event.external_url, "join_mode": event.join_mode,
            "join_note": notes.get(event.join_mode, ""), "when": when_text(event)}


async def _event(hub: Hub, request: web.Request) -> Event:
    event_uuid = request.match_info["uuid"]
    event = await event_store.get_event(hub.db, event_uuid) if _UUID.match(event_uuid) else None
    if event is None or event.deleted:
        raise NotFound("no such event")
    return event


def _form_page(request: web.Request, event: Event, *, status: int = 200,
               **rsvp: Any) -> web.Response:
    hub, token = request.app[HUB], form_token(request, CSRF_COOKIE)
    response = render_html(request, "rsvp_page.html", status=status,
                           event=_event_view(hub, event), rsvp={**rsvp, "csrf_token": token})
    set_form_cookie(response, request, CSRF_COOKIE, token)
    response.headers.update(_PRIVATE)
    return response


async def rsvp_form(request: web.Request) -> web.Response:
    event = await _event(request.app[HUB], request)
    return _form_page(request, event)


async def person_for(hub: Hub, signup: SignUp) -> Person:
    if signup.email:
        return Person(signup.name, email=signup.email)
    try:
        actor = await hub.actors.get(await resolve_actor_id(hub, signup.handle or ""))
    except FederationError:
        raise FormError("contact", "We couldn't find that fediverse account. Check the "
                                   "handle, or use an email address.") from None
    handle = f"@{actor.preferred_username}@{actor.domain}" if actor.preferred_username else None
    return Person(signup.name, actor_id=actor.id, handle=handle or signup.handle)


@rate_limited("rsvp", capacity=SUBMISSIONS, per_seconds=WINDOW)
async def rsvp_submit(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    event = await _event(hub, request)
    form = await request.post()
    values = {"name": str(form.get("name", "")), "contact": str(form.get("contact", ""))}
    try:
        signup = parse_signup(values["name"], values["contact"])
        if not form_is_genuine(request, form, CSRF_COOKIE):
            return _form_page(request, event, confirm=True, **values)
        person = await person_for(hub, signup)
    except FormError as exc:
        return _form_page(request, event, status=400, error=exc.message,
                          error_field=exc.field, **values)
    if confirmations.needed(hub, person):
        return await _ask_confirmation(request, event, person)
    outcome = await service.request_place(hub, event, person, "web")
    return await _answer(request, event, outcome)


async def _ask_confirmation(request: web.Request, event: Event, person: Person) -> web.Response:
    try:
        where = await confirmations.ask(request.app[HUB], event, person)
    except MailError:
        return _result(request, "We couldn't send the email", [
            "Nothing was booked. Please try again in a while."], event, status=503)
    return _result(request, "Check your inbox to confirm", [
        f"We've sent a link to {where}. Open it within {confirmations.LINK_HOURS} hours and "
        "press the button to confirm your place: until then nothing is booked."], event)


async def confirm_page(request: web.Request) -> web.Response:
    """The link sent to confirm a web sign-up: a button, since mail scanners open links."""
    hub = request.app[HUB]
    try:
        pending, event = await confirmations.pending(hub, request.match_info["token"])
    except NotFound as exc:
        return _result(request, "Link not found", [exc.message], None, status=404)
    response = render_html(request, "rsvp_confirm.html", event=_event_view(hub, event),
                           name=pending.name)
    response.headers.update(_PRIVATE)
    return response


@rate_limited("rsvp-confirm", capacity=SUBMISSIONS, per_seconds=WINDOW)
async def confirm_submit(request: web.Request) -> web.Response:
    if foreign_origin(request):
        return _result(request, "This form could not be accepted", [
            "It was sent from another website, so nothing was changed."], None, status=403)
    hub = request.app[HUB]
    try:
        person, event = await confirmations.take(hub, request.match_info["token"])
    except NotFound as exc:
        return _result(request, "Link not found", [exc.message], None, status=404)
    outcome = await service.request_place(hub, event, person, "web")
    return await _answer(request, event, outcome)


async def _answer(request: web.Request, event: Event, outcome: service.Outcome) -> web.Response:
    hub = request.app[HUB]
    if outcome.state == service.REFUSED:
        lines = messages.lines_for(event, "refused", reason=outcome.reason,
                                   external_url=outcome.external_url)
        return _result(request, "No sign-up here", lines, event, status=409)
    if outcome.token is None or outcome.participant is None:
        return _result(request, "You're already signed up", [
            "This email address or handle is already on the list for this event, so nothing "
            "has changed. To see or cancel your place, use the private link you were given."],
            event)
    link = f"{hub.urls.base}/rsvp/{outcome.token}"
    await messages.tell(hub, event, outcome.participant, outcome.state,
                        position=outcome.position, link=link)
    return web.Response(status=303, headers={"Location": f"/rsvp/{outcome.token}?new=1"})


def _result(request: web.Request, title: str, lines: list[str], event: Event | None, *,
            status: int = 200) -> web.Response:
    hub = request.app[HUB]
    url = hub.urls.event(event.uuid) if event else None
    response = render_html(request, "rsvp_result.html", status=status, title=title,
                           lines=lines, event_url=url)
    response.headers.update(_PRIVATE)
    return response


async def _by_token(hub: Hub, token: str) -> tuple[Participant, Event]:
    participant = (await participant_store.find_by_token_hash(hub.db, service.token_hash(token))
                   if _TOKEN.match(token) else None)
    event = (await event_store.get_event_by_id(hub.db, participant.event_id)
             if participant else None)
    if participant is None or event is None:
        raise NotFound("This link is unknown or no longer valid.")
    return participant, event


async def rsvp_status(request: web.Request) -> web.Response:
    """Where someone stands, from their private link, with a button to cancel."""
    hub = request.app[HUB]
    try:
        participant, event = await _by_token(hub, request.match_info["token"])
    except NotFound as exc:
        return _result(request, "Link not found", [exc.message], None, status=404)
    position = await participant_store.waitlist_position(hub.db, participant)
    response = render_html(
        request, "rsvp_status.html", event=_event_view(hub, event), name=participant.name,
        state=participant.state, state_text=STATE_TEXT[participant.state], position=position,
        new=request.query.get("new") == "1", cancellable=participant.state in (
            "going", "waitlisted", "pending", "maybe") and not event.deleted)
    response.headers.update(_PRIVATE)
    return response


@rate_limited("rsvp-cancel", capacity=SUBMISSIONS, per_seconds=WINDOW)
async def rsvp_cancel(request: web.Request) -> web.Response:
    hub, token = request.app[HUB], request.match_info["token"]
    if foreign_origin(request):
        return _result(request, "This form could not be accepted", [
            "It was sent from another website, so nothing was changed."], None, status=403)
    try:
        event, outcome = await service.cancel_by_token(hub, token)
    except NotFound as exc:
        return _result(request, "Link not found", [exc.message], None, status=404)
    if outcome.changed and outcome.participant is not None:
        await messages.tell(hub, event, outcome.participant, "not_going")
    return web.Response(status=303, headers={"Location": f"/rsvp/{token}"})


async def poll_page(request: web.Request) -> web.Response:
    """An RSVP poll: its `Question` for servers, its counts for people."""
    hub = request.app[HUB]
    poll_uuid = request.match_info["uuid"]
    poll = await poll_store.get_poll(hub.db, poll_uuid) if _UUID.match(poll_uuid) else None
    event = await event_store.get_event_by_id(hub.db, poll.event_id) if poll else None
    if poll is None or event is None:
        raise NotFound("no such poll")
    doc = await polls.question_document(hub, poll, event)
    if wants_activity_json(request):
        return activity_json(doc)
    counts = await poll_store.vote_counts(hub.db, poll.id)
    options = [(name, counts[answer]) for name, answer in POLL_OPTIONS]
    return render_html(request, "rsvp_poll.html", event=_event_view(hub, event),
                       options=options, voters=sum(counts.values()), closed="closed" in doc,
                       poll_url=doc["id"])


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/events/{uuid}/rsvp", rsvp_form)
    r.add_post("/events/{uuid}/rsvp", rsvp_submit)
    r.add_get("/rsvp/confirm/{token}", confirm_page)
    r.add_post("/rsvp/confirm/{token}", confirm_submit)
    r.add_get("/rsvp/{token}", rsvp_status)
    r.add_post("/rsvp/{token}", rsvp_cancel)
    r.add_get("/polls/{uuid}", poll_page)
