"""Helpers of the merchant-flow tests: onboarding a merchant through the API, the customer's app paying a
request, and a webhook receiver on loopback that checks every signature with the SDK."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from flow_network import BankNode
from money_flows_support import Customer, chain_now, completed, domain, fresh

from tools.devnet import free_port
from wallet_sdk import authorizations, webhooks
from wallet_sdk.authorizations import MerchantPayment, SignedAuthorization
from wallet_sdk.client import Client
from wallet_sdk.client.merchants import MerchantOnboarding
from wallet_sdk.payload import PaymentRequest, decode_payload


@dataclass(frozen=True)
class Shop:
    """A merchant acquired by ``bank``, with its own API key's client and its webhook secret."""

    bank: BankNode
    merchant_id: str
    wallet: str
    account: str
    client: Client
    webhook_secret: str | None
    onboarding: MerchantOnboarding


def onboard_shop(bank: BankNode, *, fee_bps: int = 150, payout_mode: str = "wallet",
                 webhook_url: str | None = None, merchant_id: str | None = None) -> Shop:
    """Onboard a new merchant at ``bank`` (a fresh id unless ``merchant_id``) through the admin API and wait until it
    is active on chain."""
    admin = bank.client("admin")
    merchant_id = merchant_id or fresh("SHOP")
    account = bank.fund_account(fresh("MRCH"), 0, customer_ref=merchant_id)
    onboarding = admin.onboard_merchant(merchant_id, legal_name=f"{merchant_id} Ltd", mcc=5411, fee_bps=fee_bps,
                                        settlement_account=account, payout_mode=payout_mode,  # type: ignore[arg-type]
                                        webhook_url=webhook_url)
    completed(admin, onboarding.operation)
    assert onboarding.api_key is not None
    client = Client(bank.url, onboarding.api_key, timeout=30.0)
    bank._clients.append(client)
    return Shop(bank, merchant_id, onboarding.merchant.wallet, account, client, onboarding.webhook_secret,
                onboarding)


def decode_request(customer: Customer, payload: str) -> PaymentRequest:
    """What the customer's app does with the scanned QR text: decode and check it for its own network, and that
    the merchant's bank signed it (on chain)."""
    network = customer.bank.network
    d = domain(customer.bank)
    item = decode_payload(payload, chain_id=d.chain_id, contract=d.verifying_contract,
                          settlement=network.addresses["MerchantSettlement"], token_name=d.name,
                          now=chain_now(customer.bank), is_request_signer=network.is_request_signer)
    assert isinstance(item, PaymentRequest)
    return item


def sign_request(customer: Customer, payload: str) -> SignedAuthorization[MerchantPayment]:
    """The self-custody customer's app signs the payment of a scanned request."""
    signed: SignedAuthorization[MerchantPayment] = customer.sign(decode_request(customer, payload)
                                                                 .to_payment(customer.wallet))
    return signed


def sign_payment(customer: Customer, shop: Shop, order_id: str, amount: int, *,
                 valid_for: int = 600) -> SignedAuthorization[MerchantPayment]:
    """The customer's app signs a payment for the POS to scan (customer-presented QR): no request signature, the
    merchant's bank adds it."""
    network = customer.bank.network
    payment = MerchantPayment(acquirer=shop.bank.bank_id, merchant_id=authorizations.merchant_id(shop.merchant_id),
                              order_id=authorizations.order_id(order_id),
                              payer=customer.wallet, amount=amount, valid_before=chain_now(customer.bank) + valid_for,
                              settlement=network.addresses["MerchantSettlement"])
    signed: SignedAuthorization[MerchantPayment] = customer.sign(payment)
    return signed


@dataclass
class Received:
    event_type: str
    event_id: str
    body: dict[str, Any]


@dataclass
class WebhookReceiver:
    """A merchant's webhook endpoint on 127.0.0.1: answers ``fail_first`` requests with 500, then 200; keeps
    what it accepted (signature verified with the SDK) and counts what it refused."""

    secret: str = ""
    fail_first: int = 0
    received: list[Received] = field(default_factory=list)
    refused: int = 0
    failed: int = 0
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, headers: Any, raw: bytes) -> int:
        with self.lock:
            if self.failed < self.fail_first:
                self.failed += 1
                return 500
            try:
                webhooks.verify(self.secret, headers.get(webhooks.SIGNATURE_HEADER, ""), raw)
            except webhooks.WebhookSignatureError:
                self.refused += 1
                return 400
            self.received.append(Received(headers.get(webhooks.EVENT_TYPE_HEADER, ""),
                                          headers.get(webhooks.EVENT_ID_HEADER, ""), json.loads(raw)))
            return 200

    def of_type(self, event_type: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.event_type == event_type]


@contextmanager
def webhook_receiver(*, fail_first: int = 0) -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver(fail_first=fail_first)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            status = receiver.handle(self.headers, raw)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, name="webhook-receiver", daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{port}/hooks"
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
