"""Customer notifications (issue 22) through HTTP on the two-bank network: each type made once, with its params,
from the real flows (P2P between the banks, top-up, redemption, ATM cash-in and cash-out, a merchant payment and
its refund, freeze and unfreeze, a tier change, a large payment, the daily limit's 80% and 100%, the second
factor); the paged list with read marks; texts in English and Chinese; who may read them."""

from __future__ import annotations

from collections import Counter

import pytest
from atm_support import Atm, new_atm
from atm_support import fresh as fresh_event
from atm_support import new_customer as new_atm_customer
from flow_network import BankNetwork, BankNode
from merchant_support import onboard_shop
from money_flows_support import (
    completed,
    freeze_by_regulator,
    fund_wallet,
    open_customer,
    totp_code,
    wait_for,
)

from wallet_sdk.amount import format_amount
from wallet_sdk.client import Client, Notification
from wallet_sdk.exceptions import (
    CustomerSessionRequiredError,
    ForbiddenError,
    NotFoundError,
    ValidationError,
    WalletNotCustodiedHereError,
)

LARGE = 50_000  # notify_large_payment of the test network (below the second-factor threshold, 100,000)


def notes(reader: Client, wallet: str) -> list[Notification]:
    """Every notification of ``wallet``, oldest first, through the paged list."""
    found: list[Notification] = []
    cursor = None
    while True:
        page = reader.list_notifications(wallet, limit=200, cursor=cursor)
        found.extend(page.items)
        if (cursor := page.next_cursor) is None:
            return found


def settled(bank: BankNode, reader: Client, wallet: str, count: int) -> list[Notification]:
    """The wallet's notifications once ``count`` are there (the indexer makes them as it applies final blocks)."""
    bank.wait_idle()
    wait_for(lambda: len(notes(reader, wallet)) >= count, f"{count} notifications of {wallet}")
    return notes(reader, wallet)


def kinds(found: list[Notification]) -> list[str]:
    return [n.type for n in found]


def money(minor: int) -> str:
    return f"{format_amount(minor, decimals=2)} DCASH"


# ------------------------------------------------------------------ each type, once, from the real flows


def test_payments_between_the_banks_top_up_redemption_and_a_large_payment(bank_network: BankNetwork) -> None:
    a, b = bank_network.a, bank_network.b
    payer = open_customer(a, deposit=2 * LARGE)
    payee = open_customer(b, deposit=None)
    fund_wallet(payer, 2 * LARGE)
    app = payer.app()
    sent = completed(app, app.transfer(payer.wallet, payee.wallet, LARGE))
    small = completed(app, app.transfer(payer.wallet, payee.wallet, 1_234))
    teller = a.client("teller")
    redemption = completed(teller, teller.redeem(payer.wallet, 5_000))

    mine = settled(a, app, payer.wallet, 5)
    assert kinds(mine) == ["top_up", "payment_sent", "large_payment", "payment_sent", "redemption"]
    top_up, big, large, little, redeemed = mine
    assert [n.id for n in mine] == sorted(n.id for n in mine) and len({n.id for n in mine}) == 5
    assert top_up.params["amount"] == 2 * LARGE and top_up.params["ref"].startswith("TOPUP-")
    assert (big.params["amount"], big.params["counterparty"], big.params["tx_hash"]) == (
        LARGE, payee.wallet, sent.tx_hash)
    assert (large.params["amount"], large.params["counterparty"]) == (LARGE, payee.wallet)
    assert (little.params["amount"], little.params["tx_hash"]) == (1_234, small.tx_hash)  # below: not large
    assert (redeemed.params["amount"], redeemed.params["ref"]) == (5_000, redemption.ref)
    assert all(n.wallet == payer.wallet and n.read_at is None and n.language == "en" for n in mine)
    assert big.text == f"You paid {money(LARGE)} to {payee.wallet[:6]}…{payee.wallet[-4:]}."
    assert top_up.text == f"Your wallet was topped up with {money(2 * LARGE)} from your bank account."
    assert "large payment" in large.text

    their_app = b.app(payee.ref)
    theirs = settled(b, their_app, payee.wallet, 2)
    assert kinds(theirs) == ["payment_received", "payment_received"]
    assert [(n.params["amount"], n.params["counterparty"]) for n in theirs] == [
        (LARGE, payer.wallet), (1_234, payer.wallet)]
    assert theirs[0].text == f"You received {money(LARGE)} from {payer.wallet[:6]}…{payer.wallet[-4:]}."

    # the customer's language: Chinese from now on, for past notifications too
    settings = their_app.set_notification_settings(payee.ref, language="zh")
    assert (settings.customer_ref, settings.language) == (payee.ref, "zh")
    assert their_app.get_notification_settings(payee.ref).language == "zh"
    again = notes(their_app, payee.wallet)
    assert [n.language for n in again] == ["zh", "zh"]
    assert again[0].text == f"您收到来自 {payer.wallet[:6]}…{payer.wallet[-4:]} 的 {money(LARGE)}。"
    assert [n.params for n in again] == [n.params for n in theirs]
    with pytest.raises(ValidationError):
        their_app.set_notification_settings(payee.ref, language="fr")
    a.wait_idle()
    assert kinds(notes(app, payer.wallet)) == kinds(mine)  # nothing made twice by later rounds


@pytest.fixture(scope="module")
def atm(bank_network: BankNetwork) -> Atm:
    return new_atm(bank_network.a, bank_network.a.client("admin"), stock=1_000_000)


def test_atm_cash_in_and_cash_outs_dispensed_and_released(bank_network: BankNetwork, atm: Atm) -> None:
    bank = bank_network.a
    customer = new_atm_customer(bank)
    cash_in = atm.client.report_cash_in(fresh_event("EV"), customer.wallet, {20_000: 1})
    assert atm.client.wait_for_status(cash_in.id, ()).status == "completed"
    dispensed = atm.client.submit_withdrawal(fresh_event("EV"), customer.code(7_000).text)
    assert atm.client.wait_until_held(dispensed.id).status == "held"
    atm.client.confirm_dispense(dispensed.id, fresh_event("EV"))
    assert atm.client.wait_for_status(dispensed.id, ()).status == "completed"
    faulted = atm.client.submit_withdrawal(fresh_event("EV"), customer.code(3_000).text)
    assert atm.client.wait_until_held(faulted.id).status == "held"
    atm.client.report_dispense_fault(faulted.id, fresh_event("EV"), "cassette jam")
    assert atm.client.wait_for_status(faulted.id, ()).status == "released"

    teller = bank.client("teller")
    found = settled(bank, teller, customer.wallet, 5)
    assert kinds(found) == ["atm_cash_in", "cash_out_held", "cash_out_dispensed", "cash_out_held",
                            "cash_out_released"]
    assert [n.params["amount"] for n in found] == [20_000, 7_000, 7_000, 3_000, 3_000]
    assert found[0].params["ref"].startswith("CASHIN-")
    assert found[1].params["hold_id"] == found[2].params["hold_id"] != found[3].params["hold_id"]
    assert found[4].text == f"The ATM cash withdrawal did not happen: {money(3_000)} is back in your wallet."


def test_a_merchant_payment_and_its_refund(bank_network: BankNetwork) -> None:
    a, b = bank_network.a, bank_network.b
    own_shop, other_shop = onboard_shop(a), onboard_shop(b)  # acquired by the customer's bank, and by the other
    customer = open_customer(a, deposit=10_000)
    fund_wallet(customer, 10_000)
    app = customer.app()
    for shop, order, amount in ((own_shop, "N-1", 3_000), (other_shop, "N-2", 2_000)):
        request = shop.client.create_payment_request(shop.merchant_id, order, amount)
        completed(app, app.pay_merchant(customer.wallet, request.payload))
    completed(own_shop.client, own_shop.client.refund_order(own_shop.merchant_id, "N-1", 1_000))

    found = settled(a, app, customer.wallet, 4)
    assert kinds(found) == ["top_up", "payment_sent", "payment_sent", "refund_received"]
    _, paid_own, paid_other, refund = found
    assert {k: paid_own.params[k] for k in ("amount", "merchant_id", "merchant_name", "order_id", "acquirer")} == {
        "amount": 3_000, "merchant_id": own_shop.merchant_id, "merchant_name": f"{own_shop.merchant_id} Ltd",
        "order_id": "N-1", "acquirer": "BANKA"}
    assert "counterparty" not in paid_own.params  # the settlement contract is no counterparty to show
    assert paid_own.text == f"You paid {money(3_000)} to {own_shop.merchant_id} Ltd."
    # another bank's merchant: this bank knows its id, not its legal name
    assert (paid_other.params["merchant_name"], paid_other.params["acquirer"]) == (other_shop.merchant_id, "BANKB")
    assert (refund.params["amount"], refund.params["order_id"], refund.params["merchant_name"]) == (
        1_000, "N-1", f"{own_shop.merchant_id} Ltd")
    assert refund.text == f"{own_shop.merchant_id} Ltd refunded you {money(1_000)}."


def test_freeze_unfreeze_tier_change_and_a_regulators_freeze(bank_network: BankNetwork) -> None:
    a = bank_network.a
    customer = open_customer(a, deposit=None)
    teller = a.client("teller")
    completed(teller, teller.freeze_wallet(customer.wallet, 42, note="court order 7"))
    completed(teller, teller.unfreeze_wallet(customer.wallet))
    completed(teller, teller.change_tier(customer.wallet, 2))
    freeze_by_regulator(bank_network, customer.wallet, reason=9)

    found = settled(a, teller, customer.wallet, 4)
    assert kinds(found) == ["wallet_frozen", "wallet_unfrozen", "tier_changed", "wallet_frozen"]
    frozen, _, tier, by_regulator = found
    assert (frozen.params["reason_code"], frozen.params["by_regulator"], frozen.params["note"]) == (
        42, False, "court order 7")
    assert frozen.text == "Your wallet was frozen by your bank (reason court order 7)."
    assert (tier.params["previous_tier"], tier.params["tier"]) == (1, 2)
    assert (by_regulator.params["reason_code"], by_regulator.params["by_regulator"]) == (9, True)
    assert "note" not in by_regulator.params
    assert by_regulator.text == "Your wallet was frozen by the regulator (reason 9)."


def test_the_daily_limit_at_80_and_100_percent(bank_network: BankNetwork) -> None:
    a, b = bank_network.a, bank_network.b
    customer = open_customer(a, tier=4, deposit=100_000)  # tier 4: 100,000 a day, 50,000 a payment
    payee = open_customer(b, deposit=None)
    fund_wallet(customer, 100_000)
    app = customer.app()
    for amount in (50_000, 29_999, 1, 20_000):  # 50%, 79.999%, 80%, 100%
        completed(app, app.transfer(customer.wallet, payee.wallet, amount))

    found = settled(a, app, customer.wallet, 8)
    assert kinds(found) == ["top_up", "payment_sent", "large_payment", "payment_sent", "payment_sent",
                            "daily_limit_80", "payment_sent", "daily_limit_100"]
    eighty, hundred = found[5], found[7]
    assert {k: eighty.params[k] for k in ("spent", "limit", "percent")} == {"spent": 80_000, "limit": 100_000,
                                                                           "percent": 80}
    assert eighty.params["tx_hash"] == found[4].params["tx_hash"]  # the payment that crossed it
    assert {k: hundred.params[k] for k in ("spent", "limit", "percent")} == {"spent": 100_000, "limit": 100_000,
                                                                            "percent": 100}
    assert eighty.text == f"You have used 80% of today's limit ({money(80_000)} of {money(100_000)})."


def test_second_factor_notices_become_notifications(bank_network: BankNetwork) -> None:
    a = bank_network.a
    customer = open_customer(a, deposit=None)
    app = customer.app()
    enrolment = app.enrol_totp(customer.wallet)
    app.enrol_totp(customer.wallet, totp=totp_code(enrolment.secret))
    found = settled(a, app, customer.wallet, 2)
    assert kinds(found) == ["second_factor_enrolled", "second_factor_changed"]
    assert found[0].text == "A second factor (TOTP) was set up for your wallet."


# ------------------------------------------------------------------ the list: paging, read marks


def test_paging_and_read_marks(bank_network: BankNetwork) -> None:
    a = bank_network.a
    customer = open_customer(a, deposit=6_000)
    for amount in (1_000, 2_000, 3_000):
        fund_wallet(customer, amount)
    app = customer.app()
    everything = settled(a, app, customer.wallet, 3)
    assert [n.params["amount"] for n in everything] == [1_000, 2_000, 3_000]

    first = app.list_notifications(customer.wallet, limit=2)
    assert len(first.items) == 2 and first.next_cursor is not None
    second = app.list_notifications(customer.wallet, limit=2, cursor=first.next_cursor)
    assert [n.id for n in first.items + second.items] == [n.id for n in everything] and second.next_cursor is None

    assert app.mark_notifications_read(customer.wallet, up_to=everything[0].id) == 1
    assert [n.id for n in app.list_notifications(customer.wallet, unread=True).items] == [
        everything[1].id, everything[2].id]
    assert app.mark_notifications_read(customer.wallet, ids=[everything[2].id, everything[0].id]) == 1
    assert [n.id for n in app.list_notifications(customer.wallet, unread=True).items] == [everything[1].id]
    read = app.list_notifications(customer.wallet, unread=False).items
    assert [n.id for n in read] == [everything[0].id, everything[2].id] and all(n.read_at for n in read)
    assert app.mark_notifications_read(customer.wallet, up_to=everything[2].id) == 1
    assert app.mark_notifications_read(customer.wallet, up_to=everything[2].id) == 0  # safe to repeat
    assert app.list_notifications(customer.wallet, unread=True).items == []
    assert Counter(n.read_at is not None for n in notes(app, customer.wallet)) == Counter({True: 3})
    with pytest.raises(ValidationError):
        app.list_notifications(customer.wallet, cursor="not-a-cursor")


# ------------------------------------------------------------------ who may read them


def test_a_customer_sees_only_its_own_customers_notifications(bank_network: BankNetwork) -> None:
    a, b = bank_network.a, bank_network.b
    owner, stranger = open_customer(a, deposit=1_000), open_customer(a, deposit=None)
    fund_wallet(owner, 1_000)
    settled(a, owner.app(), owner.wallet, 1)
    other_app = stranger.app()
    with pytest.raises(NotFoundError) as hidden:
        other_app.list_notifications(owner.wallet)
    assert hidden.value.status == 404 and hidden.value.problem["type"].endswith("/not-found")
    with pytest.raises(NotFoundError):
        other_app.mark_notifications_read(owner.wallet, up_to=2**40)
    with pytest.raises(NotFoundError):
        list(other_app.stream_notifications(owner.wallet, reconnect=False))
    with pytest.raises(ForbiddenError):
        other_app.set_notification_settings(owner.ref, language="zh")
    with pytest.raises(ForbiddenError):
        other_app.get_notification_settings(owner.ref)
    assert [n.read_at for n in notes(owner.app(), owner.wallet)] == [None]  # the stranger marked nothing

    with pytest.raises(CustomerSessionRequiredError):
        a.client("app").list_notifications(owner.wallet)
    with pytest.raises(ForbiddenError):  # the ATM scope reads no wallet
        a.client("atm").list_notifications(owner.wallet)
    with pytest.raises(WalletNotCustodiedHereError):  # another bank's staff
        b.client("teller").list_notifications(owner.wallet)
    assert kinds(notes(a.client("admin"), owner.wallet)) == ["top_up"]  # the bank's staff read every customer's
    assert kinds(notes(a.client("regulator"), owner.wallet)) == ["top_up"]
