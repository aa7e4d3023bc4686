"""A chain outage staged with a proxy between bank A's node and the chain (issue 9): while the RPC endpoint
refuses connections, or takes requests and never answers, the API either accepts (202, pending) or clearly
refuses (503 chain-unavailable) and nothing else; once the chain is back, every accepted operation happens
on chain exactly once, a refused one left no trace, the node drains its backlog and reconciliation agrees.

The network is this module's own (its anvil, bank A behind the proxy), so the outages touch no other test.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import pytest
from flow_network import TEST_DESK, BankNetwork, network_session
from money_flows_support import (
    Customer,
    count_rows,
    fund_wallet,
    holds_on,
    open_customer,
    operations_of,
    outbox_rows_naming,
    wait_for,
)
from rpc_proxy import RpcProxy
from sqlalchemy import select
from web3 import Web3

from node.ledger.models import LedgerAccount, LedgerHold
from node.ledger.types import HoldState
from wallet_sdk.chain.network import Network
from wallet_sdk.client import Client
from wallet_sdk.client import Operation as OperationDoc
from wallet_sdk.exceptions import ChainUnavailableError

RPC_TIMEOUT = 2.0  # bank A's read timeout on the chain: a request the chain never answers fails after this
DEPOSIT = 40_000
FUNDED = 10_000


@dataclass
class Outage:
    net: BankNetwork
    proxy: RpcProxy  # between bank A's node (API, writer, indexer) and the chain
    chain: Network  # the test's own look at the chain, not through the proxy


@pytest.fixture(scope="module")
def outage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Outage]:
    """A two-bank network (both on SQLite) whose bank A talks to the chain through an :class:`RpcProxy`. At
    the end the proxy forwards again, and both banks must be idle and reconcile with no difference."""
    root: Path = tmp_path_factory.mktemp("outage-network")
    with RpcProxy() as proxy:
        session = network_session(root, f"sqlite:///{root / 'bankb.sqlite3'}", rpc_timeout=RPC_TIMEOUT,
                                  rpc_via=lambda code, url: proxy.start(url) if code == "BANKA" else url)
        net = next(session)
        yield Outage(net, proxy, Network.from_web3(net.w3, net.deployment))
        proxy.restore()
        next(session, None)  # the teardown: wait idle, then reconcile


@pytest.fixture(autouse=True)
def chain_back(outage: Outage) -> Iterator[None]:
    """A test that fails mid-outage does not leave the next one without a chain."""
    yield
    outage.proxy.restore()


@dataclass
class Payer:
    """A custodial customer of bank A with a funded wallet, and what was asked of the API in its name."""

    customer: Customer
    operations: int  # operations of the wallet before the outage test
    outbox_rows: int
    accepted: list[tuple[str, int, OperationDoc]] = field(default_factory=list)  # (kind, amount, pending op)
    refused: list[tuple[str, int]] = field(default_factory=list)

    @property
    def wallet(self) -> str:
        return self.customer.wallet

    def ask(self, kind: str, amount: int, call: Callable[[], OperationDoc]) -> None:
        """Send ``call`` to the API: accepted (a pending operation) or refused with 503 chain-unavailable;
        any other answer (a 500, another problem, no answer at all) fails the test."""
        try:
            op = call()
        except ChainUnavailableError as refusal:
            assert refusal.status == 503 and refusal.type.endswith("/chain-unavailable"), refusal
            self.refused.append((kind, amount))
            return
        assert op.status == "pending" and op.wallet == self.wallet, op
        self.accepted.append((kind, amount, op))


def _payer(outage: Outage) -> Payer:
    customer = open_customer(outage.net.a, deposit=DEPOSIT)
    fund_wallet(customer, FUNDED)
    return Payer(customer, operations_of(outage.net.a, customer.wallet),
                 outbox_rows_naming(outage.net.a, customer.wallet))


def _teller(outage: Outage) -> Client:
    """A teller client that takes the first answer (no retry of a 503) and waits long for it."""
    a = outage.net.a
    return Client(a.url, a.key("teller"), timeout=60.0, retries=0, teller=TEST_DESK)


def _chain_answers(proxy: RpcProxy) -> bool:
    """Whether a JSON-RPC call through the proxy gets an answer (False: refused, reset or silent)."""
    w3 = Web3(Web3.HTTPProvider(proxy.url, request_kwargs={"timeout": 1.0}, exception_retry_configuration=None))
    try:
        return w3.eth.block_number >= 0
    except OSError:  # requests' connection errors and timeouts
        return False


def _assert_drained(outage: Outage, teller: Client, payers: list[Payer], payee: Customer) -> None:
    """Every accepted operation completed, once on chain; the refused ones left nothing behind."""
    a, chain = outage.net.a, outage.chain
    for payer in payers:
        for _kind, _amount, op in payer.accepted:
            final = teller.wait_for_operation(op.id, timeout=60.0)
            assert final.status == "completed", final
    outage.net.wait_idle(60)  # the writer's outbox is empty and the indexer at the head: nothing wedged
    received = 0
    for payer in payers:
        top_ups = [amount for kind, amount, _op in payer.accepted if kind == "topup"]
        sent = [amount for kind, amount, _op in payer.accepted if kind == "p2p"]
        received += sum(sent)
        wallet, account = payer.wallet, payer.customer.account
        assert account is not None
        # the bank's books: one operation and one outbox row per accepted request, one hold per accepted
        # top-up (and the funding's), none of them still active
        assert operations_of(a, wallet) == payer.operations + len(payer.accepted)
        assert outbox_rows_naming(a, wallet) == payer.outbox_rows + len(payer.accepted)
        assert holds_on(a, account) == 1 + len(top_ups)
        assert count_rows(a, LedgerHold, LedgerHold.state == HoldState.ACTIVE, LedgerHold.account_id.in_(
            select(LedgerAccount.id).where(LedgerAccount.code == account))) == 0
        assert teller.get_account(account).available.amount == DEPOSIT - FUNDED - sum(top_ups)
        # the chain: each top-up minted once, each transfer sent once
        mints = chain.token.events.Minted.get_logs(from_block=0, argument_filters={"wallet": wallet})
        assert sorted(log["args"]["amount"] for log in mints) == sorted([FUNDED, *top_ups])
        assert len({log["args"]["ref"] for log in mints}) == len(mints)
        transfers = chain.token.events.Transfer.get_logs(
            from_block=0, argument_filters={"from": wallet, "to": payee.wallet})
        assert sorted(log["args"]["value"] for log in transfers) == sorted(sent)
        assert chain.balance(wallet) == FUNDED + sum(top_ups) - sum(sent)
        # and the wallet's history as the bank's indexer saw it: each of them once
        history = teller.get_history(wallet).items
        assert sorted(e.amount.amount for e in history if e.kind == "mint") == sorted([FUNDED, *top_ups])
        outgoing = [e for e in history if e.kind == "transfer_out"]
        assert sorted(e.amount.amount for e in outgoing) == sorted(sent)
        # each event once (two mints may share a transaction: the writer batches a round's mints in one mintBatch)
        assert len({(e.tx_hash, e.log_index, e.kind) for e in history}) == len(history)
    assert chain.balance(payee.wallet) == received
    report = a.reconcile()
    assert report.ok, report.summary()


def test_refused_connections_requests_accepted_or_refused_and_the_backlog_drains(outage: Outage) -> None:
    proxy = outage.proxy
    payers = [_payer(outage), _payer(outage)]
    payee = open_customer(outage.net.b, deposit=None)
    teller = _teller(outage)
    with teller:
        # a backlog: accepted right before the chain goes away, so some of it is still in the writer's hands
        for payer in payers:
            payer.ask("topup", 1_000, partial(teller.top_up, payer.wallet, 1_000))
            payer.ask("p2p", 500, partial(teller.transfer, payer.wallet, payee.wallet, 500))
        assert all(len(p.accepted) == 2 for p in payers)
        proxy.refuse()
        assert not _chain_answers(proxy)
        for payer in payers:
            payer.ask("topup", 2_000, partial(teller.top_up, payer.wallet, 2_000))
            payer.ask("p2p", 700, partial(teller.transfer, payer.wallet, payee.wallet, 700))
        assert sum(len(p.refused) + len(p.accepted) for p in payers) == 8
        proxy.restore()
        assert _chain_answers(proxy)
        _assert_drained(outage, teller, payers, payee)


def test_a_chain_that_never_answers_does_not_wedge_the_node(outage: Outage) -> None:
    a, proxy = outage.net.a, outage.proxy
    payer = _payer(outage)
    payee = open_customer(outage.net.b, deposit=None)
    teller = _teller(outage)
    with teller:
        payer.ask("topup", 1_000, lambda: teller.top_up(payer.wallet, 1_000))
        payer.ask("p2p", 400, lambda: teller.transfer(payer.wallet, payee.wallet, 400))
        proxy.drop()
        assert not _chain_answers(proxy)
        seen = proxy.accepted
        # a request that meets the silent chain: answered 503 after the node's timeouts, or accepted later
        errors: list[BaseException] = []

        def ask() -> None:
            try:
                payer.ask("topup", 3_000, lambda: teller.top_up(payer.wallet, 3_000))
            except BaseException as exc:  # the test thread re-raises it
                errors.append(exc)

        asking = threading.Thread(target=ask)
        asking.start()
        # bank A's clients give up on the silent connections and try new ones (which are silent too)
        wait_for(lambda: proxy.accepted >= seen + 3, "bank A reconnecting while the chain is silent")
        proxy.restore()
        asking.join(60)
        assert not asking.is_alive(), "the API did not answer"
        if errors:
            raise errors[0]
        assert len(payer.accepted) + len(payer.refused) == 3
        assert a.runner.failures == []
        _assert_drained(outage, teller, [payer], payee)
