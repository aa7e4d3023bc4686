"""MerchantSettlement against a real anvil: merchants, payments, refunds, settlement, upgrades.

The payer's signature is an EIP-3009 ReceiveWithAuthorization on the token, to the settlement
contract, with nonce = keccak256(abi.encode(acquirer, merchantId, orderId)); the acquirer's is an EIP-712
PaymentRequest(acquirer, merchantId, orderId, amount, expiresAt) in the settlement contract's domain. The
signing helpers here are written from the contract's definitions, not with the SDK, so that they check it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from eth_abi import encode as abi_encode
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from token_support import redemption_args
from web3 import Web3
from web3.logs import DISCARD
from web3.types import TxReceipt

from wallet_sdk._tx import deploy_bytecode
from wallet_sdk.artifacts import load_artifact
from wallet_sdk.revert_decoding import decode_revert

# IWalletRegistry.WalletKind / WalletStatus
PERSONAL, MERCHANT_KIND = 0, 1
# IMerchantSettlement.PayoutMode / MerchantStatus
TO_WALLET, TO_BANK_ACCOUNT = 0, 1
NONE, ACTIVE, SUSPENDED = 0, 1, 2
# IDigitalCash.BurnReason.SettlementPayout
SETTLEMENT_PAYOUT = 3

ZERO32 = b"\0" * 32
ZERO_ADDRESS = "0x" + "00" * 20
# ERC-1967 implementation slot: keccak256("eip1967.proxy.implementation") - 1
IMPLEMENTATION_SLOT = int.from_bytes(keccak(b"eip1967.proxy.implementation"), "big") - 1

MERCHANT_FIELDS = ("acquirer", "wallet", "feeBps", "mcc", "payoutMode", "status", "settlementAccountHash",
                   "pendingGross", "pendingRefunds", "lastBatchId")
ORDER_FIELDS = ("payer", "amount", "refunded", "paidAt")

REQUEST_TYPES = {
    "PaymentRequest": [
        {"name": "acquirer", "type": "bytes32"},
        {"name": "merchantId", "type": "bytes32"},
        {"name": "orderId", "type": "bytes32"},
        {"name": "amount", "type": "uint256"},
        {"name": "expiresAt", "type": "uint256"},
    ]
}
RECEIVE_TYPES = {
    "ReceiveWithAuthorization": [
        {"name": "from", "type": "address"},
        {"name": "to", "type": "address"},
        {"name": "value", "type": "uint256"},
        {"name": "validAfter", "type": "uint256"},
        {"name": "validBefore", "type": "uint256"},
        {"name": "nonce", "type": "bytes32"},
    ]
}


# ---------------------------------------------------------------- helpers


def b32(text: str) -> bytes:
    return text.encode().ljust(32, b"\0")


def ref() -> bytes:
    return os.urandom(32)


def payment_nonce(acquirer: bytes, merchant_id: bytes, order_id: bytes) -> bytes:
    return keccak(abi_encode(["bytes32", "bytes32", "bytes32"], [acquirer, merchant_id, order_id]))


def now(system: Any) -> int:
    return int(system.w3.eth.get_block("latest")["timestamp"])


def sign_request(system: Any, signer: LocalAccount, acquirer: bytes, merchant_id: bytes, order_id: bytes,
                 amount: int, expires_at: int) -> tuple[int, bytes, bytes]:
    """(v, r, s) of ``signer``'s EIP-712 PaymentRequest in the settlement contract's domain."""
    domain = {"name": "MerchantSettlement", "version": "1", "chainId": system.w3.eth.chain_id,
              "verifyingContract": system.settlement.address}
    message = {"acquirer": acquirer, "merchantId": merchant_id, "orderId": order_id, "amount": amount,
               "expiresAt": expires_at}
    signed = Account.sign_typed_data(signer.key, domain, REQUEST_TYPES, message)
    return signed.v, signed.r.to_bytes(32, "big"), signed.s.to_bytes(32, "big")


def sign_payment(system: Any, payer: LocalAccount, merchant_id: bytes, order_id: bytes, amount: int, *,
                 acquirer: str = "B", valid_after: int = 0, valid_before: int | None = None,
                 to: str | None = None, request_signer: LocalAccount | None = None,
                 requested: int | None = None) -> tuple[Any, ...]:
    """A Payment tuple carrying ``payer``'s EIP-712 ReceiveWithAuthorization for (acquirer, merchant, order,
    amount) and the request of ``requested`` (default: ``amount``) signed by ``request_signer`` (default: an
    operator of the acquirer, bank code ``acquirer``), expiring at ``valid_before``."""
    token = system.token
    bank = system.banks[acquirer]
    if valid_before is None:
        valid_before = now(system) + 3600
    domain = {
        "name": token.functions.name().call(),
        "version": "1",
        "chainId": system.w3.eth.chain_id,
        "verifyingContract": token.address,
    }
    message = {
        "from": payer.address,
        "to": to or system.settlement.address,
        "value": amount,
        "validAfter": valid_after,
        "validBefore": valid_before,
        "nonce": payment_nonce(bank.id, merchant_id, order_id),
    }
    signed = Account.sign_typed_data(payer.key, domain, RECEIVE_TYPES, message)
    request = sign_request(system, request_signer or bank.operators[0], bank.id, merchant_id, order_id,
                           amount if requested is None else requested, valid_before)
    return (bank.id, merchant_id, order_id, payer.address, amount, valid_after, valid_before, signed.v,
            signed.r.to_bytes(32, "big"), signed.s.to_bytes(32, "big"), *request)


PAYMENT_FIELDS = ("acquirer", "merchantId", "orderId", "payer", "amount", "validAfter", "validBefore", "v", "r",
                  "s", "requestV", "requestR", "requestS")


def with_fields(payment: tuple[Any, ...], **changes: Any) -> tuple[Any, ...]:
    values = dict(zip(PAYMENT_FIELDS, payment, strict=True))
    values.update(changes)
    return tuple(values[n] for n in PAYMENT_FIELDS)


def merchant(system: Any, merchant_id: bytes, acquirer: str = "B") -> dict[str, Any]:
    """The record of bank ``acquirer``'s merchant ``merchant_id`` (merchant ids are per acquirer)."""
    values = system.settlement.functions.merchant(system.banks[acquirer].id, merchant_id).call()
    return dict(zip(MERCHANT_FIELDS, values, strict=True))


def order(system: Any, merchant_id: bytes, order_id: bytes, acquirer: str = "B") -> dict[str, Any]:
    values = system.settlement.functions.order(system.banks[acquirer].id, merchant_id, order_id).call()
    return dict(zip(ORDER_FIELDS, values, strict=True))


def balance(system: Any, who: Any) -> int:
    address = who if isinstance(who, str) else who.address
    return int(system.token.functions.balanceOf(address).call())


def events(contract: Any, name: str, receipt: TxReceipt) -> list[dict[str, Any]]:
    logs = getattr(contract.events, name)().process_receipt(receipt, errors=DISCARD)
    return [dict(e["args"]) for e in logs]


def open_wallet(system: Any, bank: str, kind: int = PERSONAL, tier: int = 1) -> LocalAccount:
    holder = system.new_wallet()
    b = system.banks[bank]
    account_hash = keccak(os.urandom(32))
    open_call = system.registry.functions.openWallet(holder.address, b.id, tier, kind, account_hash)
    system.send(open_call, b.operators[0])
    return holder


def mint(system: Any, bank: str, wallet: LocalAccount, amount: int) -> None:
    system.send(system.token.functions.mint(wallet.address, amount, ref()), system.banks[bank].operators[0])


def govern(system: Any, target: str, data: bytes | str, approvers: tuple[str, ...] = ("A", "C")) -> TxReceipt:
    """Run a governance proposal: operator proposes, the given banks approve, anyone executes."""
    consortium = system.consortium
    if isinstance(data, str):
        data = bytes.fromhex(data.removeprefix("0x"))
    call = consortium.functions.propose(target, data, "test proposal")
    proposal_id = call.call({"from": system.operator.address})
    system.send(call, system.operator)
    for code in approvers:
        system.send(consortium.functions.approve(proposal_id), system.banks[code].operators[0])
    return system.send(consortium.functions.execute(proposal_id), system.operator)


def pending_of(system: Any, merchant_ids: list[bytes | tuple[str, bytes]]) -> int:
    """The merchants' pending money; a merchant is its id (acquired by bank B) or (bank code, id)."""
    keys = [m if isinstance(m, tuple) else ("B", m) for m in merchant_ids]
    records = [merchant(system, m, bank) for bank, m in keys]
    return sum(m["pendingGross"] - m["pendingRefunds"] for m in records)


def assert_books(system: Any, merchant_ids: list[bytes | tuple[str, bytes]]) -> None:
    """totalPending == sum of the merchants' pending == the contract's token balance."""
    total = system.settlement.functions.totalPending().call()
    assert total == pending_of(system, merchant_ids)
    assert total == balance(system, system.settlement.address)


def lowered(arguments: dict[str, Any]) -> dict[str, Any]:
    """Decoded error arguments with string values (addresses) in lower case."""
    return {k: v.lower() if isinstance(v, str) else v for k, v in arguments.items()}


@pytest.fixture
def reverts(reverts: Any) -> Any:
    """The shared ``reverts``, comparing address arguments case-insensitively (decoded addresses may be
    lower-case hex while accounts give checksum addresses)."""
    return case_insensitive(reverts)


def case_insensitive(reverts: Any) -> Any:
    """``reverts`` comparing address arguments case-insensitively."""

    @contextlib.contextmanager
    def _reverts(name: str, **expected: Any) -> Iterator[dict[str, Any]]:
        with reverts(name) as box:
            yield box
        arguments = box["error"].arguments
        for key, value in expected.items():
            assert key in arguments, f"{name} has no argument {key!r}: {box['error']}"
            got = arguments[key]
            if isinstance(value, str) and isinstance(got, str):
                got, value = got.lower(), value.lower()
            assert got == value, f"{name}.{key}: expected {value!r}, got {got!r}"

    return _reverts


@dataclass
class Scene:
    system: Any
    payer: LocalAccount  # personal wallet at bank A, funded with FUNDS
    merchant_id: bytes  # acquired by bank B, fee FEE_BPS, paid to its wallet
    merchant_wallet: LocalAccount  # merchant wallet at bank B
    fee_wallet: LocalAccount  # bank B's fee wallet
    acq: LocalAccount  # an operator of bank B (the acquirer)
    other: LocalAccount  # an operator of bank A (not the acquirer)
    relayer: LocalAccount  # the payer's bank relays

    def pay(self, order_id: bytes, amount: int, payer: LocalAccount | None = None,
            merchant_id: bytes | None = None, acquirer: str = "B") -> TxReceipt:
        payment = sign_payment(self.system, payer or self.payer, merchant_id or self.merchant_id, order_id,
                               amount, acquirer=acquirer)
        return self.system.send(self.system.settlement.functions.pay(payment), self.relayer)


FUNDS = 1_000_000  # 10,000.00 in minor units
FEE_BPS = 250
MCC = 5411
ACCOUNT_HASH = keccak(b"salt|merchant account 0001")


@pytest.fixture
def scene(system: Any) -> Scene:
    return new_scene(system)


def new_scene(system: Any) -> Scene:
    """A payer at bank A, a merchant acquired by bank B with its fee wallet set."""
    a, b = system.banks["A"], system.banks["B"]
    payer = open_wallet(system, "A")
    mint(system, "A", payer, FUNDS)
    merchant_wallet = open_wallet(system, "B", MERCHANT_KIND)
    fee_wallet = open_wallet(system, "B")
    merchant_id = b32("M-COFFEE-001")
    system.send(system.settlement.functions.registerMerchant(
        merchant_id, merchant_wallet.address, FEE_BPS, MCC, ACCOUNT_HASH, TO_WALLET), b.operators[0])
    system.send(system.settlement.functions.setFeeWallet(fee_wallet.address), b.operators[1])
    return Scene(system, payer, merchant_id, merchant_wallet, fee_wallet, acq=b.operators[0],
                 other=a.operators[0], relayer=a.operators[0])


# ---------------------------------------------------------------- wiring and upgrades


def test_wiring_views_and_nonce(system: Any) -> None:
    s = system.settlement
    assert s.functions.consortium().call() == system.consortium.address
    assert s.functions.registry().call() == system.registry.address
    assert s.functions.token().call() == system.token.address
    assert s.functions.totalPending().call() == 0
    assert s.functions.BPS_DENOMINATOR().call() == 10_000
    mid, oid, bank = b32("M"), b32("order-1"), system.banks["B"].id
    assert s.functions.paymentNonce(bank, mid, oid).call() == payment_nonce(bank, mid, oid)
    assert merchant(system, mid) == dict.fromkeys(MERCHANT_FIELDS, 0) | {
        "acquirer": ZERO32, "wallet": ZERO_ADDRESS, "settlementAccountHash": ZERO32}
    assert order(system, mid, oid) == {"payer": ZERO_ADDRESS, "amount": 0, "refunded": 0, "paidAt": 0}


def test_initialize_only_once(system: Any, reverts: Any) -> None:
    s = system.settlement
    with reverts("InvalidInitialization"):
        system.send(s.functions.initialize(system.consortium.address, system.registry.address,
                                           system.token.address), system.operator)
    impl = system.w3.eth.contract(address=system.deployment.implementations["MerchantSettlement"], abi=s.abi)
    with reverts("InvalidInitialization"):  # the implementation itself is locked
        system.send(impl.functions.initialize(system.consortium.address, system.registry.address,
                                              system.token.address), system.operator)


def test_initialize_rejects_zero_address(system: Any, reverts: Any) -> None:
    artifact = load_artifact("MerchantSettlement")
    impl = system.w3.eth.contract(abi=artifact["abi"])
    data = impl.encode_abi("initialize", args=[system.consortium.address, ZERO_ADDRESS, system.token.address])
    implementation = deploy_bytecode(system.w3, system.operator, artifact["abi"], artifact["bytecode"])
    proxy = load_artifact("ERC1967Proxy")
    with reverts("ZeroAddress"):
        deploy_bytecode(system.w3, system.operator, proxy["abi"], proxy["bytecode"], implementation, data)


def test_upgrade_only_by_governance_keeps_state(scene: Scene, reverts: Any) -> None:
    system = scene.system
    scene.pay(b32("o-1"), 1_234)
    artifact = load_artifact("MerchantSettlement")
    new_impl = deploy_bytecode(system.w3, system.operator, artifact["abi"], artifact["bytecode"])
    upgrade = system.settlement.functions.upgradeToAndCall(new_impl, b"")
    for caller in (system.operator, scene.acq, system.regulator):
        with reverts("NotGovernance", caller=caller.address):
            system.send(upgrade, caller)

    before = merchant(system, scene.merchant_id)
    data = system.settlement.encode_abi("upgradeToAndCall", args=[new_impl, b""])
    govern(system, system.settlement.address, data)
    slot = system.w3.eth.get_storage_at(system.settlement.address, IMPLEMENTATION_SLOT)
    assert Web3.to_checksum_address(slot[-20:]) == Web3.to_checksum_address(new_impl)
    assert merchant(system, scene.merchant_id) == before
    assert order(system, scene.merchant_id, b32("o-1"))["amount"] == 1_234
    scene.pay(b32("o-2"), 766)  # still works after the upgrade
    assert merchant(system, scene.merchant_id)["pendingGross"] == 2_000
    assert_books(system, [scene.merchant_id])


# ---------------------------------------------------------------- merchants


def test_register_merchant(system: Any) -> None:
    b = system.banks["B"]
    wallet = open_wallet(system, "B", MERCHANT_KIND)
    mid = b32("M-BOOKS")
    receipt = system.send(system.settlement.functions.registerMerchant(
        mid, wallet.address, 10_000, 5942, ACCOUNT_HASH, TO_BANK_ACCOUNT), b.operators[1])
    assert events(system.settlement, "MerchantRegistered", receipt) == [{
        "merchantId": mid, "acquirer": b.id, "wallet": wallet.address, "feeBps": 10_000, "mcc": 5942,
        "payoutMode": TO_BANK_ACCOUNT, "settlementAccountHash": ACCOUNT_HASH}]
    assert events(system.settlement, "MerchantStatusChanged", receipt) == [
        {"merchantId": mid, "acquirer": b.id, "status": ACTIVE}]
    assert merchant(system, mid) == {
        "acquirer": b.id, "wallet": wallet.address, "feeBps": 10_000, "mcc": 5942,
        "payoutMode": TO_BANK_ACCOUNT, "status": ACTIVE, "settlementAccountHash": ACCOUNT_HASH,
        "pendingGross": 0, "pendingRefunds": 0,
        "lastBatchId": 0}


def test_register_merchant_wallet_held_at_another_bank(system: Any) -> None:
    """The acquirer need not be the merchant wallet's custodian."""
    wallet = open_wallet(system, "A", MERCHANT_KIND)
    system.send(system.settlement.functions.registerMerchant(
        b32("M-X"), wallet.address, 0, 1, ZERO32, TO_WALLET), system.banks["B"].operators[0])
    assert merchant(system, b32("M-X"))["acquirer"] == system.banks["B"].id
    assert merchant(system, b32("M-X"), "A")["status"] == NONE


def test_register_merchant_requires_bank_operator(system: Any, reverts: Any) -> None:
    wallet = open_wallet(system, "B", MERCHANT_KIND)
    outsider = system.accounts[0]
    for caller in (outsider, system.operator, system.regulator):
        with reverts("NotBankOperator", caller=caller.address):
            system.send(system.settlement.functions.registerMerchant(
                b32("M"), wallet.address, 100, 1, ZERO32, TO_WALLET), caller)


def test_register_merchant_twice(scene: Scene, reverts: Any) -> None:
    system = scene.system
    wallet = open_wallet(system, "A", MERCHANT_KIND)
    for caller in (scene.acq, system.banks["B"].operators[1]):  # any operator of the same bank: the id is taken
        with reverts("MerchantAlreadyRegistered", merchantId=scene.merchant_id):
            system.send(system.settlement.functions.registerMerchant(
                scene.merchant_id, wallet.address, 100, 1, ZERO32, TO_WALLET), caller)


def test_register_merchant_invalid_fee(system: Any, reverts: Any) -> None:
    wallet = open_wallet(system, "B", MERCHANT_KIND)
    with reverts("InvalidFee", feeBps=10_001):
        system.send(system.settlement.functions.registerMerchant(
            b32("M"), wallet.address, 10_001, 1, ZERO32, TO_WALLET), system.banks["B"].operators[0])


def test_register_merchant_invalid_wallet(system: Any, reverts: Any) -> None:
    op = system.banks["B"].operators[0]
    personal = open_wallet(system, "B", PERSONAL)
    frozen = open_wallet(system, "B", MERCHANT_KIND)
    system.send(system.registry.functions.freeze(frozen.address, 7), op)
    unregistered = system.new_wallet()
    for wallet in (personal.address, frozen.address, unregistered.address, system.settlement.address,
                   ZERO_ADDRESS):
        with reverts("InvalidMerchantWallet", wallet=wallet):
            system.send(system.settlement.functions.registerMerchant(
                b32("M"), wallet, 100, 1, ZERO32, TO_WALLET), op)


def test_update_merchant(scene: Scene) -> None:
    system = scene.system
    new_wallet = open_wallet(system, "B", MERCHANT_KIND)
    new_hash = keccak(b"salt|new account")
    receipt = system.send(system.settlement.functions.updateMerchant(
        scene.merchant_id, new_wallet.address, 99, 5812, new_hash, TO_BANK_ACCOUNT),
        system.banks["B"].operators[1])
    assert events(system.settlement, "MerchantUpdated", receipt) == [{
        "merchantId": scene.merchant_id, "acquirer": system.banks["B"].id, "wallet": new_wallet.address,
        "feeBps": 99, "mcc": 5812,
        "payoutMode": TO_BANK_ACCOUNT, "settlementAccountHash": new_hash}]
    m = merchant(system, scene.merchant_id)
    assert (m["wallet"], m["feeBps"], m["mcc"], m["payoutMode"], m["settlementAccountHash"], m["status"]) == (
        new_wallet.address, 99, 5812, TO_BANK_ACCOUNT, new_hash, ACTIVE)
    assert m["acquirer"] == system.banks["B"].id


def test_update_merchant_errors(scene: Scene, reverts: Any) -> None:
    system = scene.system
    s = system.settlement
    good = open_wallet(system, "B", MERCHANT_KIND)
    with reverts("UnknownMerchant", merchantId=b32("nope")):
        system.send(s.functions.updateMerchant(b32("nope"), good.address, 1, 1, ZERO32, TO_WALLET), scene.acq)
    mid = scene.merchant_id
    with reverts("UnknownMerchant", merchantId=mid):  # bank A has no merchant of that id
        system.send(s.functions.updateMerchant(mid, good.address, 1, 1, ZERO32, TO_WALLET), scene.other)
    for caller in (system.operator, system.accounts[0]):
        with reverts("NotBankOperator", caller=caller.address):
            system.send(s.functions.updateMerchant(mid, good.address, 1, 1, ZERO32, TO_WALLET), caller)
    with reverts("InvalidFee", feeBps=65_535):
        system.send(s.functions.updateMerchant(mid, good.address, 65_535, 1, ZERO32, TO_WALLET), scene.acq)
    with reverts("InvalidMerchantWallet", wallet=scene.payer.address):
        system.send(s.functions.updateMerchant(mid, scene.payer.address, 1, 1, ZERO32, TO_WALLET), scene.acq)


def test_set_merchant_status(scene: Scene, reverts: Any) -> None:
    system = scene.system
    s = system.settlement
    mid = scene.merchant_id
    receipt = system.send(s.functions.setMerchantStatus(mid, SUSPENDED), scene.acq)
    bank = system.banks["B"].id
    assert events(s, "MerchantStatusChanged", receipt) == [{"merchantId": mid, "acquirer": bank, "status": SUSPENDED}]
    assert merchant(system, scene.merchant_id)["status"] == SUSPENDED
    with reverts("MerchantNotActive", merchantId=scene.merchant_id):
        scene.pay(b32("o-1"), 100)
    receipt = system.send(s.functions.setMerchantStatus(scene.merchant_id, ACTIVE), scene.acq)
    assert events(s, "MerchantStatusChanged", receipt) == [{"merchantId": mid, "acquirer": bank, "status": ACTIVE}]
    scene.pay(b32("o-1"), 100)
    assert merchant(system, scene.merchant_id)["pendingGross"] == 100


def test_set_merchant_status_errors(scene: Scene, reverts: Any) -> None:
    system = scene.system
    s = system.settlement
    with reverts("UnknownMerchant", merchantId=b32("nope")):
        system.send(s.functions.setMerchantStatus(b32("nope"), SUSPENDED), scene.acq)
    with reverts("UnknownMerchant", merchantId=scene.merchant_id):  # not bank A's
        system.send(s.functions.setMerchantStatus(scene.merchant_id, SUSPENDED), scene.other)
    with reverts("InvalidMerchantStatus", status=NONE):
        system.send(s.functions.setMerchantStatus(scene.merchant_id, NONE), scene.acq)


def test_suspended_bank_is_not_acquirer(scene: Scene, reverts: Any) -> None:
    system = scene.system
    scene.pay(b32("o-1"), 500)
    b = system.banks["B"]
    govern(system, system.consortium.address, system.consortium.encode_abi("suspendBank", args=[b.id]))
    with reverts("BankNotActive", bankId=b.id):
        system.send(system.settlement.functions.settle(scene.merchant_id, ref()), scene.acq)
    with reverts("BankNotActive", bankId=b.id):
        system.send(system.settlement.functions.refund(scene.merchant_id, b32("o-1"), 1, ref()), scene.acq)
    with reverts("InvalidPaymentRequest", acquirer=b.id, signer=scene.acq.address):  # its operators sign no more
        scene.pay(b32("o-2"), 500)
    with reverts("BankNotActive", bankId=b.id):
        system.send(system.settlement.functions.setFeeWallet(scene.fee_wallet.address), scene.acq)


# ---------------------------------------------------------------- fee wallets


def test_set_fee_wallet(system: Any) -> None:
    a = system.banks["A"]
    assert system.settlement.functions.feeWallet(a.id).call() == ZERO_ADDRESS
    first = open_wallet(system, "A")
    second = open_wallet(system, "A", MERCHANT_KIND)  # any kind of the bank's wallets
    for wallet in (first, second):
        receipt = system.send(system.settlement.functions.setFeeWallet(wallet.address), a.operators[1])
        assert events(system.settlement, "FeeWalletSet", receipt) == [
            {"bankId": a.id, "wallet": wallet.address}]
        assert system.settlement.functions.feeWallet(a.id).call() == wallet.address
    assert system.settlement.functions.feeWallet(system.banks["B"].id).call() == ZERO_ADDRESS


def test_set_fee_wallet_rules(system: Any, reverts: Any) -> None:
    a = system.banks["A"]
    op = a.operators[0]
    other_banks = open_wallet(system, "B")
    frozen = open_wallet(system, "A")
    system.send(system.registry.functions.freeze(frozen.address, 1), op)
    closed = open_wallet(system, "A")
    system.send(system.registry.functions.closeWallet(closed.address, ref()), op)
    unregistered = system.new_wallet()
    for wallet in (other_banks.address, frozen.address, closed.address, unregistered.address,
                   system.settlement.address, ZERO_ADDRESS):
        with reverts("InvalidFeeWallet", wallet=wallet, bankId=a.id):
            system.send(system.settlement.functions.setFeeWallet(wallet), op)
    good = open_wallet(system, "A")
    for caller in (system.operator, system.regulator, system.accounts[0]):
        with reverts("NotBankOperator", caller=caller.address):
            system.send(system.settlement.functions.setFeeWallet(good.address), caller)
    assert system.settlement.functions.feeWallet(a.id).call() == ZERO_ADDRESS


# ---------------------------------------------------------------- pay


def test_pay_cross_bank(scene: Scene) -> None:
    """Payer at bank A, merchant acquired by bank B; relayed by a bank A operator."""
    system = scene.system
    oid = b32("order-0001")
    payment = sign_payment(system, scene.payer, scene.merchant_id, oid, 12_345)
    receipt = system.send(system.settlement.functions.pay(payment), scene.relayer)
    assert events(system.settlement, "OrderPaid", receipt) == [{
        "merchantId": scene.merchant_id, "orderId": oid, "acquirer": system.banks["B"].id,
        "payer": scene.payer.address, "amount": 12_345}]
    assert events(system.token, "Transfer", receipt) == [{
        "from": scene.payer.address, "to": system.settlement.address, "value": 12_345}]
    assert balance(system, scene.payer) == FUNDS - 12_345
    assert balance(system, system.settlement.address) == 12_345
    nonce = payment_nonce(system.banks["B"].id, scene.merchant_id, oid)
    assert system.token.functions.authorizationState(scene.payer.address, nonce).call() is True
    block = system.w3.eth.get_block(receipt["blockNumber"])
    assert order(system, scene.merchant_id, oid) == {
        "payer": scene.payer.address, "amount": 12_345, "refunded": 0, "paidAt": block["timestamp"]}
    m = merchant(system, scene.merchant_id)
    assert (m["pendingGross"], m["pendingRefunds"]) == (12_345, 0)
    assert_books(system, [scene.merchant_id])


def test_pay_relayed_by_anyone(scene: Scene) -> None:
    system = scene.system
    payment = sign_payment(system, scene.payer, scene.merchant_id, b32("o"), 50)
    system.send(system.settlement.functions.pay(payment), system.accounts[0])
    assert merchant(system, scene.merchant_id)["pendingGross"] == 50


def test_pay_same_bank(scene: Scene) -> None:
    system = scene.system
    payer_b = open_wallet(system, "B", tier=2)
    mint(system, "B", payer_b, 5_000)
    scene.pay(b32("o"), 5_000, payer=payer_b)
    assert balance(system, payer_b) == 0
    assert merchant(system, scene.merchant_id)["pendingGross"] == 5_000


def test_pay_order_only_once(scene: Scene, reverts: Any) -> None:
    system = scene.system
    oid = b32("order-1")
    scene.pay(oid, 700)
    second_payer = open_wallet(system, "A")
    mint(system, "A", second_payer, 1_000)
    for payer in (scene.payer, second_payer):  # the same payer again, or anybody else
        with reverts("OrderAlreadyPaid", merchantId=scene.merchant_id, orderId=oid):
            scene.pay(oid, 700, payer=payer)
    # the same order id at another merchant is another order
    other_wallet = open_wallet(system, "B", MERCHANT_KIND)
    system.send(system.settlement.functions.registerMerchant(
        b32("M-2"), other_wallet.address, 0, 1, ZERO32, TO_WALLET), scene.acq)
    scene.pay(oid, 300, merchant_id=b32("M-2"))
    assert balance(system, second_payer) == 1_000
    assert balance(system, scene.payer) == FUNDS - 1_000
    assert_books(system, [scene.merchant_id, b32("M-2")])


def test_pay_unknown_merchant_and_zero_amount(scene: Scene, reverts: Any) -> None:
    with reverts("UnknownMerchant", merchantId=b32("nope")):
        scene.pay(b32("o"), 100, merchant_id=b32("nope"))
    with reverts("ZeroAmount"):
        scene.pay(b32("o"), 0)


def test_pay_expired_or_not_yet_valid(scene: Scene, reverts: Any) -> None:
    system = scene.system
    pay = system.settlement.functions.pay
    t = now(system)
    late = sign_payment(system, scene.payer, scene.merchant_id, b32("o-late"), 100, valid_before=t + 60)
    early = sign_payment(system, scene.payer, scene.merchant_id, b32("o-early"), 100, valid_after=t + 10_000,
                         valid_before=t + 20_000)
    system.increase_time(120)
    with reverts("AuthorizationExpired", validBefore=t + 60):
        system.send(pay(late), scene.relayer)
    with reverts("AuthorizationNotYetValid", validAfter=t + 10_000):
        system.send(pay(early), scene.relayer)
    system.increase_time(10_000)
    system.send(pay(early), scene.relayer)
    assert merchant(system, scene.merchant_id)["pendingGross"] == 100
    assert order(system, scene.merchant_id, b32("o-late"))["payer"] == ZERO_ADDRESS


def test_pay_tampered_payment_fails_in_token(scene: Scene, reverts: Any) -> None:
    """A relayer cannot change the amount, the order, the merchant or the payer of a signed payment."""
    system = scene.system
    pay = system.settlement.functions.pay
    other_wallet = open_wallet(system, "B", MERCHANT_KIND)
    system.send(system.settlement.functions.registerMerchant(
        b32("M-2"), other_wallet.address, 0, 1, ZERO32, TO_WALLET), scene.acq)
    signed = sign_payment(system, scene.payer, scene.merchant_id, b32("o-1"), 1_000)
    someone = open_wallet(system, "A")
    mint(system, "A", someone, 5_000)
    tampered = [
        with_fields(signed, amount=999),
        with_fields(signed, amount=1_001),
        with_fields(signed, orderId=b32("o-2")),
        with_fields(signed, merchantId=b32("M-2")),
    ]
    for payment in tampered:  # the acquirer signed other terms: refused before the payer's signature is read
        with reverts("InvalidPaymentRequest", acquirer=system.banks["B"].id, merchantId=payment[1],
                     orderId=payment[2]):
            system.send(pay(payment), scene.relayer)
    # the request re-signed for the changed terms: the payer's signature does not cover them
    for changes in ({"amount": 999}, {"amount": 1_001}, {"orderId": b32("o-2")}, {"merchantId": b32("M-2")},
                    {"validBefore": signed[6] + 1}):
        payment = with_fields(signed, **changes)
        request = sign_request(system, scene.acq, payment[0], payment[1], payment[2], payment[4], payment[6])
        with reverts("InvalidSignature", expectedSigner=scene.payer.address):
            system.send(pay(with_fields(payment, requestV=request[0], requestR=request[1], requestS=request[2])),
                        scene.relayer)
    with reverts("InvalidSignature", expectedSigner=someone.address):
        system.send(pay(with_fields(signed, payer=someone.address)), scene.relayer)
    # a signature to another receiver is not a payment here either
    elsewhere = sign_payment(system, scene.payer, scene.merchant_id, b32("o-3"), 1_000,
                             to=scene.merchant_wallet.address)
    with reverts("InvalidSignature", expectedSigner=scene.payer.address):
        system.send(pay(elsewhere), scene.relayer)
    assert balance(system, scene.payer) == FUNDS
    assert merchant(system, scene.merchant_id)["pendingGross"] == 0
    assert order(system, scene.merchant_id, b32("o-2"))["payer"] == ZERO_ADDRESS
    system.send(pay(signed), scene.relayer)  # the untouched payment still goes through
    assert merchant(system, scene.merchant_id)["pendingGross"] == 1_000


def test_pay_frozen_payer_fails_in_token(scene: Scene, reverts: Any) -> None:
    system = scene.system
    system.send(system.registry.functions.freeze(scene.payer.address, 3), system.regulator)
    with reverts("WalletNotActive", wallet=scene.payer.address):
        scene.pay(b32("o"), 100)
    assert_books(system, [scene.merchant_id])


def test_pay_batch(scene: Scene) -> None:
    system = scene.system
    s = system.settlement
    mid = scene.merchant_id
    poor = open_wallet(system, "A")
    mint(system, "A", poor, 10)
    good1 = sign_payment(system, scene.payer, mid, b32("b-1"), 1_000)
    good2 = sign_payment(system, scene.payer, mid, b32("b-2"), 2_000)
    tampered = with_fields(sign_payment(system, scene.payer, mid, b32("b-3"), 3_000), amount=3_001)
    duplicate = sign_payment(system, scene.payer, mid, b32("b-1"), 1_000)  # same order as good1
    unknown = sign_payment(system, scene.payer, b32("nope"), b32("b-5"), 10)
    too_poor = sign_payment(system, poor, mid, b32("b-6"), 11)
    good3 = sign_payment(system, scene.payer, mid, b32("b-7"), 7)
    items = [good1, tampered, good2, duplicate, unknown, too_poor, good3]
    assert s.functions.payBatch(items).call({"from": scene.relayer.address}) == 3
    receipt = system.send(s.functions.payBatch(items), scene.relayer)
    paid = events(s, "OrderPaid", receipt)
    assert [(e["orderId"], e["amount"]) for e in paid] == [
        (b32("b-1"), 1_000), (b32("b-2"), 2_000), (b32("b-7"), 7)]
    failed = events(s, "PaymentFailed", receipt)
    bank = system.banks["B"].id
    assert [(e["index"], e["merchantId"], e["orderId"], e["acquirer"]) for e in failed] == [
        (1, mid, b32("b-3"), bank), (3, mid, b32("b-1"), bank), (4, b32("nope"), b32("b-5"), bank),
        (5, mid, b32("b-6"), bank)]
    reasons = [decode_revert(e["reason"]) for e in failed]
    assert reasons[0].name == "InvalidPaymentRequest"  # the request was signed for 3,000
    assert [(r.name, lowered(r.arguments)) for r in reasons[1:]] == [
        ("OrderAlreadyPaid", {"merchantId": mid, "orderId": b32("b-1")}),
        ("UnknownMerchant", {"merchantId": b32("nope")}),
        ("ERC20InsufficientBalance", {"sender": poor.address.lower(), "balance": 10, "needed": 11}),
    ]
    assert balance(system, scene.payer) == FUNDS - 3_007
    assert balance(system, poor) == 10
    assert merchant(system, mid)["pendingGross"] == 3_007
    assert order(system, mid, b32("b-3"))["payer"] == ZERO_ADDRESS
    assert order(system, mid, b32("b-1"))["amount"] == 1_000
    assert_books(system, [mid])


def test_pay_batch_out_of_gas_reverts_whole_batch(scene: Scene, reverts: Any) -> None:
    """Lack of gas is not a bad payment: the batch reverts, so gas estimation covers every item."""
    system = scene.system
    s = system.settlement
    items = [sign_payment(system, scene.payer, scene.merchant_id, b32(f"g-{i}"), 100 + i) for i in range(2)]
    needed = system.w3.eth.estimate_gas(
        s.functions.payBatch(items).build_transaction({"from": scene.relayer.address, "gas": 5_000_000}))
    with reverts("BatchOutOfGas", index=1):
        s.functions.payBatch(items).call({"from": scene.relayer.address, "gas": needed - 30_000})
    receipt = system.send(s.functions.payBatch(items), scene.relayer)  # estimated: every item fits
    assert [e["amount"] for e in events(s, "OrderPaid", receipt)] == [100, 101]
    assert events(s, "PaymentFailed", receipt) == []


def test_pay_batch_empty(scene: Scene) -> None:
    system = scene.system
    assert system.settlement.functions.payBatch([]).call({"from": scene.relayer.address}) == 0
    system.send(system.settlement.functions.payBatch([]), scene.relayer)


def test_pay_batch_item_only_from_self(scene: Scene, reverts: Any) -> None:
    system = scene.system
    payment = sign_payment(system, scene.payer, scene.merchant_id, b32("o"), 100)
    with reverts("NotSelf", caller=scene.relayer.address):
        system.send(system.settlement.functions.payBatchItem(payment), scene.relayer)


# ---------------------------------------------------------------- refund


def test_refund_partial_then_full(scene: Scene) -> None:
    system = scene.system
    s = system.settlement
    oid = b32("o-1")
    scene.pay(oid, 10_000)
    r1, r2 = ref(), ref()
    receipt = system.send(s.functions.refund(scene.merchant_id, oid, 2_500, r1), scene.acq)
    assert events(s, "OrderRefunded", receipt) == [{
        "merchantId": scene.merchant_id, "orderId": oid, "acquirer": system.banks["B"].id,
        "payer": scene.payer.address, "amount": 2_500, "refundedTotal": 2_500, "ref": r1}]
    assert events(system.token, "Transfer", receipt) == [{
        "from": s.address, "to": scene.payer.address, "value": 2_500}]
    assert balance(system, scene.payer) == FUNDS - 7_500
    other_operator = system.banks["B"].operators[1]
    receipt = system.send(s.functions.refund(scene.merchant_id, oid, 7_500, r2), other_operator)
    assert events(s, "OrderRefunded", receipt)[0]["refundedTotal"] == 10_000
    assert balance(system, scene.payer) == FUNDS
    assert order(system, scene.merchant_id, oid)["refunded"] == 10_000
    m = merchant(system, scene.merchant_id)
    assert (m["pendingGross"], m["pendingRefunds"]) == (10_000, 10_000)
    assert_books(system, [scene.merchant_id])


def test_an_acquirers_refund_ref_is_used_once(scene: Scene, reverts: Any) -> None:
    """A bank node restored from an older backup cannot refund twice: each refund ref of an acquirer is used
    once, whichever of its operators, orders or merchants it names; another acquirer's refs are its own."""
    system = scene.system
    s = system.settlement
    b = system.banks["B"]
    refund_ref = ref()
    scene.pay(b32("o-1"), 1_000)
    scene.pay(b32("o-2"), 1_000)
    system.send(s.functions.refund(scene.merchant_id, b32("o-1"), 100, refund_ref), scene.acq)
    for oid in (b32("o-1"), b32("o-2")):  # the same order again, or another one
        with reverts("RefAlreadyRefunded", acquirer=b.id, ref=refund_ref):
            system.send(s.functions.refund(scene.merchant_id, oid, 100, refund_ref), b.operators[1])
    assert [order(system, scene.merchant_id, b32(o))["refunded"] for o in ("o-1", "o-2")] == [100, 0]
    assert balance(system, scene.payer) == FUNDS - 2_000 + 100  # refunded once
    at_a = b32("M-AT-BANK-A")
    system.send(s.functions.registerMerchant(at_a, open_wallet(system, "A", MERCHANT_KIND).address, 0, 1, ZERO32,
                                             TO_WALLET), scene.other)
    scene.pay(b32("o-3"), 500, merchant_id=at_a, acquirer="A")
    receipt = system.send(s.functions.refund(at_a, b32("o-3"), 50, refund_ref), scene.other)
    assert events(s, "OrderRefunded", receipt)[0]["ref"] == refund_ref
    assert_books(system, [scene.merchant_id, ("A", at_a)])


def test_refund_errors(scene: Scene, reverts: Any) -> None:
    system = scene.system
    s = system.settlement
    mid, oid = scene.merchant_id, b32("o-1")
    scene.pay(oid, 1_000)
    with reverts("UnknownMerchant", merchantId=b32("nope")):
        system.send(s.functions.refund(b32("nope"), oid, 1, ref()), scene.acq)
    with reverts("UnknownMerchant", merchantId=mid):  # bank A has no merchant of that id
        system.send(s.functions.refund(mid, oid, 1, ref()), scene.other)
    for caller in (system.operator, system.regulator):
        with reverts("NotBankOperator", caller=caller.address):
            system.send(s.functions.refund(mid, oid, 1, ref()), caller)
    with reverts("UnknownOrder", merchantId=mid, orderId=b32("o-2")):
        system.send(s.functions.refund(mid, b32("o-2"), 1, ref()), scene.acq)
    with reverts("ZeroAmount"):
        system.send(s.functions.refund(mid, oid, 0, ref()), scene.acq)
    with reverts("RefundExceedsRefundable", merchantId=mid, orderId=oid, amount=1_001, refundable=1_000):
        system.send(s.functions.refund(mid, oid, 1_001, ref()), scene.acq)
    system.send(s.functions.refund(mid, oid, 600, ref()), scene.acq)
    with reverts("RefundExceedsRefundable", merchantId=mid, orderId=oid, amount=401, refundable=400):
        system.send(s.functions.refund(mid, oid, 401, ref()), scene.acq)
    assert order(system, mid, oid)["refunded"] == 600
    assert_books(system, [mid])


def test_refund_beyond_pending(scene: Scene, reverts: Any) -> None:
    """After settlement the order's money is gone from the contract: refund by other means."""
    system = scene.system
    s = system.settlement
    mid = scene.merchant_id
    scene.pay(b32("o-1"), 1_000)
    system.send(s.functions.settle(mid, ref()), scene.acq)
    with reverts("RefundExceedsPending", merchantId=mid, amount=1, pending=0):
        system.send(s.functions.refund(mid, b32("o-1"), 1, ref()), scene.acq)
    scene.pay(b32("o-2"), 300)
    with reverts("RefundExceedsPending", merchantId=mid, amount=301, pending=300):
        system.send(s.functions.refund(mid, b32("o-1"), 301, ref()), scene.acq)
    # within what is pending, an old order can still be refunded (pending covers it)
    system.send(s.functions.refund(mid, b32("o-1"), 300, ref()), scene.acq)
    assert order(system, mid, b32("o-1"))["refunded"] == 300
    assert merchant(system, mid)["pendingRefunds"] == 300
    assert_books(system, [mid])


def test_refund_to_frozen_payer_fails_in_token(scene: Scene, reverts: Any) -> None:
    system = scene.system
    scene.pay(b32("o-1"), 1_000)
    system.send(system.registry.functions.freeze(scene.payer.address, 9), system.regulator)
    with reverts("WalletNotActive", wallet=scene.payer.address):
        system.send(system.settlement.functions.refund(scene.merchant_id, b32("o-1"), 100, ref()), scene.acq)
    assert order(system, scene.merchant_id, b32("o-1"))["refunded"] == 0
    assert_books(system, [scene.merchant_id])


# ---------------------------------------------------------------- settle


def test_settle_to_wallet_exact_numbers(scene: Scene) -> None:
    system = scene.system
    s = system.settlement
    mid = scene.merchant_id
    scene.pay(b32("o-1"), 12_345)
    scene.pay(b32("o-2"), 6_789)
    system.send(s.functions.refund(mid, b32("o-2"), 1_000, ref()), scene.acq)
    gross, refunds = 19_134, 1_000
    fee = 478  # floor(19_134 * 250 / 10_000) = floor(478.35)
    net = gross - refunds - fee
    assert net == 17_656
    assert s.functions.settlementAmounts(gross, refunds, FEE_BPS).call() == [fee, net]
    supply = system.token.functions.totalSupply().call()
    batch_ref = ref()
    batch_id = s.functions.settle(mid, batch_ref).call({"from": scene.acq.address})
    assert batch_id == 1
    receipt = system.send(s.functions.settle(mid, batch_ref), scene.acq)
    assert events(s, "MerchantSettled", receipt) == [{
        "merchantId": mid, "batchId": 1, "acquirer": system.banks["B"].id, "gross": gross, "refunds": refunds,
        "fee": fee, "net": net, "payoutMode": TO_WALLET, "ref": batch_ref}]
    assert events(system.token, "Transfer", receipt) == [
        {"from": s.address, "to": scene.merchant_wallet.address, "value": net},
        {"from": s.address, "to": scene.fee_wallet.address, "value": fee}]
    assert balance(system, scene.merchant_wallet) == net
    assert balance(system, scene.fee_wallet) == fee
    assert system.token.functions.totalSupply().call() == supply
    m = merchant(system, mid)
    assert (m["pendingGross"], m["pendingRefunds"], m["lastBatchId"]) == (0, 0, 1)
    assert_books(system, [mid])
    # the next batch starts from zero
    scene.pay(b32("o-3"), 399)  # fee floor(399 * 250 / 10_000) = floor(9.975) = 9
    receipt = system.send(s.functions.settle(mid, ref()), scene.acq)
    settled = events(s, "MerchantSettled", receipt)[0]
    assert (settled["batchId"], settled["gross"], settled["refunds"], settled["fee"], settled["net"]) == (
        2, 399, 0, 9, 390)
    assert balance(system, scene.merchant_wallet) == net + 390
    assert balance(system, scene.fee_wallet) == fee + 9


def test_settle_to_bank_account_burns_net(scene: Scene) -> None:
    system = scene.system
    s = system.settlement
    b = system.banks["B"]
    mid = b32("M-BANKPAY")
    wallet = open_wallet(system, "B", MERCHANT_KIND)
    system.send(s.functions.registerMerchant(mid, wallet.address, 175, 5999, ACCOUNT_HASH, TO_BANK_ACCOUNT),
                scene.acq)
    scene.pay(b32("o-1"), 100_001, merchant_id=mid)
    scene.pay(b32("o-2"), 57, merchant_id=mid)
    system.send(s.functions.refund(mid, b32("o-2"), 57, ref()), scene.acq)
    gross, refunds = 100_058, 57
    fee = 1_751  # floor(100_058 * 175 / 10_000) = floor(1751.015)
    net = gross - refunds - fee
    supply = system.token.functions.totalSupply().call()
    issued_a = system.consortium.functions.netIssued(system.banks["A"].id).call()
    issued_b = system.consortium.functions.netIssued(b.id).call()
    batch_ref = ref()
    receipt = system.send(s.functions.settle(mid, batch_ref), b.operators[1])
    assert events(s, "MerchantSettled", receipt) == [{
        "merchantId": mid, "batchId": 1, "acquirer": b.id, "gross": gross, "refunds": refunds, "fee": fee,
        "net": net, "payoutMode": TO_BANK_ACCOUNT, "ref": batch_ref}]
    assert events(system.token, "Burned", receipt) == [{
        "wallet": s.address, "bankId": b.id, "amount": net, "ref": batch_ref, "reason": SETTLEMENT_PAYOUT}]
    assert balance(system, wallet) == 0
    assert balance(system, scene.fee_wallet) == fee
    assert system.token.functions.totalSupply().call() == supply - net
    # the acquirer pays the merchant's bank account: its issuance position goes down by net
    assert system.consortium.functions.netIssued(b.id).call() == issued_b - net
    assert system.consortium.functions.netIssued(system.banks["A"].id).call() == issued_a
    assert_books(system, [mid, scene.merchant_id])


def test_settle_fee_capped_at_gross_minus_refunds(system: Any, scene: Scene) -> None:
    s = system.settlement
    mid = b32("M-FULLFEE")
    wallet = open_wallet(system, "B", MERCHANT_KIND)
    system.send(s.functions.registerMerchant(mid, wallet.address, 10_000, 1, ZERO32, TO_WALLET), scene.acq)
    scene.pay(b32("o-1"), 1_000, merchant_id=mid)
    system.send(s.functions.refund(mid, b32("o-1"), 600, ref()), scene.acq)
    receipt = system.send(s.functions.settle(mid, ref()), scene.acq)
    settled = events(s, "MerchantSettled", receipt)[0]
    assert (settled["gross"], settled["refunds"], settled["fee"], settled["net"]) == (1_000, 600, 400, 0)
    assert balance(system, wallet) == 0
    assert balance(system, scene.fee_wallet) == 400
    assert_books(system, [mid])


def test_settlement_amounts(system: Any) -> None:
    f = system.settlement.functions.settlementAmounts
    assert f(0, 0, 250).call() == [0, 0]
    assert f(39, 0, 250).call() == [0, 39]  # 0.975 rounds down to 0
    assert f(40, 0, 250).call() == [1, 39]
    assert f(1_000, 1_000, 250).call() == [0, 0]  # fully refunded: no fee
    assert f(1_000, 990, 250).call() == [10, 0]  # fee 25 capped at 10
    assert f(10**30, 0, 10_000).call() == [10**30, 0]


def test_settle_zero_batch(scene: Scene) -> None:
    """Nothing pending: a zero batch is still recorded (scheduled daily settlement)."""
    system = scene.system
    s = system.settlement
    for expected in (1, 2):
        receipt = system.send(s.functions.settle(scene.merchant_id, ref()), scene.acq)
        settled = events(s, "MerchantSettled", receipt)[0]
        assert (settled["batchId"], settled["gross"], settled["refunds"], settled["fee"], settled["net"]) == (
            expected, 0, 0, 0, 0)
        assert events(system.token, "Transfer", receipt) == []
    # fully refunded: no money moves, no fee
    scene.pay(b32("o-1"), 800)
    system.send(s.functions.refund(scene.merchant_id, b32("o-1"), 800, ref()), scene.acq)
    receipt = system.send(s.functions.settle(scene.merchant_id, ref()), scene.acq)
    settled = events(s, "MerchantSettled", receipt)[0]
    assert (settled["batchId"], settled["gross"], settled["refunds"], settled["fee"], settled["net"]) == (
        3, 800, 800, 0, 0)
    assert events(system.token, "Transfer", receipt) == []
    assert_books(system, [scene.merchant_id])


def test_settle_fee_wallet_not_set(system: Any, reverts: Any) -> None:
    a = system.banks["A"]
    s = system.settlement
    payer = open_wallet(system, "B")
    mint(system, "B", payer, 10_000)
    with_fee, no_fee = b32("M-FEE"), b32("M-NOFEE")
    for mid, bps in ((with_fee, 100), (no_fee, 0)):
        wallet = open_wallet(system, "A", MERCHANT_KIND)
        register = s.functions.registerMerchant(mid, wallet.address, bps, 1, ZERO32, TO_WALLET)
        system.send(register, a.operators[0])
        payment = sign_payment(system, payer, mid, b32("o-1"), 1_000, acquirer="A")
        system.send(s.functions.pay(payment), system.banks["B"].operators[0])
    with reverts("FeeWalletNotSet", bankId=a.id):
        system.send(s.functions.settle(with_fee, ref()), a.operators[0])
    receipt = system.send(s.functions.settle(no_fee, ref()), a.operators[0])  # no fee: no fee wallet needed
    assert events(s, "MerchantSettled", receipt)[0]["net"] == 1_000
    assert merchant(system, with_fee, "A")["pendingGross"] == 1_000
    fee_wallet = open_wallet(system, "A")
    system.send(s.functions.setFeeWallet(fee_wallet.address), a.operators[0])
    receipt = system.send(s.functions.settle(with_fee, ref()), a.operators[0])
    assert (events(s, "MerchantSettled", receipt)[0]["fee"], balance(system, fee_wallet)) == (10, 10)
    assert_books(system, [("A", with_fee), ("A", no_fee)])


def test_settle_errors(scene: Scene, reverts: Any) -> None:
    system = scene.system
    s = system.settlement
    scene.pay(b32("o-1"), 100)
    with reverts("UnknownMerchant", merchantId=b32("nope")):
        system.send(s.functions.settle(b32("nope"), ref()), scene.acq)
    with reverts("UnknownMerchant", merchantId=scene.merchant_id):  # bank A has no merchant of that id
        system.send(s.functions.settle(scene.merchant_id, ref()), scene.other)
    for caller in (system.operator, system.regulator, system.accounts[0]):
        with reverts("NotBankOperator", caller=caller.address):
            system.send(s.functions.settle(scene.merchant_id, ref()), caller)
    assert merchant(system, scene.merchant_id)["pendingGross"] == 100


def test_suspended_merchant_is_refunded_and_settled(scene: Scene) -> None:
    system = scene.system
    s = system.settlement
    scene.pay(b32("o-1"), 2_000)
    system.send(s.functions.setMerchantStatus(scene.merchant_id, SUSPENDED), scene.acq)
    system.send(s.functions.refund(scene.merchant_id, b32("o-1"), 500, ref()), scene.acq)
    receipt = system.send(s.functions.settle(scene.merchant_id, ref()), scene.acq)
    settled = events(s, "MerchantSettled", receipt)[0]
    assert (settled["gross"], settled["refunds"], settled["fee"], settled["net"]) == (2_000, 500, 50, 1_450)
    assert balance(system, scene.merchant_wallet) == 1_450


def test_frozen_merchant_wallet_blocks_wallet_payout(scene: Scene, reverts: Any) -> None:
    system = scene.system
    scene.pay(b32("o-1"), 2_000)
    system.send(system.registry.functions.freeze(scene.merchant_wallet.address, 4), system.regulator)
    with reverts("WalletNotActive", wallet=scene.merchant_wallet.address):
        system.send(system.settlement.functions.settle(scene.merchant_id, ref()), scene.acq)
    assert merchant(system, scene.merchant_id)["pendingGross"] == 2_000
    assert_books(system, [scene.merchant_id])


# ---------------------------------------------------------------- invariant


def test_total_pending_matches_balance_across_merchants(scene: Scene) -> None:
    """totalPending == sum of merchants' pending == the contract's balance, after every step."""
    system = scene.system
    s = system.settlement
    a = system.banks["A"]
    mids: list[bytes | tuple[str, bytes]] = [scene.merchant_id]
    acquirer_of = {scene.merchant_id: "B"}
    for name, bank, mode, bps in (("M-A1", "A", TO_BANK_ACCOUNT, 30), ("M-B2", "B", TO_WALLET, 9_999)):
        wallet = open_wallet(system, bank, MERCHANT_KIND)
        system.send(s.functions.registerMerchant(b32(name), wallet.address, bps, 1, ZERO32, mode),
                    system.banks[bank].operators[0])
        mids.append((bank, b32(name)))
        acquirer_of[b32(name)] = bank
    system.send(s.functions.setFeeWallet(open_wallet(system, "A").address), a.operators[0])
    ids = [scene.merchant_id, b32("M-A1"), b32("M-B2")]
    acquirer_op = {ids[0]: scene.acq, ids[1]: a.operators[0], ids[2]: scene.acq}
    steps: list[tuple[str, bytes, str, int]] = [
        ("pay", ids[0], "x1", 1_111), ("pay", ids[1], "x1", 2_222), ("pay", ids[2], "x1", 3_333),
        ("refund", ids[1], "x1", 222), ("pay", ids[1], "x2", 5), ("settle", ids[0], "", 0),
        ("refund", ids[2], "x1", 3_333), ("pay", ids[0], "x2", 77), ("settle", ids[1], "", 0),
        ("settle", ids[2], "", 0), ("pay", ids[2], "x2", 10_001), ("refund", ids[0], "x2", 1),
        ("settle", ids[0], "", 0), ("settle", ids[2], "", 0),
    ]
    assert_books(system, mids)
    for op, mid, oid, amount in steps:
        if op == "pay":
            scene.pay(b32(oid), amount, merchant_id=mid, acquirer=acquirer_of[mid])
        elif op == "refund":
            system.send(s.functions.refund(mid, b32(oid), amount, ref()), acquirer_op[mid])
        else:
            system.send(s.functions.settle(mid, ref()), acquirer_op[mid])
        assert_books(system, mids)
    assert s.functions.totalPending().call() == 0
    # what left the payer is now refunds back to it, net to merchants (or burned) and fees
    paid, refunded = 1_111 + 2_222 + 3_333 + 5 + 77 + 10_001, 222 + 3_333 + 1
    assert balance(system, scene.payer) == FUNDS - paid + refunded


# ---------------------------------------------------------------- settlement refs (a restored node sends again)


def test_an_acquirers_settlement_ref_is_used_once(scene: Scene, reverts: Any) -> None:
    system = scene.system
    s = system.settlement
    b = system.banks["B"]
    batch_ref = ref()
    scene.pay(b32("o-1"), 1_000)
    system.send(s.functions.settle(scene.merchant_id, batch_ref), scene.acq)
    scene.pay(b32("o-2"), 2_000)
    other = b32("M-OTHER-OF-B")
    system.send(s.functions.registerMerchant(other, open_wallet(system, "B", MERCHANT_KIND).address, 0, 1, ZERO32,
                                             TO_WALLET), scene.acq)
    for mid in (scene.merchant_id, other):  # the same merchant again, or another one of the acquirer's
        with reverts("RefAlreadySettled", acquirer=b.id, ref=batch_ref):
            system.send(s.functions.settle(mid, batch_ref), b.operators[1])
    again = merchant(system, scene.merchant_id)
    assert (again["pendingGross"], again["lastBatchId"]) == (2_000, 1)  # nothing settled twice
    at_a = b32("M-AT-BANK-A")  # another acquirer's refs are its own
    system.send(s.functions.registerMerchant(at_a, open_wallet(system, "A", MERCHANT_KIND).address, 0, 1, ZERO32,
                                             TO_WALLET), scene.other)
    receipt = system.send(s.functions.settle(at_a, batch_ref), scene.other)
    assert events(s, "MerchantSettled", receipt)[0]["ref"] == batch_ref
    assert_books(system, [scene.merchant_id, other, at_a])


def test_a_payout_burn_refuses_a_ref_its_bank_burned_before(scene: Scene, reverts: Any) -> None:
    """burnForPayout keeps the acquirer's burn refs once-only too (shared with its redemptions)."""
    system = scene.system
    s = system.settlement
    b = system.banks["B"]
    holder = open_wallet(system, "B")
    mint(system, "B", holder, 5_000)
    redemption = redemption_args(system, holder, 1_000)
    system.send(system.token.functions.redeemWithAuthorization(*redemption), b.operators[0])
    mid = b32("M-PAYOUT-REF")
    system.send(s.functions.registerMerchant(mid, open_wallet(system, "B", MERCHANT_KIND).address, 0, 1, ZERO32,
                                             TO_BANK_ACCOUNT), scene.acq)
    scene.pay(b32("o-1"), 700, merchant_id=mid)
    with reverts("RefAlreadyBurned", bankId=b.id, ref=redemption[4]):
        system.send(s.functions.settle(mid, redemption[4]), scene.acq)
    assert merchant(system, mid)["pendingGross"] == 700
    assert_books(system, [mid, scene.merchant_id])
