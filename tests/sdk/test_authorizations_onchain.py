"""SDK-signed authorizations accepted by the real contracts on anvil, after a trip through a QR payload.

The unit tests prove the SDK matches the interface's type strings and eth_account's encoder; these prove
the deployed DigitalCash and MerchantSettlement agree: same type hashes, same domain, signatures accepted,
and a changed field refused.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import pytest
from eth_utils.crypto import keccak

from wallet_sdk.amount import Amount
from wallet_sdk.authorizations import (
    Authorization,
    CancelAuthorization,
    Domain,
    HoldAuthorization,
    MerchantPayment,
    ReceiveAuthorization,
    Redemption,
    RelayedTransfer,
    SignedAuthorization,
    TransferAuthorization,
    merchant_id,
    new_nonce,
    order_id,
    payment_nonce,
    relay_nonce,
    split_signature,
    verify,
)
from wallet_sdk.exceptions import ContractRevertError
from wallet_sdk.keys import WalletKey
from wallet_sdk.payload import PaymentRequest, decode_payload, encode_payload

PERSONAL, MERCHANT = 0, 1  # IWalletRegistry.WalletKind
HELD = 1  # IDigitalCash.HoldStatus
TO_WALLET = 0  # IMerchantSettlement.PayoutMode
FUNDS = 100_000  # 1,000.00


def domain_of(system: Any) -> Domain:
    return Domain.for_token(system.token.functions.name().call(), system.w3.eth.chain_id, system.token.address)


def chain_now(system: Any) -> int:
    return int(system.w3.eth.get_block("latest")["timestamp"])


def open_wallet(system: Any, address: str, bank: str = "A", kind: int = PERSONAL) -> None:
    b = system.banks[bank]
    system.send(system.registry.functions.openWallet(address, b.id, 1, kind, keccak(os.urandom(32))), b.operators[0])


def funded_key(system: Any, bank: str = "A") -> WalletKey:
    """A wallet holder with an SDK key, a wallet at ``bank`` and FUNDS in it."""
    key = WalletKey.create()
    open_wallet(system, key.address, bank)
    b = system.banks[bank]
    system.send(system.token.functions.mint(key.address, FUNDS, new_nonce()), b.operators[0])
    return key


def balance(system: Any, address: str) -> int:
    return int(system.token.functions.balanceOf(address).call())


def via_qr(signed: SignedAuthorization[Authorization], system: Any) -> SignedAuthorization[Authorization]:
    """What a bank receives from the holder's app: the payload text, decoded and checked."""
    item = decode_payload(encode_payload(signed), chain_id=system.w3.eth.chain_id, contract=system.token.address,
                          now=chain_now(system))
    assert isinstance(item, SignedAuthorization)
    assert item == signed
    return item


def test_type_hashes_and_domain_match_the_contract(system: Any) -> None:
    token = system.token.functions
    assert token.TRANSFER_WITH_AUTHORIZATION_TYPEHASH().call() == TransferAuthorization.type_hash()
    assert token.RECEIVE_WITH_AUTHORIZATION_TYPEHASH().call() == ReceiveAuthorization.type_hash()
    assert token.RECEIVE_WITH_AUTHORIZATION_TYPEHASH().call() == MerchantPayment.type_hash()
    assert token.CANCEL_AUTHORIZATION_TYPEHASH().call() == CancelAuthorization.type_hash()
    assert token.RELAYED_TRANSFER_TYPEHASH().call() == RelayedTransfer.type_hash()
    assert token.HOLD_TYPEHASH().call() == HoldAuthorization.type_hash()
    assert token.REDEMPTION_TYPEHASH().call() == Redemption.type_hash()
    domain = domain_of(system)
    assert domain.name == "Digital Cash"
    assert token.DOMAIN_SEPARATOR().call() == domain.separator()
    _, name, version, chain_id, contract, _, _ = token.eip712Domain().call()
    assert Domain(name=name, version=version, chain_id=chain_id, verifying_contract=contract) == domain


def test_transfer_with_authorization(system: Any, reverts: Any) -> None:
    payer, payee = funded_key(system), WalletKey.create()
    open_wallet(system, payee.address, "B")
    domain = domain_of(system)
    auth = TransferAuthorization(from_=payer.address, to=payee.address, value=1_234,
                                 valid_before=chain_now(system) + 3600)
    signed = via_qr(auth.sign(payer, domain), system)
    relayer = system.banks["A"].operators[0]
    call = system.token.functions.transferWithAuthorization(
        auth.from_, auth.to, auth.value, auth.valid_after, auth.valid_before, auth.nonce, signed.v, signed.r, signed.s)
    system.send(call, relayer)
    assert balance(system, payer.address) == FUNDS - 1_234
    assert balance(system, payee.address) == 1_234
    assert system.token.functions.authorizationState(payer.address, auth.nonce).call() is True
    with reverts("AuthorizationAlreadyUsed", authorizer=payer.address, nonce=auth.nonce):
        system.send(call, relayer)


def test_changed_amount_is_refused_on_chain(system: Any, reverts: Any) -> None:
    payer, payee = funded_key(system), WalletKey.create()
    open_wallet(system, payee.address)
    auth = TransferAuthorization(from_=payer.address, to=payee.address, value=100,
                                 valid_before=chain_now(system) + 3600)
    signed = auth.sign(payer, domain_of(system))
    with reverts("InvalidSignature", expectedSigner=payer.address):
        system.send(system.token.functions.transferWithAuthorization(
            auth.from_, auth.to, 101, auth.valid_after, auth.valid_before, auth.nonce, signed.v, signed.r, signed.s),
            system.banks["A"].operators[0])
    assert balance(system, payer.address) == FUNDS


def test_merchant_payment_from_a_payment_request(system: Any) -> None:
    acquirer = system.banks["B"]
    merchant_wallet, payer = WalletKey.create(), funded_key(system)
    open_wallet(system, merchant_wallet.address, "B", MERCHANT)
    mid, oid = merchant_id("M-COFFEE-001"), order_id("ORDER-123")
    system.send(system.settlement.functions.registerMerchant(
        mid, merchant_wallet.address, 250, 5814, keccak(b"merchant account"), TO_WALLET), acquirer.operators[0])
    assert system.settlement.functions.paymentNonce(acquirer.id, mid, oid).call() == payment_nonce(
        acquirer.id, mid, oid)

    # The merchant's till shows a QR code its acquirer signed; the payer's app reads it, checks the acquirer's
    # signature, signs, and hands back a payment.
    chain_id = system.w3.eth.chain_id
    operator = WalletKey("0x" + bytes(acquirer.operators[0].key).hex())
    request = PaymentRequest.issue(operator, acquirer=acquirer.id, merchant_id=mid, order_id=oid,
                                   amount=Amount(1_234, 2, "DCASH"), expires_at=chain_now(system) + 600,
                                   chain_id=chain_id, token=system.token.address,
                                   settlement=system.settlement.address, description="2 flat whites")
    seen = decode_payload(encode_payload(request), chain_id=chain_id, contract=system.token.address,
                          settlement=system.settlement.address, now=chain_now(system),
                          is_request_signer=lambda bank, signer: bool(
                              system.consortium.functions.isActiveOperator(bank, signer).call()))
    assert seen == request
    assert isinstance(seen, PaymentRequest)
    signed = via_qr(seen.to_payment(payer.address).sign(payer, domain_of(system)), system)
    payment = signed.authorization
    assert isinstance(payment, MerchantPayment)
    assert verify(signed, domain_of(system)) == payer.address
    assert payment.request_signature == request.signature

    system.send(system.settlement.functions.pay((
        payment.acquirer, payment.merchant_id, payment.order_id, payment.payer, payment.amount, payment.valid_after,
        payment.valid_before, signed.v, signed.r, signed.s, *split_signature(request.signature))),
        system.banks["A"].operators[0])
    assert system.settlement.functions.order(acquirer.id, mid, oid).call()[:3] == (payer.address, 1_234, 0)
    assert balance(system, payer.address) == FUNDS - 1_234
    assert balance(system, system.settlement.address) == 1_234


def test_relayed_transfer_batch(system: Any) -> None:
    payer, payee = funded_key(system), WalletKey.create()
    open_wallet(system, payee.address)
    domain = domain_of(system)
    deadline = chain_now(system) + 3600
    items = []
    for bit, value in ((0, 100), (1, 250)):
        auth = RelayedTransfer(from_=payer.address, to=payee.address, value=value, valid_before=deadline,
                               nonce=relay_nonce(5, bit))
        signed = via_qr(auth.sign(payer, domain), system)
        items.append((auth.from_, auth.to, auth.value, auth.valid_before, auth.nonce, signed.v, signed.r, signed.s))
    operator = system.banks["A"].operators[1]
    call = system.token.functions.relayTransfers(items)
    assert call.call({"from": operator.address}) == 2
    system.send(call, operator)
    assert balance(system, payee.address) == 350
    assert system.token.functions.nonceBitmap(payer.address, 5).call() == 0b11


def test_hold_and_redemption(system: Any) -> None:
    holder = funded_key(system)
    domain = domain_of(system)
    operator = system.banks["A"].operators[0]
    hold = HoldAuthorization(holder=holder.address, value=20_000, expires_at=chain_now(system) + 900)
    signed = via_qr(hold.sign(holder, domain), system)
    system.send(system.token.functions.placeHold(hold.holder, hold.value, hold.hold_id, hold.expires_at,
                                                 signed.v, signed.r, signed.s), operator)
    assert system.token.functions.holdOf(hold.hold_id).call() == (holder.address, 20_000, hold.expires_at, HELD)

    redemption = Redemption(holder=holder.address, value=5_000, valid_before=chain_now(system) + 900)
    signed_redemption = via_qr(redemption.sign(holder, domain), system)
    system.send(system.token.functions.redeemWithAuthorization(
        redemption.holder, redemption.value, redemption.valid_before, redemption.nonce, new_nonce(),
        signed_redemption.v, signed_redemption.r, signed_redemption.s), operator)
    assert balance(system, holder.address) == FUNDS - 20_000 - 5_000


def test_cancel_authorization(system: Any, reverts: Any) -> None:
    payer, payee = funded_key(system), WalletKey.create()
    open_wallet(system, payee.address)
    domain = domain_of(system)
    transfer = TransferAuthorization(from_=payer.address, to=payee.address, value=1,
                                     valid_before=chain_now(system) + 3600)
    signed_transfer = transfer.sign(payer, domain)
    cancel = via_qr(CancelAuthorization(authorizer=payer.address, nonce=transfer.nonce).sign(payer, domain), system)
    operator = system.banks["A"].operators[0]
    system.send(system.token.functions.cancelAuthorization(
        payer.address, transfer.nonce, cancel.v, cancel.r, cancel.s), operator)
    with reverts("AuthorizationAlreadyUsed", authorizer=payer.address, nonce=transfer.nonce):
        system.send(system.token.functions.transferWithAuthorization(
            transfer.from_, transfer.to, transfer.value, transfer.valid_after, transfer.valid_before,
            transfer.nonce, signed_transfer.v, signed_transfer.r, signed_transfer.s), operator)


def test_signature_for_another_chain_is_refused(system: Any) -> None:
    payer, payee = funded_key(system), WalletKey.create()
    open_wallet(system, payee.address)
    wrong = dataclasses.replace(domain_of(system), chain_id=1)
    auth = TransferAuthorization(from_=payer.address, to=payee.address, value=1,
                                 valid_before=chain_now(system) + 3600)
    signed = auth.sign(payer, wrong)
    with pytest.raises(ContractRevertError) as info:
        system.send(system.token.functions.transferWithAuthorization(
            auth.from_, auth.to, auth.value, auth.valid_after, auth.valid_before, auth.nonce,
            signed.v, signed.r, signed.s), system.banks["A"].operators[0])
    assert info.value.name == "InvalidSignature"
