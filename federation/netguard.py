"""Which IP addresses an outgoing request may reach.

Every address a fetch would connect to passes through `check_address`: the literal host of a
URL, and each address DNS returns (see `federation.fetch.GuardedResolver`), so a name that
resolves, or later re-resolves, to an internal address is refused before any connection.

IPv6 is judged by allow-list: only global unicast (2000::/3) minus its special-use blocks is
public. Forms that carry an IPv4 address inside an IPv6 one (IPv4-mapped, IPv4-compatible,
NAT64, 6to4) are judged by the IPv4 address they carry, since that is where the packets end
up; `::ffff:127.0.0.1` is loopback, however it is written (the SSRF advisories Mastodon and
Fedify fixed in 2025-26 came through exactly these spellings).
"""

from __future__ import annotations

import ipaddress
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

from federation.errors import UnsafeURLError

IPAddress = IPv4Address | IPv6Address

_V4_LOOPBACK = IPv4Network("127.0.0.0/8")
_V6_LOOPBACK = IPv6Address("::1")

# Ranges a development hub on a LAN or a tailnet may need (RFC 1918, RFC 6598 CGNAT, ULA).
_PRIVATE_V4 = (
    IPv4Network("10.0.0.0/8"),
    IPv4Network("172.16.0.0/12"),
    IPv4Network("192.168.0.0/16"),
    IPv4Network("100.64.0.0/10"),
)
_PRIVATE_V6 = IPv6Network("fc00::/7")

# Never reachable from a fetch, whatever the mode (RFC 6890 special-purpose registry).
_ALWAYS_REFUSED_V4 = tuple(
    IPv4Network(n)
    for n in (
        "0.0.0.0/8",  # "this network"; 0.0.0.0 reaches the local host on Linux
        "169.254.0.0/16",  # link-local, where cloud metadata services live
        "192.0.0.0/24",  # IETF protocol assignments
        "192.0.2.0/24",  # TEST-NET-1
        "192.88.99.0/24",  # deprecated 6to4 relay anycast
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",  # TEST-NET-2
        "203.0.113.0/24",  # TEST-NET-3
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, includes 255.255.255.255
    )
)

_V6_GLOBAL_UNICAST = IPv6Network("2000::/3")
# Special-use blocks inside 2000::/3. 2001::/23 covers Teredo (2001::/32): a Teredo address
# tunnels to whatever IPv4 host its relay picks, so it is refused outright, as Fedify does.
_REFUSED_V6_IN_GLOBAL = tuple(
    IPv6Network(n)
    for n in (
        "2001::/23",  # IETF protocol assignments (Teredo, ORCHID, benchmarking...)
        "2001:db8::/32",  # documentation
        "3fff::/20",  # documentation (RFC 9637)
    )
)
_NAT64_WELL_KNOWN = IPv6Network("64:ff9b::/96")
_IPV4_COMPATIBLE = IPv6Network("::/96")  # deprecated ::a.b.c.d
# Local-use NAT64 (RFC 8215): the operator picks where the IPv4 bits sit, and the prefix is
# by definition not global, so there is nothing safe to judge.
_LOCAL_USE_NAT64 = IPv6Network("64:ff9b:1::/48")


def check_address(ip: IPAddress, *, allow_loopback: bool, allow_private: bool) -> None:
    """Raise `UnsafeURLError` unless a fetch may connect to `ip`.

    `allow_loopback` (development and test mode) admits 127.0.0.0/8 and ::1, including
    127/8 written as `::ffff:127.x.y.z`. `allow_private` admits 10/8, 172.16/12, 192.168/16,
    100.64/10 (CGNAT, tailnets) and fc00::/7; it does not imply loopback. Nothing admits
    link-local, multicast or the other special-use ranges.
    """
    if not _is_allowed(ip, allow_loopback=allow_loopback, allow_private=allow_private):
        raise UnsafeURLError(f"refusing to connect to non-public address {ip}")


def is_public_address(ip: IPAddress) -> bool:
    """True if `ip` is a public unicast address that any fetch may reach."""
    return _is_allowed(ip, allow_loopback=False, allow_private=False)


def parse_ip(host: str) -> IPAddress | None:
    """The address `host` spells, or None if it is a name (brackets around IPv6 allowed)."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def _is_allowed(ip: IPAddress, *, allow_loopback: bool, allow_private: bool) -> bool:
    if isinstance(ip, IPv4Address):
        return _v4_allowed(ip, allow_loopback=allow_loopback, allow_private=allow_private)
    if ip.scope_id:
        return False  # zone-scoped addresses are link-local by construction
    if ip == _V6_LOOPBACK:
        return allow_loopback
    mapped = ip.ipv4_mapped
    if mapped is not None:
        # The kernel sends ::ffff:a.b.c.d to a.b.c.d itself: same rules as the IPv4 form.
        return _v4_allowed(mapped, allow_loopback=allow_loopback, allow_private=allow_private)
    if ip in _LOCAL_USE_NAT64:
        return False
    embedded = _embedded_v4(ip)
    if embedded is not None:
        # Through a translator or tunnel, the embedded IPv4 host must be public on its own.
        return is_public_address(embedded)
    if ip in _V6_GLOBAL_UNICAST:
        return not any(ip in net for net in _REFUSED_V6_IN_GLOBAL)
    return allow_private and ip in _PRIVATE_V6


def _embedded_v4(ip: IPv6Address) -> IPv4Address | None:
    """The IPv4 address an IPv4-compatible, NAT64 (64:ff9b::/96) or 6to4 address carries."""
    if ip in _IPV4_COMPATIBLE or ip in _NAT64_WELL_KNOWN:
        # "::" lands here as 0.0.0.0, which is refused like the IPv4 form.
        return IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip.sixtofour


def _v4_allowed(ip: IPv4Address, *, allow_loopback: bool, allow_private: bool) -> bool:
    if ip in _V4_LOOPBACK:
        return allow_loopback
    if any(ip in net for net in _PRIVATE_V4):
        return allow_private
    return not any(ip in net for net in _ALWAYS_REFUSED_V4)
