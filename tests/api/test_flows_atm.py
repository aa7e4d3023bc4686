"""ATM flows through HTTP with the SDK clients on the two-bank network: the registry and cash of ATMs and the
vault, cash-in (mint), and two-phase cash-out (hold, then capture, release on a fault or a timeout)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from atm_support import Atm, Customer, fresh, new_atm, new_customer
from flow_network import BankNetwork, BankNode

from node.atm.service import sweep_expired_cash_outs
from node.db import session_factory
from node.db.base import utcnow
from node.ledger import SqlLedger
from wallet_sdk.client import Client
from wallet_sdk.exceptions import ConflictError, InvalidStateError, LimitExceededError, NotFoundError

CASH = 2_000_000  # minor units loaded into the module's ATM


@pytest.fixture(scope="module")
def admin(bank_network: BankNetwork) -> Client:
    return bank_network.a.client("admin")


@pytest.fixture(scope="module")
def atm(bank_network: BankNetwork, admin: Client) -> Atm:
    return new_atm(bank_network.a, admin, stock=CASH)


def atm_cash(admin: Client, atm: Atm) -> int:
    return admin.get_atm_cash(atm.atm_id).cash.amount


def funded(atm: Atm, amount: int) -> Customer:
    """A new customer of the ATM's bank with ``amount`` paid in at the ATM."""
    customer = new_customer(atm.bank)
    op = atm.client.report_cash_in(fresh("EV"), customer.wallet, {amount: 1})
    assert atm.client.wait_for_status(op.id, ()).status == "completed"
    return customer


def ledger_balance(bank: BankNode, code: str) -> int:
    with session_factory(bank.engine).begin() as session:
        return SqlLedger(session).balance(code).amount_minor


# ------------------------------------------------------------------ registry and cash


def test_register_list_disable_and_move_cash(bank_network: BankNetwork, admin: Client) -> None:
    atm_id = fresh("ATM")
    registration = admin.register_atm(atm_id, name="Station ATM", location="Platform 2")
    assert registration.secret.startswith("atms_") and len(registration.secret) > 40
    assert "secret=<hidden>" in repr(registration)
    assert registration.atm.atm_id == atm_id and registration.atm.state == "active"
    with pytest.raises(ConflictError):
        admin.register_atm(atm_id, name="again")

    listed, cursor = [], None
    while True:
        page = admin.list_atms(limit=50, cursor=cursor)
        listed += [a.atm_id for a in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert atm_id in listed
    assert admin.get_atm(atm_id).location == "Platform 2"

    vault_before = admin.get_vault_cash().cash.amount
    delivered = admin.deliver_vault_cash(300_000)
    assert delivered.vault_cash.amount == vault_before + 300_000
    loaded = admin.replenish_atm(atm_id, 250_000)
    assert loaded.atm_cash is not None and loaded.atm_cash.amount == 250_000
    assert loaded.vault_cash.amount == vault_before + 50_000
    unloaded = admin.unload_atm(atm_id, 100_000)
    assert unloaded.atm_cash is not None and unloaded.atm_cash.amount == 150_000
    assert unloaded.vault_cash.amount == vault_before + 150_000
    cash = admin.get_atm_cash(atm_id)
    assert (cash.cash.amount, cash.reserved.amount) == (150_000, 0)
    assert ledger_balance(bank_network.a, f"cash:atm:{atm_id}") == 150_000

    with pytest.raises(ConflictError) as short:
        admin.unload_atm(atm_id, 150_001)
    assert short.value.problem["available"] == 150_000
    with pytest.raises(ConflictError):
        admin.replenish_atm(atm_id, 10**15)  # more than the vault holds
    assert admin.get_atm_cash(atm_id).cash.amount == 150_000

    disabled = admin.disable_atm(atm_id)
    assert disabled.state == "disabled" and disabled.disabled_at is not None
    with pytest.raises(NotFoundError):
        admin.get_atm(fresh("ATM"))


def test_a_replenishment_retried_with_its_idempotency_key_moves_cash_once(admin: Client, atm: Atm) -> None:
    before = atm_cash(admin, atm)
    admin.deliver_vault_cash(40_000)
    first = admin.replenish_atm(atm.atm_id, 40_000, idempotency_key=f"refill-{atm.atm_id}")
    again = admin.replenish_atm(atm.atm_id, 40_000, idempotency_key=f"refill-{atm.atm_id}")
    assert again == first
    assert atm_cash(admin, atm) == before + 40_000
    admin.unload_atm(atm.atm_id, 40_000)


# ------------------------------------------------------------------ cash-in


def test_cash_in_mints_the_counted_notes_into_the_wallet(bank_network: BankNetwork, admin: Client, atm: Atm) -> None:
    bank = bank_network.a
    customer = new_customer(bank)
    cash_before = atm_cash(admin, atm)
    op = atm.client.report_cash_in(fresh("EV"), customer.wallet, {5_000: 2, 1_000: 3}, amount=13_000)
    assert (op.kind, op.status, op.channel) == ("atm_cash_in", "pending", "atm")
    assert op.amount is not None and op.amount.amount == 13_000
    assert op.ref is not None and op.ref.startswith("CASHIN-")
    assert op.details["atm_id"] == atm.atm_id
    assert op.details["notes"] == [{"denomination": 5_000, "count": 2}, {"denomination": 1_000, "count": 3}]

    done = atm.client.wait_for_status(op.id, ())
    assert done.status == "completed" and done.tx_hash is not None
    assert bank.network.balance(customer.wallet) == 13_000
    assert atm_cash(admin, atm) == cash_before + 13_000  # the notes are in the ATM
    assert bank.client("teller").get_wallet(customer.wallet).balance.amount == 13_000


def test_cash_in_over_the_tiers_balance_cap_is_refused_before_minting(bank_network: BankNetwork, atm: Atm) -> None:
    customer = new_customer(bank_network.a)
    cap = bank_network.a.network.wallet_limits(customer.wallet)
    assert cap is not None
    with pytest.raises(LimitExceededError) as refused:
        atm.client.report_cash_in(fresh("EV"), customer.wallet, {cap.balance_cap + 1: 1})
    assert refused.value.status == 422 and refused.value.problem["balance_cap"] == cap.balance_cap
    assert bank_network.a.network.balance(customer.wallet) == 0


# ------------------------------------------------------------------ cash-out


def test_cash_out_is_held_then_captured_when_dispensed(bank_network: BankNetwork, admin: Client, atm: Atm) -> None:
    bank = bank_network.a
    customer = funded(atm, 20_000)
    code = customer.code(7_000)
    assert code.text.startswith("WALLETNET:1:HOLD:")
    assert code.png().startswith(b"\x89PNG") and "<svg" in code.svg()
    cash_before = atm_cash(admin, atm)

    op = atm.client.submit_withdrawal(fresh("EV"), code.text)
    assert (op.kind, op.status, op.wallet) == ("atm_cash_out", "pending", customer.wallet)
    assert op.amount is not None and op.amount.amount == 7_000
    held = atm.client.wait_until_held(op.id)
    assert held.status == "held" and not held.final
    assert bank.network.balance(customer.wallet) == 13_000
    assert bank.network.held_balance(customer.wallet) == 7_000
    assert admin.get_atm_cash(atm.atm_id).reserved.amount == 7_000

    dispensing = atm.client.confirm_dispense(op.id, fresh("EV"))
    assert dispensing.details["stage"] == "capturing"
    done = atm.client.wait_for_status(op.id, ())
    assert done.status == "completed" and done.details["stage"] == "captured"
    assert bank.network.balance(customer.wallet) == 13_000
    assert bank.network.held_balance(customer.wallet) == 0
    cash = admin.get_atm_cash(atm.atm_id)
    assert (cash.cash.amount, cash.reserved.amount) == (cash_before - 7_000, 0)  # the notes left the ATM

    with pytest.raises(InvalidStateError):  # a fault after the dispense was confirmed cannot undo it
        atm.client.report_dispense_fault(op.id, fresh("EV"), "too late")
    again = atm.client.confirm_dispense(op.id, fresh("EV"))  # a second confirmation changes nothing
    assert again.status == "completed"


def test_a_dispense_fault_releases_the_hold(bank_network: BankNetwork, admin: Client, atm: Atm) -> None:
    bank = bank_network.a
    customer = funded(atm, 9_000)
    cash_before = atm_cash(admin, atm)
    op = atm.client.submit_withdrawal(fresh("EV"), customer.code(9_000).text)
    assert atm.client.wait_until_held(op.id).status == "held"
    assert bank.network.balance(customer.wallet) == 0

    faulted = atm.client.report_dispense_fault(op.id, fresh("EV"), "cassette jam")
    assert faulted.details["stage"] == "releasing"
    done = atm.client.wait_for_status(op.id, ())
    assert done.status == "released" and done.final
    assert "cassette jam" in done.details["release_reason"]
    assert bank.network.balance(customer.wallet) == 9_000
    assert bank.network.held_balance(customer.wallet) == 0
    assert atm_cash(admin, atm) == cash_before  # nothing left the ATM

    with pytest.raises(InvalidStateError) as refused:
        atm.client.confirm_dispense(op.id, fresh("EV"))
    assert refused.value.status == 409 and refused.value.problem["stage"] == "released"


def test_an_unconfirmed_cash_out_is_released_after_the_timeout(bank_network: BankNetwork, admin: Client,
                                                                atm: Atm) -> None:
    bank = bank_network.a
    customer = funded(atm, 5_000)
    op = atm.client.submit_withdrawal(fresh("EV"), customer.code(5_000).text)
    assert atm.client.wait_until_held(op.id).status == "held"
    sessions = session_factory(bank.engine)
    assert sweep_expired_cash_outs(sessions, bank.settings) == 0  # not yet: the timeout has not passed

    later = utcnow() + timedelta(seconds=bank.settings.atm_hold_timeout + 1)
    assert sweep_expired_cash_outs(sessions, bank.settings, now=later) >= 1
    done = atm.client.wait_for_status(op.id, ())
    assert done.status == "released"
    assert "no dispense confirmed" in done.details["release_reason"]
    assert bank.network.balance(customer.wallet) == 5_000
    assert admin.get_atm_cash(atm.atm_id).reserved.amount == 0
    with pytest.raises(InvalidStateError):  # the ATM must not dispense a released cash-out
        atm.client.confirm_dispense(op.id, fresh("EV"))


def test_a_cash_out_needs_the_notes_in_the_atm(bank_network: BankNetwork, admin: Client, atm: Atm) -> None:
    customer = funded(atm, 6_000)
    small = new_atm(bank_network.a, admin, stock=1_000)
    with pytest.raises(ConflictError) as refused:
        small.client.submit_withdrawal(fresh("EV"), customer.code(2_000).text)
    assert refused.value.problem["available"] == 1_000
    assert bank_network.a.network.held_balance(customer.wallet) == 0
