"""Typed application keys (aiohttp `web.AppKey`) for what the app holds."""

from __future__ import annotations

import jinja2
from aiohttp import web

from federation.inbox import InboxReceiver
from hub.jobs.runner import JobRunner
from hub.neighbours.discovery import Discovery
from hub.runtime import Hub
from hub.settings import Settings

SETTINGS = web.AppKey("settings", Settings)
HUB = web.AppKey("hub", Hub)
TEMPLATES = web.AppKey("templates", jinja2.Environment)
INBOX = web.AppKey("inbox", InboxReceiver)
JOBS = web.AppKey("jobs", JobRunner)
DISCOVERY = web.AppKey("discovery", Discovery)
