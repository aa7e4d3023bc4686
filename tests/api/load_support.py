"""A bank under a load of mixed operations through its API, as the crash-under-load and failover tests drive
it (tests/api/test_crash_under_load.py, tests/api/test_failover.py): the bank set up through its API, each load
worker's plan, the workers that ask for it the way real clients do, and the checks afterwards (the books, the
chain, reconciliation).

Every operation has an amount of its own, so its trace can be looked for anywhere. Afterwards every accepted
operation (a 2xx answer) completed and its effect is on chain exactly once; a refused one (a 4xx problem, or a
request that never got an answer) left no operation, outbox row, ledger posting, hold or chain event; no outbox
row is left unfinished; each journal entry balances; reconciliation finds no difference; and every balance on
chain is what the accepted operations add up to.
"""

from __future__ import annotations

import os
import random
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

from crash_support import BankProcesses
from eth_account import Account
from sqlalchemy import func, select
from web3 import Web3

from node.db import create_engine, session_factory, transaction
from node.indexer.models import IndexerCheckpoint
from node.ledger.models import LedgerHold, Posting
from node.operations.models import FINAL, Operation
from node.outbox import OutboxRow, OutboxState
from node.reconcile.service import reconcile
from node.writer.models import ChainTransaction, ChainTxState
from tools.devnet import Devnet
from tools.postgres import PgServer
from wallet_sdk.chain.network import Network
from wallet_sdk.client import AtmClient, Client, Teller
from wallet_sdk.client import Operation as OperationDoc
from wallet_sdk.client.atm import withdrawal_code
from wallet_sdk.client.wallets import EnrolmentRow
from wallet_sdk.deploy import BankConfig, NetworkConfig, deploy
from wallet_sdk.exceptions import ApiConnectionError, ApiProblemError, IdempotencyKeyInFlightError
from wallet_sdk.keys import WalletKey

OPERATIONS = int(os.environ.get("CRASH_OPERATIONS") or 1000)  # see the module docstring
WORKERS = 4  # each owns its payers, so a payer's operations run one at a time, as a customer's would
CUSTODIAL_PER_WORKER = 2
SELF_CUSTODY_PER_WORKER = 1
FUNDS = 200_000  # each wallet's money before the load
DEPOSIT = 1_000_000  # each custodial customer's bank account
ATM_CASH = 2_500_000
GOOD = 1_000  # an accepted-to-be operation i moves GOOD + i
BAD = 3_000_000  # a refused-to-be one asks for BAD + i: more than any wallet or account holds
DESK = Teller(branch="BR-LOAD", operator="T-0001")  # the counter the tellers' requests come from
MIX = {"topup": 16, "redeem": 12, "p2p": 26, "merchant": 12, "cash_in": 16, "cash_out": 8, "bad": 10}
WAIT = 120.0

T = TypeVar("T")


@dataclass
class Op:
    """One operation asked of the API, and what became of it."""

    index: int
    kind: str
    wallet: str
    amount: int
    counterparty: str | None = None  # the payee of a P2P payment
    order: str | None = None  # a merchant payment's order id
    key: str = field(default_factory=lambda: f"crash-{secrets.token_hex(8)}")  # Idempotency-Key or ATM event
    op_id: str | None = None  # accepted: the operation the API answered
    refusal: str | None = None  # refused: the problem type, or "unanswered"
    code: str | None = None  # a cash-out's withdrawal code: the ATM re-sends the code it scanned
    resent: bool = False  # sent again with the same key, and answered the same

    @property
    def accepted(self) -> bool:
        return self.op_id is not None


@dataclass
class Bank:
    procs: BankProcesses
    network: Network
    custodial: list[str]
    self_custody: list[WalletKey]
    atm_id: str
    atm_secret: str
    merchant_id: str
    merchant_key: str
    start_block: int
    first_operation: int  # operations of the load have ids above this


# ------------------------------------------------------------------ the bank, set up through its API


def wait_done(client: Client, op_id: str | None) -> None:
    assert op_id is not None
    assert client.wait_for_operation(op_id, timeout=WAIT).status == "completed"


def setup_bank(procs: BankProcesses, network: Network) -> Bank:
    admin = Client(procs.url, procs.key("admin"), timeout=60.0)
    teller = Client(procs.url, procs.key("teller"), timeout=60.0, teller=DESK)
    keys = [WalletKey.create() for _ in range(WORKERS * SELF_CUSTODY_PER_WORKER)]
    rows = []
    for _ in range(WORKERS * CUSTODIAL_PER_WORKER):
        ref = f"CUST-{secrets.token_hex(5)}"
        account = admin.open_account(f"DEP-{secrets.token_hex(5)}", ref, opening_balance=DEPOSIT).code
        rows.append(EnrolmentRow(customer_ref=ref, verification="in_person", tier=1, account=account))
    rows += [EnrolmentRow(customer_ref=f"CUST-{secrets.token_hex(5)}", verification="in_person", tier=1,
                          custody="self", address=str(k.address)) for k in keys]
    results = teller.enrol_wallets(rows).results
    for result in results:
        assert result.ok and result.wallet, result
        wait_done(teller, result.operation_id)
    custodial = [str(r.wallet) for r in results[:len(results) - len(keys)]]

    atm_id = f"ATM-{secrets.token_hex(4)}"
    registration = admin.register_atm(atm_id, name="Crash ATM")
    admin.deliver_vault_cash(ATM_CASH)
    admin.replenish_atm(atm_id, ATM_CASH)
    atm = AtmClient(procs.url, procs.key("atm"), atm_id=atm_id, secret=registration.secret, timeout=60.0)
    funding = [teller.top_up(w, FUNDS).id for w in custodial]
    funding += [atm.report_cash_in(f"EV-{secrets.token_hex(6)}", str(k.address), {FUNDS: 1}).id for k in keys]

    merchant_id = f"SHOP-{secrets.token_hex(4)}"
    settlement = admin.open_account(f"MRCH-{secrets.token_hex(5)}", merchant_id).code
    onboarding = admin.onboard_merchant(merchant_id, legal_name="Crash Shop Ltd", mcc=5411, fee_bps=150,
                                        settlement_account=settlement)
    for op_id in [*funding, onboarding.operation.id]:
        wait_done(teller, op_id)
    for client in (admin, teller, atm):
        client.close()
    with transaction(session_factory(procs.engine, read_only=True)) as session:
        first_operation = int(session.scalar(select(func.max(Operation.id))) or 0)
    assert onboarding.api_key is not None
    return Bank(procs, network, custodial, keys, atm_id, registration.secret, merchant_id, onboarding.api_key,
                network.block_number + 1, first_operation)


@contextmanager
def deployed_bank(root: Path, pg_server: PgServer, **processes: Any) -> Iterator[Bank]:
    """Its own anvil and a one-bank deployment; BANKA's processes (``processes``: how many nodes, the API's
    workers; see BankProcesses) on a fresh PostgreSQL database, set up through the API. Stopped at the end,
    whatever happened."""
    with Devnet(accounts=4) as devnet:
        w3 = Web3(Web3.HTTPProvider(devnet.rpc_url, request_kwargs={"timeout": 60}))
        operator, regulator, bank_operator = (Account.from_key(a.private_key) for a in devnet.accounts[:3])
        deployment = deploy(w3, operator, NetworkConfig(
            network_operator=operator.address, regulator=regulator.address, threshold=1,
            banks=[BankConfig(code="BANKA", name="Bank A", operators=[bank_operator.address], quota=10**13)]))
        deployment.save(root / "deployment.json")
        database = f"load_{secrets.token_hex(4)}"
        pg_server.admin(f"CREATE DATABASE {database} TEMPLATE walletnet_template")
        engine = create_engine(pg_server.url(database))
        procs = BankProcesses(root, rpc_url=devnet.rpc_url, deployment_file=root / "deployment.json",
                              db_url=pg_server.url(database), engine=engine, operator=bank_operator, **processes)
        try:
            procs.start_api()
            procs.start_nodes()
            yield setup_bank(procs, Network.from_web3(w3, deployment))
        finally:
            procs.stop()
            engine.dispose()


def plan(rng: random.Random, bank: Bank) -> list[list[Op]]:
    """Each worker's operations, in order: kinds drawn from MIX over the worker's own payers."""
    plans: list[list[Op]] = [[] for _ in range(WORKERS)]
    kinds, weights = list(MIX), list(MIX.values())
    payees = bank.custodial + [str(k.address) for k in bank.self_custody]
    for i in range(OPERATIONS):
        worker = i % WORKERS
        mine = bank.custodial[worker * CUSTODIAL_PER_WORKER:(worker + 1) * CUSTODIAL_PER_WORKER]
        holder = str(bank.self_custody[worker].address)
        kind = rng.choices(kinds, weights)[0]
        if kind == "bad":
            kind = rng.choice(["topup", "redeem", "p2p", "cash_in", "cash_out", "merchant_again"])
            amount = BAD + i
        else:
            amount = GOOD + i
        wallet = holder if kind in ("cash_in", "cash_out") else rng.choice(mine)
        if kind == "cash_in" and amount >= BAD:
            wallet = str(WalletKey.create().address)  # notes for a wallet nobody opened
        payee = rng.choice([p for p in payees if p != wallet]) if kind == "p2p" else None
        plans[worker].append(Op(i, kind, wallet, amount, counterparty=payee))
    return plans


class Worker:
    """A customer-facing channel (teller, ATM, merchant) asking the API for one worker's operations."""

    def __init__(self, bank: Bank, ops: list[Op], rng: random.Random, progress: Callable[[], None]) -> None:
        procs = bank.procs
        self.bank, self.ops, self.rng, self.progress = bank, ops, rng, progress
        self.teller = Client(procs.url, procs.key("teller"), timeout=60.0, teller=DESK)
        self.shop = Client(procs.url, bank.merchant_key, timeout=60.0)
        self.atm = AtmClient(procs.url, procs.key("atm"), atm_id=bank.atm_id, secret=bank.atm_secret, timeout=60.0)
        self.keys = {str(k.address): k for k in bank.self_custody}
        self.reconnects = 0
        self.last_paid: Op | None = None

    def persist(self, call: Callable[[], T]) -> T:
        """``call`` until the API answers: after a dropped connection, wait for the API and send it again."""
        while True:
            try:
                return call()
            except ApiConnectionError:
                self.reconnects += 1
                self.bank.procs.wait_api()

    def run(self) -> None:
        try:
            for op in self.ops:
                self.ask(op)
                self.progress()
        finally:
            for client in (self.teller, self.shop, self.atm):
                client.close()

    def ask(self, op: Op) -> None:
        reconnects = self.reconnects
        try:
            answer = self.persist(lambda: self.send(op))
        except IdempotencyKeyInFlightError:  # the first try died with the API, unanswered: it must leave nothing
            assert self.reconnects > reconnects, f"op {op.index} ({op.kind}): in flight, yet sent once"
            op.refusal = "unanswered"
            return
        except ApiProblemError as problem:
            assert 400 <= problem.status < 500, f"op {op.index} ({op.kind}): {problem.status} {problem}"
            op.refusal = problem.type
            return
        assert answer.status in ("pending", "held", "completed"), answer
        op.op_id = answer.id
        if op.kind == "cash_out":
            self.dispense(op)
        if op.kind == "merchant":
            self.last_paid = op
        if self.rng.random() < 0.05:  # a client that did not see the answer sends the same request again
            again = self.persist(lambda: self.send(op))
            assert again.id == op.op_id, f"op {op.index} ({op.kind}) sent again: {again.id} != {op.op_id}"
            op.resent = True

    def send(self, op: Op) -> OperationDoc:
        if op.kind == "topup":
            return self.teller.top_up(op.wallet, op.amount, idempotency_key=op.key)
        if op.kind == "redeem":
            return self.teller.redeem(op.wallet, op.amount, idempotency_key=op.key)
        if op.kind == "p2p":
            assert op.counterparty is not None
            return self.teller.transfer(op.wallet, op.counterparty, op.amount, idempotency_key=op.key)
        if op.kind == "cash_in":
            return self.atm.report_cash_in(op.key, op.wallet, {op.amount: 1})
        if op.kind == "cash_out":
            op.code = op.code or withdrawal_code(self.keys[op.wallet], self.bank.network.domain(), op.amount,
                                                 now=self.bank.network.now(), valid_for=600).text
            return self.atm.submit_withdrawal(op.key, op.code)
        if op.kind == "merchant":
            op.order = op.order or f"ORDER-{op.index}"
            request = self.shop.create_payment_request(self.bank.merchant_id, op.order, op.amount)
            return self.teller.pay_merchant(op.wallet, request.payload, idempotency_key=op.key)
        assert op.kind == "merchant_again"  # pay an order this worker had accepted before, with a new key
        first = self.last_paid
        if first is None:  # none yet: ask for an over-balance payment instead
            op.kind, op.counterparty = "p2p", self.bank.custodial[0] if op.wallet != self.bank.custodial[0] \
                else self.bank.custodial[1]
            return self.send(op)
        assert first.order is not None
        request = self.shop.get_payment_request(self.bank.merchant_id, first.order)
        op.order, op.amount = first.order, first.amount
        return self.teller.pay_merchant(op.wallet, request.payload, idempotency_key=op.key)

    def dispense(self, op: Op) -> None:
        """The ATM waits for the hold, pays the notes out and says so."""
        assert op.op_id is not None
        op_id = op.op_id
        held = self.persist(lambda: self.atm.wait_for_status(op_id, timeout=WAIT, poll=0.3))
        assert held.status == "held", held
        event = f"{op.key}-dispensed"
        self.persist(lambda: self.atm.confirm_dispense(op_id, event))


class Chaos(Protocol):
    """What breaks the bank while the load runs (a thread's target); ``done`` is set when the load ended."""

    done: threading.Event
    error: BaseException | None

    def run(self) -> None: ...

    def describe(self) -> str: ...


def run_load(bank: Bank, seed: int, make_chaos: Callable[[random.Random, Callable[[], int]], Chaos]) \
        -> tuple[list[Op], list[Worker], Chaos]:
    """Every worker's plan of OPERATIONS from ``seed`` asked of the API while ``make_chaos``'s thread runs."""
    rng = random.Random(seed)
    plans = plan(rng, bank)
    asked = Counter[str]()
    lock = threading.Lock()

    def progress() -> None:
        with lock:
            asked["n"] += 1

    workers = [Worker(bank, ops, random.Random(rng.random()), progress) for ops in plans]
    chaos = make_chaos(random.Random(rng.random()), lambda: asked["n"])
    errors: list[BaseException] = []

    def guarded(worker: Worker) -> None:
        try:
            worker.run()
        except BaseException as exc:  # the test thread re-raises it
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(w,), name=f"load-{i}") for i, w in enumerate(workers)]
    breaking = threading.Thread(target=chaos.run, name="chaos")
    breaking.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(600)
    chaos.done.set()
    breaking.join(120)
    context = f"seed {seed}, {chaos.describe()}"
    if errors:
        raise AssertionError(f"{context}: a load thread failed") from errors[0]
    assert chaos.error is None, f"{context}: {chaos.error!r}"
    assert not breaking.is_alive() and not any(t.is_alive() for t in threads), context
    return [op for ops in plans for op in ops], workers, chaos


def check_after_load(bank: Bank, ops: list[Op], workers: list[Worker], context: str) -> None:
    """Once the load ended: the nodes idle, then stopped cleanly; the books, the chain and reconciliation."""
    accepted = [op for op in ops if op.accepted]
    refused = [op for op in ops if not op.accepted]
    print(f"{context}; accepted {len(accepted)}, refused {Counter(op.refusal for op in refused)}, sent again "
          f"{sum(op.resent for op in ops)}, reconnects {sum(w.reconnects for w in workers)}")
    assert len(ops) == OPERATIONS
    assert len(refused) >= OPERATIONS // 20 and len(accepted) >= OPERATIONS * 3 // 4, context
    started = time.monotonic()
    wait_idle(bank, context)
    print(f"  idle after {time.monotonic() - started:.1f}s")
    for node in bank.procs.nodes:
        assert bank.procs.stop_node(node) == 0, f"{context}: a node did not stop cleanly:\n{node.tail()}"
    assert_books(bank, accepted, refused, context)
    assert_chain(bank, accepted, context)
    print(f"  CPU seconds: nodes {sum(n.cpu_seconds() for n in bank.procs.nodes):.1f}, "
          f"API {bank.procs.api.cpu_seconds():.1f}")
    report = reconcile(bank.network, bank.procs.engine, "BANKA", confirmations=1)
    assert report.ok, f"{context}: {report.summary()}\n" + "\n".join(str(d) for d in report.differences)


def wait_idle(bank: Bank, context: str) -> None:
    """Until the node has nothing left to do: every operation of the load final, every outbox row final, no
    transaction waiting for its receipt, and the indexer at the chain's head."""
    sessions = session_factory(bank.procs.engine, read_only=True)
    deadline = time.monotonic() + WAIT
    while True:
        head = bank.network.block_number
        with sessions() as session:
            waiting = [session.scalar(select(func.count()).select_from(model).where(*where)) for model, *where in (
                (Operation, Operation.id > bank.first_operation, Operation.status.not_in(FINAL)),
                (OutboxRow, OutboxRow.state.in_([OutboxState.RECEIVED, OutboxState.SUBMITTED])),
                (ChainTransaction, ChainTransaction.state == ChainTxState.PENDING))]
            checkpoint = session.scalars(select(IndexerCheckpoint)).one_or_none()
        if waiting == [0, 0, 0] and checkpoint is not None and checkpoint.log_index is None \
                and checkpoint.block_number >= head:
            return
        assert time.monotonic() < deadline, f"{context}: not idle after {WAIT:g}s: {waiting}, indexer at " \
                                            f"{checkpoint and checkpoint.block_number} of {head}"
        for node in bank.procs.nodes:
            node.check_alive()
        time.sleep(0.2)


def mentions(value: Any, amount: int) -> bool:
    if isinstance(value, dict):
        return any(mentions(v, amount) for v in value.values())
    if isinstance(value, list):
        return any(mentions(v, amount) for v in value)
    return value == amount or value == str(amount)


def assert_books(bank: Bank, accepted: list[Op], refused: list[Op], context: str) -> None:
    """The bank's database: one operation per accepted request and none else, every outbox row final, every
    journal entry balanced, and nothing anywhere that carries a refused request's amount."""
    with transaction(session_factory(bank.procs.engine, read_only=True)) as session:
        made = session.execute(select(Operation.public_id, Operation.status).where(
            Operation.id > bank.first_operation)).all()
        assert sorted(public_id for public_id, _ in made) == sorted(str(op.op_id) for op in accepted), context
        assert {status.value for _, status in made} == {"completed"}, context
        unfinished = session.scalars(select(OutboxRow).where(
            OutboxRow.state.in_([OutboxState.RECEIVED, OutboxState.SUBMITTED]))).all()
        assert unfinished == [], f"{context}: {unfinished}"
        unbalanced = session.execute(select(Posting.entry_id, func.sum(Posting.amount_minor))
                                     .group_by(Posting.entry_id)
                                     .having(func.sum(Posting.amount_minor) != 0)).all()
        assert unbalanced == [], f"{context}: unbalanced journal entries {unbalanced}"
        amounts = {op.amount for op in refused if op.kind != "merchant_again"}  # a double payment's is its first's
        assert not amounts & {op.amount for op in accepted}
        traces = [("operation", a) for a in session.scalars(select(Operation.amount_minor)) if a in amounts]
        traces += [("posting", abs(a)) for a in session.scalars(select(Posting.amount_minor)) if abs(a) in amounts]
        traces += [("hold", a) for a in session.scalars(select(LedgerHold.amount_minor)) if a in amounts]
        traces += [("outbox", row.idempotency_key) for row in session.scalars(select(OutboxRow))
                   if any(mentions(row.payload, a) for a in amounts)]
        assert traces == [], f"{context}: refused requests left traces: {traces}"


def assert_chain(bank: Bank, accepted: list[Op], context: str) -> None:
    """Each accepted operation's events on chain exactly once, none other since the load began, and every
    wallet's balance what its funding and the accepted operations add up to."""
    network, since = bank.network, bank.start_block
    token, settlement = network.token, network.addresses["MerchantSettlement"]

    def logs(contract: Any, event: str) -> list[Any]:
        return [log["args"] for log in getattr(contract.events, event).get_logs(from_block=since)]

    def of(*kinds: str) -> list[Op]:
        return [op for op in accepted if op.kind in kinds]

    zero = "0x" + "0" * 40
    assert Counter((a["wallet"], a["amount"]) for a in logs(token, "Minted")) == \
        Counter((op.wallet, op.amount) for op in of("topup", "cash_in")), context
    assert Counter((a["wallet"], a["amount"]) for a in logs(token, "Burned")) == \
        Counter((op.wallet, op.amount) for op in of("redeem", "cash_out")), context
    for event in ("HoldPlaced", "HoldCaptured"):
        assert Counter((a["holder"], a["amount"]) for a in logs(token, event)) == \
            Counter((op.wallet, op.amount) for op in of("cash_out")), f"{context}: {event}"
    assert logs(token, "HoldReleased") == [], context
    plain = [(a["from"], a["to"], a["value"]) for a in logs(token, "Transfer")
             if zero not in (a["from"], a["to"]) and token.address not in (a["from"], a["to"])]
    assert Counter(t for t in plain if t[1] != settlement) == \
        Counter((op.wallet, op.counterparty, op.amount) for op in of("p2p")), context
    assert Counter(t for t in plain if t[1] == settlement) == \
        Counter((op.wallet, settlement, op.amount) for op in of("merchant")), context
    paid = Counter((a["payer"], a["amount"]) for a in logs(network.settlement, "OrderPaid"))
    assert paid == Counter((op.wallet, op.amount) for op in of("merchant")), context

    expected = Counter({w: FUNDS for w in [*bank.custodial, *(str(k.address) for k in bank.self_custody)]})
    for op in accepted:
        sign = 1 if op.kind in ("topup", "cash_in") else -1
        expected[op.wallet] += sign * op.amount
        if op.kind == "p2p":
            expected[str(op.counterparty)] += op.amount
    assert {w: network.balance(w) for w in expected} == dict(expected), context
    assert network.balance(settlement) == sum(op.amount for op in of("merchant")), context
