"""Where a merchant's webhooks may go: the node must not be made to POST into its own network.

A webhook URL is the merchant's choice, and each attempt's status is shown to the merchant, so an endpoint on
a private address would let a merchant probe (and reach) what only the node can: its loopback services, the
bank's internal network, the cloud's metadata service. Outside a ``local`` environment:

- the URL is ``https://`` with a host name or a public address (:func:`url_refusal`, checked at onboarding,
  a 422 there, and again before each attempt);
- at each attempt the name is resolved and every address it resolves to must be public
  (:func:`address_refusal`: not private, loopback, link-local, multicast, reserved, CGNAT, documentation or a
  cloud metadata address, IPv4 or IPv6, IPv4-mapped IPv6 judged by the IPv4 address inside); the node then
  connects to the address it checked, not to the name, so nothing can change between the check and the
  connection (no DNS rebinding), and sends the name as ``Host`` and TLS SNI, where the certificate is verified
  (:func:`pinned_request`);
- redirects are never followed (a 3xx is a failed attempt);
- with ``webhook_proxy`` set, the node sends every webhook through that egress proxy, which resolves and
  connects (and enforces the bank's egress policy); the node checks only the URL.

In ``local`` (a laptop network whose test receivers listen on 127.0.0.1) ``http://`` and any address are fine.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from typing import Any, Final

import httpx

from node.errors import ValidationProblem
from node.settings import Environment, NodeSettings
from wallet_sdk.exceptions import DeclaredError, error_message

__all__ = [
    "BLOCKED_NETWORKS",
    "Resolver",
    "WebhookTargetRefusedError",
    "address_refusal",
    "pinned_request",
    "resolve_checked",
    "url_refusal",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Sequence[str]]
"""(host, port) -> the addresses the host resolves to, as text."""


def _networks(*rows: tuple[str, str]) -> tuple[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str], ...]:
    return tuple((ipaddress.ip_network(cidr), what) for cidr, what in rows)


# Every range that is not the public internet (IANA's special-purpose registries), with what it is. Cloud
# metadata services live inside them: 169.254.169.254 (link-local), 100.100.100.200 (CGNAT), 192.0.0.192
# (IETF protocol assignments), fd00:ec2::254 (unique local).
BLOCKED_NETWORKS: Final = _networks(
    ("0.0.0.0/8", "a 'this network' address"),
    ("10.0.0.0/8", "a private address"),
    ("100.64.0.0/10", "a carrier-grade NAT (shared) address"),
    ("127.0.0.0/8", "a loopback address"),
    ("169.254.0.0/16", "a link-local address (cloud metadata lives here)"),
    ("172.16.0.0/12", "a private address"),
    ("192.0.0.0/24", "an IETF protocol assignment"),
    ("192.0.2.0/24", "a documentation address"),
    ("192.88.99.0/24", "a 6to4 relay address"),
    ("192.168.0.0/16", "a private address"),
    ("198.18.0.0/15", "a benchmarking address"),
    ("198.51.100.0/24", "a documentation address"),
    ("203.0.113.0/24", "a documentation address"),
    ("224.0.0.0/4", "a multicast address"),
    ("240.0.0.0/4", "a reserved address"),
    ("::/128", "the unspecified address"),
    ("::1/128", "a loopback address"),
    ("::/96", "an IPv4-compatible address"),
    ("64:ff9b:1::/48", "a local NAT64 address"),
    ("100::/64", "a discard-only address"),
    ("2001::/23", "an IETF protocol assignment (Teredo among them)"),
    ("2001:db8::/32", "a documentation address"),
    ("2002::/16", "a 6to4 address"),
    ("fc00::/7", "a unique local (private) address"),
    ("fe80::/10", "a link-local address"),
    ("fec0::/10", "a site-local address"),
    ("ff00::/8", "a multicast address"),
)
_NAT64: Final = ipaddress.ip_network("64:ff9b::/96")  # well-known NAT64: the IPv4 address is the last 32 bits


@error_message("{reason}")
class WebhookTargetRefusedError(DeclaredError, ValidationProblem, ValueError):
    """The node will not send a webhook there; ``reason`` says why (it is shown in the delivery log)."""

    reason: str


def _restricted(settings: NodeSettings) -> bool:
    return settings.environment is not Environment.LOCAL


def address_refusal(address: IPAddress | str) -> str | None:
    """Why the node must not connect to ``address`` (a sentence), or None for a public address."""
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv6Address):
        inner = ip.ipv4_mapped or (ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF) if ip in _NAT64 else None)
        if inner is not None:
            why = address_refusal(inner)
            return None if why is None else f"{ip} embeds {why}"
    for network, what in BLOCKED_NETWORKS:
        if ip.version == network.version and ip in network:
            return f"{ip} is {what}"
    return None


def _literal(host: str) -> IPAddress | None:
    """The address a URL's host names literally: IPv4 or IPv6, or the old numeric forms that resolvers
    accept (``2130706433``, ``0x7f.1``, ``127.1``); None for a name."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def url_refusal(settings: NodeSettings, url: str) -> str | None:
    """Why ``url`` cannot be a webhook endpoint of this node (a sentence), or None. What the URL itself says
    only: where a name leads is checked at each attempt."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError):
        return "not a valid URL"
    allowed = ("https",) if _restricted(settings) else ("http", "https")
    if parsed.scheme not in allowed or not parsed.host:
        return "a webhook URL is https://<host>/..." if _restricted(settings) else "a webhook URL is http(s)://..."
    if not _restricted(settings):
        return None
    host = parsed.host.rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return f"{host} is a loopback name"
    literal = _literal(host)
    return address_refusal(literal) if literal is not None else None


def _system_resolver(host: str, port: int) -> list[str]:
    return [str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


def resolve_checked(host: str, port: int, resolver: Resolver | None = None) -> IPAddress:
    """The address to connect to for ``host``: it resolves (once: the caller connects to this address), and
    every address it resolves to is public.

    Raises:
        WebhookTargetRefusedError: the name does not resolve, or one of its addresses is not public.
    """
    try:
        found = [ipaddress.ip_address(a.split("%")[0]) for a in (resolver or _system_resolver)(host, port)]
    except (OSError, UnicodeError) as exc:
        raise WebhookTargetRefusedError(f"{host} does not resolve ({exc})") from None
    if not found:
        raise WebhookTargetRefusedError(f"{host} does not resolve")
    for address in found:
        why = address_refusal(address)
        if why is not None:
            raise WebhookTargetRefusedError(f"{host} resolves to {address}: {why.removeprefix(f'{address} ')}")
    return found[0]


def pinned_request(http: httpx.Client, settings: NodeSettings, url: str, *, resolver: Resolver | None = None,
                   **kwargs: Any) -> httpx.Request:
    """The POST of a webhook to ``url`` as this node may send it (see the module's docstring): outside
    ``local`` and without a proxy, to the checked address of the URL's host, with the name as ``Host`` and
    TLS SNI, on a connection used for this request only (``Connection: close``: a pooled connection to the
    same address was verified for another merchant's name).

    Raises:
        WebhookTargetRefusedError: the URL or the address it leads to is not allowed.
    """
    why = url_refusal(settings, url)
    if why is not None:
        raise WebhookTargetRefusedError(why)
    if not _restricted(settings) or settings.webhook_proxy:
        return http.build_request("POST", url, **kwargs)
    target = httpx.URL(url)
    port = target.port or 443
    address = resolve_checked(target.host, port, resolver)
    headers = {**kwargs.pop("headers", {}), "Host": target.netloc.decode("ascii"), "Connection": "close"}
    extensions = {**kwargs.pop("extensions", {}), "sni_hostname": target.host}
    return http.build_request("POST", target.copy_with(host=str(address)), headers=headers, extensions=extensions,
                              **kwargs)
