"""Route stored inbound activities to the app's handlers by activity type.

A registry, not a `match`: the app registers one small async handler per type
(`handle_follow`, `handle_join`...). The dispatcher stays dumb on purpose: for `Undo`,
`Accept` and `Reject` the app registers one handler and looks at `object.type` itself, as
Mastodon does, because only the app knows which embedded objects it cares about.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from federation.errors import FederationError

Handler = Callable[[dict[str, Any]], Awaitable[None]]


class RetryableError(FederationError):
    """A handler could not finish for a passing reason (a remote fetch timed out...).

    The inbox processor keeps the activity and tries it again later with backoff, where
    any other error marks it failed for good. `retry_after` asks for a shorter first wait
    than the backoff schedule's, for an activity that arrived before one it depends on
    (two deliveries from one sender can overtake each other): the wait grows fourfold with
    each attempt and never exceeds the schedule's, so the activity waits ~2.3 hours in all
    for the one it depends on, as far as the sender's own retries of that one reach in its
    first hours (after an outage they can pull two deliveries well apart).
    """

    status = 503

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Dispatcher:
    """Maps an activity's `type` to the one handler registered for it."""

    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}

    def register(self, type_name: str, handler: Handler) -> None:
        """Register `handler` for activities of `type_name`; a second one for a type is a bug."""
        if type_name in self._handlers:
            raise ValueError(f"a handler for {type_name!r} is already registered")
        self._handlers[type_name] = handler

    def on(self, type_name: str) -> Callable[[Handler], Handler]:
        """Decorator form of `register`: `@dispatcher.on("Follow")`."""

        def decorate(handler: Handler) -> Handler:
            self.register(type_name, handler)
            return handler

        return decorate

    def handles(self, type_name: str) -> bool:
        return type_name in self._handlers

    async def dispatch(self, activity: dict[str, Any]) -> bool:
        """Run the handler for the activity's type; False when there is none."""
        type_name = activity.get("type")
        handler = self._handlers.get(type_name) if isinstance(type_name, str) else None
        if handler is None:
            return False
        await handler(activity)
        return True
