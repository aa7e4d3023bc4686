"""``walletnet demo``: a scripted story against the local network, step by step, through the banks' HTTP APIs
with the SDK (as a bank's systems and its customers' apps would), checking that each step did what it says.

It uses the network ``walletnet up`` runs from the same data folder (found through ``network.json``), or starts
one itself and stops it at the end. Every run uses fresh customers, an ATM and a merchant of its own, so it can
be run again on the same network. The exit code is 0 only if every step did what it said.
"""

from __future__ import annotations

import csv
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from tools.localnet import DEFAULT_DATA_DIR
from wallet_sdk.authorizations import RelayedTransfer, relay_nonce
from wallet_sdk.chain.network import Network
from wallet_sdk.client import Client, Operation, Teller
from wallet_sdk.client.atm import AtmClient, withdrawal_code
from wallet_sdk.exceptions import LimitExceededError, NotFoundError
from wallet_sdk.keys import WalletKey

__all__ = ["STEPS", "DemoError", "DemoRun", "StepResult", "run_demo"]

T = TypeVar("T")

CUSTOMERS = 100  # enrolled in bulk from a CSV
CURRENCY_DECIMALS = 2
START_WAIT = 300.0  # seconds to wait for a `walletnet up` that is starting (it may be compiling first)
COUNTER = Teller(branch="BR-DEMO", operator="DEMO-TELLER")  # the desk the demo's teller says it is


class DemoError(RuntimeError):
    """A step did not do what it said."""


def check(condition: bool, message: str) -> None:
    if not condition:
        raise DemoError(message)


def money(minor: int) -> str:
    return f"{minor / 10**CURRENCY_DECIMALS:,.2f}"


@dataclass
class StepResult:
    number: int
    name: str
    ok: bool
    lines: list[str]
    error: str | None = None


@dataclass
class DemoRun:
    exit_code: int
    steps: list[StepResult]
    wallets: dict[str, str] = field(default_factory=dict)  # who -> address (Alice, Bob, merchant)


@dataclass
class Story:
    """What the steps share: the network's description, its API keys, clients, and what earlier steps made."""

    info: dict[str, Any]
    credentials: dict[str, dict[str, str]]
    data_dir: Path
    console: Console
    run: str = field(default_factory=lambda: secrets.token_hex(3))
    clients: dict[tuple[str, str], Client] = field(default_factory=dict)
    network: Network | None = None
    wallets: dict[str, str] = field(default_factory=dict)
    alice_key: WalletKey | None = None
    atm: AtmClient | None = None
    atm_id: str = ""
    merchant_id: str = ""
    merchant: Client | None = None
    order_id: str = ""
    batch_id: int = 0

    @property
    def bank_a(self) -> str:
        return str(sorted(self.info["banks"])[0])

    @property
    def bank_b(self) -> str:
        return str(sorted(self.info["banks"])[-1])

    def url(self, bank: str) -> str:
        return str(self.info["banks"][bank]["api_url"])

    def client(self, bank: str, scope: str) -> Client:
        if (bank, scope) not in self.clients:
            self.clients[bank, scope] = Client(self.url(bank), self.credentials[bank][scope], timeout=60.0,
                                               teller=COUNTER if scope == "teller" else None)
        return self.clients[bank, scope]

    def app(self, bank: str, customer_ref: str) -> Client:
        """The customer's app: the bank's login backend (its ``auth`` key) has logged the customer in and minted a
        customer session, whose token the app acts with, on this customer's wallets only."""
        key = (bank, f"customer {customer_ref}")
        if key not in self.clients:
            backend = self.client(bank, "auth")
            self.clients[key] = backend.as_customer(backend.mint_customer_session(customer_ref))
        return self.clients[key]

    def chain(self) -> Network:
        if self.network is None:
            self.network = Network.connect(self.info["rpc_url"], Path(self.info["deployment_file"]), timeout=30.0)
        return self.network

    def ref(self, what: str) -> str:
        return f"DEMO-{self.run}-{what}"

    def close(self) -> None:
        for client in self.clients.values():
            client.close()
        if self.atm is not None:
            self.atm.close()
        if self.merchant is not None:
            self.merchant.close()


def completed(client: Client | AtmClient, op: Operation | str, what: str, status: str = "completed") -> Operation:
    """Wait until ``op`` (or the operation with that id) is final; it must end as ``status``."""
    op_id = op if isinstance(op, str) else op.id
    deadline = time.monotonic() + 10
    while True:  # an opening's answer may come just before its commit is visible
        try:
            final = (client.wait_for_status(op_id, (), timeout=60.0) if isinstance(client, AtmClient)
                     else client.wait_for_operation(op_id, timeout=60.0))
            break
        except NotFoundError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    check(final.status == status, f"{what}: operation {op_id} ended {final.status} ({final.error or 'no error'}), "
                                  f"expected {status}")
    return final


def eventually(read: Callable[[], T], timeout: float = 60.0) -> T:
    """``read()`` once what it reads exists (NotFoundError until the node has indexed it)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return read()
        except NotFoundError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


# ------------------------------------------------------------------ the steps


def teller_opens_tier_1(s: Story) -> list[str]:
    """Alice opens a wallet at Bank A's counter; her phone app holds its key (self-custody)."""
    s.alice_key = WalletKey.create()
    teller = s.client(s.bank_a, "teller")
    opening = teller.open_wallet(s.ref("ALICE"), "in_person", custody="self", address=str(s.alice_key.address))
    completed(teller, opening.operation, "opening")
    wallet = teller.get_wallet(opening.wallet.address)
    check(wallet.tier == 1 and wallet.status == "active", f"wallet is tier {wallet.tier}, {wallet.status}")
    s.wallets["Alice"] = wallet.address
    return [f"{s.bank_a} teller opened Alice's wallet {wallet.address}: tier {wallet.tier}, {wallet.status}, "
            "self-custody (her app holds the key)"]


def app_opens_tier_4(s: Story) -> list[str]:
    """Bob opens a wallet in Bank B's app with just his phone number: tier 4, the tightest limits."""
    app = s.app(s.bank_b, s.ref("BOB"))
    opening = app.open_wallet(s.ref("BOB"), "phone", phone="+15550100" + str(secrets.randbelow(90) + 10))
    completed(app, opening.operation, "opening")
    wallet = app.get_wallet(opening.wallet.address)
    check(wallet.tier == 4 and wallet.status == "active", f"wallet is tier {wallet.tier}, {wallet.status}")
    limits = s.chain().wallet_limits(wallet.address)
    check(limits is not None, "no limits on chain")
    assert limits is not None
    s.wallets["Bob"] = wallet.address
    return [f"{s.bank_b} app opened Bob's wallet {wallet.address}: tier {wallet.tier}, custodial",
            f"tier-4 limits on chain: balance cap {money(limits.balance_cap)}, single payment "
            f"{money(limits.single_payment_limit)}, daily outflow {money(limits.daily_outflow_limit)}"]


def bulk_enrolment(s: Story) -> list[str]:
    """Bank A enrols existing customers from a CSV, as ``walletnet wallets enrol`` does, with a progress bar."""
    from tools import enrolment

    folder = s.data_dir / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"customers-{s.run}.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["customer_ref", "verification", "tier", "custody"])
        for i in range(CUSTOMERS):
            writer.writerow([s.ref(f"C{i:03}"), "in_person", "1", "custodial"])
    rows = enrolment.read_rows(path)
    admin = s.client(s.bank_a, "admin")
    results: list[dict[str, str]] = []
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=s.console, transient=False) as progress:
        sent = progress.add_task("enrolling ", total=len(rows))
        for start in range(0, len(rows), 20):
            results += enrolment.send(admin, rows[start:start + 20])
            progress.advance(sent, len(rows[start:start + 20]))
        on_chain = progress.add_task("on chain  ", total=len(results))
        for line in results:
            if line["operation_id"]:
                completed(admin, line["operation_id"], f"enrolment of {line['customer_ref']}")
            progress.advance(on_chain)
    opened = sum(1 for r in results if r["status"] == "opened")
    failed = [r for r in results if r["status"] not in ("opened", "existing")]
    check(not failed and len(results) == CUSTOMERS, f"{len(failed)} of {len(results)} rows failed: "
                                                    f"{failed[:1]}")
    return [f"read {len(rows)} customers from {path}", f"{opened} wallets opened and active on chain, 0 failed"]


def atm_cash_in(s: Story) -> list[str]:
    """Bank A registers and stocks an ATM; Alice pays in notes, minted into her wallet."""
    admin = s.client(s.bank_a, "admin")
    s.atm_id = s.ref("ATM")
    registration = admin.register_atm(s.atm_id, name="Demo ATM", location="Main Street 1")
    admin.deliver_vault_cash(500_000)
    admin.replenish_atm(s.atm_id, 500_000)
    s.atm = AtmClient(s.url(s.bank_a), s.credentials[s.bank_a]["atm"], atm_id=s.atm_id, secret=registration.secret,
                      timeout=60.0)
    alice = s.wallets["Alice"]
    op = s.atm.report_cash_in(s.ref("EV-IN"), alice, {10_000: 8})
    done = completed(s.atm, op, "cash-in")
    balance = s.chain().balance(alice)
    check(balance == 80_000, f"Alice holds {money(balance)}, expected 800.00")
    return [f"ATM {s.atm_id} stocked with {money(500_000)}",
            f"Alice paid in 8 x 100.00 notes: {money(80_000)} minted into her wallet (tx {done.tx_hash})",
            f"Alice's balance: {money(balance)}"]


def cross_bank_p2p(s: Story) -> list[str]:
    """Alice (Bank A) pays Bob (Bank B); her app signs, her bank relays."""
    assert s.alice_key is not None
    network = s.chain()
    alice, bob = s.wallets["Alice"], s.wallets["Bob"]
    auth = RelayedTransfer(from_=alice, to=bob, value=60_000, valid_before=network.now() + 600,
                           nonce=relay_nonce(secrets.randbits(64), 0))
    app = s.app(s.bank_a, s.ref("ALICE"))
    op = app.transfer(alice, bob, 60_000, authorization=auth.sign(s.alice_key, network.domain()))
    done = completed(app, op, "transfer")
    balances = network.balance(alice), network.balance(bob)
    check(balances == (20_000, 60_000), f"balances {balances}, expected (20_000, 60_000)")
    return [f"Alice ({s.bank_a}) paid Bob ({s.bank_b}) {money(60_000)}, signed in her app (tx {done.tx_hash})",
            f"Alice {money(balances[0])}, Bob {money(balances[1])}"]


def tier_limit_refusal(s: Story) -> list[str]:
    """Bob's tier-4 wallet may not pay more than its single-payment limit, even with the money in it."""
    app = s.app(s.bank_b, s.ref("BOB"))
    try:
        app.transfer(s.wallets["Bob"], s.wallets["Alice"], 55_000)
    except LimitExceededError as exc:
        problem = exc.problem
        check(problem.get("limit") == "single_payment", f"refused for {problem.get('limit')}")
        balance = s.chain().balance(s.wallets["Bob"])
        check(balance == 60_000, f"Bob holds {money(balance)} after the refusal")
        return [f"Bob tried to pay {money(55_000)} out of {money(60_000)}: refused, HTTP {exc.status}",
                f"reason: {problem.get('limit')} limit {money(int(problem.get('limit_minor', 0)))} "
                f"({exc.detail or exc.title}); nothing moved"]
    raise DemoError("the payment over the tier-4 single-payment limit was accepted")


def merchant_qr_payment(s: Story) -> list[str]:
    """Bank A onboards a shop; the shop shows a QR payment request; Bob (Bank B) pays it in his app."""
    admin = s.client(s.bank_a, "admin")
    s.merchant_id = s.ref("SHOP")
    account = s.ref("SHOP-ACC")
    admin.open_account(account, s.merchant_id, opening_balance=0)
    onboarding = admin.onboard_merchant(s.merchant_id, legal_name="Corner Coffee Ltd", mcc=5814, fee_bps=150,
                                        settlement_account=account, payout_mode="wallet")
    completed(admin, onboarding.operation, "onboarding")
    check(onboarding.api_key is not None, "no merchant API key")
    assert onboarding.api_key is not None
    s.merchant = Client(s.url(s.bank_a), onboarding.api_key, timeout=60.0)
    s.wallets["merchant"] = onboarding.merchant.wallet
    s.order_id = "ORDER-1"
    request = s.merchant.create_payment_request(s.merchant_id, s.order_id, 12_000, description="coffee beans")
    check(request.payload.startswith("WALLETNET:1:REQUEST:"), "not a payment request payload")
    app = s.app(s.bank_b, s.ref("BOB"))
    done = completed(app, app.pay_merchant(s.wallets["Bob"], request.payload), "payment")
    order = s.merchant.get_order(s.merchant_id, s.order_id)
    check(order.status == "paid" and order.paid.amount == 12_000, f"order {order.status}, paid {order.paid.amount}")
    return [f"{s.bank_a} onboarded merchant {s.merchant_id} (wallet {onboarding.merchant.wallet}, fee 1.50%)",
            f"QR request {s.order_id} for {money(12_000)}: {request.payload[:48]}...",
            f"Bob paid it from {s.bank_b} (tx {done.tx_hash}); order {order.status}"]


def partial_refund(s: Story) -> list[str]:
    """The shop refunds part of the order to Bob."""
    assert s.merchant is not None
    completed(s.merchant, s.merchant.refund_order(s.merchant_id, s.order_id, 2_000), "refund")
    order = s.merchant.get_order(s.merchant_id, s.order_id)
    check(order.status == "partially_refunded" and order.refunded.amount == 2_000,
          f"order {order.status}, refunded {order.refunded.amount}")
    bob = s.chain().balance(s.wallets["Bob"])
    check(bob == 60_000 - 12_000 + 2_000, f"Bob holds {money(bob)}")
    return [f"refunded {money(2_000)} of {s.order_id}: order {order.status}", f"Bob's balance: {money(bob)}"]


def settlement(s: Story) -> list[str]:
    """Bank A settles the shop: payments less refunds and its fee go to the shop's wallet; the statement adds up."""
    assert s.merchant is not None
    op = completed(s.merchant, s.merchant.settle_merchant(s.merchant_id), "settlement")
    s.batch_id = int(op.details["batch_id"])
    merchant = s.merchant
    # the statement is built from the settlement's event, once the indexer has its confirmed block
    statement = eventually(lambda: merchant.get_settlement_statement(s.merchant_id, s.batch_id))
    fee = 12_000 * 150 // 10_000
    check((statement.gross_minor, statement.refunds_minor, statement.fee_minor, statement.net_minor)
          == (12_000, 2_000, fee, 12_000 - 2_000 - fee), f"statement {statement}")
    check(s.chain().balance(s.wallets["merchant"]) == statement.net_minor, "the shop's wallet lacks the net")
    lines = [f"batch {s.batch_id}: gross {money(statement.gross_minor)}, refunds {money(statement.refunds_minor)}, "
             f"fee {money(statement.fee_minor)}, net {money(statement.net_minor)} paid to the shop's wallet"]
    lines += [f"  {line.type:<8} {line.order_id or '':<10} {money(line.amount_minor):>10}" for line in statement.lines]
    return lines


def _withdraw(s: Story, amount: int, event: str) -> Operation:
    assert s.atm is not None and s.alice_key is not None
    network = s.chain()
    code = withdrawal_code(s.alice_key, network.domain(), amount, now=network.now(), valid_for=600)
    op = s.atm.submit_withdrawal(s.ref(event), code.text)
    held = s.atm.wait_until_held(op.id, timeout=60.0)
    check(held.status == "held", f"cash-out {held.status}, expected held")
    return op


def cash_out_fault(s: Story) -> list[str]:
    """Alice shows a withdrawal code; the ATM holds the money, jams, and the hold is released."""
    assert s.atm is not None
    alice = s.wallets["Alice"]
    network = s.chain()
    op = _withdraw(s, 15_000, "EV-OUT1")
    held = network.held_balance(alice)
    s.atm.report_dispense_fault(op.id, s.ref("EV-FAULT"), "cassette jam")
    done = completed(s.atm, op, "cash-out", status="released")
    balance = network.balance(alice)
    check(balance == 20_000 and network.held_balance(alice) == 0, f"Alice holds {money(balance)} after release")
    return [f"{money(15_000)} held on Alice's wallet ({money(held)} on hold) for the ATM",
            f"dispense failed ({done.details.get('release_reason', 'cassette jam')}): hold released, "
            f"Alice's balance back to {money(balance)}"]


def cash_out_dispensed(s: Story) -> list[str]:
    """Alice tries again; the notes come out and the held money is burned."""
    assert s.atm is not None
    admin = s.client(s.bank_a, "admin")
    cash_before = admin.get_atm_cash(s.atm_id).cash.amount
    op = _withdraw(s, 15_000, "EV-OUT2")
    s.atm.confirm_dispense(op.id, s.ref("EV-DISPENSED"))
    completed(s.atm, op, "cash-out")
    balance = s.chain().balance(s.wallets["Alice"])
    cash = admin.get_atm_cash(s.atm_id).cash.amount
    check(balance == 5_000 and cash == cash_before - 15_000, f"Alice {money(balance)}, ATM cash {money(cash)}")
    return [f"{money(15_000)} dispensed; Alice's balance {money(balance)}, ATM cash {money(cash)}"]


def reconciliation(s: Story) -> list[str]:
    """Every bank's chain, indexer, ledger and outbox agree; the banks' positions add up to the supply."""
    from node.db import create_engine
    from node.reconcile.service import reconcile

    network = s.chain()
    lines = []
    for code, bank in sorted(s.info["banks"].items()):
        engine = create_engine(bank["db_url"])
        try:
            deadline = time.monotonic() + 60
            while True:  # the nodes may still be confirming and indexing the last blocks
                report = reconcile(network, engine, code, currency="DCASH", confirmations=1)
                if report.ok or time.monotonic() > deadline:
                    break
                time.sleep(0.5)
        finally:
            engine.dispose()
        check(report.ok, f"{code}: {report.summary()}: " + "; ".join(str(d) for d in report.differences[:3]))
        lines.append(f"{code} at block {report.chain_block}: {report.summary()}")
    positions = network.positions()
    total = sum(b.net_issued for b in positions.banks)
    check(total == positions.total_supply, f"positions sum to {total}, supply {positions.total_supply}")
    lines.append("interbank positions (net issued = minted - burned; the supply each bank's money makes up):")
    for b in positions.banks:
        name = b.bank_id.rstrip(b"\0").decode()
        lines.append(f"  {name:<6} net issued {money(b.net_issued):>14}   quota {money(b.quota):>18}")
    lines.append(f"  total supply {money(positions.total_supply)} = sum of net issued")
    held = ", ".join(f"{who} ({bank}) {money(network.balance(s.wallets[who]))}"
                     for who, bank in (("Alice", s.bank_a), ("Bob", s.bank_b), ("merchant", s.bank_a)))
    lines.append(f"  this run's wallets hold: {held}; money one bank issued is held by another's customers")
    return lines


STEPS: tuple[tuple[str, Callable[[Story], list[str]]], ...] = (
    ("teller opens a tier-1 wallet", teller_opens_tier_1),
    ("app opens a tier-4 wallet", app_opens_tier_4),
    (f"bank enrols {CUSTOMERS} existing customers from a CSV", bulk_enrolment),
    ("ATM cash-in", atm_cash_in),
    ("cross-bank P2P payment", cross_bank_p2p),
    ("tier limit refuses a payment", tier_limit_refusal),
    ("merchant QR payment", merchant_qr_payment),
    ("partial refund", partial_refund),
    ("settlement with its statement", settlement),
    ("ATM cash-out: dispense fails, hold released", cash_out_fault),
    ("ATM cash-out: dispensed", cash_out_dispensed),
    ("reconciliation: zero differences, interbank positions", reconciliation),
)


def run_story(info: dict[str, Any], credentials: dict[str, dict[str, str]], data_dir: Path,
              console: Console) -> DemoRun:
    """Run the steps in order; stop at the first that fails (the next ones build on it)."""
    story = Story(info, credentials, data_dir, console)
    results: list[StepResult] = []
    try:
        for number, (name, step) in enumerate(STEPS, start=1):
            console.print(f"[bold]{number}. {name}[/bold]", highlight=False)
            try:
                lines = step(story)
            except Exception as exc:  # any failure is the step's: named and reported
                error = str(exc) if isinstance(exc, DemoError) else f"{type(exc).__name__}: {exc}"
                results.append(StepResult(number, name, False, [], error))
                console.print(f"   [red]✗ {name}[/red]: {error}", highlight=False)
                break
            results.append(StepResult(number, name, True, lines))
            for line in lines:
                console.print(f"   {line}", highlight=False)
            console.print(f"   [green]✓ {name}[/green]", highlight=False)
    finally:
        story.close()
    failed = [r for r in results if not r.ok]
    if failed:
        console.print(f"[red]demo failed at step {failed[0].number}: {failed[0].name}[/red]", highlight=False)
    else:
        console.print(f"[green]demo complete: all {len(STEPS)} steps did what they said[/green]", highlight=False)
    return DemoRun(1 if failed or len(results) < len(STEPS) else 0, results, dict(story.wallets))


def run_demo(data_dir: Path = DEFAULT_DATA_DIR, console: Console | None = None) -> DemoRun:
    """Run the story on the network running from ``data_dir``, or on one started (and stopped) here."""
    from tools.localnet_nodes import data_dir_busy, network_description, read_network_file, start_network

    console = console or Console()
    info = read_network_file(data_dir)
    if info is None and data_dir_busy(data_dir):  # `walletnet up` is still starting: wait for it
        console.print(f"waiting for the network starting from {data_dir}...", highlight=False)
        deadline = time.monotonic() + START_WAIT
        while info is None and data_dir_busy(data_dir) and time.monotonic() < deadline:
            time.sleep(1.0)
            info = read_network_file(data_dir)
    if info is not None:
        console.print(f"using the network running from {data_dir} (chain {info['rpc_url']})", highlight=False)
        credentials = json.loads(Path(info["credentials_file"]).read_text())["banks"]
        return run_story(info, credentials, data_dir, console)
    console.print(f"no running network in {data_dir}: starting one (stopped at the end)", highlight=False)
    net = start_network(data_dir=data_dir, banks=2)
    try:
        return run_story(network_description(net), net.credentials, data_dir, console)
    finally:
        net.stop()
