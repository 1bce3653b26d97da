"""The dispatcher: a registry from activity type to one handler."""

from typing import Any

import pytest

from federation.dispatch import Dispatcher, RetryableError
from federation.errors import FederationError


async def test_dispatches_by_type_and_reports_unknown_types() -> None:
    dispatcher = Dispatcher()
    seen: list[tuple[str, Any]] = []

    @dispatcher.on("Follow")
    async def handle_follow(activity: dict[str, Any]) -> None:
        seen.append(("follow", activity["id"]))

    async def handle_undo(activity: dict[str, Any]) -> None:
        seen.append(("undo", activity["object"]["type"]))

    dispatcher.register("Undo", handle_undo)
    assert await dispatcher.dispatch({"id": "a", "type": "Follow"})
    assert await dispatcher.dispatch({"id": "b", "type": "Undo", "object": {"type": "Follow"}})
    assert not await dispatcher.dispatch({"id": "c", "type": "Like"})
    assert not await dispatcher.dispatch({"id": "d", "type": ["Follow", "Other"]})
    assert not await dispatcher.dispatch({"id": "e"})
    assert seen == [("follow", "a"), ("undo", "Follow")]
    assert dispatcher.handles("Follow") and not dispatcher.handles("Like")


async def test_a_second_handler_for_a_type_is_refused() -> None:
    dispatcher = Dispatcher()

    async def handler(activity: dict[str, Any]) -> None:
        return None

    dispatcher.register("Follow", handler)
    with pytest.raises(ValueError, match="Follow"):
        dispatcher.register("Follow", handler)


async def test_handler_errors_propagate_to_the_processor() -> None:
    dispatcher = Dispatcher()

    @dispatcher.on("Join")
    async def handle_join(activity: dict[str, Any]) -> None:
        raise RetryableError("actor fetch timed out")

    with pytest.raises(RetryableError) as info:
        await dispatcher.dispatch({"type": "Join"})
    assert isinstance(info.value, FederationError) and info.value.status == 503
