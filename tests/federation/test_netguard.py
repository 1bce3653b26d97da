"""Which addresses a fetch may reach: a table of the spellings SSRF fixes elsewhere missed."""

from ipaddress import ip_address

import pytest

from federation.errors import UnsafeURLError
from federation.netguard import check_address, is_public_address, parse_ip

PUBLIC = [
    "8.8.8.8",
    "93.184.216.34",
    "100.128.0.1",  # just past CGNAT
    "172.32.0.1",  # just past 172.16/12
    "2606:4700:4700::1111",
    "2a01:4f8::1",
    "::ffff:8.8.8.8",  # mapped public
    "64:ff9b::8.8.8.8",  # NAT64 to a public host: how IPv6-only hubs reach IPv4 peers
    "64:ff9b::808:808",
    "2002:808:808::1",  # 6to4 around a public IPv4
    "::8.8.8.8",  # deprecated IPv4-compatible, public inside
]

REFUSED = [
    # IPv4 loopback, private, shared, link-local, "this network"
    "127.0.0.1",
    "127.255.255.254",
    "10.0.0.1",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.1.1",
    "100.64.0.1",
    "100.127.255.255",
    "169.254.169.254",  # cloud metadata
    "0.0.0.0",
    "0.1.2.3",
    # IPv4 special-use
    "192.0.0.1",
    "192.0.2.1",
    "192.88.99.1",
    "198.18.0.1",
    "198.19.255.255",
    "198.51.100.1",
    "203.0.113.1",
    "224.0.0.1",
    "239.255.255.255",
    "240.0.0.1",
    "255.255.255.255",
    # IPv6 loopback, unspecified, link-local, ULA, multicast, discard, documentation
    "::1",
    "::",
    "fe80::1",
    "fe80::1%eth0",
    "fc00::1",
    "fd12:3456::1",
    "ff02::1",
    "100::1",
    "2001:db8::1",
    "3fff::1",
    "2001:2::1",  # benchmarking, inside 2001::/23
    # IPv4-mapped: judged by the IPv4 inside
    "::ffff:127.0.0.1",
    "::ffff:7f00:1",
    "::ffff:10.0.0.1",
    "::ffff:169.254.169.254",
    "::ffff:0.0.0.0",
    # IPv4-compatible (deprecated)
    "::127.0.0.1",
    "::10.0.0.1",
    "::0.0.0.2",
    # NAT64 well-known prefix around non-public IPv4
    "64:ff9b::127.0.0.1",
    "64:ff9b::7f00:1",
    "64:ff9b::a00:1",
    "64:ff9b::169.254.169.254",
    # Local-use NAT64 is refused whatever it carries
    "64:ff9b:1::",
    "64:ff9b:1::808:808",
    # 6to4 around non-public IPv4
    "2002:7f00:1::",
    "2002:a00:1::",
    "2002:c0a8:1::",
    "2002:a9fe:a9fe::1",
    # Teredo (2001::/32, inside 2001::/23), whatever the embedded addresses
    "2001::",
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",
    "2001:0:808:808::1",
    # Not global unicast at all
    "::ffff:0:a00:1",  # SIIT IPv4-translated
    "4000::1",
]


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_are_allowed_in_every_mode(address: str) -> None:
    ip = ip_address(address)
    assert is_public_address(ip)
    check_address(ip, allow_loopback=False, allow_private=False)


@pytest.mark.parametrize("address", REFUSED)
def test_non_public_addresses_are_refused_by_default(address: str) -> None:
    ip = ip_address(address)
    assert not is_public_address(ip)
    with pytest.raises(UnsafeURLError):
        check_address(ip, allow_loopback=False, allow_private=False)


@pytest.mark.parametrize(
    "address", ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1", "::ffff:7f00:1"]
)
def test_loopback_mode_admits_loopback_only(address: str) -> None:
    check_address(ip_address(address), allow_loopback=True, allow_private=False)
    with pytest.raises(UnsafeURLError):
        check_address(ip_address(address), allow_loopback=False, allow_private=True)


@pytest.mark.parametrize(
    "address",
    [
        "10.0.0.1",
        "::ffff:10.0.0.1",
        "169.254.169.254",
        "0.0.0.0",
        "::",
        "fe80::1",
        "64:ff9b::127.0.0.1",  # a translator's loopback is not ours
        "2002:7f00:1::",
        "::127.0.0.1",
    ],
)
def test_loopback_mode_still_refuses_everything_else(address: str) -> None:
    with pytest.raises(UnsafeURLError):
        check_address(ip_address(address), allow_loopback=True, allow_private=False)


@pytest.mark.parametrize(
    "address",
    [
        "10.1.2.3",
        "172.20.0.1",
        "192.168.0.10",
        "100.100.100.100",
        "fd7a:115c:a1e0::1",
        "::ffff:192.168.0.10",
    ],
)
def test_private_mode_admits_private_ranges(address: str) -> None:
    check_address(ip_address(address), allow_loopback=False, allow_private=True)


@pytest.mark.parametrize(
    "address",
    [
        "169.254.169.254",
        "fe80::1",
        "224.0.0.1",
        "0.0.0.0",
        "192.0.2.1",
        "64:ff9b::a00:1",
        "2002:a00:1::",
    ],
)
def test_private_mode_never_admits_link_local_or_special_use(address: str) -> None:
    with pytest.raises(UnsafeURLError):
        check_address(ip_address(address), allow_loopback=True, allow_private=True)


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", ip_address("127.0.0.1")),
        ("[::1]", ip_address("::1")),
        ("::ffff:a00:1", ip_address("::ffff:10.0.0.1")),
        ("example.com", None),
        ("2130706433", None),  # a name to ipaddress; the fetcher refuses it separately
    ],
)
def test_parse_ip(host: str, expected: object) -> None:
    assert parse_ip(host) == expected
