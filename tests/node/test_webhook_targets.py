"""Where the node may send webhooks (node.merchants.webhook_targets): the address policy over a table of addresses,
the URL check of onboarding, and the pinned request (the checked address, the name as Host and SNI). No
database, no network: names are resolved by a table here. Delivery itself is in test_flows_webhooks.py."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import httpx
import pytest

from node.merchants.webhook_targets import (
    Resolver,
    WebhookTargetRefusedError,
    address_refusal,
    pinned_request,
    resolve_checked,
    url_refusal,
)
from node.settings import Environment, NodeSettings, load_settings

REFUSED = [
    ("127.0.0.1", "loopback"),
    ("127.255.255.254", "loopback"),
    ("::1", "loopback"),
    ("169.254.169.254", "link-local"),  # AWS, GCP, Azure metadata
    ("169.254.0.1", "link-local"),
    ("fe80::1", "link-local"),
    ("fd00:ec2::254", "unique local"),  # AWS metadata over IPv6
    ("100.100.100.200", "carrier-grade NAT"),  # Alibaba Cloud metadata
    ("192.0.0.192", "IETF protocol"),  # Oracle Cloud metadata
    ("100.64.0.1", "carrier-grade NAT"),
    ("10.1.2.3", "private"),
    ("172.16.0.1", "private"),
    ("172.31.255.255", "private"),
    ("192.168.1.1", "private"),
    ("fc00::1", "unique local"),
    ("0.0.0.0", "this network"),
    ("::", "unspecified"),
    ("224.0.0.1", "multicast"),
    ("239.255.255.250", "multicast"),
    ("ff02::1", "multicast"),
    ("240.0.0.1", "reserved"),
    ("255.255.255.255", "reserved"),
    ("192.0.2.10", "documentation"),
    ("198.51.100.7", "documentation"),
    ("203.0.113.9", "documentation"),
    ("2001:db8::1", "documentation"),
    ("198.18.0.1", "benchmarking"),
    ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped: judged by the IPv4 address inside
    ("::ffff:169.254.169.254", "link-local"),
    ("::ffff:10.0.0.1", "private"),
    ("64:ff9b::7f00:1", "loopback"),  # NAT64 of 127.0.0.1
    ("::127.0.0.1", "IPv4-compatible"),
    ("2002:7f00:1::1", "6to4"),
    ("2001:0:4136:e378::1", "Teredo"),
    ("fec0::1", "site-local"),
]
PUBLIC = ["93.184.215.14", "8.8.8.8", "1.1.1.1", "172.32.0.1", "100.128.0.1", "2606:4700:4700::1111",
          "2a00:1450:4001:80b::200e", "::ffff:93.184.215.14", "64:ff9b::5db8:d70e"]


@pytest.mark.parametrize(("address", "kind"), REFUSED)
def test_non_public_addresses_are_refused(address: str, kind: str) -> None:
    why = address_refusal(address)
    assert why is not None and kind in why, why


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_are_allowed(address: str) -> None:
    assert address_refusal(address) is None


@pytest.fixture
def production(tmp_path: Path) -> NodeSettings:
    """Settings whose environment is production (the rest of their production checks is test_node_settings's)."""
    return load_settings(data_dir=tmp_path).model_copy(update={"environment": Environment.PRODUCTION})


@pytest.mark.parametrize(("url", "reason"), [
    ("http://hooks.example.com/h", "https://"),
    ("ftp://hooks.example.com/h", "https://"),
    ("https:///h", "https://"),
    ("https://169.254.169.254/latest/meta-data", "link-local"),
    ("https://127.0.0.1:8443/h", "loopback"),
    ("https://[::1]/h", "loopback"),
    ("https://[::ffff:a9fe:a9fe]/h", "link-local"),
    ("https://2130706433/h", "loopback"),  # 127.0.0.1 as one number
    ("https://0x7f.1/h", "loopback"),
    ("https://10.0.0.1/h", "private"),
    ("https://localhost:9000/h", "loopback name"),
    ("https://api.localhost/h", "loopback name"),
])
def test_outside_local_a_webhook_url_is_https_to_a_name_or_public_address(production: NodeSettings, url: str,
                                                                          reason: str) -> None:
    why = url_refusal(production, url)
    assert why is not None and reason in why, why


def test_public_urls_pass_and_local_mode_allows_loopback_http(production: NodeSettings, tmp_path: Path) -> None:
    for url in ("https://hooks.example.com/h", "https://93.184.215.14:8443/h", "https://[2606:4700::1]/h"):
        assert url_refusal(production, url) is None, url
    local = load_settings(data_dir=tmp_path)
    assert url_refusal(local, "http://127.0.0.1:8080/hooks") is None
    assert url_refusal(local, "ftp://127.0.0.1/hooks") is not None


def table(names: dict[str, list[str]]) -> Resolver:
    """A resolver that knows only ``names``."""

    def resolve(host: str, port: int) -> Sequence[str]:
        if host not in names:
            raise OSError(f"[Errno -2] Name or service not known: {host}")
        return names[host]
    return resolve


def test_every_address_a_name_resolves_to_must_be_public() -> None:
    names = table({"shop.example": ["93.184.215.14", "2606:4700::1"], "rebind.example": ["93.184.215.14", "10.0.0.7"],
                   "mapped.example": ["::ffff:127.0.0.1"]})
    assert str(resolve_checked("shop.example", 443, names)) == "93.184.215.14"
    with pytest.raises(WebhookTargetRefusedError, match=r"rebind.example resolves to 10.0.0.7: is a private"):
        resolve_checked("rebind.example", 443, names)
    with pytest.raises(WebhookTargetRefusedError, match="loopback"):
        resolve_checked("mapped.example", 443, names)
    with pytest.raises(WebhookTargetRefusedError, match="does not resolve"):
        resolve_checked("gone.example", 443, names)
    with pytest.raises(WebhookTargetRefusedError, match=r"localhost resolves to .*loopback"):  # the system's resolver
        resolve_checked("localhost", 443)


def test_the_request_goes_to_the_checked_address_with_the_name_as_host_and_sni(production: NodeSettings) -> None:
    names = table({"hooks.shop.example": ["2606:4700::1111", "93.184.215.14"]})
    with httpx.Client() as http:
        request = pinned_request(http, production, "https://hooks.shop.example:8443/walletnet?x=1", content=b"{}",
                                 headers={"User-Agent": "t"}, resolver=names)
        assert str(request.url) == "https://[2606:4700::1111]:8443/walletnet?x=1"
        assert request.headers["Host"] == "hooks.shop.example:8443"
        assert request.headers["Connection"] == "close" and request.headers["User-Agent"] == "t"
        assert request.extensions["sni_hostname"] == "hooks.shop.example"

        # through an egress proxy the URL goes as it is: the proxy resolves and connects
        proxied = production.model_copy(update={"webhook_proxy": "http://proxy.bank.internal:3128"})
        request = pinned_request(http, proxied, "https://hooks.shop.example/walletnet", resolver=table({}))
        assert str(request.url) == "https://hooks.shop.example/walletnet" and "sni_hostname" not in request.extensions
        with pytest.raises(WebhookTargetRefusedError, match="link-local"):  # the URL itself is still checked
            pinned_request(http, proxied, "https://169.254.169.254/latest", resolver=table({}))
