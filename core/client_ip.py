"""The one answer to "which client sent this request?": throttles, audit log, admin login.

Gunicorn sets REMOTE_ADDR to the socket peer; behind nginx that is nginx for
every request. X-Forwarded-For carries the client, but any client can write
one, so it is believed only this far:

- the socket peer must be one of `SHOP_TRUSTED_PROXIES` (addresses or
  networks, e.g. "127.0.0.1,10.0.0.0/8"); from anyone else the header is
  ignored and the peer is the client;
- the header is read right to left, skipping the trusted proxies' own
  entries; the first untrusted address is the one the last trusted proxy
  saw, i.e. the client. Anything further left was written by that client and
  is worthless, so a proxy that appends (nginx's
  $proxy_add_x_forwarded_for) cannot be used to pick a fresh "IP" per request;
- an entry that is not an IP address stops the walk at the proxy that wrote
  it (its peer is what it could vouch for).

With no trusted proxies (the embedded default) X-Forwarded-For is never read.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _parse(spec: tuple[str, ...]) -> tuple[Network, ...]:
    networks = []
    for item in spec:
        try:
            networks.append(ipaddress.ip_network(item.strip(), strict=False))
        except ValueError:
            raise ImproperlyConfigured(
                f"SHOP_TRUSTED_PROXIES: {item!r} is not an IP address or network "
                "(it names the proxies' addresses now, not their number)"
            ) from None
    return tuple(networks)


def trusted_proxies() -> tuple[Network, ...]:
    """Return the networks whose X-Forwarded-For is believed (settings, parsed once)."""
    return _parse(tuple(getattr(settings, "SHOP_TRUSTED_PROXIES", ()) or ()))


def parse_trusted_proxies(value: str) -> list[str]:
    """Return the proxies named in an environment value ("" or "0": none); check each."""
    items = [item.strip() for item in value.split(",") if item.strip() and item.strip() != "0"]
    _parse(tuple(items))
    return items


def _address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    value = value.strip()
    if value.startswith("[") and "]" in value:  # [v6]:port
        value = value[1:value.index("]")]
    elif value.count(":") == 1:  # v4:port
        value = value.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    # An IPv4 client seen through an IPv6 socket: one client, one key.
    return address.ipv4_mapped or address if address.version == 6 else address


def _is_trusted(address, networks: tuple[Network, ...]) -> bool:
    return address is not None and any(address in network for network in networks)


def resolve(peer: str, forwarded_for: str, networks: tuple[Network, ...]) -> str:
    """Return the client's address from the socket `peer` and an X-Forwarded-For value."""
    peer_address = _address(peer)
    if not networks or not _is_trusted(peer_address, networks):
        return str(peer_address) if peer_address is not None else peer
    client = peer_address
    for entry in reversed([part for part in forwarded_for.split(",") if part.strip()]):
        address = _address(entry)
        if address is None:
            break  # garbage: the hop that wrote it is all we can vouch for
        client = address
        if not _is_trusted(address, networks):
            break
    return str(client)


def client_ip(request) -> str:
    """Return the client address of `request` (cached on it)."""
    cached = getattr(request, "_shop_client_ip", None)
    if cached is None:
        cached = resolve(request.META.get("REMOTE_ADDR", ""),
                         request.META.get("HTTP_X_FORWARDED_FOR", ""), trusted_proxies())
        try:
            request._shop_client_ip = cached
        except AttributeError:  # a request object that takes no attributes
            pass
    return cached
