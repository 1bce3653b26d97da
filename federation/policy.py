"""Which remote domains the hub may talk to: one in-memory policy, asked before every contact.

The fetcher (every GET, WebFinger and NodeInfo included), the delivery worker (every POST)
and the inbox (every received activity) call `DomainPolicy.is_blocked` with the authority
they are about to reach or hear from, so a blocked domain is never contacted and never heard.

An entry is a host (`example.org`), which also covers its subdomains and every port, or a
`host:port` authority (`127.0.0.1:8123`), which covers that port only: hubs on one machine,
as in tests and the demo, differ only by port.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from urllib.parse import urlsplit

from federation.netguard import parse_ip

_DEFAULT_PORTS = {"https": 443, "http": 80}


@lru_cache(maxsize=4096)
def authority_of(url: str) -> str:
    """The `host[:port]` a URL points at, lower-cased, its scheme's default port left out.

    Raises ValueError for a malformed port. Cached: the inbox asks it of the same few key
    ids several times a request."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().rstrip(".")  # "example." is "example"
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    if port and port != _DEFAULT_PORTS.get(parts.scheme.lower()):
        return f"{host}:{port}"
    return host


def _host(authority: str) -> str:
    if authority.startswith("["):
        return authority.partition("]")[0] + "]"
    return authority.rpartition(":")[0] if ":" in authority else authority


def _without_root_dot(authority: str) -> str:
    """`host.` and `host.:port` name the same host as `host` and `host:port` (the DNS root)."""
    if authority.startswith("["):
        return authority
    host, colon, port = authority.rpartition(":") if ":" in authority else (authority, "", "")
    return host.rstrip(".") + colon + port


def domain_matches(entries: frozenset[str], authority: str) -> bool:
    """True if `authority` (`host[:port]`), its host or a parent domain is in `entries`."""
    if not entries:
        return False
    authority = _without_root_dot(authority.lower())
    if authority in entries:
        return True
    host = _host(authority)
    if host in entries:
        return True
    if parse_ip(host) is not None:
        return False  # addresses have no parent domains
    labels = host.split(".")
    return any(".".join(labels[i:]) in entries for i in range(1, len(labels) - 1))


class DomainPolicy:
    """The blocked domains, held in memory; `replace` swaps in a fresh list from the store."""

    def __init__(self, blocked: Iterable[str] = ()) -> None:
        self._blocked: frozenset[str] = frozenset()
        self.replace(blocked)

    def replace(self, blocked: Iterable[str]) -> None:
        self._blocked = frozenset(_without_root_dot(entry.strip().lower())
                                  for entry in blocked if entry.strip())

    @property
    def blocked(self) -> frozenset[str]:
        return self._blocked

    def is_blocked(self, authority: str) -> bool:
        """True if `authority` (`host[:port]`), its host or a parent domain is blocked."""
        return domain_matches(self._blocked, authority)

    def is_url_blocked(self, url: str) -> bool:
        return self.is_blocked(authority_of(url))
