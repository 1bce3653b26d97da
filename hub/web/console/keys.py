"""What the console puts on a request, and the names of its cookies."""

from __future__ import annotations

from aiohttp import web

from hub.store.staff import Staff, StaffSession

STAFF = web.RequestKey("staff", Staff)            # the logged-in staff member
SESSION = web.RequestKey("staff_session", StaffSession)

SESSION_COOKIE = "commonhub_session"
# The login form's double-submit token. `__Host-` (https only) stops a sibling subdomain from
# planting its own value; a dev hub is plain http, so it goes without.
LOGIN_CSRF_COOKIE = "commonhub_login_csrf"
SECURE_LOGIN_CSRF_COOKIE = "__Host-commonhub_login_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
