"""The need an ask, offer or match is about: one of this hub's, or a neighbour's."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hub.needs.summary import summary_line
from hub.runtime import Hub
from hub.store import needs as need_store
from hub.store.asks import Ask
from hub.store.needs import LocalNeed, RemoteNeed


@dataclass(frozen=True)
class Target:
    need: LocalNeed | RemoteNeed

    @property
    def local(self) -> bool:
        return isinstance(self.need, LocalNeed)

    @property
    def title(self) -> str:
        return self.need.draft.title

    @property
    def summary(self) -> str:
        return summary_line(self.need.draft, self.need.status)

    def keys(self) -> dict[str, Any]:
        """The store's columns naming this need (`need_id` or `remote_need_id`)."""
        return ({"need_id": self.need.id} if isinstance(self.need, LocalNeed)
                else {"remote_need_id": self.need.id})

    def object_id(self, hub: Hub) -> str:
        if isinstance(self.need, LocalNeed):
            return hub.urls.need(self.need.uuid)
        return self.need.object_id

    def page_url(self, hub: Hub) -> str | None:
        if isinstance(self.need, LocalNeed):
            return hub.urls.need(self.need.uuid)
        return self.need.url

    @property
    def origin(self) -> str | None:
        """The neighbouring hub's actor for a remote need; None for ours."""
        return self.need.actor if isinstance(self.need, RemoteNeed) else None

    @property
    def open(self) -> bool:
        return self.need.status in ("open", "matching") and not (
            self.need.deleted if isinstance(self.need, RemoteNeed) else self.need.deleted_at)


async def load_target(hub: Hub, *, need_id: int | None = None,
                      remote_need_id: int | None = None) -> Target | None:
    if need_id is not None:
        local = await need_store.get_need_by_id(hub.db, need_id)
        return None if local is None else Target(local)
    if remote_need_id is not None:
        remote = await need_store.get_remote_need_by_id(hub.db, remote_need_id)
        return None if remote is None else Target(remote)
    return None


async def target_of(hub: Hub, ask: Ask) -> Target | None:
    return await load_target(hub, need_id=ask.need_id, remote_need_id=ask.remote_need_id)
