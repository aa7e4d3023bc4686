"""Issue 18, findings 1 and 10(c), as an attacker tries them on the two-bank network.

1. An underpaid order must not become ``paid``: the payer edits the amount of the merchant's request to 1 and
   signs that; its bank refuses to relay it, and so does the settlement contract when the attacker sends it
   itself (built with the SDK, as an attacker would). An order never requested cannot be paid first
   ("squatted") either. The honest payment goes through afterwards and the order is ``paid`` for the amount
   requested. Should a payment of another amount ever reach the chain, the order says so (never ``paid``)
   and the merchant voids it.
10(c). Merchant ids are per acquirer: bank B takes "SHOP…" first, bank A still onboards its own, and each one's
   payments, refunds and settlements reach the right merchant.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from flow_network import BankNetwork, BankNode
from merchant_support import Shop, onboard_shop, sign_payment, sign_request
from money_flows_support import Customer, chain_now, completed, fresh, fund_wallet, open_customer

from wallet_sdk.amount import Amount
from wallet_sdk.authorizations import MerchantPayment, SignedAuthorization
from wallet_sdk.exceptions import AuthorizationInvalidError, ContractRevertError
from wallet_sdk.keys import WalletKey
from wallet_sdk.payload import PaymentRequest, decode_payload, encode_payload


def scanned(customer: Customer, payload: str) -> PaymentRequest:
    """The request as an attacker's app reads it: decoded, no signer checked."""
    d = customer.bank.network.domain()
    item = decode_payload(payload, chain_id=d.chain_id, contract=d.verifying_contract, now=chain_now(customer.bank))
    assert isinstance(item, PaymentRequest)
    return item


def edited(request: PaymentRequest, amount: int) -> PaymentRequest:
    return dataclasses.replace(request, amount=Amount(amount, request.amount.decimals, request.amount.currency))


def attacker_relays(bank_network: BankNetwork, payment: SignedAuthorization[MerchantPayment]) -> ContractRevertError:
    """The attacker sends the payment to MerchantSettlement.pay itself, from a funded account of its own."""
    relayer = bank_network.a.network.bank_operator(bank_network.spare[0])
    with pytest.raises(ContractRevertError) as refused:
        relayer.pay(payment)
    return refused.value


def payer(bank_network: BankNetwork, funds: int, *, self_custody: bool = True) -> Customer:
    customer = open_customer(bank_network.a, self_custody=self_custody, deposit=funds)
    fund_wallet(customer, funds)
    return customer


def test_an_underpaid_payment_is_refused_by_the_payers_bank_and_by_the_contract(bank_network: BankNetwork) -> None:
    a, b = bank_network.a, bank_network.b
    shop = onboard_shop(b)
    customer, custodial = payer(bank_network, 20_000), payer(bank_network, 20_000, self_custody=False)
    request = shop.client.create_payment_request(shop.merchant_id, "BIG-1", 10_000)
    app = customer.app()
    cheap = customer.sign(edited(scanned(customer, request.payload), 1).to_payment(customer.wallet))
    with pytest.raises(AuthorizationInvalidError) as refused:  # the payer's bank checks the acquirer's signature
        app.pay_merchant(customer.wallet, encode_payload(cheap))
    assert "not signed by bank" in str(refused.value)
    with pytest.raises(AuthorizationInvalidError):  # a custodial payer's bank signs only what the acquirer did
        custodial.app().pay_merchant(custodial.wallet, encode_payload(edited(scanned(customer, request.payload), 1)))
    with pytest.raises(AuthorizationInvalidError):  # nor does the acquirer relay it at the POS
        shop.client.submit_pos_payment(shop.merchant_id, cheap)
    reverted = attacker_relays(bank_network, cheap)
    assert reverted.name == "InvalidPaymentRequest"
    assert reverted.arguments["orderId"] == b"BIG-1".ljust(32, b"\0")
    bank_network.wait_idle()
    order = shop.client.get_order(shop.merchant_id, "BIG-1")
    assert (order.status, order.paid.amount) == ("requested", 0)
    assert a.network.balance(customer.wallet) == 20_000

    completed(app, app.pay_merchant(customer.wallet, encode_payload(sign_request(customer, request.payload))))
    order = shop.client.get_order(shop.merchant_id, "BIG-1")
    assert (order.status, order.paid.amount, order.amount.amount if order.amount else None) == ("paid", 10_000,
                                                                                                  10_000)
    assert a.network.balance(customer.wallet) == 10_000


def test_an_order_never_requested_cannot_be_squatted(bank_network: BankNetwork) -> None:
    a, b = bank_network.a, bank_network.b
    shop = onboard_shop(b)
    customer = payer(bank_network, 5_000)
    app = customer.app()
    squat = sign_payment(customer, shop, "SQUAT-1", 1)  # no request: the merchant never asked
    with pytest.raises(AuthorizationInvalidError):
        app.pay_merchant(customer.wallet, encode_payload(squat))
    with pytest.raises(AuthorizationInvalidError):  # the POS did not name an amount, the order was not requested
        shop.client.submit_pos_payment(shop.merchant_id, squat)
    # with a "request" the attacker signed itself, straight to the contract
    forged = squat.authorization.request_terms().sign(customer.key, a.network.settlement_domain())  # type: ignore[arg-type]
    squat = customer.sign(squat.authorization.with_request_signature(forged))
    with pytest.raises(AuthorizationInvalidError):
        app.pay_merchant(customer.wallet, encode_payload(squat))
    reverted = attacker_relays(bank_network, squat)
    assert (reverted.name, reverted.arguments["signer"]) == ("InvalidPaymentRequest", customer.wallet)
    bank_network.wait_idle()
    assert a.network.order(b.bank_id, shop.merchant_id, "SQUAT-1").paid_at == 0

    request = shop.client.create_payment_request(shop.merchant_id, "SQUAT-1", 3_000)  # the real order, later
    completed(app, app.pay_merchant(customer.wallet, encode_payload(sign_request(customer, request.payload))))
    order = shop.client.get_order(shop.merchant_id, "SQUAT-1")
    assert (order.status, order.paid.amount) == ("paid", 3_000)


def operator_signed(bank: BankNode, customer: Customer, shop: Shop, order: str, amount: int,
                    expires_at: int) -> SignedAuthorization[MerchantPayment]:
    """A payment whose request one of the acquirer's operators signed by hand: the contract accepts it, whatever
    the node's record says (a key used in error, or a payment made before requests were signed)."""
    payment = MerchantPayment(acquirer=shop.bank.bank_id, merchant_id=shop.merchant_id.encode().ljust(32, b"\0"),
                              order_id=order.encode().ljust(32, b"\0"), payer=customer.wallet, amount=amount,
                              valid_before=expires_at, settlement=bank.network.addresses["MerchantSettlement"])
    operator = WalletKey("0x" + bytes(shop.bank.operator.key).hex())
    signature = payment.request_terms().sign(operator, bank.network.settlement_domain())
    signed: SignedAuthorization[MerchantPayment] = customer.sign(payment.with_request_signature(signature))
    return signed


def test_an_order_paid_another_amount_is_never_paid_and_the_merchant_voids_it(bank_network: BankNetwork) -> None:
    a, b = bank_network.a, bank_network.b
    shop = onboard_shop(b)
    customer = payer(bank_network, 9_000)
    request = shop.client.create_payment_request(shop.merchant_id, "WRONG-1", 8_000)
    relay = a.network.bank_operator(a.operator)
    relay.pay(operator_signed(a, customer, shop, "WRONG-1", 800, request.expires_at))
    relay.pay(operator_signed(a, customer, shop, "NEVER-1", 700, chain_now(a) + 600))
    order = shop.client.get_order(shop.merchant_id, "WRONG-1")
    assert (order.status, order.paid.amount, order.amount.amount if order.amount else None) == ("underpaid", 800,
                                                                                                  8_000)
    assert shop.client.get_order(shop.merchant_id, "NEVER-1").status == "unrequested"
    assert a.network.balance(customer.wallet) == 9_000 - 1_500

    for order_id, amount in (("WRONG-1", 800), ("NEVER-1", 700)):
        op = completed(shop.client, shop.client.void_order(shop.merchant_id, order_id))
        assert (op.kind, op.wallet, op.amount.amount if op.amount else None) == ("merchant_refund", customer.wallet,
                                                                                 amount)
        voided = shop.client.get_order(shop.merchant_id, order_id)
        assert (voided.status, voided.refunded.amount) == ("refunded", amount)
    assert a.network.balance(customer.wallet) == 9_000
    with pytest.raises(Exception) as nothing_left:
        shop.client.void_order(shop.merchant_id, "WRONG-1")
    assert str(nothing_left.value.problem["type"]).endswith("/invalid-state")  # type: ignore[attr-defined]


def test_merchant_ids_are_per_acquirer(bank_network: BankNetwork) -> None:
    """Bank B takes an id first; bank A still onboards its own merchant of that id; each one's payments, refunds
    and settlements reach the right merchant."""
    a, b = bank_network.a, bank_network.b
    shared = fresh("SHOPX")
    at_b = onboard_shop(b, merchant_id=shared)
    at_a = onboard_shop(a, merchant_id=shared, fee_bps=0)
    assert at_a.merchant_id == at_b.merchant_id and at_a.wallet != at_b.wallet
    assert (a.network.merchant(a.bank_id, shared).wallet, a.network.merchant(b.bank_id, shared).wallet) == (
        at_a.wallet, at_b.wallet)
    customer = payer(bank_network, 10_000, self_custody=False)
    app = customer.app()
    for shop, amount in ((at_a, 1_100), (at_b, 2_200)):  # the same order id at each
        request = shop.client.create_payment_request(shared, "O-1", amount)
        completed(app, app.pay_merchant(customer.wallet, request.payload))
    assert [(s.client.get_order(shared, "O-1").status, s.client.get_order(shared, "O-1").paid.amount)
            for s in (at_a, at_b)] == [("paid", 1_100), ("paid", 2_200)]

    completed(at_a.client, at_a.client.refund_order(shared, "O-1", 100))
    assert (a.network.order(a.bank_id, shared, "O-1").refunded, a.network.order(b.bank_id, shared, "O-1").refunded) \
        == (100, 0)
    settled: dict[str, Any] = {}
    for shop in (at_a, at_b):
        settled[shop.bank.code] = completed(shop.client, shop.client.settle_merchant(shared)).details
    fee_b = 2_200 * 150 // 10_000
    assert (settled["BANKA"]["gross"], settled["BANKA"]["net"]) == (1_100, 1_000)
    assert (settled["BANKB"]["gross"], settled["BANKB"]["net"]) == (2_200, 2_200 - fee_b)
    assert (a.network.balance(at_a.wallet), a.network.balance(at_b.wallet)) == (1_000, 2_200 - fee_b)
    bank_network.wait_idle()
    for shop, lines in ((at_a, [("payment", "O-1", 1_100), ("refund", "O-1", 100), ("fee", None, 0)]),
                        (at_b, [("payment", "O-1", 2_200), ("fee", None, fee_b)])):
        statement = shop.client.get_settlement_statement(shared, 1)
        assert [(x.type, x.order_id, x.amount_minor) for x in statement.lines if x.type != "net"] == lines
