"""Work that grows with the number of wallets (issue 21): bulk enrolment through a bank's API, and reconciliation
of a bank with many wallets, in full and incrementally after a day's payments.

1. **Bulk enrolment**: ``enrol`` new customers sent to ``POST /v1/wallets/enrolments`` of a running network
   (``walletnet up``, as the API phases) in chunks of 500 on four connections, as ``walletnet wallets enrol``
   sends a CSV; timed until every opening is completed on chain (its ``openWallets`` transaction mined and the
   record active).
2. **Reconciliation**: a fresh chain with ``wallets`` wallets of one bank opened in batches straight through the
   contracts, ``payers`` of them minted with their booking and outbox row in a fresh node database (as the node's
   flows would leave them), indexed by the node's indexer; then ``node.reconcile`` in full (timed, with its
   client CPU), ``payments`` relayed transfers from the payers to wallets spread over the bank, indexed, and an
   incremental run (timed). Both must find no difference.
"""

from __future__ import annotations

import asyncio
import random
import resource
import secrets
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.api_load import ENROL_CHUNK, LoadSizes, _Load, _wait_final
from bench.indexer_catchup import deploy_one_bank, send_many
from bench.network import BenchNetwork, cpu_seconds
from bench.signing import Signer
from node.db import create_engine, session_factory, transaction, upgrade
from node.indexer.service import Indexer, IndexerConfig, IndexScope
from node.ledger import SqlLedger
from node.ledger.accounts import CHAIN_ISSUED, VAULT, ensure_system_accounts
from node.operations.models import OperationKind
from node.outbox import OutboxState, enqueue, transition
from node.reconcile.service import ReconciliationMode, ReconciliationReport, reconcile
from tools.devnet import Devnet
from wallet_sdk.authorizations import relay_nonce
from wallet_sdk.chain.network import Network
from wallet_sdk.client.wallets import EnrolmentRow
from wallet_sdk.deploy import bank_id
from wallet_sdk.keys import WalletKey, fresh_keys

__all__ = ["ScaleResult", "ScaleSizes", "render_scale", "run_scale"]

# Few, large transactions: anvil's cost per block grows with the state (100,000 wallets), so the fill is counted
# in blocks. The node's writer sends smaller batches (250 openings, 100 transfers).
OPEN_BATCH = 500  # about 39 million gas: under half the devnet's 100 million, so full blocks do not raise the base fee
OPEN_GAS = 95_000_000
RELAY_BATCH = 400  # about 9 million gas
RELAY_GAS = 20_000_000
FUNDING = 1_000_000  # minor units minted to each payer
ENROL_CONNECTIONS = 4
KEEP_STATES = 64  # blocks whose state anvil keeps: reconciliation reads at the indexer's block, the newest here


@dataclass(frozen=True)
class ScaleSizes:
    enrol: int = 10_000  # customers enrolled through the API
    wallets: int = 100_000  # wallets of the reconciled bank
    payments: int = 10_000  # payments between a full and an incremental run
    payers: int = 100


@dataclass
class ScaleResult:
    sizes: ScaleSizes
    enrolled: int  # openings completed on chain
    enrol_accept_seconds: float
    enrol_complete_seconds: float
    enrol_cpu: dict[str, float]  # CPU seconds the bank's API and node processes spent on the enrolment
    fill_seconds: float
    index_seconds: float
    full: ReconciliationReport
    full_seconds: float
    full_cpu_seconds: float
    payment_seconds: float
    incremental: ReconciliationReport
    incremental_seconds: float

    @property
    def enrolled_per_s(self) -> float:
        return self.enrolled / self.enrol_complete_seconds if self.enrol_complete_seconds else 0.0


# ------------------------------------------------------------------ bulk enrolment through the API


async def _enrol(net: BenchNetwork, count: int) -> tuple[int, float, float, dict[str, float]]:
    load = _Load(net, LoadSizes())
    try:
        bank = net.banks[0]
        pids = net.process_ids(bank)
        cpu = {name: cpu_seconds(pid) for name, pid in pids.items()}
        teller = load.client(bank, "teller")
        rows = [EnrolmentRow(customer_ref=load.ref(f"E{i}"), verification="in_person") for i in range(count)]
        after = await asyncio.to_thread(net.last_operation_id, bank)
        turns = asyncio.Semaphore(ENROL_CONNECTIONS)

        async def chunk(start: int) -> None:
            async with turns:
                answer = await teller.enrol_wallets(rows[start:start + ENROL_CHUNK])
            if any(r.status != "opened" for r in answer.results):
                raise RuntimeError(f"the enrolment refused rows: {[r for r in answer.results if r.status != 'opened']}")

        started = time.perf_counter()
        await asyncio.gather(*(chunk(i) for i in range(0, count, ENROL_CHUNK)))
        accepted = time.perf_counter() - started
        final, last = await _wait_final(net, bank, OperationKind.WALLET_OPEN, after, count)
        spent = {name: cpu_seconds(pid) - cpu[name] for name, pid in pids.items()}
        return final.get("completed", 0), accepted, last - started, spent
    finally:
        await load.close()


# ------------------------------------------------------------------ a bank with many wallets


@dataclass
class _Bank:
    """The filled chain and the node database that agrees with it."""

    network: Network
    engine: object
    operator: object
    wallets: list[str]
    payers: list[WalletKey]


def _fill(devnet: Devnet, sizes: ScaleSizes, db_url: str) -> _Bank:
    w3, operator, network = deploy_one_bank(devnet)
    registry, token, bank = network.contract("WalletRegistry"), network.token, bank_id("BANKA")
    payers = [WalletKey.create() for _ in range(sizes.payers)]
    wallets = [str(k.address) for k in payers] + [address for address, _ in fresh_keys(sizes.wallets - sizes.payers)]
    openings = [(w, 1, 0, bytes(32)) for w in wallets]
    send_many(w3, operator, [registry.functions.openWallets(bank, openings[i:i + OPEN_BATCH])
                             for i in range(0, len(openings), OPEN_BATCH)], OPEN_GAS)
    refs = [f"FUND-{i}" for i in range(len(payers))]
    (minted,) = send_many(w3, operator, [token.functions.mintBatch(  # type: ignore[arg-type]
        [(str(k.address), FUNDING, ref.encode().ljust(32, b"\0")) for k, ref in zip(payers, refs, strict=True)])],
        OPEN_GAS)
    engine = create_engine(db_url)
    upgrade(engine)
    with transaction(session_factory(engine)) as session:  # as the cash-in flow books and enqueues a mint
        book = SqlLedger(session)
        ensure_system_accounts(book, "DCASH")
        for key, ref in zip(payers, refs, strict=True):  # one mintBatch, as the writer batches a round's mints
            book.credit(CHAIN_ISSUED, FUNDING, contra=VAULT, reference=ref, correlation_id=ref)
            row = enqueue(session, ref, "mint", {"wallet": str(key.address), "amount": FUNDING, "ref": ref})
            transition(session, row, OutboxState.SUBMITTED, tx_hash=minted, nonce=0)
            transition(session, row, OutboxState.CONFIRMED)
    return _Bank(network, engine, operator, wallets, payers)


def _pay(bank: _Bank, count: int) -> None:
    """``count`` relayed transfers of one unit from the payers to wallets drawn over the whole bank."""
    signer = Signer(bank.network.domain())
    valid_before = bank.network.now() + 86_400
    words = [secrets.randbits(64) for _ in bank.payers]
    draw = random.Random(21)
    items = []
    for i in range(count):
        n, bit = i % len(bank.payers), i // len(bank.payers)
        payer = bank.payers[n]
        payee = bank.wallets[draw.randrange(len(bank.payers), len(bank.wallets))]
        items.append(signer.relay_item(payer, payee, 1, valid_before, relay_nonce(words[n] + bit // 256, bit % 256)))
    token = bank.network.token
    send_many(bank.network.w3, bank.operator, [token.functions.relayTransfers(items[i:i + RELAY_BATCH])  # type: ignore[arg-type]
                                               for i in range(0, len(items), RELAY_BATCH)], RELAY_GAS)


def _index(bank: _Bank) -> float:
    started = time.perf_counter()
    Indexer(bank.network, session_factory(bank.engine),  # type: ignore[arg-type]
            IndexerConfig(scope=IndexScope.NETWORK, confirmations=0)).run_once()
    return time.perf_counter() - started


def _timed(bank: _Bank, mode: ReconciliationMode) -> tuple[ReconciliationReport, float, float]:
    """A reconciliation of the bank, its wall seconds and this process's CPU seconds."""
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    report = reconcile(bank.network, bank.engine, "BANKA", confirmations=0, mode=mode)  # type: ignore[arg-type]
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    return report, seconds, (after.ru_utime + after.ru_stime) - (cpu.ru_utime + cpu.ru_stime)


def run_scale(sizes: ScaleSizes, progress: Callable[[str], None] = lambda _: None) -> ScaleResult:
    progress(f"scale: enrolling {sizes.enrol:,} customers through the API of a fresh network")
    with BenchNetwork() as net:
        enrolled, accept_seconds, complete_seconds, enrol_cpu = asyncio.run(_enrol(net, sizes.enrol))
    progress(f"scale: {enrolled:,} wallets open on chain in {complete_seconds:.1f} s "
             f"({enrolled / complete_seconds:,.0f}/s; accepted in {accept_seconds:.1f} s)")
    with Devnet(accounts=4, keep_states=KEEP_STATES) as devnet, \
            tempfile.TemporaryDirectory(prefix="walletnet-scale-") as tmp:
        started = time.perf_counter()
        bank = _fill(devnet, sizes, f"sqlite:///{Path(tmp) / 'node.sqlite3'}")
        fill_seconds = time.perf_counter() - started
        index_seconds = _index(bank)
        progress(f"scale: {sizes.wallets:,} wallets opened in {fill_seconds:.1f} s, indexed in {index_seconds:.1f} s")
        full, full_seconds, full_cpu = _timed(bank, ReconciliationMode.FULL)
        progress(f"scale: full reconciliation of {full.checked['wallets']:,} wallets in {full_seconds:.1f} s, "
                 f"{len(full.differences)} differences")
        started = time.perf_counter()
        _pay(bank, sizes.payments)
        _index(bank)
        payment_seconds = time.perf_counter() - started
        incremental, incremental_seconds, _ = _timed(bank, ReconciliationMode.INCREMENTAL)
        progress(f"scale: incremental reconciliation after {sizes.payments:,} payments in {incremental_seconds:.1f} s "
                 f"({incremental.checked['wallets']:,} wallets), {len(incremental.differences)} differences")
        bank.engine.dispose()  # type: ignore[attr-defined]
    return ScaleResult(sizes, enrolled, accept_seconds, complete_seconds, enrol_cpu, fill_seconds, index_seconds, full,
                       full_seconds, full_cpu, payment_seconds, incremental, incremental_seconds)


# ------------------------------------------------------------------ the table


def render_scale(r: ScaleResult) -> str:
    """The phase's figures beside the issue's targets (reported, never asserted)."""
    wallets = r.full.checked["wallets"]

    def verdict(ok: bool) -> str:
        return "met" if ok else "**not met**"

    rows = [
        ("bulk enrolment through the API: wallets open on chain per second "
         f"({r.enrolled:,} customers, chunks of {ENROL_CHUNK}, {ENROL_CONNECTIONS} connections)",
         f"{r.enrolled_per_s:,.0f} /s", ">= 2,000", verdict(r.enrolled_per_s >= 2_000)),
        ("bulk enrolment: requests answered (wallets accepted per second)",
         f"{r.enrolled / r.enrol_accept_seconds:,.0f} /s" if r.enrol_accept_seconds else "—", "", ""),
        *((f"bulk enrolment: CPU per wallet of the {name} process",
           f"{1e3 * seconds / max(1, r.enrolled):.2f} ms", "", "") for name, seconds in r.enrol_cpu.items()),
        (f"full reconciliation of {wallets:,} wallets", f"{r.full_seconds:,.1f} s", "<= 60 s (100,000 wallets)",
         verdict(r.full_seconds <= 60 * max(1, wallets) / 100_000)),
        ("full reconciliation: client CPU per wallet", f"{1e3 * r.full_cpu_seconds / max(1, wallets):.2f} ms", "", ""),
        (f"incremental reconciliation after {r.sizes.payments:,} payments "
         f"({r.incremental.checked['wallets']:,} wallets touched)", f"{r.incremental_seconds:,.1f} s", "<= 5 s",
         verdict(r.incremental_seconds <= 5)),
        ("reconciliation differences (full, incremental)",
         f"{len(r.full.differences)}, {len(r.incremental.differences)}", "0, 0",
         verdict(r.full.ok and r.incremental.ok)),
    ]
    lines = ["| figure | value | target | |", "|---|---:|---|---|"]
    lines += [f"| {name} | {value} | {target} | {met} |" for name, value, target, met in rows]
    lines.append(f"\nSet-up: {r.sizes.wallets:,} wallets opened through the contracts in {r.fill_seconds:.1f} s and "
                 f"indexed in {r.index_seconds:.1f} s; {r.sizes.payments:,} payments relayed and indexed in "
                 f"{r.payment_seconds:.1f} s.")
    return "\n".join(lines)
