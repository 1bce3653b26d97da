"""Domain blocks: which authorities an entry covers."""

from __future__ import annotations

import pytest

from federation.policy import DomainPolicy, authority_of


@pytest.mark.parametrize(("authority", "blocked"), [
    ("bad.example", True),             # the host itself
    ("BAD.example:8443", True),        # any port, any case
    ("sub.bad.example", True),         # subdomains
    ("notbad.example", False),         # a name that merely ends alike
    ("example", False),                # the parent is not blocked
    ("127.0.0.1:9000", True),          # a host:port entry covers that port
    ("127.0.0.1:9001", False),         # and no other
    ("127.0.0.1", False),
    ("bad.example.", True),            # the DNS root's dot changes nothing
    ("sub.bad.example.:8443", True),
    ("127.0.0.1.:9000", True),
])
def test_entries_cover_hosts_subdomains_and_ports(authority: str, blocked: bool) -> None:
    policy = DomainPolicy(["bad.example", "127.0.0.1:9000"])
    assert policy.is_blocked(authority) is blocked


def test_urls_are_judged_by_their_authority() -> None:
    policy = DomainPolicy(["bad.example"])
    assert policy.is_url_blocked("https://sub.bad.example/users/x")
    assert not policy.is_url_blocked("https://good.example/users/bad.example")
    assert authority_of("https://A.example:443/x") == "a.example"
    assert authority_of("http://a.example:8080/x") == "a.example:8080"
    assert not DomainPolicy().is_blocked("anything.example")


def test_a_trailing_dot_does_not_slip_past_a_block() -> None:
    policy = DomainPolicy(["bad.example", "worse.example."])
    assert policy.is_url_blocked("https://bad.example./inbox")
    assert policy.is_url_blocked("https://sub.bad.example./inbox")
    assert policy.is_url_blocked("https://worse.example/inbox")
    assert authority_of("https://A.example./x") == "a.example"
