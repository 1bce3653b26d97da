"""Every public URL the hub mints, in one place."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote


@dataclass(frozen=True)
class Urls:
    base: str  # e.g. https://hub.example.org (no trailing slash)
    name: str  # the hub actor's username

    @property
    def actor(self) -> str:
        return f"{self.base}/actors/{self.name}"

    @property
    def key_id(self) -> str:
        return f"{self.actor}#main-key"

    @property
    def assertion_key_id(self) -> str:
        """The hub's Ed25519 Multikey, which signs integrity proofs (FEP-8b32)."""
        return f"{self.actor}#ed25519-key"

    @property
    def inbox(self) -> str:
        return f"{self.actor}/inbox"

    @property
    def outbox(self) -> str:
        return f"{self.actor}/outbox"

    @property
    def followers(self) -> str:
        return f"{self.actor}/followers"

    @property
    def following(self) -> str:
        return f"{self.actor}/following"

    @property
    def peers(self) -> str:
        """The collection of the hubs this hub peers with (docs/neighbours.md)."""
        return f"{self.actor}/peers"

    @property
    def shared_inbox(self) -> str:
        return f"{self.base}/inbox"

    @property
    def profile(self) -> str:
        return f"{self.base}/"

    @property
    def instance_actor(self) -> str:
        return f"{self.base}/actor"

    @property
    def instance_key_id(self) -> str:
        return f"{self.instance_actor}#main-key"

    def post(self, post_uuid: str) -> str:
        return f"{self.base}/posts/{post_uuid}"

    def activity(self, activity_uuid: str) -> str:
        return f"{self.base}/activities/{activity_uuid}"

    def event(self, event_uuid: str) -> str:
        return f"{self.base}/events/{event_uuid}"

    def series(self, series_uuid: str) -> str:
        return f"{self.base}/series/{series_uuid}"

    def need(self, need_uuid: str) -> str:
        return f"{self.base}/needs/{need_uuid}"

    def media(self, media_uuid: str) -> str:
        return f"{self.base}/media/{media_uuid}"

    def tag(self, tag: str) -> str:
        """The hub's page of events with a hashtag (lower-cased, as Mastodon links them)."""
        return f"{self.base}/tags/{quote(tag.lower(), safe='')}"

    def page(self, collection: str, page: int) -> str:
        return f"{collection}?page={page}"
