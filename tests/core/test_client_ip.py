"""One client-IP policy: X-Forwarded-For only from trusted proxies, read right to left."""

import ipaddress

import pytest
from django.core.exceptions import ImproperlyConfigured

from core.client_ip import parse_trusted_proxies, resolve

PROXIES = tuple(ipaddress.ip_network(n) for n in ("127.0.0.1", "10.9.0.0/16", "fd00::/8"))


@pytest.mark.parametrize(("peer", "xff", "expected"), [
    # No header, or an untrusted peer: the socket peer is the client, whatever it claims.
    ("203.0.113.5", "", "203.0.113.5"),
    ("203.0.113.5", "198.51.100.1", "203.0.113.5"),
    ("203.0.113.5", "127.0.0.1", "203.0.113.5"),
    # Behind one trusted proxy: the address it saw (the rightmost entry).
    ("127.0.0.1", "198.51.100.1", "198.51.100.1"),
    # A proxy that appends: the client's forged entries on the left count for nothing.
    ("127.0.0.1", "1.2.3.4, 5.6.7.8, 198.51.100.1", "198.51.100.1"),
    # Two trusted hops (load balancer, then nginx): skip both, take the client.
    ("127.0.0.1", "198.51.100.1, 10.9.0.7", "198.51.100.1"),
    # Every hop trusted: the leftmost one is as far as we can see.
    ("127.0.0.1", "10.9.0.8, 10.9.0.7", "10.9.0.8"),
    # Garbage stops the walk at the hop that wrote it.
    ("127.0.0.1", "198.51.100.1, not-an-ip", "127.0.0.1"),
    ("127.0.0.1", "1.2.3.4, <script>, 10.9.0.7", "10.9.0.7"),
    # Ports and IPv6 forms are one client each.
    ("127.0.0.1", "198.51.100.1:4711", "198.51.100.1"),
    ("127.0.0.1", "[2001:db8::1]:443", "2001:db8::1"),
    ("::ffff:203.0.113.5", "", "203.0.113.5"),
    ("fd00::1", "2001:db8::2", "2001:db8::2"),
])
def test_resolve(peer, xff, expected):
    assert resolve(peer, xff, PROXIES) == expected


def test_without_trusted_proxies_the_header_is_never_read():
    assert resolve("127.0.0.1", "198.51.100.1", ()) == "127.0.0.1"


@pytest.mark.parametrize("value", ["1", "2", "nginx", "10.0.0.0/33"])
def test_a_proxy_count_or_a_name_is_a_configuration_error(value):
    with pytest.raises(ImproperlyConfigured):
        parse_trusted_proxies(value)


def test_empty_or_zero_means_no_proxies():
    assert parse_trusted_proxies("") == [] and parse_trusted_proxies("0") == []
    assert parse_trusted_proxies(" 127.0.0.1, 10.0.0.0/8 ") == ["127.0.0.1", "10.0.0.0/8"]


def test_api_throttle_and_audit_log_use_the_same_address(rf, settings):
    from core.api.throttling import IpWriteThrottle
    from core.observability import client_ip

    settings.SHOP_TRUSTED_PROXIES = ["127.0.0.1"]
    request = rf.post("/api/v1/events/", REMOTE_ADDR="127.0.0.1",
                      HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.1")
    assert IpWriteThrottle().get_ident(request) == client_ip(request) == "198.51.100.1"
