"""MerchantSettlement pays only what the acquirer requested, and merchant ids are per acquirer (issue 18,
findings 1 and 10(c)), against a real anvil.

A payment carries the acquirer's EIP-712 PaymentRequest(acquirer, merchantId, orderId, amount, expiresAt)
signature: an edited amount, an order the acquirer never requested ("squatting") or a request signed by
anybody but the acquirer's request signer or active operators is refused with InvalidPaymentRequest, however
the payment reaches the contract. Merchants are keyed by (acquirer, merchantId): bank B taking "SHOP1" first
neither takes nor blocks bank A's "SHOP1".
"""

from __future__ import annotations

from typing import Any

import pytest
from eth_account import Account
from test_settlement import (
    FUNDS,
    MERCHANT_KIND,
    NONE,
    TO_WALLET,
    ZERO32,
    ZERO_ADDRESS,
    Scene,
    assert_books,
    b32,
    balance,
    case_insensitive,
    events,
    merchant,
    new_scene,
    now,
    open_wallet,
    order,
    ref,
    sign_payment,
    sign_request,
    with_fields,
)

from wallet_sdk.authorizations import PaymentRequestTerms, settlement_domain
from wallet_sdk.keys import SECP256K1_N


@pytest.fixture(name="reverts")
def _case_insensitive_reverts(reverts: Any) -> Any:
    return case_insensitive(reverts)


@pytest.fixture(name="scene")
def _scene(system: Any) -> Scene:
    return new_scene(system)


def test_request_domain_and_digest_match_the_sdk(system: Any) -> None:
    s = system.settlement
    domain = settlement_domain(system.w3.eth.chain_id, s.address)
    assert s.functions.DOMAIN_SEPARATOR().call() == domain.separator()
    fields, name, version, chain_id, contract, salt, extensions = s.functions.eip712Domain().call()
    assert (fields, name, version, chain_id, contract, salt, extensions) == (
        b"\x0f", "MerchantSettlement", "1", system.w3.eth.chain_id, s.address, ZERO32, [])
    terms = PaymentRequestTerms(acquirer=system.banks["B"].id, merchant_id=b32("M"), order_id=b32("o-1"),
                                amount=1_234, expires_at=2_000_000_000)
    assert s.functions.PAYMENT_REQUEST_TYPEHASH().call() == terms.type_hash()
    assert s.functions.paymentRequestDigest(terms.acquirer, terms.merchant_id, terms.order_id, terms.amount,
                                            terms.expires_at).call() == terms.digest(domain)


def test_an_underpaid_payment_is_refused_and_the_full_one_goes_through(scene: Scene, reverts: Any) -> None:
    """The payer edits the requested amount (10,000) to 1 and signs that: the acquirer's signature does not
    cover it, so the contract refuses it whoever relays it, and the honest payment is paid afterwards."""
    system = scene.system
    pay = system.settlement.functions.pay
    bank = system.banks["B"].id
    oid = b32("order-underpaid")
    underpaid = sign_payment(system, scene.payer, scene.merchant_id, oid, 1, requested=10_000)
    for relayer in (scene.relayer, scene.acq, system.accounts[0]):  # the payer's bank, the acquirer, anybody
        with reverts("InvalidPaymentRequest", acquirer=bank, merchantId=scene.merchant_id, orderId=oid) as box:
            system.send(pay(underpaid), relayer)
        assert box["error"].arguments["signer"].lower() != scene.acq.address.lower()
    assert order(system, scene.merchant_id, oid)["payer"] == ZERO_ADDRESS
    assert balance(system, scene.payer) == FUNDS
    receipt = system.send(pay(sign_payment(system, scene.payer, scene.merchant_id, oid, 10_000)), scene.relayer)
    assert [e["amount"] for e in events(system.settlement, "OrderPaid", receipt)] == [10_000]
    assert order(system, scene.merchant_id, oid)["amount"] == 10_000
    assert_books(system, [scene.merchant_id])


def test_an_order_the_acquirer_did_not_request_cannot_be_squatted(scene: Scene, reverts: Any) -> None:
    """Paying an order first with a request signed by oneself, the payer's bank, another bank's operator or
    with no valid signature at all is refused; the merchant's real request is paid afterwards."""
    system = scene.system
    pay = system.settlement.functions.pay
    bank = system.banks["B"].id
    oid = b32("order-squatted")
    stranger = Account.create()
    for signer in (scene.payer, scene.other, stranger):
        squat = sign_payment(system, scene.payer, scene.merchant_id, oid, 1, request_signer=signer)
        with reverts("InvalidPaymentRequest", acquirer=bank, merchantId=scene.merchant_id, orderId=oid,
                     signer=signer.address):
            system.send(pay(squat), scene.relayer)
    unsigned = with_fields(sign_payment(system, scene.payer, scene.merchant_id, oid, 1), requestV=27,
                           requestR=ZERO32, requestS=ZERO32)
    # the malleable twin of the acquirer's own signature (s above n/2) is refused as OpenZeppelin's ECDSA would
    honest = sign_payment(system, scene.payer, scene.merchant_id, oid, 4_200)
    twin = with_fields(honest, requestV=55 - honest[10],
                       requestS=(SECP256K1_N - int.from_bytes(honest[12], "big")).to_bytes(32, "big"))
    for payment in (unsigned, twin):
        with reverts("InvalidPaymentRequest", acquirer=bank, signer=ZERO_ADDRESS):
            system.send(pay(payment), scene.relayer)
    assert order(system, scene.merchant_id, oid)["payer"] == ZERO_ADDRESS
    system.send(pay(sign_payment(system, scene.payer, scene.merchant_id, oid, 4_200)), scene.relayer)
    assert order(system, scene.merchant_id, oid)["amount"] == 4_200


def test_the_request_expires_when_the_payment_does(scene: Scene, reverts: Any) -> None:
    """The payer's validBefore is the request's expiresAt: a payment valid longer (or shorter) than the
    request the acquirer signed is another request."""
    system = scene.system
    pay = system.settlement.functions.pay
    expires = now(system) + 600
    for valid_before in (expires + 1, expires - 1):
        payment = sign_payment(system, scene.payer, scene.merchant_id, b32("o-exp"), 500, valid_before=valid_before)
        request = sign_request(system, scene.acq, system.banks["B"].id, scene.merchant_id, b32("o-exp"), 500, expires)
        payment = with_fields(payment, requestV=request[0], requestR=request[1], requestS=request[2])
        with reverts("InvalidPaymentRequest", orderId=b32("o-exp")):
            system.send(pay(payment), scene.relayer)


def test_a_bank_registers_a_request_signer_that_can_do_nothing_else(scene: Scene, reverts: Any) -> None:
    system = scene.system
    s = system.settlement
    b = system.banks["B"]
    signer = Account.create()
    assert s.functions.requestSigner(b.id).call() == ZERO_ADDRESS
    receipt = system.send(s.functions.setRequestSigner(signer.address), b.operators[1])
    assert events(s, "RequestSignerSet", receipt) == [{"bankId": b.id, "signer": signer.address}]
    assert s.functions.requestSigner(b.id).call() == signer.address
    assert s.functions.requestSigner(system.banks["A"].id).call() == ZERO_ADDRESS
    scene.system.send(s.functions.pay(sign_payment(system, scene.payer, scene.merchant_id, b32("o-1"), 300,
                                                   request_signer=signer)), scene.relayer)
    assert order(system, scene.merchant_id, b32("o-1"))["amount"] == 300
    # least privilege: the request signer is no operator
    system.set_balance(signer.address, 10**18)
    wallet = open_wallet(system, "B", MERCHANT_KIND)
    for call in (s.functions.setRequestSigner(signer.address), s.functions.settle(scene.merchant_id, ref()),
                 s.functions.refund(scene.merchant_id, b32("o-1"), 1, ref()),
                 s.functions.registerMerchant(b32("M-S"), wallet.address, 0, 1, ZERO32, TO_WALLET)):
        with reverts("NotBankOperator", caller=signer.address):
            system.send(call, signer)
    # bank B's signer does not sign for bank A's merchants
    a_wallet = open_wallet(system, "A", MERCHANT_KIND)
    system.send(s.functions.registerMerchant(b32("M-A"), a_wallet.address, 0, 1, ZERO32, TO_WALLET), scene.other)
    with reverts("InvalidPaymentRequest", acquirer=system.banks["A"].id, signer=signer.address):
        system.send(s.functions.pay(sign_payment(system, scene.payer, b32("M-A"), b32("o-1"), 5, acquirer="A",
                                                 request_signer=signer)), scene.relayer)
    # removed: its signatures are refused from then on; operators still sign
    system.send(s.functions.setRequestSigner(ZERO_ADDRESS), b.operators[0])
    with reverts("InvalidPaymentRequest", signer=signer.address):
        system.send(s.functions.pay(sign_payment(system, scene.payer, scene.merchant_id, b32("o-2"), 7,
                                                 request_signer=signer)), scene.relayer)
    for caller in (system.operator, system.regulator):
        with reverts("NotBankOperator", caller=caller.address):
            system.send(s.functions.setRequestSigner(signer.address), caller)


def test_merchant_ids_are_per_acquirer(scene: Scene, reverts: Any) -> None:
    """Bank B registers SHOP1 first; bank A still registers its own SHOP1, and payments, refunds and settlements
    of each reach the right merchant."""
    system = scene.system
    s = system.settlement
    a, b = system.banks["A"], system.banks["B"]
    shop = b32("SHOP1")
    wallets = {code: open_wallet(system, code, MERCHANT_KIND) for code in ("A", "B")}
    system.send(s.functions.registerMerchant(shop, wallets["B"].address, 0, 1, ZERO32, TO_WALLET), b.operators[0])
    with reverts("MerchantAlreadyRegistered", merchantId=shop):
        system.send(s.functions.registerMerchant(shop, wallets["A"].address, 0, 1, ZERO32, TO_WALLET), b.operators[1])
    system.send(s.functions.registerMerchant(shop, wallets["A"].address, 0, 1, ZERO32, TO_WALLET), a.operators[0])
    assert merchant(system, shop, "A")["wallet"] == wallets["A"].address
    assert merchant(system, shop, "B")["wallet"] == wallets["B"].address
    assert merchant(system, shop, "C")["status"] == NONE

    # the same payer pays order o-1 at each: two orders, two nonces
    scene.pay(b32("o-1"), 1_000, merchant_id=shop, acquirer="A")
    scene.pay(b32("o-1"), 2_000, merchant_id=shop, acquirer="B")
    assert (order(system, shop, b32("o-1"), "A")["amount"], order(system, shop, b32("o-1"), "B")["amount"]) == (
        1_000, 2_000)
    # a request of bank B does not pay bank A's SHOP1
    cross = sign_payment(system, scene.payer, shop, b32("o-2"), 10, acquirer="A", request_signer=b.operators[0])
    with reverts("InvalidPaymentRequest", acquirer=a.id, signer=b.operators[0].address):
        system.send(s.functions.pay(cross), scene.relayer)

    receipt = system.send(s.functions.refund(shop, b32("o-1"), 400, ref()), a.operators[0])
    assert [(e["acquirer"], e["amount"]) for e in events(s, "OrderRefunded", receipt)] == [(a.id, 400)]
    assert (order(system, shop, b32("o-1"), "A")["refunded"], order(system, shop, b32("o-1"), "B")["refunded"]) == (
        400, 0)
    receipt = system.send(s.functions.settle(shop, ref()), b.operators[0])
    settled = events(s, "MerchantSettled", receipt)[0]
    assert (settled["acquirer"], settled["gross"], settled["net"]) == (b.id, 2_000, 2_000)
    assert (balance(system, wallets["B"]), balance(system, wallets["A"])) == (2_000, 0)
    assert merchant(system, shop, "A")["pendingGross"] == 1_000
    system.send(s.functions.setMerchantStatus(shop, 2), a.operators[0])  # suspends bank A's only
    assert (merchant(system, shop, "A")["status"], merchant(system, shop, "B")["status"]) == (2, 1)
    assert_books(system, [("A", shop), ("B", shop), scene.merchant_id])
