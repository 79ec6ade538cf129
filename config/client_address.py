"""Who the client is: the peer (REMOTE_ADDR), unless the peer is one of TRUSTED_PROXIES.

Behind trusted proxies the client is the right-most X-Forwarded-For address that is not itself a
trusted proxy: each proxy appends the address it took the request from, so whatever stands
further left was written by the client and is ignored. A peer outside the list is the client,
whatever its headers say, so nobody reaching the app server directly can hide their address or
reset a rate limit by writing the header. gunicorn decides the scheme (X-Forwarded-Proto) from the
same list (config/gunicorn.py).

Every reader goes through here: the API's rate limits (api.throttling), allauth's rate limits,
sessions page and notifications (accounts.adapters, AccountAdapter.get_client_ip), the audit log.
"""

import ipaddress

from django.conf import settings
from django.http import HttpRequest

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _address(text: str) -> Address | None:
    """`text` as an address (an IPv4-mapped IPv6 one as its IPv4), or None if it is not one."""
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if address.version == 6 and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def is_trusted_proxy(address: Address) -> bool:
    """Whether `address` is in TRUSTED_PROXIES (addresses or CIDR ranges, read as gunicorn
    reads them, which refuses to start on an entry that is neither)."""
    return any(address in ipaddress.ip_network(entry.strip()) for entry in settings.TRUSTED_PROXIES)


def client_address(request: HttpRequest) -> str:
    """The client's address (see the module docstring); REMOTE_ADDR as given when it is not an
    address (a UNIX socket's peer)."""
    peer = request.META.get("REMOTE_ADDR", "")
    address = _address(peer)
    if address is None:
        return peer
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    while is_trusted_proxy(address) and forwarded:
        hop = _address(forwarded.pop())
        if hop is None:
            # A proxy we trust appends only addresses: past a malformed entry nothing is known,
            # and the last proxy that handed the request on answers for it.
            break
        address = hop
    return str(address)


def client_network(request: HttpRequest) -> str:
    """The client as rate limits count it: its address, an IPv6 one as its /64 network, which one
    subscriber usually holds whole."""
    client = client_address(request)
    address = _address(client)
    if address is not None and address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return client
