"""Merchant webhooks (node.merchants.webhooks) on SQLite and PostgreSQL: events made from indexer rows, delivered
signed to a real HTTP receiver on 127.0.0.1 that checks each request with wallet_sdk.webhooks.verify, retried
with exponential backoff until they fail, and redelivered by hand."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from production_support import production_settings
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from node.db import transaction
from node.indexer.models import MerchantOrder, MerchantRefund, SettlementBatchRecord
from node.merchants import webhooks
from node.merchants.models import (
    Merchant,
    MerchantState,
    PayoutMode,
    WebhookAttempt,
    WebhookEvent,
    WebhookEventType,
    WebhookState,
)
from node.settings import NodeSettings, load_settings
from wallet_sdk.webhooks import (
    EVENT_ID_HEADER,
    EVENT_TYPE_HEADER,
    SIGNATURE_HEADER,
    WebhookSignatureError,
    sign,
    verify,
)

T0 = datetime(2031, 5, 1, 12, 0, tzinfo=UTC)  # the tests' clock: passed as ``now``, never slept on
PAID_AT = datetime(2031, 5, 1, 9, 30, tzinfo=UTC)
BACKOFF = 10.0
MAX_ATTEMPTS = 3


# ------------------------------------------------------------------ a merchant's receiver


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes
    verified: bool


class Receiver:
    """A merchant's webhook endpoint: verifies each POST against its clock, records it, answers ``status``."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.clock = int(T0.timestamp())
        self.status = 200
        self.requests: list[Received] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                try:
                    verify(receiver.secret, self.headers.get(SIGNATURE_HEADER, ""), body, now=receiver.clock)
                    verified = True
                except WebhookSignatureError:
                    verified = False
                receiver.requests.append(Received(dict(self.headers.items()), body, verified))
                self.send_response(receiver.status if verified else 400)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/walletnet"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def at(self, when: datetime) -> datetime:
        self.clock = int(when.timestamp())
        return when


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> NodeSettings:
    return load_settings(bank_id="BANKA", db_url=db_url, data_dir=tmp_path, webhook_backoff=BACKOFF,
                         webhook_max_attempts=MAX_ATTEMPTS, webhook_timeout=5.0)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver(webhooks.new_webhook_secret())
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()
    server.thread.join(5)


def closed_port_url() -> str:
    """A loopback URL nothing listens on (a port the OS just handed out and we released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/hooks"


# ------------------------------------------------------------------ rows


def add_merchant(session: Session, settings: NodeSettings, merchant_id: str, *, url: str | None, secret: str,
                 state: MerchantState = MerchantState.ACTIVE) -> None:
    n = sum(map(ord, merchant_id))
    session.add(Merchant(merchant_id=merchant_id, legal_name=f"{merchant_id} Ltd", mcc=5411, fee_bps=150,
                         payout_mode=PayoutMode.WALLET, settlement_account=f"merchant:{merchant_id.lower()}",
                         account_hash="0x" + f"{n:064x}", wallet="0x" + f"{n:040x}", state=state, webhook_url=url,
                         webhook_secret_ciphertext=webhooks.seal_secret(settings, secret), operation=None))


def tx(n: int) -> str:
    return "0x" + f"{n:064x}"


def add_order(session: Session, merchant_id: str, order_id: str, *, block: int, log_index: int = 0,
              amount: int = 12_500) -> None:
    session.add(MerchantOrder(acquirer="BANKA", merchant_id=merchant_id, order_id=order_id, payer="0x" + "ab" * 20,
                              currency="DCASH", paid_minor=amount, refunded_minor=0, paid_block=block,
                              paid_time=PAID_AT, paid_tx_hash=tx(block * 100 + log_index), paid_log_index=log_index,
                              last_refund_ref=None, batch_id=None))


def add_refund(session: Session, merchant_id: str, order_id: str, *, block: int, log_index: int = 0) -> None:
    session.add(MerchantRefund(acquirer="BANKA", merchant_id=merchant_id, order_id=order_id, payer="0x" + "ab" * 20,
                               currency="DCASH", amount_minor=2_500, refunded_total_minor=2_500, ref="RF-1",
                               block_number=block, block_time=PAID_AT, tx_hash=tx(block * 100 + log_index),
                               log_index=log_index, batch_id=1))


def add_batch(session: Session, merchant_id: str, *, block: int, log_index: int = 0) -> None:
    session.add(SettlementBatchRecord(merchant_id=merchant_id, batch_id=1, acquirer="BANKA", currency="DCASH",
                                      gross_minor=12_500, refunds_minor=2_500, fee_minor=150, net_minor=9_850,
                                      payout_mode="wallet", ref="ST-1", block_number=block, block_time=PAID_AT,
                                      tx_hash=tx(block * 100 + log_index), log_index=log_index))


def events(sessions: sessionmaker[Session], merchant_id: str) -> list[WebhookEvent]:
    with transaction(sessions) as session:
        return webhooks.list_events(session, merchant_id, limit=100)


def attempts(sessions: sessionmaker[Session], event: WebhookEvent) -> list[WebhookAttempt]:
    with transaction(sessions) as session:
        return list(webhooks.attempts_of(session, event))


def one_event(sessions: sessionmaker[Session], merchant_id: str) -> WebhookEvent:
    found = events(sessions, merchant_id)
    assert len(found) == 1
    return found[0]


# ------------------------------------------------------------------ tests


def test_secrets_are_sealed_with_the_custody_key(sessions: sessionmaker[Session], settings: NodeSettings) -> None:
    secret = webhooks.new_webhook_secret()
    assert secret.startswith("whsec_") and len(secret) == len("whsec_") + 43
    assert webhooks.new_webhook_secret() != secret
    with transaction(sessions) as session:
        add_merchant(session, settings, "SHOP1", url="https://example.test/h", secret=secret)
    with transaction(sessions) as session:
        merchant = session.scalars(select(Merchant)).one()
        assert merchant.webhook_secret_ciphertext is not None and secret not in merchant.webhook_secret_ciphertext
        assert webhooks.open_secret(settings, merchant) == secret
        merchant.webhook_secret_ciphertext = None
        assert webhooks.open_secret(settings, merchant) is None


def test_events_are_collected_once_and_delivered_signed(sessions: sessionmaker[Session], settings: NodeSettings,
                                                        receiver: Receiver) -> None:
    with transaction(sessions) as session:
        add_merchant(session, settings, "SHOP1", url=receiver.url, secret=receiver.secret)
        add_merchant(session, settings, "SHOP2", url=receiver.url, secret=receiver.secret,
                     state=MerchantState.SUSPENDED)  # suspended merchants are still told
        add_merchant(session, settings, "PENDING", url=receiver.url, secret=receiver.secret,
                     state=MerchantState.PENDING)
        add_merchant(session, settings, "NOHOOK", url=None, secret=receiver.secret)
        add_order(session, "SHOP1", "ORD-1", block=10, log_index=3)
        add_refund(session, "SHOP1", "ORD-1", block=12)
        add_batch(session, "SHOP1", block=13, log_index=1)
        add_order(session, "SHOP2", "ORD-9", block=11)
        add_order(session, "PENDING", "ORD-7", block=11, log_index=1)
        add_order(session, "NOHOOK", "ORD-8", block=11, log_index=2)
        add_order(session, "ELSEWHERE", "ORD-6", block=11, log_index=4)  # another bank's merchant

    assert webhooks.collect_events(sessions, settings) == 4
    assert webhooks.collect_events(sessions, settings) == 0  # the second round finds nothing new
    shop1 = events(sessions, "SHOP1")
    assert [(e.type, e.source, e.state, e.attempts) for e in shop1] == [
        (WebhookEventType.PAYMENT_PAID, f"{tx(1003)}:3", WebhookState.PENDING, 0),
        (WebhookEventType.PAYMENT_REFUNDED, f"{tx(1200)}:0", WebhookState.PENDING, 0),
        (WebhookEventType.SETTLEMENT_COMPLETED, f"{tx(1301)}:1", WebhookState.PENDING, 0),
    ]
    assert [e.type for e in events(sessions, "SHOP2")] == [WebhookEventType.PAYMENT_PAID]
    assert events(sessions, "PENDING") == [] and events(sessions, "NOHOOK") == []
    paid, refunded, settled = shop1
    assert paid.public_id.startswith("evt_") and len(paid.public_id) == 36
    assert paid.payload == {
        "id": paid.public_id, "type": "payment.paid", "created": paid.payload["created"], "merchant_id": "SHOP1",
        "data": {"order_id": "ORD-1", "amount_minor": 12_500, "currency": "DCASH", "payer": "0x" + "ab" * 20,
                 "refunded_minor": 0, "tx_hash": tx(1003), "block_number": 10, "paid_at": PAID_AT.isoformat()}}
    assert abs(paid.payload["created"] - int(paid.created_at.timestamp())) <= 1
    assert refunded.payload["data"] == {"order_id": "ORD-1", "amount_minor": 2_500, "refunded_total_minor": 2_500,
                                        "currency": "DCASH", "ref": "RF-1", "tx_hash": tx(1200)}
    assert settled.payload["data"] == {"batch_id": 1, "gross_minor": 12_500, "refunds_minor": 2_500,
                                       "fee_minor": 150, "net_minor": 9_850, "payout_mode": "wallet",
                                       "currency": "DCASH", "ref": "ST-1", "tx_hash": tx(1301)}

    # new chain events: only they become events (in the newest event's block, and after it)
    with transaction(sessions) as session:
        add_order(session, "SHOP1", "ORD-2", block=10, log_index=5)
        add_order(session, "SHOP1", "ORD-3", block=14)
    assert webhooks.collect_events(sessions, settings) == 2
    # the indexer rebuilt from scratch (new row ids, same chain positions): nothing is made twice
    with transaction(sessions) as session:
        rows = session.execute(select(MerchantOrder.order_id, MerchantOrder.paid_block, MerchantOrder.paid_log_index)
                               .where(MerchantOrder.merchant_id == "SHOP1")).all()
        session.execute(delete(MerchantOrder).where(MerchantOrder.merchant_id == "SHOP1"))
        for order_id, block, log_index in rows:
            add_order(session, "SHOP1", order_id, block=block, log_index=log_index)
    assert webhooks.collect_events(sessions, settings) == 0
    assert len(events(sessions, "SHOP1")) == 5

    now = receiver.at(T0)
    assert webhooks.deliver_due(sessions, settings, now=now) == 6
    assert webhooks.deliver_due(sessions, settings, now=now) == 0
    assert len(receiver.requests) == 6 and all(r.verified for r in receiver.requests)
    by_id = {r.headers[EVENT_ID_HEADER]: r for r in receiver.requests}
    for event in events(sessions, "SHOP1"):
        assert (event.state, event.attempts, event.delivered_at, event.next_attempt_at) == (
            WebhookState.DELIVERED, 1, now, None)
        request = by_id[event.public_id]
        assert request.body == webhooks.encode_body(event.payload)  # compact, sorted keys
        assert json.loads(request.body) == event.payload
        assert request.headers[EVENT_TYPE_HEADER] == event.type.value
        assert request.headers["Content-Type"] == "application/json"
        assert request.headers["User-Agent"] == "walletnet-webhooks/1"
        assert request.headers[SIGNATURE_HEADER].startswith(f"t={int(now.timestamp())},v1=")
        [attempt] = attempts(sessions, event)
        assert (attempt.status_code, attempt.error, attempt.manual, attempt.url) == (200, None, False, receiver.url)
        assert attempt.attempted_at == now and attempt.duration_ms >= 0
    first = receiver.requests[0].body
    assert b" " not in first and list(json.loads(first)) == sorted(json.loads(first))

    # what the receiver refuses: an altered body, another secret, a replay later on
    request = receiver.requests[0]
    header, ts = request.headers[SIGNATURE_HEADER], int(now.timestamp())
    assert verify(receiver.secret, header, request.body, now=ts) == ts
    with pytest.raises(WebhookSignatureError):
        verify(receiver.secret, header, request.body.replace(b"12500", b"99999"), now=ts)
    with pytest.raises(WebhookSignatureError):
        verify(webhooks.new_webhook_secret(), header, request.body, now=ts)
    with pytest.raises(WebhookSignatureError):
        verify(receiver.secret, header, request.body, now=ts + 301)
    with pytest.raises(WebhookSignatureError):  # signed with the wrong secret: the receiver answers 400
        verify(receiver.secret, sign("whsec_wrong", ts, request.body), request.body, now=ts)


def test_failures_back_off_exponentially_then_fail_and_a_redelivery_delivers(
        sessions: sessionmaker[Session], settings: NodeSettings, receiver: Receiver) -> None:
    with transaction(sessions) as session:
        add_merchant(session, settings, "SHOP1", url=receiver.url, secret=receiver.secret)
        add_merchant(session, settings, "SHOP2", url=receiver.url, secret=receiver.secret)
        add_order(session, "SHOP1", "ORD-1", block=10)
    assert webhooks.collect_events(sessions, settings) == 1
    receiver.status = 500

    # tries at T0, T0+10 s, T0+30 s (backoff 10 s doubled); the third failure is the last
    schedule = [T0, T0 + timedelta(seconds=BACKOFF), T0 + timedelta(seconds=BACKOFF * 3)]
    for n, when in enumerate(schedule, start=1):
        early = when - timedelta(seconds=1)
        if n > 1:
            assert webhooks.deliver_due(sessions, settings, now=receiver.at(early)) == 0  # not due yet
        assert webhooks.deliver_due(sessions, settings, now=receiver.at(when)) == 1
        event = one_event(sessions, "SHOP1")
        assert event.attempts == n
        if n < MAX_ATTEMPTS:
            assert event.state is WebhookState.PENDING
            assert event.next_attempt_at == when + timedelta(seconds=BACKOFF * 2 ** (n - 1))
    assert (event.state, event.next_attempt_at, event.delivered_at) == (WebhookState.FAILED, None, None)
    assert webhooks.deliver_due(sessions, settings, now=receiver.at(T0 + timedelta(days=1))) == 0
    log = attempts(sessions, event)
    assert [(a.attempted_at, a.status_code, a.error, a.manual) for a in log] == [
        (when, 500, None, False) for when in schedule]
    assert len(receiver.requests) == MAX_ATTEMPTS and all(r.verified for r in receiver.requests)
    assert len({r.headers[SIGNATURE_HEADER] for r in receiver.requests}) == MAX_ATTEMPTS  # signed at each try

    # another merchant cannot redeliver it, nor can anyone redeliver an event that does not exist
    with pytest.raises(webhooks.WebhookEventNotFoundError), transaction(sessions) as session:
        webhooks.redeliver(session, "SHOP2", event.public_id)
    with pytest.raises(LookupError), transaction(sessions) as session:
        webhooks.redeliver(session, "SHOP1", "evt_" + "0" * 32)
    assert one_event(sessions, "SHOP1").state is WebhookState.FAILED

    # the merchant fixed its endpoint and asks for the event again
    receiver.status = 204
    later = T0 + timedelta(hours=1)
    with transaction(sessions) as session:
        redelivered = webhooks.redeliver(session, "SHOP1", event.public_id, now=later)
        assert (redelivered.state, redelivered.next_attempt_at) == (WebhookState.PENDING, later)
    assert webhooks.deliver_due(sessions, settings, now=receiver.at(later)) == 1
    event = one_event(sessions, "SHOP1")
    assert (event.state, event.delivered_at, event.attempts, event.manual) == (
        WebhookState.DELIVERED, later, MAX_ATTEMPTS + 1, False)
    log = attempts(sessions, event)
    assert [(a.status_code, a.manual) for a in log] == [(500, False)] * MAX_ATTEMPTS + [(204, True)]

    # a delivered event can be asked for again too; the try after that is automatic again
    with transaction(sessions) as session:
        webhooks.redeliver(session, "SHOP1", event.public_id, now=later)
    assert webhooks.deliver_due(sessions, settings, now=receiver.at(later)) == 1
    assert [a.manual for a in attempts(sessions, event)][-2:] == [True, True]
    assert len(receiver.requests) == MAX_ATTEMPTS + 2


def test_a_refused_connection_is_logged_and_retried(sessions: sessionmaker[Session],
                                                    settings: NodeSettings) -> None:
    url = closed_port_url()
    with transaction(sessions) as session:
        add_merchant(session, settings, "SHOP1", url=url, secret=webhooks.new_webhook_secret())
        add_batch(session, "SHOP1", block=20)
    assert webhooks.collect_events(sessions, settings) == 1
    assert webhooks.deliver_due(sessions, settings, now=T0) == 1
    event = one_event(sessions, "SHOP1")
    assert (event.state, event.attempts, event.next_attempt_at) == (
        WebhookState.PENDING, 1, T0 + timedelta(seconds=BACKOFF))
    [attempt] = attempts(sessions, event)
    assert attempt.status_code is None and attempt.url == url
    assert attempt.error is not None and "ConnectError" in attempt.error


def test_no_secret_in_the_delivery_log(sessions: sessionmaker[Session], settings: NodeSettings,
                                       receiver: Receiver, caplog: pytest.LogCaptureFixture) -> None:
    with transaction(sessions) as session:
        add_merchant(session, settings, "SHOP1", url=receiver.url, secret=receiver.secret)
        add_order(session, "SHOP1", "ORD-1", block=10)
    webhooks.collect_events(sessions, settings)
    with caplog.at_level("DEBUG"):
        assert webhooks.deliver_due(sessions, settings, now=receiver.at(T0)) == 1
    signature = receiver.requests[0].headers[SIGNATURE_HEADER]
    assert receiver.secret not in caplog.text and signature.split("v1=")[1] not in caplog.text
    assert one_event(sessions, "SHOP1").public_id in caplog.text


def test_the_oldest_due_go_first_in_bounded_batches(sessions: sessionmaker[Session], settings: NodeSettings,
                                                    receiver: Receiver) -> None:
    with transaction(sessions) as session:
        add_merchant(session, settings, "SHOP1", url=receiver.url, secret=receiver.secret)
        for n in range(webhooks.BATCH + 2):
            add_order(session, "SHOP1", f"ORD-{n}", block=100 + n)
    assert webhooks.collect_events(sessions, settings) == webhooks.BATCH + 2
    assert webhooks.deliver_due(sessions, settings, now=receiver.at(T0)) == webhooks.BATCH
    delivered = [json.loads(r.body)["data"]["order_id"] for r in receiver.requests]
    assert delivered == [f"ORD-{n}" for n in range(webhooks.BATCH)]
    assert webhooks.deliver_due(sessions, settings, now=receiver.at(T0)) == 2
    assert {e.state for e in events(sessions, "SHOP1")} == {WebhookState.DELIVERED}


# ------------------------------------------------------------------ outside local: no private endpoints


def test_outside_local_a_private_endpoint_is_refused_and_logged_without_connecting(
        sessions: sessionmaker[Session], settings: NodeSettings, tmp_path: Path) -> None:
    production = production_settings(settings, tmp_path)
    with socket.socket() as listener:  # a loopback endpoint that would take any connection
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        refused = {"LOOPBACK": (f"https://127.0.0.1:{port}/hooks", "127.0.0.1 is a loopback address"),
                   "LOCALHOST": (f"https://localhost:{port}/hooks", "localhost is a loopback name"),
                   "METADATA": ("https://169.254.169.254/latest/meta-data", "link-local"),
                   "MAPPED": (f"https://[::ffff:127.0.0.1]:{port}/hooks", "loopback"),
                   "PLAIN": (f"http://127.0.0.1:{port}/hooks", "https://")}
        with transaction(sessions) as session:
            for n, (merchant_id, (url, _)) in enumerate(refused.items()):
                add_merchant(session, settings, merchant_id, url=url, secret=webhooks.new_webhook_secret())
                add_order(session, merchant_id, "ORD-1", block=10 + n)
        assert webhooks.collect_events(sessions, production) == len(refused)
        assert webhooks.deliver_due(sessions, production, now=T0) == len(refused)
        listener.setblocking(False)
        with pytest.raises(BlockingIOError):  # nothing connected, so nothing was POSTed
            listener.accept()
    for merchant_id, (url, reason) in refused.items():
        event = one_event(sessions, merchant_id)
        assert (event.state, event.attempts, event.next_attempt_at) == (
            WebhookState.PENDING, 1, T0 + timedelta(seconds=BACKOFF))  # retried like any failure
        [attempt] = attempts(sessions, event)
        assert (attempt.url, attempt.status_code) == (url, None)
        assert attempt.error is not None and attempt.error.startswith(webhooks.REFUSED) and reason in attempt.error



def test_with_an_egress_proxy_the_proxy_resolves_and_connects(sessions: sessionmaker[Session],
                                                              settings: NodeSettings, tmp_path: Path) -> None:
    """The node asks the proxy for the merchant's name (which this machine cannot even resolve) and the attempt
    logs the proxy's answer: the node neither resolved the name nor connected anywhere else."""
    asked: list[bytes] = []
    with socket.socket() as proxy:
        proxy.bind(("127.0.0.1", 0))
        proxy.listen()

        def serve() -> None:
            conn, _ = proxy.accept()
            with conn:
                asked.append(conn.recv(4096))
                conn.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        proxied = production_settings(settings, tmp_path).model_copy(
            update={"webhook_proxy": f"http://127.0.0.1:{proxy.getsockname()[1]}"})
        with transaction(sessions) as session:
            add_merchant(session, settings, "SHOP1", url="https://hooks.shop.invalid/walletnet",
                         secret=webhooks.new_webhook_secret())
            add_order(session, "SHOP1", "ORD-1", block=10)
        webhooks.collect_events(sessions, proxied)
        assert webhooks.deliver_due(sessions, proxied, now=T0) == 1
        thread.join(5)
    assert asked and asked[0].startswith(b"CONNECT hooks.shop.invalid:443 HTTP/1.1\r\n")
    [attempt] = attempts(sessions, one_event(sessions, "SHOP1"))
    assert attempt.status_code is None and attempt.error is not None and "ProxyError" in attempt.error
