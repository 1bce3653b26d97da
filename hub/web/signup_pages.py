"""The public volunteer sign-up form (`/volunteer`), the same form reached through a link
the hub sent to a fediverse account (`/volunteer/invite/{token}`), which fills in and locks
that account's handle, and the form to have a new private link emailed (`/volunteer/link`).

The form carries a double-submit CSRF token (`hub.web.public_forms`) and its submissions are
rate-limited per client address. Problems re-render the form with every message and what was
typed; success sends the browser to the volunteer's private page, which shows their link.
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from hub.mail import mail_enabled
from hub.store import signups as signup_store
from hub.store.signups import Invite
from hub.store.volunteers import InviteUsed
from hub.volunteers import form as profile_form
from hub.volunteers.form import ProfileForm
from hub.volunteers.model import PARTS, parse_profile
from hub.volunteers.signup import send_new_link, sign_up
from hub.web.keys import HUB
from hub.web.public_forms import form_is_genuine, form_token, set_form_cookie
from hub.web.ratelimit import rate_limited
from hub.web.render import render_html

CSRF_COOKIE = "commonhub_volunteer_csrf"
SUBMISSIONS, WINDOW = 10, 600          # form posts per client address per window (s)
LINK_REQUESTS = 5                      # requests for a new private link, per address, per window
_EMAIL = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}$")
# No Referrer-Policy: no-referrer here: with it, browsers send `Origin: null` on the forms'
# posts, which the CSRF check must refuse. The app's `same-origin` keeps the links' secrets
# from other sites all the same.
PRIVATE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}
STALE_FORM = ("The form's security token was missing or out of date (or it was sent from "
              "another website), so nothing was saved. Check your details and press "
              "“Sign up” again.")


def form_context(values: dict[str, Any], parsed: ProfileForm | None = None) -> dict[str, Any]:
    """What `_volunteer_fields.html` and `_volunteer_errors.html` read."""
    error_for = parsed.error_for if parsed else {}
    return {"values": values, "error_for": error_for,
            "errors": [{"id": _anchor(name), "message": message}
                       for name, message in error_for.items()],
            "groups": profile_form.concept_groups(), "languages": profile_form.language_choices(),
            "grid": profile_form.grid(), "parts": PARTS}


def _anchor(name: str) -> str:
    if name in (*profile_form.TEXT_FIELDS, "tags", "other_languages", "max_commitments"):
        return name
    return f"{name}-error"


def _page(request: web.Request, context: dict[str, Any], *, status: int = 200,
          invite: Invite | None = None, notice: str | None = None) -> web.Response:
    token = form_token(request, CSRF_COOKIE)
    action = f"/volunteer/invite/{request.match_info['token']}" if invite else "/volunteer"
    response = render_html(request, "volunteer_signup.html", status=status, action=action,
                           csrf_token=token, locked_handle=invite.handle if invite else None,
                           problem=notice, **context)
    set_form_cookie(response, request, CSRF_COOKIE, token)
    response.headers.update(PRIVATE)
    return response


def _gone(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    response = render_html(
        request, "error.html", status=404, title="This sign-up link doesn't work",
        message="It is unknown, was already used, or has expired (links work for a week). "
                f"Send @{hub.settings.name}@{hub.settings.domain} a message saying "
                "“volunteer” for a new one, or use the form at "
                f"{hub.urls.base}/volunteer.")
    response.headers.update(PRIVATE)
    return response


async def _invite(request: web.Request) -> Invite | None:
    token = request.match_info["token"]
    if len(token) > 100:
        return None
    return await signup_store.invite_for_token(request.app[HUB].db, token)


async def signup_form(request: web.Request) -> web.Response:
    return _page(request, form_context(profile_form.blank_values()))


async def invite_form(request: web.Request) -> web.Response:
    invite = await _invite(request)
    if invite is None:
        return _gone(request)
    # Every consent starts unticked, here too: a ticked box is not consent (GDPR, Planet49).
    return _page(request, form_context(profile_form.blank_values()), invite=invite)


async def _submit(request: web.Request, invite: Invite | None) -> web.Response:
    form = await request.post()
    parsed = profile_form.read_form(form, handle=invite.handle if invite else None)
    if not form_is_genuine(request, form, CSRF_COOKIE):
        return _page(request, form_context(parsed.values), status=403, invite=invite,
                     notice=STALE_FORM)
    if parsed.errors:
        return _page(request, form_context(parsed.values, parsed), status=400, invite=invite)
    try:
        _, token = await sign_up(request.app[HUB], parse_profile(parsed.data), invite)
    except InviteUsed:
        return _gone(request)
    return web.Response(status=303, headers={"Location": f"/me/{token}?welcome=1", **PRIVATE})


@rate_limited("volunteer-signup", capacity=SUBMISSIONS, per_seconds=WINDOW)
async def signup_submit(request: web.Request) -> web.Response:
    return await _submit(request, None)


@rate_limited("volunteer-signup", capacity=SUBMISSIONS, per_seconds=WINDOW)
async def invite_submit(request: web.Request) -> web.Response:
    invite = await _invite(request)
    if invite is None:
        return _gone(request)
    return await _submit(request, invite)


def _link_page(request: web.Request, *, status: int = 200, email: str = "",
               error: str | None = None, sent: bool = False) -> web.Response:
    token = form_token(request, CSRF_COOKIE)
    response = render_html(request, "volunteer_link.html", status=status, csrf_token=token,
                           email=email, error=error, sent=sent,
                           can_email=mail_enabled(request.app[HUB].settings))
    set_form_cookie(response, request, CSRF_COOKIE, token)
    response.headers.update(PRIVATE)
    return response


async def new_link_form(request: web.Request) -> web.Response:
    return _link_page(request)


@rate_limited("volunteer-link", capacity=LINK_REQUESTS, per_seconds=WINDOW)
async def new_link_submit(request: web.Request) -> web.Response:
    """Always the same answer, whether or not the address is known: it reveals nobody."""
    form = await request.post()
    email = str(form.get("email", "")).strip()
    if not form_is_genuine(request, form, CSRF_COOKIE):
        return _link_page(request, status=403, email=email, error=STALE_FORM)
    if not _EMAIL.match(email) or len(email) > 254:
        return _link_page(request, status=400, email=email,
                          error="Enter the email address you signed up with, like "
                                "name@example.org.")
    if mail_enabled(request.app[HUB].settings):
        await send_new_link(request.app[HUB], email)
    return _link_page(request, email=email, sent=True)


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/volunteer", signup_form)
    r.add_post("/volunteer", signup_submit)
    r.add_get("/volunteer/invite/{token}", invite_form)
    r.add_post("/volunteer/invite/{token}", invite_submit)
    r.add_get("/volunteer/link", new_link_form)
    r.add_post("/volunteer/link", new_link_submit)
