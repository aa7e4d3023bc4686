"""Load through the HTTP API of a running two-bank network (see bench.network), as banks' systems and
customers' apps send it. Every request is prepared by the SDK's clients (keys, customer sessions, idempotency
keys, ATM signatures), signed and serialised before the clock starts, and sent by the lean load generator
(bench.loadgen) from a process of its own, on keep-alive connections:

1. setup: self-custody payers enrolled in bulk at the first bank, custodial payees at the second;
2. ATM cash-ins (one event per request, ATM-signed messages) that fund the payers;
3. P2P burst: pre-signed RelayedTransfers sent closed-loop (``concurrency`` connections, each sends its next
   request when the previous one is answered), each by its payer's app in that customer's session (minted by
   the bank's login backend, its ``auth`` key); the node relays them in batches of up to 100 per transaction;
4. merchant QR payments: customer-presented codes the shop's POS relays through its acquiring bank
   (the second bank; payers at the first);
5. the naive web3.py baseline (bench.baseline) on the same chain and wallets, while the network is quiet;
6. latency: pre-signed transfers sent open-loop at a fixed rate (request ``i`` is due at ``i / rate``, whatever
   the answers); a request's latency counts from when it was due, so a slow server cannot hide its queue in
   the client. At the target's rate the payees' notification streams are followed too (bench.notify_delay).

Each throughput phase reports requests accepted per second (the first send to the last answer) and
confirmed per second (the first send until the last operation is final in the bank's database, i.e. its
transaction has its confirmations), and the generator's own CPU use.
"""

from __future__ import annotations

import asyncio
import json
import math
import secrets
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from bench import ratio
from bench.baseline import BaselineResult, run_baseline
from bench.loadgen import LoadResult, encode_prepared, run_in_process
from bench.network import BenchNetwork
from bench.notify_delay import NotificationDelays, NotificationWatch
from bench.signing import Signer
from node.operations.models import OperationKind
from wallet_sdk.authorizations import MerchantPayment, RelayedTransfer, merchant_id, order_id, relay_nonce
from wallet_sdk.chain.network import Network
from wallet_sdk.client import ApiRequest, AsyncClient
from wallet_sdk.client import atm as atm_requests
from wallet_sdk.client import merchants as merchant_requests
from wallet_sdk.client import transfers as transfer_requests
from wallet_sdk.client._core import BaseAsyncClient
from wallet_sdk.client.atm import AsyncAtmClient
from wallet_sdk.client.wallets import EnrolmentRow
from wallet_sdk.deploy import bank_id
from wallet_sdk.keys import WalletKey

__all__ = ["ApiLoadResult", "LatencyResult", "LoadSizes", "PhaseResult", "percentile", "run_api_load"]

CASH_IN = 10_000  # minor units per ATM event (one 100.00 note)
STALL_SECONDS = 30.0  # a phase stops waiting for confirmations when none came for this long
ENROL_CHUNK = 500  # rows per bulk enrolment request (the API's maximum)
REQUEST_TIMEOUT = 120.0  # seconds: an overloaded API's late answer is measured, not cut off
NOTIFICATION_GRACE_SECONDS = 10.0  # how long the streams are followed after the last payment is final


@dataclass(frozen=True)
class LoadSizes:
    """Defaults sized so that the whole `make bench` stays well under 10 minutes on the 2-core machine."""

    payers: int = 40  # self-custody wallets at the first bank (they sign every payment)
    payees: int = 10  # custodial wallets at the second bank
    cash_ins: int = 300
    p2p: int = 2_000  # about 2 s of load: 300 (0.3 s) measured a burst, and one stall moved it by a third
    merchant_payments: int = 1_000
    rate: float = 200.0  # requests per second in the latency phase (the target's rate)
    latency_seconds: float = 10.0
    low_rate: float = 2.0  # the same, first at a rate the node can serve here (0: skip)
    low_rate_seconds: float = 5.0
    concurrency: int = 64  # keep-alive connections of the load generator (requests in flight at most)


@dataclass
class PhaseResult:
    """One throughput phase: what was sent, answered and finally confirmed on chain."""

    name: str
    sent: int
    accepted: int
    refused: Counter[str]
    accept_seconds: float
    confirm_seconds: float
    final: Counter[str]  # operation statuses once everything was final
    client_cpu: float = 0.0  # the load generator's CPU time over the phase, as a share of one core

    @property
    def accepted_per_s(self) -> float:
        return ratio(self.accepted, self.accept_seconds)

    @property
    def confirmed(self) -> int:
        return self.final.get("completed", 0)

    @property
    def confirmed_per_s(self) -> float:
        return ratio(self.confirmed, self.confirm_seconds)


@dataclass
class LatencyResult:
    rate: float
    sent: int
    accepted: int
    refused: Counter[str]
    send_seconds: float  # first scheduled send to last answer
    latencies_ms: list[float]
    final: Counter[str]
    client_cpu: float = 0.0
    notifications: NotificationDelays | None = None  # the payees' streams, when followed

    def percentile(self, p: float) -> float:
        return percentile(self.latencies_ms, p)


@dataclass
class ApiLoadResult:
    sizes: LoadSizes
    setup_seconds: float
    cash_in: PhaseResult
    p2p: PhaseResult
    latency: LatencyResult
    merchant: PhaseResult
    latency_low: LatencyResult | None
    baseline: BaselineResult
    node_peak_kib: int
    differences: dict[str, int]  # reconciliation differences of each bank after the run
    payers: list[WalletKey] = field(repr=False)
    payees: list[str] = field(repr=False)


def percentile(values: Sequence[float], p: float) -> float:
    """The nearest-rank percentile (NaN for no values: nothing was answered)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))
    return ordered[int(rank) - 1]


def _problem_type(body: bytes) -> str:
    try:
        kind = json.loads(body).get("type", "")
    except (ValueError, AttributeError):
        return ""
    return str(kind).rsplit("/", 1)[-1]


def _refused(load: LoadResult) -> Counter[str]:
    """The requests not accepted, by status and problem type (and the generator's connection errors)."""
    refused: Counter[str] = Counter()
    for status, body in zip(load.codes, load.bodies, strict=True):
        if not 200 <= status < 300:
            refused[f"{status} {_problem_type(body)}".strip() if status else "no answer"] += 1
    refused.update(load.errors)
    return refused


async def _send(net: BenchNetwork, bank: str, requests: Sequence[bytes], connections: int, *,
                rate: float | None = None) -> LoadResult:
    """The requests through the lean generator in a process of its own: closed-loop, or open-loop at ``rate``."""
    host, port = net.host_port(bank)
    return await asyncio.to_thread(run_in_process, "closed" if rate is None else "open", host, port, requests,
                                   connections=connections, rate=rate, keep_bodies=True)


async def _wait_final(net: BenchNetwork, bank: str, kind: OperationKind, after_id: int,
                      expected: int) -> tuple[Counter[str], float]:
    """Poll the bank's database until ``expected`` operations of ``kind`` after ``after_id`` are final, or until
    none became final for ``STALL_SECONDS`` (a stopped node); the statuses and when the last one became final."""
    last_done, last_change = -1, time.perf_counter()
    while True:
        statuses = await asyncio.to_thread(net.operation_statuses, bank, kind, after_id)
        done = sum(n for status, n in statuses.items() if status not in ("pending", "held"))
        now = time.perf_counter()
        if done != last_done:
            last_done, last_change = done, now
        if done >= expected or now - last_change > STALL_SECONDS:
            return statuses, last_change
        await asyncio.sleep(0.02)


async def _phase(net: BenchNetwork, name: str, bank: str, kind: OperationKind, requests: Sequence[bytes],
                 connections: int) -> PhaseResult:
    after = await asyncio.to_thread(net.last_operation_id, bank)
    load = await _send(net, bank, requests, connections)
    accepted = sum(n for status, n in load.statuses.items() if 200 <= status < 300)
    final, last = await _wait_final(net, bank, kind, after, accepted)
    confirm_seconds = max(last - load.started, load.seconds)  # perf_counter: one clock for all processes here
    return PhaseResult(name, len(requests), accepted, _refused(load), load.seconds, confirm_seconds, final,
                       load.client_cpu_share)


class _Load:
    """The clients, chain view and wallets the phases share."""

    def __init__(self, net: BenchNetwork, sizes: LoadSizes) -> None:
        self.net = net
        self.sizes = sizes
        self.bank_a, self.bank_b = net.banks[0], net.banks[-1]
        self.chain = Network.connect(net.rpc_url, net.deployment_file, timeout=30.0)
        self.signer = Signer(self.chain.domain())
        self._http: list[httpx.AsyncClient] = []
        self.clients: dict[tuple[str, str], AsyncClient] = {}
        self.run = secrets.token_hex(3)
        self.payers: list[WalletKey] = []
        self.payees: list[str] = []

    def http(self, url: str) -> httpx.AsyncClient:
        client = httpx.AsyncClient(base_url=url, timeout=REQUEST_TIMEOUT)
        self._http.append(client)
        return client

    def client(self, bank: str, scope: str) -> AsyncClient:
        if (bank, scope) not in self.clients:
            url = self.net.url(bank)
            self.clients[bank, scope] = AsyncClient(url, self.net.key(bank, scope), retries=0, http=self.http(url))
        return self.clients[bank, scope]

    @staticmethod
    def wire(client: BaseAsyncClient, request: ApiRequest[Any]) -> bytes:
        """``request`` as ``client`` would send it (key, session, idempotency key, ATM signature), as bytes."""
        return encode_prepared(client.prepare(request), host=urlsplit(client.base_url).netloc)

    async def close(self) -> None:
        for http in self._http:
            await http.aclose()

    def ref(self, what: str) -> str:
        return f"BENCH-{self.run}-{what}"

    async def enrol(self, bank: str, rows: list[EnrolmentRow]) -> list[str]:
        teller = self.client(bank, "teller")
        after = await asyncio.to_thread(self.net.last_operation_id, bank)
        wallets: list[str] = []
        for i in range(0, len(rows), ENROL_CHUNK):
            result = await teller.enrol_wallets(rows[i:i + ENROL_CHUNK])
            bad = [r for r in result.results if r.status != "opened" or not r.wallet]
            if bad:
                raise RuntimeError(f"enrolment refused {len(bad)} rows, e.g. {bad[0]}")
            wallets += [str(r.wallet) for r in result.results]
        final, _ = await _wait_final(self.net, bank, OperationKind.WALLET_OPEN, after, len(rows))
        if final.get("completed", 0) != len(rows):
            raise RuntimeError(f"wallet openings ended {dict(final)}")
        return wallets

    async def setup(self) -> None:
        self.payers = [WalletKey.create() for _ in range(self.sizes.payers)]
        await self.enrol(self.bank_a, [
            EnrolmentRow(customer_ref=self.ref(f"P{i}"), verification="in_person", tier=1, custody="self",
                         address=str(k.address)) for i, k in enumerate(self.payers)])
        self.payees = await self.enrol(self.bank_b, [
            EnrolmentRow(customer_ref=self.ref(f"Q{i}"), verification="in_person", tier=1)
            for i in range(self.sizes.payees)])

    async def cash_ins(self) -> PhaseResult:
        admin = self.client(self.bank_a, "admin")
        atm_id = self.ref("ATM")
        registration = await admin.register_atm(atm_id, name="Bench ATM", location="Load Street 1")
        total = CASH_IN * self.sizes.cash_ins
        await admin.deliver_vault_cash(total)
        await admin.replenish_atm(atm_id, total)
        url = self.net.url(self.bank_a)
        atm = AsyncAtmClient(url, self.net.key(self.bank_a, "atm"), atm_id=atm_id, secret=registration.secret,
                             retries=0, http=self.http(url))
        requests = [self.wire(atm, atm_requests.report_cash_in(self.ref(f"IN{i}"),
                                                               str(self.payers[i % len(self.payers)].address),
                                                               {CASH_IN: 1}))
                    for i in range(self.sizes.cash_ins)]
        return await _phase(self.net, "ATM cash-in", self.bank_a, OperationKind.ATM_CASH_IN, requests,
                            self.sizes.concurrency)

    async def payer_apps(self) -> list[AsyncClient]:
        """Each payer's app, acting in a customer session of that payer: an app key alone acts for no customer.
        Minted afresh for each phase (a session lives 15 minutes by default)."""
        backend = self.client(self.bank_a, "auth")
        sessions = [await backend.mint_customer_session(self.ref(f"P{i}")) for i in range(len(self.payers))]
        return [backend.as_customer(session) for session in sessions]

    async def transfers(self, count: int) -> list[bytes]:
        """``count`` P2P payments, pre-signed, spread over the payers (each its own nonce word per batch), each
        as its payer's app sends it."""
        apps = await self.payer_apps()
        valid_before = self.chain.now() + 3_600
        words = [secrets.randbits(64) for _ in self.payers]
        requests: list[bytes] = []
        for i in range(count):
            n, bit = i % len(self.payers), i // len(self.payers)
            payer, payee = self.payers[n], self.payees[i % len(self.payees)]
            value = 1 + i % 9
            auth = RelayedTransfer(from_=payer.address, to=payee, value=value, valid_before=valid_before,
                                   nonce=relay_nonce(words[n] + bit // 256, bit % 256))
            signed = self.signer.sign(payer, auth)
            requests.append(self.wire(apps[n], transfer_requests.transfer(str(payer.address), payee, value,
                                                                          authorization=signed)))
        return requests

    async def p2p(self) -> PhaseResult:
        requests = await self.transfers(self.sizes.p2p)
        return await _phase(self.net, "P2P payments", self.bank_a, OperationKind.P2P, requests,
                            self.sizes.concurrency)

    async def latency(self, rate: float, seconds: float, *, watch: bool = False) -> LatencyResult:
        """Open-loop P2P payments at ``rate``; ``watch``: the payees' notification streams followed meanwhile
        (bench.notify_delay)."""
        requests = await self.transfers(max(1, int(rate * seconds)))
        after = await asyncio.to_thread(self.net.last_operation_id, self.bank_a)
        watcher = NotificationWatch(self.client(self.bank_b, "teller"), self.net.rpc_url, self.payees) if watch \
            else None
        if watcher is not None:
            await watcher.start()
        try:
            load = await _send(self.net, self.bank_a, requests, self.sizes.concurrency, rate=rate)
            accepted = sum(n for status, n in load.statuses.items() if 200 <= status < 300)
            final, _ = await _wait_final(self.net, self.bank_a, OperationKind.P2P, after, accepted)
            if watcher is not None:  # the payees' bank indexes the last blocks a moment later
                deadline = time.perf_counter() + NOTIFICATION_GRACE_SECONDS
                while len(watcher.arrivals) < final.get("completed", 0) and time.perf_counter() < deadline:
                    await asyncio.sleep(0.05)
        finally:
            if watcher is not None:
                await watcher.stop()
        latencies = [ms for code, ms in zip(load.codes, load.latencies_ms, strict=True) if 200 <= code < 300]
        notified = await watcher.delays(self.chain, final.get("completed", 0)) if watcher is not None else None
        return LatencyResult(rate, len(requests), accepted, _refused(load), load.seconds, latencies, final,
                             load.client_cpu_share, notified)

    async def merchant(self) -> PhaseResult:
        """Customer-presented QR: each payer's app signs a payment, the shop's POS relays it (acquirer: bank B)."""
        admin = self.client(self.bank_b, "admin")
        shop = self.ref("SHOP")
        account = self.ref("SHOP-ACC")
        await admin.open_account(account, shop, opening_balance=0)
        onboarding = await admin.onboard_merchant(shop, legal_name="Bench Shop Ltd", mcc=5411, fee_bps=150,
                                                  settlement_account=account, payout_mode="wallet")
        done = await admin.wait_for_operation(onboarding.operation.id, timeout=60.0)
        if done.status != "completed" or onboarding.api_key is None:
            raise RuntimeError(f"merchant onboarding ended {done.status}: {done.error}")
        url = self.net.url(self.bank_b)
        pos = AsyncClient(url, onboarding.api_key, retries=0, http=self.http(url))
        valid_before = self.chain.now() + 3_600
        settlement = self.chain.addresses["MerchantSettlement"]
        requests: list[bytes] = []
        for i in range(self.sizes.merchant_payments):
            payer = self.payers[i % len(self.payers)]
            payment = MerchantPayment(acquirer=bank_id(self.bank_b), merchant_id=merchant_id(shop),
                                      order_id=order_id(f"O{i}"), payer=payer.address, amount=100 + i % 50,
                                      valid_before=valid_before, settlement=settlement)
            signed = self.signer.sign(payer, payment)
            # the POS names the amount it charges: the acquirer issues and signs the order's request
            requests.append(self.wire(pos, merchant_requests.submit_pos_payment(shop, signed, amount=payment.amount)))
        return await _phase(self.net, "merchant QR payments", self.bank_b, OperationKind.MERCHANT_PAYMENT, requests,
                            self.sizes.concurrency)


def _latency_line(lat: LatencyResult) -> str:
    n = lat.notifications
    notified = "" if n is None else (f"; {len(n.delays_ms)} notifications, final block to stream p50 "
                                     f"{percentile(n.delays_ms, 50):.0f} ms, p99 {percentile(n.delays_ms, 99):.0f} ms")
    return (f"latency at {lat.rate:g}/s: {lat.accepted} of {lat.sent} answered, p50 {lat.percentile(50):.1f} ms, "
            f"p99 {lat.percentile(99):.1f} ms{notified}")


async def _run(net: BenchNetwork, sizes: LoadSizes, baseline_payments: int,
               progress: Callable[[str], None]) -> ApiLoadResult:
    load = _Load(net, sizes)
    try:
        start = time.perf_counter()
        await load.setup()
        setup_seconds = time.perf_counter() - start
        progress(f"setup: {sizes.payers} payers, {sizes.payees} payees in {setup_seconds:.1f} s")
        cash_in = await load.cash_ins()
        progress(f"ATM cash-ins: {cash_in.accepted_per_s:.0f}/s accepted, {cash_in.confirmed_per_s:.0f}/s confirmed")
        p2p = await load.p2p()
        progress(f"P2P: {p2p.accepted_per_s:.0f}/s accepted, {p2p.confirmed_per_s:.0f}/s confirmed")
        merchant = await load.merchant()
        progress(f"merchant: {merchant.accepted_per_s:.0f}/s accepted, {merchant.confirmed_per_s:.0f}/s confirmed")
        progress(f"naive baseline: {baseline_payments} payments, one transaction and receipt each")
        baseline = await asyncio.to_thread(run_baseline, net.rpc_url, net.deployment_file, load.payers,
                                           load.payees, baseline_payments)
        progress(f"baseline: {baseline.per_s:.1f} payments/s")
        latency_low = None
        if sizes.low_rate > 0:
            latency_low = await load.latency(sizes.low_rate, sizes.low_rate_seconds)
            progress(_latency_line(latency_low))
        latency = await load.latency(sizes.rate, sizes.latency_seconds, watch=True)  # last: an overload may stop
        # a node
        progress(_latency_line(latency))
        differences = {bank: await asyncio.to_thread(net.reconciliation_differences, bank) for bank in net.banks}
        progress(f"reconciliation after the run: {differences}")
        return ApiLoadResult(sizes, setup_seconds, cash_in, p2p, latency, merchant, latency_low, baseline,
                             net.peak_memory_kib(load.bank_a), differences,
                             load.payers, load.payees)
    finally:
        await load.close()


def run_api_load(net: BenchNetwork, sizes: LoadSizes, baseline_payments: int,
                 progress: Callable[[str], None] = lambda _: None) -> ApiLoadResult:
    """Run every phase against ``net`` (started) and return the figures; the naive baseline runs on the same
    chain and wallets before the open-loop phase, while the network is quiet."""
    return asyncio.run(_run(net, sizes, baseline_payments, progress))
