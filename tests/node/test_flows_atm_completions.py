"""The ATM services and their completions with the real chain writer, on SQLite and PostgreSQL: what happens
when the chain refuses an effect (a mint over the balance cap, a capture of a hold the customer released),
and the messages a cash-out refuses while its hold is not placed yet."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from writer_support import FAST

from node.atm import service
from node.atm.auth import AtmMessageReplayedError, authenticate
from node.atm.completions import CashOutStage, IllegalStageError, move_cash_out
from node.atm.models import Atm, AtmMessage
from node.db import transaction
from node.db.base import utcnow
from node.errors import InvalidStateError
from node.ledger import SqlLedger
from node.ledger.accounts import CHAIN_ISSUED, FUNDING_SUSPENSE, atm_account
from node.operations.models import Operation, OperationStatus, get_operation
from node.settings import NodeSettings, load_settings
from node.writer import ChainWriter
from wallet_sdk.chain.network import Network
from wallet_sdk.chain.operators import BankOperator
from wallet_sdk.chain.types import HoldStatus, WalletOpening
from wallet_sdk.client.atm import atm_headers, withdrawal_code
from wallet_sdk.keys import WalletKey


@pytest.fixture
def network(system: Any) -> Network:
    return Network.from_web3(system.w3, system.deployment, verify=False)


@pytest.fixture
def settings(db_url: str, devnet: Any, tmp_path: Path) -> NodeSettings:
    return load_settings(bank_id="BANKA", rpc_url=devnet.rpc_url, db_url=db_url, data_dir=tmp_path)


@pytest.fixture
def writer(sessions: sessionmaker[Session], network: Network, system: Any) -> ChainWriter:
    operator: LocalAccount = system.banks["A"].operators[0]
    return ChainWriter(sessions, network, operator, FAST)


@pytest.fixture
def bank(network: Network, system: Any) -> BankOperator:
    return network.bank_operator(system.banks["A"].operators[1])


@pytest.fixture
def atm(sessions: sessionmaker[Session], settings: NodeSettings) -> service.Registration:
    with transaction(sessions) as session:
        registration = service.register_atm(session, settings, atm_id="ATM-T1", name="test")
        service.deliver_to_vault(session, settings, 100_000, reference="vault:setup")
        service.replenish(session, settings, "ATM-T1", 100_000, reference="atm:setup")
    return registration


def wallet(bank: BankOperator, funds: int = 0) -> WalletKey:
    key = WalletKey.create()
    bank.open_wallets([WalletOpening(key.address)])
    if funds:
        bank.mint(key.address, funds, f"SETUP-{key.address[2:10]}")
    return key


def the_atm(session: Session) -> Atm:
    return service.get_atm(session, "ATM-T1")


def balance(sessions: sessionmaker[Session], code: str) -> int:
    with transaction(sessions) as session:
        return SqlLedger(session).balance(code).amount_minor


def op_of(sessions: sessionmaker[Session], public_id: str) -> Operation:
    with transaction(sessions) as session:
        return get_operation(session, public_id)


def test_a_mint_the_chain_refuses_leaves_the_notes_owed_to_the_customer(
        sessions: sessionmaker[Session], settings: NodeSettings, network: Network, bank: BankOperator,
        writer: ChainWriter, atm: service.Registration) -> None:
    key = wallet(bank)
    cap = network.wallet_limits(key.address)
    assert cap is not None
    with transaction(sessions) as session:  # accepted: the wallet is empty when the ATM reports
        op = service.cash_in(session, settings, network, the_atm(session), event_id="E1", wallet=key.address,
                             amount_minor=2_000, notes=[service.NoteCount(1_000, 2)])
        public_id = op.public_id
    bank.mint(key.address, cap.balance_cap - 1_000, "FILL-UP")  # before the writer mints: now over the cap
    issued = balance(sessions, CHAIN_ISSUED)
    writer.run(until_idle=True)

    failed = op_of(sessions, public_id)
    assert failed.status is OperationStatus.FAILED
    assert failed.error is not None and "BalanceCapExceeded" in failed.error and FUNDING_SUSPENSE in failed.error
    assert balance(sessions, atm_account("ATM-T1")) == 102_000  # the notes are in the ATM
    assert balance(sessions, FUNDING_SUSPENSE) == 2_000  # ... owed to the customer
    assert balance(sessions, CHAIN_ISSUED) == issued  # nothing issued
    assert network.balance(key.address) == cap.balance_cap - 1_000


def test_messages_about_a_cash_out_not_held_yet_are_refused_then_it_completes(
        sessions: sessionmaker[Session], settings: NodeSettings, network: Network, bank: BankOperator,
        writer: ChainWriter, atm: service.Registration) -> None:
    key = wallet(bank, 5_000)
    code = withdrawal_code(key, network.domain(), 3_000, now=network.now())
    with transaction(sessions) as session:
        op = service.submit_cash_out(session, settings, network, the_atm(session), event_id="E1", code=code.text)
        public_id = op.public_id
        assert service.reserved_cash(session, "ATM-T1") == 3_000
    for message in (lambda s, a: service.confirm_dispense(s, a, public_id, event_id="E2"),
                    lambda s, a: service.report_fault(s, a, public_id, event_id="E3", reason="jam")):
        with pytest.raises(InvalidStateError) as refused, transaction(sessions) as session:
            message(session, the_atm(session))
        assert refused.value.extra["retry"] is True
    with pytest.raises(service.AtmCashError), transaction(sessions) as session:  # the reserved notes stay
        service.unload(session, settings, "ATM-T1", 100_000, reference="atm:unload-all")

    writer.run(until_idle=True)
    assert op_of(sessions, public_id).status is OperationStatus.HELD
    with transaction(sessions) as session:
        service.confirm_dispense(session, the_atm(session), public_id, event_id="E4")
    writer.run(until_idle=True)
    done = op_of(sessions, public_id)
    assert done.status is OperationStatus.COMPLETED
    assert balance(sessions, atm_account("ATM-T1")) == 97_000
    assert network.balance(key.address) == 2_000 and network.held_balance(key.address) == 0


def test_a_hold_the_customer_released_after_expiry_cannot_be_captured(
        sessions: sessionmaker[Session], settings: NodeSettings, network: Network, bank: BankOperator,
        writer: ChainWriter, atm: service.Registration, system: Any) -> None:
    key = wallet(bank, 5_000)
    code = withdrawal_code(key, network.domain(), 4_000, now=network.now())
    with transaction(sessions) as session:
        public_id = service.submit_cash_out(session, settings, network, the_atm(session), event_id="E1",
                                            code=code.text).public_id
    writer.run(until_idle=True)
    system.increase_time(3_600)  # the code expired: the holder may release the hold itself
    hold_id = code.signed.authorization.hold_id
    system.rpc("anvil_setBalance", key.address, hex(10**18))  # holders have no gas of their own
    network.sender(key).send(network.token.functions.releaseHold(hold_id))
    assert network.hold(hold_id).status is HoldStatus.RELEASED

    with transaction(sessions) as session:
        service.confirm_dispense(session, the_atm(session), public_id, event_id="E2")
    writer.run(until_idle=True)
    stuck = op_of(sessions, public_id)
    assert stuck.status is OperationStatus.HELD and stuck.details["stage"] == "capture_failed"
    assert stuck.error is not None and "HoldNotActive" in stuck.error
    assert balance(sessions, atm_account("ATM-T1")) == 100_000  # nothing booked: the gap is for a person to see
    with transaction(sessions) as session:
        assert service.reserved_cash(session, "ATM-T1") == 4_000  # the dispensed notes are not available


def test_the_sweep_releases_only_expired_holds_and_forgets_old_signatures(
        sessions: sessionmaker[Session], settings: NodeSettings, network: Network, bank: BankOperator,
        writer: ChainWriter, atm: service.Registration) -> None:
    key = wallet(bank, 5_000)
    code = withdrawal_code(key, network.domain(), 1_000, now=network.now())
    with transaction(sessions) as session:
        public_id = service.submit_cash_out(session, settings, network, the_atm(session), event_id="E1",
                                            code=code.text).public_id
    writer.run(until_idle=True)
    assert service.sweep_expired_cash_outs(sessions, settings) == 0
    later = utcnow() + timedelta(seconds=settings.atm_hold_timeout + 1)
    assert service.sweep_expired_cash_outs(sessions, settings, now=later) == 1
    assert service.sweep_expired_cash_outs(sessions, settings, now=later) == 0  # enqueued once
    writer.run(until_idle=True)
    assert op_of(sessions, public_id).status is OperationStatus.RELEASED
    assert network.balance(key.address) == 5_000

    # a signed message is remembered (a replay is refused) until it is too old to be accepted anyway
    body = b"{}"
    headers = atm_headers("ATM-T1", atm.secret, method="POST", path="/x", body=body)
    message = dict(atm_id="ATM-T1", timestamp=headers["X-ATM-Timestamp"], nonce=headers["X-ATM-Nonce"],
                   signature=headers["X-ATM-Signature"], method="POST", path="/x", body=body)
    with transaction(sessions) as session:
        authenticate(session, settings, **message)
    with pytest.raises(AtmMessageReplayedError), transaction(sessions) as session:
        authenticate(session, settings, **message)
    service._last_prune.clear()
    much_later = utcnow() + timedelta(seconds=3 * settings.atm_clock_skew)
    service.sweep_expired_cash_outs(sessions, settings, now=much_later)
    with transaction(sessions) as session:
        assert session.scalars(select(AtmMessage)).all() == []


def test_a_hold_not_placed_yet_is_outflow_in_flight(
        sessions: sessionmaker[Session], settings: NodeSettings, network: Network, bank: BankOperator,
        writer: ChainWriter, atm: service.Registration) -> None:
    """The shared outflow check counts a cash-out whose hold is not on chain yet: a second code for more than
    is left is refused at once, not placed and refused by the chain."""
    key = wallet(bank, 5_000)
    first = withdrawal_code(key, network.domain(), 3_000, now=network.now())
    with transaction(sessions) as session:
        public_id = service.submit_cash_out(session, settings, network, the_atm(session), event_id="E1",
                                            code=first.text).public_id
    second = withdrawal_code(key, network.domain(), 3_000, now=network.now())
    with pytest.raises(service.InsufficientBalanceError) as refused, transaction(sessions) as session:
        service.submit_cash_out(session, settings, network, the_atm(session), event_id="E2", code=second.text)
    assert (refused.value.extra["balance"], refused.value.extra["pending"]) == (5_000, 3_000)

    writer.run(until_idle=True)  # held: the chain shows the hold, nothing is pending any more
    assert op_of(sessions, public_id).status is OperationStatus.HELD
    assert network.balance(key.address) == 2_000
    with transaction(sessions) as session:
        ok = service.submit_cash_out(session, settings, network, the_atm(session), event_id="E3",
                                     code=withdrawal_code(key, network.domain(), 2_000, now=network.now()).text)
        assert ok.details["stage"] == CashOutStage.PLACING


def test_a_cash_out_moves_only_along_its_stages() -> None:
    op = Operation(public_id="op_" + "0" * 32, details={"stage": "placing"})
    with pytest.raises(IllegalStageError):
        move_cash_out(op, CashOutStage.CAPTURING)  # not held yet
    move_cash_out(op, CashOutStage.HELD)
    assert (op.status, op.details["stage"]) == (OperationStatus.HELD, "held")
    move_cash_out(op, CashOutStage.RELEASING)
    move_cash_out(op, CashOutStage.RELEASED, released_by="holder")
    assert (op.status, op.details["released_by"]) == (OperationStatus.RELEASED, "holder")
    for stage in CashOutStage:  # a final stage leads nowhere
        with pytest.raises(IllegalStageError):
            move_cash_out(op, stage)
