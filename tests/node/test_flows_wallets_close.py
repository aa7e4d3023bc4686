"""The wallet services against a real chain (anvil) and both databases, with the chain writer doing the chain
part: what the HTTP tests cannot set up on the shared network (money on hold, a payment arriving between the
closure's request and its burn, a change still in flight)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from node.db import transaction
from node.errors import InvalidStateError
from node.ledger import AccountKind, Leg, SqlLedger
from node.ledger.accounts import CHAIN_ISSUED
from node.operations.models import Operation, OperationStatus
from node.outbox import OutboxRow, OutboxState, transition
from node.settings import NodeSettings, load_settings
from node.wallets import service as wallets
from node.wallets.models import CustodyMode, Verification, WalletState, custodial_key, find_wallet
from node.writer import ChainWriter, WriterConfig
from wallet_sdk.authorizations import HoldAuthorization
from wallet_sdk.chain.network import Network
from wallet_sdk.events import decode_receipt

WRITER = WriterConfig(confirmations=0, poll_interval=0.02, backoff_initial=0.02, backoff_max=0.2)
TELLER = wallets.Actor("teller")


@pytest.fixture
def settings(tmp_path: Path) -> NodeSettings:
    return load_settings(bank_id="BANKA", data_dir=tmp_path, second_factor_threshold=10**12)


@pytest.fixture
def network(system: Any) -> Network:
    return Network.from_web3(system.w3, system.deployment)


@pytest.fixture
def writer(system: Any, sessions: sessionmaker[Session], network: Network) -> Iterator[ChainWriter]:
    yield ChainWriter(sessions, network, system.banks["A"].operators[0], WRITER)


def _open(sessions: sessionmaker[Session], settings: NodeSettings, network: Network, writer: ChainWriter, *,
          account: str | None = None) -> str:
    """An active custodial wallet of bank A (bound to ``account``, a deposit account opened here)."""
    with transaction(sessions) as session:
        if account is not None:
            SqlLedger(session).open_account(account, AccountKind.CUSTOMER_DEPOSIT, settings.currency,
                                            owner_ref="CUST-1")
        request = wallets.OpeningRequest(customer_ref="CUST-1", verification=Verification.IN_PERSON,
                                         channel=wallets.Channel.TELLER, custody=CustodyMode.CUSTODIAL,
                                         account=account)
        address = wallets.open_wallet(session, settings, network, request, actor=TELLER).record.address
    writer.run(until_idle=True)
    with sessions() as session:
        record = find_wallet(session, address)
        assert record is not None and record.state is WalletState.ACTIVE
    return address


def _mint(system: Any, network: Network, wallet: str, amount: int, ref: str) -> None:
    network.bank_operator(system.banks["A"].operators[1]).mint(wallet, amount, ref)


def _close_row(session: Session, op: Operation) -> OutboxRow:
    return session.query(OutboxRow).filter(OutboxRow.idempotency_key == f"{op.public_id}:close").one()


def test_the_burn_is_booked_as_the_chain_did_it(system: Any, sessions: sessionmaker[Session],
                                                settings: NodeSettings, network: Network,
                                                writer: ChainWriter) -> None:
    """A payment that arrives after the closure was accepted is burned too: with the receipt's events the
    completion books what WalletClosed says, not the balance seen at the request."""
    wallet = _open(sessions, settings, network, writer, account="DEP-1")
    _mint(system, network, wallet, 1_000, "SETUP-1")
    with transaction(sessions) as session:
        op = wallets.close_wallet(session, settings, network, wallet, actor=TELLER)
        op_id, ref = op.public_id, op.ref
        assert op.amount_minor == 1_000
    _mint(system, network, wallet, 234, "LATE-1")  # arrives before the closure is mined

    receipt = system.send(network.registry.functions.closeWallet(wallet, ref.encode().ljust(32, b"\0")),
                          system.banks["A"].operators[1])
    with transaction(sessions) as session:
        op = session.query(Operation).filter(Operation.public_id == op_id).one()
        row = _close_row(session, op)
        tx_hash = "0x" + bytes(receipt["transactionHash"]).hex()
        transition(session, row, OutboxState.SUBMITTED, tx_hash=tx_hash, nonce=0)
        transition(session, row, OutboxState.CONFIRMED, events=decode_receipt(network, receipt))
    with sessions() as session:
        op = session.query(Operation).filter(Operation.public_id == op_id).one()
        assert op.status is OperationStatus.COMPLETED and op.amount_minor == 1_234
        assert op.details["burned"] == 1_234 and op.details["burned_from"] == "receipt"
        ledger = SqlLedger(session)
        assert ledger.balance("DEP-1").amount_minor == 1_234
        entry = ledger.entry(f"{ref}:payout")
        assert entry is not None and entry.correlation_id == ref
        assert sorted(entry.legs) == sorted([Leg.debit(CHAIN_ISSUED, 1_234), Leg.credit("DEP-1", 1_234)])
        record = find_wallet(session, wallet)
        assert record is not None and record.state is WalletState.CLOSED


def test_without_the_receipt_the_balance_at_the_request_is_booked(system: Any, sessions: sessionmaker[Session],
                                                                  settings: NodeSettings, network: Network,
                                                                  writer: ChainWriter) -> None:
    wallet = _open(sessions, settings, network, writer, account="DEP-2")
    _mint(system, network, wallet, 5_000, "SETUP-2")
    with transaction(sessions) as session:
        op_id = wallets.close_wallet(session, settings, network, wallet, actor=TELLER).public_id
        record = find_wallet(session, wallet)
        assert record is not None and record.state is WalletState.CLOSING
    writer.run(until_idle=True)
    assert network.balance(wallet) == 0 and network.wallet(wallet).status.name == "CLOSED"
    with sessions() as session:
        op = session.query(Operation).filter(Operation.public_id == op_id).one()
        assert op.status is OperationStatus.COMPLETED and op.amount_minor == 5_000
        assert op.details["burned_from"] in ("receipt", "balance_at_request")
        assert SqlLedger(session).balance("DEP-2").amount_minor == 5_000
        assert SqlLedger(session).balance(CHAIN_ISSUED).amount_minor == -5_000  # the setup mint was not booked


def test_a_closure_the_chain_refuses_gives_the_wallet_back(system: Any, sessions: sessionmaker[Session],
                                                           settings: NodeSettings, network: Network,
                                                           writer: ChainWriter) -> None:
    wallet = _open(sessions, settings, network, writer)
    with transaction(sessions) as session:
        op_id = wallets.close_wallet(session, settings, network, wallet, actor=TELLER).public_id
    network.regulator(system.regulator).freeze(wallet, 5)  # the regulator acts before the closure is mined
    writer.run(until_idle=True)
    with sessions() as session:
        op = session.query(Operation).filter(Operation.public_id == op_id).one()
        assert op.status is OperationStatus.FAILED and "RegulatorFreeze" in (op.error or "")
        record = find_wallet(session, wallet)
        assert record is not None and record.state is WalletState.ACTIVE
        assert SqlLedger(session).entry(f"{op.ref}:payout") is None


def test_money_on_hold_stops_the_closure(system: Any, sessions: sessionmaker[Session], settings: NodeSettings,
                                         network: Network, writer: ChainWriter) -> None:
    wallet = _open(sessions, settings, network, writer, account="DEP-3")
    _mint(system, network, wallet, 800, "SETUP-3")
    with sessions() as session:
        record = find_wallet(session, wallet)
        assert record is not None
        key = custodial_key(settings, record)
    hold = HoldAuthorization(holder=wallet, value=300, expires_at=network.now() + 600)
    network.bank_operator(system.banks["A"].operators[1]).place_hold(hold.sign(key, network.domain()))
    with transaction(sessions) as session, pytest.raises(InvalidStateError) as held:
        wallets.close_wallet(session, settings, network, wallet, actor=TELLER)
    assert held.value.extra["held"] == 300 and "hold" in held.value.detail


def test_one_change_at_a_time_and_no_closure_while_one_is_in_flight(system: Any, sessions: sessionmaker[Session],
                                                                   settings: NodeSettings, network: Network,
                                                                   writer: ChainWriter) -> None:
    wallet = _open(sessions, settings, network, writer)
    with transaction(sessions) as session:
        pending = wallets.freeze(session, settings, network, wallet, 3, actor=TELLER).public_id
    for attempt in (lambda s: wallets.change_tier(s, settings, network, wallet, 2, actor=TELLER),
                    lambda s: wallets.close_wallet(s, settings, network, wallet, actor=TELLER)):
        with transaction(sessions) as session, pytest.raises(InvalidStateError) as busy:
            attempt(session)
        assert busy.value.extra["operation"] == pending
    writer.run(until_idle=True)
    with transaction(sessions) as session:
        op = wallets.change_tier(session, settings, network, wallet, 2, actor=TELLER)
        assert op.details == {"previous_tier": 1, "tier": 2, "reason": None}


def test_an_opening_the_chain_refuses_fails_and_frees_the_enrolment(system: Any, sessions: sessionmaker[Session],
                                                                    settings: NodeSettings, network: Network,
                                                                    writer: ChainWriter) -> None:
    taken = system.new_wallet().address
    request = wallets.OpeningRequest(customer_ref="CUST-9", verification=Verification.IN_PERSON,
                                     channel=wallets.Channel.TELLER, custody=CustodyMode.SELF, address=taken)
    with transaction(sessions) as session:
        first = wallets.open_wallet(session, settings, network, request, actor=TELLER)
        assert first.created and first.record.state is WalletState.PENDING
        op_id = first.operation.public_id
    # another bank registers the address before bank A's writer gets to it
    network.bank_operator(system.banks["B"].operators[0]).open_wallet(taken)
    writer.run(until_idle=True)
    with sessions() as session:
        op = session.query(Operation).filter(Operation.public_id == op_id).one()
        assert op.status is OperationStatus.FAILED and "WalletAlreadyRegistered" in (op.error or "")
        record = find_wallet(session, taken)
        assert record is not None and record.state is WalletState.FAILED

    custodial = wallets.OpeningRequest(customer_ref="CUST-9", verification=Verification.IN_PERSON,
                                       channel=wallets.Channel.TELLER)
    with transaction(sessions) as session:
        second = wallets.open_wallet(session, settings, network, custodial, actor=TELLER)
        assert second.created and second.record.address != taken
        assert second.operation.public_id != op_id
    writer.run(until_idle=True)
    assert network.wallet(second.record.address).registered
