"""EIP-712 authorizations: exact types, digests, signing, verification and build-time validation."""

from __future__ import annotations

import dataclasses
import doctest
import json
import pickle
import re
from pathlib import Path
from typing import Any

import pytest
from eth_abi import encode as abi_encode
from eth_account import Account
from eth_account.messages import encode_typed_data, hash_domain
from eth_utils.crypto import keccak
from hexbytes import HexBytes

import wallet_sdk.authorizations
import wallet_sdk.exceptions as exc
from wallet_sdk.authorizations import (
    Authorization,
    CancelAuthorization,
    Domain,
    HoldAuthorization,
    MerchantPayment,
    PaymentRequestTerms,
    ReceiveAuthorization,
    Redemption,
    RelayedTransfer,
    SignedAuthorization,
    TransferAuthorization,
    id_to_text,
    merchant_id,
    new_nonce,
    order_id,
    payment_nonce,
    recover_signer,
    relay_nonce,
    settlement_domain,
    verify,
)
from wallet_sdk.client.problems import PROBLEM_BASE, PROBLEM_ERRORS
from wallet_sdk.exceptions import (
    AuthorizationError,
    ExpiredAuthorizationError,
    InvalidAuthorizationError,
    InvalidSignatureError,
    NotYetValidAuthorizationError,
    WalletnetError,
)
from wallet_sdk.keys import SECP256K1_N, WalletKey

INTERFACES = Path(__file__).resolve().parents[2] / "contracts" / "interfaces"
KEY = WalletKey("0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
PAYER = KEY.address  # 0x2c7536E3605D9C16a7a3D7b1898e529396a65c23
OTHER = WalletKey("0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80")  # anvil 0
BOB = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
TOKEN = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
SETTLEMENT = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"
DOMAIN = Domain.for_token("Digital Cash", 31337, TOKEN)
NONCE = bytes(31) + b"\x01"
MID, OID = merchant_id("M-COFFEE-001"), order_id("ORDER-123")
ACQ = b"BANKB".ljust(32, b"\0")


def examples() -> list[Authorization]:
    """One of each signed type, all signed by KEY."""
    return [
        TransferAuthorization(from_=PAYER, to=BOB, value=1234, valid_before=2_000_000_000, nonce=NONCE),
        ReceiveAuthorization(from_=PAYER, to=BOB, value=1, valid_after=10, valid_before=20, nonce=NONCE),
        CancelAuthorization(authorizer=PAYER, nonce=NONCE),
        RelayedTransfer(from_=PAYER, to=BOB, value=99, valid_before=2_000_000_000, nonce=relay_nonce(3, 7)),
        HoldAuthorization(holder=PAYER, value=20_000, hold_id=NONCE, expires_at=2_000_000_000),
        Redemption(holder=PAYER, value=5_000, valid_before=2_000_000_000, nonce=NONCE),
        MerchantPayment(acquirer=ACQ, merchant_id=MID, order_id=OID, payer=PAYER, amount=1234,
                        valid_before=2_000_000_000, settlement=SETTLEMENT),
    ]


def interface_type_strings() -> dict[str, str]:
    """primary type -> exact type string, from the header comment of IDigitalCash.sol."""
    source = (INTERFACES / "IDigitalCash.sol").read_text(encoding="utf-8")
    found = re.findall(r"^///\s+(([A-Za-z]+)\((?:[a-z0-9]+ [A-Za-z]+,?)*\))\s*$", source, re.MULTILINE)
    return {name: text for text, name in found}


# --- exact EIP-712 types ---


def test_interface_lists_the_signed_types() -> None:
    assert sorted(interface_type_strings()) == [
        "CancelAuthorization", "Hold", "Permit", "ReceiveWithAuthorization", "Redemption", "RelayedTransfer",
        "TransferWithAuthorization"]


@pytest.mark.parametrize(
    ("cls", "primary"),
    [(TransferAuthorization, "TransferWithAuthorization"), (ReceiveAuthorization, "ReceiveWithAuthorization"),
     (CancelAuthorization, "CancelAuthorization"), (RelayedTransfer, "RelayedTransfer"),
     (HoldAuthorization, "Hold"), (Redemption, "Redemption"), (MerchantPayment, "ReceiveWithAuthorization")],
)
def test_type_strings_and_hashes_match_the_interface(cls: type[Authorization], primary: str) -> None:
    expected = interface_type_strings()[primary]
    assert primary == cls.PRIMARY_TYPE
    assert cls.encode_type() == expected
    assert cls.type_hash() == keccak(text=expected)


@pytest.mark.parametrize("auth", examples(), ids=lambda a: type(a).__name__)
def test_typed_data_types_encode_to_the_interface_string(auth: Authorization) -> None:
    data = auth.typed_data(DOMAIN)
    members = ",".join(f"{m['type']} {m['name']}" for m in data["types"][data["primaryType"]])
    assert f"{data['primaryType']}({members})" == interface_type_strings()[auth.PRIMARY_TYPE]
    assert data["types"]["EIP712Domain"] == [
        {"name": "name", "type": "string"}, {"name": "version", "type": "string"},
        {"name": "chainId", "type": "uint256"}, {"name": "verifyingContract", "type": "address"}]
    assert data["domain"] == {"name": "Digital Cash", "version": "1", "chainId": 31337, "verifyingContract": TOKEN}


@pytest.mark.parametrize("auth", examples(), ids=lambda a: type(a).__name__)
def test_digest_matches_eth_account(auth: Authorization) -> None:
    signable = encode_typed_data(full_message=auth.typed_data(DOMAIN))
    assert auth.digest(DOMAIN) == keccak(b"\x19" + signable.version + signable.header + signable.body)
    assert auth.struct_hash() == signable.body


def test_domain_separator() -> None:
    assert DOMAIN.separator() == bytes(hash_domain(DOMAIN.typed_data()))
    assert DOMAIN.separator().hex() == "94945975817274d529c0d6aac8f06bd22b985bb0e0f988a8eb1a40ddc5922b90"
    assert Domain.for_token("Digital Cash", 31337, TOKEN) == Domain(
        name="Digital Cash", version="1", chain_id=31337, verifying_contract=TOKEN)


def test_known_answer_transfer() -> None:
    """Pinned digest and (RFC 6979 deterministic) signature: any change in the encoding shows here."""
    auth = examples()[0]
    assert auth.digest(DOMAIN).hex() == "a5a851cd73581a3efd391be33e6107a45cab0fd39fef969a55dd20888dd99eaf"
    signed = auth.sign(KEY, DOMAIN)
    assert signed.signature.hex() == (
        "3a7d332b9a799d23d0c858dc0d3bbd97abcacc0d2cc6af354e882bb99d671138"
        "466955f9f9888942663aaa20fd3486f50ceca79ba186e9e2126b89a98f7ab4331b")
    assert (signed.v, signed.r.hex()[:8], signed.s.hex()[:8]) == (27, "3a7d332b", "466955f9")


def test_typed_data_is_json_ready() -> None:
    data = examples()[0].typed_data(DOMAIN)
    assert json.loads(json.dumps(data)) == data
    assert data["message"] == {"from": PAYER, "to": BOB, "value": 1234, "validAfter": 0,
                               "validBefore": 2_000_000_000, "nonce": "0x" + NONCE.hex()}


# --- merchant payments and ids ---


def test_payment_nonce_is_keccak_of_abi_encoded_ids() -> None:
    assert payment_nonce(ACQ, MID, OID) == keccak(abi_encode(["bytes32", "bytes32", "bytes32"], [ACQ, MID, OID]))
    assert payment_nonce(ACQ, MID, OID) != payment_nonce(b"BANKA".ljust(32, b"\0"), MID, OID)


def test_merchant_payment_is_a_receive_authorization_to_settlement() -> None:
    payment = examples()[-1]
    assert isinstance(payment, MerchantPayment)
    receive = ReceiveAuthorization(from_=PAYER, to=SETTLEMENT, value=1234, valid_before=2_000_000_000,
                                   nonce=payment_nonce(ACQ, MID, OID))
    assert payment.as_receive() == receive
    assert payment.nonce == payment_nonce(ACQ, MID, OID)
    assert payment.typed_data(DOMAIN) == receive.typed_data(DOMAIN)
    assert payment.digest(DOMAIN) == receive.digest(DOMAIN)
    assert payment.signer == PAYER
    assert payment.sign(KEY, DOMAIN).signature == receive.sign(KEY, DOMAIN).signature
    # the acquirer's request signature is carried, not signed by the payer
    carried = payment.with_request_signature(bytes(64) + b"\x1b")
    assert carried.request_signature == bytes(64) + b"\x1b"
    assert carried.digest(DOMAIN) == payment.digest(DOMAIN)
    assert carried.request_terms() == PaymentRequestTerms(acquirer=ACQ, merchant_id=MID, order_id=OID, amount=1234,
                                                          expires_at=2_000_000_000)


def test_payment_request_terms_sign_and_recover() -> None:
    """What the acquirer signs, in the settlement contract's domain; an edited amount recovers to someone else."""
    domain = settlement_domain(31337, SETTLEMENT)
    assert domain == Domain(name="MerchantSettlement", version="1", chain_id=31337, verifying_contract=SETTLEMENT)
    terms = PaymentRequestTerms(acquirer=ACQ, merchant_id=MID, order_id=OID, amount=1234, expires_at=2_000_000_000)
    assert terms.type_hash() == keccak(
        text="PaymentRequest(bytes32 acquirer,bytes32 merchantId,bytes32 orderId,uint256 amount,uint256 expiresAt)")
    signable = encode_typed_data(full_message=terms.typed_data(domain))
    assert terms.digest(domain) == keccak(b"\x19" + signable.version + signable.header + signable.body)
    signature = terms.sign(KEY, domain)
    assert terms.recover(signature, domain) == KEY.address
    edited = PaymentRequestTerms(acquirer=ACQ, merchant_id=MID, order_id=OID, amount=1, expires_at=2_000_000_000)
    assert edited.recover(signature, domain) != KEY.address
    with pytest.raises(InvalidSignatureError):
        terms.recover(bytes(65), domain)


def test_ids_are_right_padded_utf8() -> None:
    assert order_id("ORDER-123") == b"ORDER-123" + bytes(23)
    assert merchant_id("M-COFFEE-001") == b"M-COFFEE-001" + bytes(20)
    assert order_id("Caf\u00e9") == b"Caf\xc3\xa9" + bytes(27)
    assert order_id("x" * 32) == b"x" * 32
    assert id_to_text(order_id("ORDER-123")) == "ORDER-123"
    assert id_to_text(order_id("Caf\u00e9")) == "Caf\u00e9"
    assert id_to_text(NONCE) == "0x" + NONCE.hex()
    assert id_to_text(bytes(32)) == "0x" + "00" * 32
    assert id_to_text(b"\xff" * 32) == "0x" + "ff" * 32


@pytest.mark.parametrize(
    ("text", "reason"),
    [("", "must be 1-32 bytes of UTF-8 without NUL"), ("x" * 33, "must be 1-32 bytes of UTF-8 without NUL"),
     ("\u00e9" * 17, "must be 1-32 bytes of UTF-8 without NUL"), ("a\0b", "must be 1-32 bytes of UTF-8 without NUL"),
     (b"ORDER", "expected a str")],
)
def test_bad_ids(text: Any, reason: str) -> None:
    with pytest.raises(InvalidAuthorizationError) as info:
        order_id(text)
    assert str(info.value) == f"invalid order id {text!r}: {reason}"
    with pytest.raises(InvalidAuthorizationError) as info:
        merchant_id(text)
    assert str(info.value) == f"invalid merchant id {text!r}: {reason}"


def test_nonces() -> None:
    a, b = new_nonce(), new_nonce()
    assert (len(a), type(a)) == (32, bytes)
    assert a != b
    assert relay_nonce(0, 0) == 0
    assert relay_nonce(3, 7) == 3 * 256 + 7
    assert relay_nonce(2**248 - 1, 255) == 2**256 - 1
    with pytest.raises(InvalidAuthorizationError) as info:
        relay_nonce(0, 256)
    assert str(info.value) == "invalid bit 256: must be from 0 to 255"
    assert isinstance(RelayedTransfer(from_=PAYER, to=BOB, value=1, valid_before=5).nonce, int)
    assert TransferAuthorization(from_=PAYER, to=BOB, value=1, valid_before=5).nonce != NONCE


# --- signing and verification ---


@pytest.mark.parametrize("auth", examples(), ids=lambda a: type(a).__name__)
def test_sign_and_verify(auth: Authorization) -> None:
    signed = auth.sign(KEY, DOMAIN)
    assert signed.authorization is auth
    assert signed.domain == DOMAIN
    assert signed.signer == PAYER
    assert len(signed.signature) == 65
    assert signed.signature == signed.r + signed.s + bytes([signed.v])
    assert signed.v in (27, 28)
    assert verify(signed, DOMAIN) == PAYER
    assert recover_signer(signed, DOMAIN) == PAYER
    # an independent recovery: eth_account over its own encoding of the typed data
    assert Account.recover_message(encode_typed_data(full_message=auth.typed_data(DOMAIN)),
                                   signature=signed.signature) == PAYER
    assert SignedAuthorization.from_signature(auth, DOMAIN, signed.signature) == signed


def test_from_signature_accepts_v_as_0_or_1() -> None:
    signed = examples()[0].sign(KEY, DOMAIN)
    raw = signed.r + signed.s + bytes([signed.v - 27])
    assert SignedAuthorization.from_signature(signed.authorization, DOMAIN, raw) == signed
    with pytest.raises(InvalidAuthorizationError) as info:
        SignedAuthorization.from_signature(signed.authorization, DOMAIN, raw[:64])
    assert info.value.reason == "expected 65 bytes"


def test_signing_with_another_key_is_refused() -> None:
    with pytest.raises(InvalidAuthorizationError) as info:
        examples()[0].sign(OTHER, DOMAIN)
    assert str(info.value) == f"invalid from {PAYER!r}: the signing key is {OTHER.address}"
    with pytest.raises(InvalidAuthorizationError) as hold:
        examples()[4].sign(OTHER, DOMAIN)
    assert hold.value.field == "holder"


@pytest.mark.parametrize(
    "other_domain",
    [Domain.for_token("Digital Cash", 1, TOKEN), Domain.for_token("Digital Cash", 31337, SETTLEMENT),
     Domain.for_token("Other Cash", 31337, TOKEN), Domain(name="Digital Cash", version="2", chain_id=31337,
                                                          verifying_contract=TOKEN)],
    ids=["chain", "contract", "name", "version"],
)
def test_signature_from_another_domain_fails(other_domain: Domain) -> None:
    signed = examples()[0].sign(KEY, other_domain)
    recovered = recover_signer(signed, DOMAIN)
    assert recovered != PAYER
    with pytest.raises(InvalidSignatureError) as info:
        verify(signed, DOMAIN)
    assert (info.value.expected, info.value.recovered) == (PAYER, recovered)
    assert str(info.value) == f"signature recovers to {recovered}, expected signer {PAYER}"
    assert isinstance(info.value, AuthorizationError)
    assert isinstance(info.value, WalletnetError)


def test_signature_by_someone_else_fails() -> None:
    auth = examples()[0]
    forged = OTHER.sign_typed_data(auth.typed_data(DOMAIN))
    signed = SignedAuthorization.from_signature(auth, DOMAIN, bytes(forged.signature))
    assert recover_signer(signed, DOMAIN) == OTHER.address
    with pytest.raises(InvalidSignatureError) as info:
        verify(signed, DOMAIN)
    assert str(info.value) == f"signature recovers to {OTHER.address}, expected signer {PAYER}"


def test_changed_field_fails() -> None:
    signed = examples()[0].sign(KEY, DOMAIN)
    changed = dataclasses.replace(signed, authorization=dataclasses.replace(signed.authorization, value=1235))
    with pytest.raises(InvalidSignatureError):
        verify(changed, DOMAIN)


def test_malleable_and_invalid_signatures_are_refused_like_openzeppelin() -> None:
    signed = examples()[0].sign(KEY, DOMAIN)
    s = int.from_bytes(signed.s, "big")
    # (r, n - s, v flipped) recovers the same address, but OpenZeppelin's ECDSA refuses high s.
    high_s = dataclasses.replace(signed, s=(SECP256K1_N - s).to_bytes(32, "big"), v=55 - signed.v)
    for bad in (high_s, dataclasses.replace(signed, v=29), dataclasses.replace(signed, v=0),
                dataclasses.replace(signed, r=bytes(32)), dataclasses.replace(signed, s=bytes(32))):
        with pytest.raises(InvalidSignatureError) as info:
            recover_signer(bad, DOMAIN)
        assert str(info.value) == f"signature is not a valid signature, expected signer {PAYER}"
        assert info.value.recovered is None


# --- validity window ---


def test_check_time_follows_the_contract() -> None:
    auth = ReceiveAuthorization(from_=PAYER, to=BOB, value=1, valid_after=10, valid_before=20, nonce=NONCE)
    auth.check_time(11)
    auth.check_time(19)
    with pytest.raises(NotYetValidAuthorizationError) as early:
        auth.check_time(10)  # the contract requires validAfter < now
    assert (early.value.valid_after, early.value.now) == (10, 10)
    assert str(early.value) == "authorization not yet valid: valid after 10, now 10"
    with pytest.raises(ExpiredAuthorizationError) as late:
        auth.check_time(20)  # ... and now < validBefore
    assert (late.value.valid_before, late.value.now) == (20, 20)
    assert str(late.value) == "authorization expired: valid before 20, now 20"


def test_check_time_per_type() -> None:
    CancelAuthorization(authorizer=PAYER, nonce=NONCE).check_time(2**200)  # never expires
    hold = HoldAuthorization(holder=PAYER, value=1, hold_id=NONCE, expires_at=100)
    hold.check_time(0)
    hold.check_time(99)
    with pytest.raises(ExpiredAuthorizationError):
        hold.check_time(100)
    for auth in (Redemption(holder=PAYER, value=1, valid_before=100),
                 RelayedTransfer(from_=PAYER, to=BOB, value=1, valid_before=100)):
        auth.check_time(0)
        with pytest.raises(ExpiredAuthorizationError):
            auth.check_time(100)
    TransferAuthorization(from_=PAYER, to=BOB, value=1, valid_before=2**255).check_time()  # the clock


# --- build-time validation ---


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: TransferAuthorization(from_=PAYER, to=BOB, value=0, valid_before=5),
         "invalid value 0: must be from 1 to " + str(2**256 - 1)),
        (lambda: TransferAuthorization(from_=PAYER, to=BOB, value=-5, valid_before=5),
         "invalid value -5: must be from 1 to " + str(2**256 - 1)),
        (lambda: TransferAuthorization(from_=PAYER, to=BOB, value=2**256, valid_before=5),
         f"invalid value {2**256}: must be from 1 to {2**256 - 1}"),
        (lambda: TransferAuthorization(from_=PAYER, to=BOB, value=True, valid_before=5),
         "invalid value True: expected an int"),
        (lambda: TransferAuthorization(from_=PAYER, to=BOB, value=12.5, valid_before=5),
         "invalid value 12.5: expected an int"),
        (lambda: TransferAuthorization(from_=PAYER.lower(), to=BOB, value=1, valid_before=5),
         f"invalid from_ {PAYER.lower()!r}: expected an EIP-55 checksummed address"),
        (lambda: TransferAuthorization(from_=PAYER, to="0x70997970c51812dc3A010C7d01b50e0d17dc79C8", value=1,
                                       valid_before=5),
         "invalid to '0x70997970c51812dc3A010C7d01b50e0d17dc79C8': expected an EIP-55 checksummed address"),
        (lambda: TransferAuthorization(from_=PAYER, to="0x" + "00" * 20, value=1, valid_before=5),
         f"invalid to '0x{'00' * 20}': must not be the zero address"),
        (lambda: TransferAuthorization(from_=PAYER, to="bob", value=1, valid_before=5),
         "invalid to 'bob': expected an EIP-55 checksummed address"),
        (lambda: TransferAuthorization(from_=PAYER, to=BOB, value=1, valid_after=5, valid_before=5),
         "invalid valid_before 5: must be after valid_after (5)"),
        (lambda: TransferAuthorization(from_=PAYER, to=BOB, value=1, valid_before=5, nonce=b"\x01" * 31),
         "invalid nonce " + repr(b"\x01" * 31) + ": expected 32 bytes"),
        (lambda: TransferAuthorization(from_=PAYER, to=BOB, value=1, valid_before=5, nonce="0x" + "00" * 32),
         f"invalid nonce '0x{'00' * 32}': expected 32 bytes"),
        (lambda: CancelAuthorization(authorizer=BOB.lower(), nonce=NONCE),
         f"invalid authorizer {BOB.lower()!r}: expected an EIP-55 checksummed address"),
        (lambda: RelayedTransfer(from_=PAYER, to=BOB, value=1, valid_before=0),
         f"invalid valid_before 0: must be from 1 to {2**256 - 1}"),
        (lambda: RelayedTransfer(from_=PAYER, to=BOB, value=1, valid_before=5, nonce=-1),
         f"invalid nonce -1: must be from 0 to {2**256 - 1}"),
        (lambda: HoldAuthorization(holder=PAYER, value=1, expires_at=0),
         f"invalid expires_at 0: must be from 1 to {2**256 - 1}"),
        (lambda: HoldAuthorization(holder=PAYER, value=1, expires_at=5, hold_id=b""),
         "invalid hold_id b'': expected 32 bytes"),
        (lambda: Redemption(holder=PAYER, value=0, valid_before=5),
         f"invalid value 0: must be from 1 to {2**256 - 1}"),
        (lambda: MerchantPayment(acquirer=ACQ, merchant_id=b"M1", order_id=OID, payer=PAYER, amount=1, valid_before=5,
                                 settlement=SETTLEMENT),
         "invalid merchant_id b'M1': expected 32 bytes"),
        (lambda: MerchantPayment(acquirer=ACQ, merchant_id=MID, order_id="ORDER-123", payer=PAYER, amount=1,
                                 valid_before=5, settlement=SETTLEMENT),
         "invalid order_id 'ORDER-123': expected 32 bytes"),
        (lambda: MerchantPayment(acquirer=ACQ, merchant_id=MID, order_id=OID, payer=PAYER, amount=0, valid_before=5,
                                 settlement=SETTLEMENT),
         f"invalid amount 0: must be from 1 to {2**256 - 1}"),
        (lambda: MerchantPayment(acquirer=ACQ, merchant_id=MID, order_id=OID, payer=PAYER, amount=1, valid_before=5,
                                 settlement=SETTLEMENT.lower()),
         f"invalid settlement {SETTLEMENT.lower()!r}: expected an EIP-55 checksummed address"),
        (lambda: MerchantPayment(acquirer=ACQ, merchant_id=MID, order_id=OID, payer=PAYER, amount=1, valid_after=9,
                                 valid_before=5, settlement=SETTLEMENT),
         "invalid valid_before 5: must be after valid_after (9)"),
        (lambda: Domain.for_token("", 1, TOKEN), "invalid domain name '': expected a non-empty str"),
        (lambda: Domain.for_token("Digital Cash", 0, TOKEN),
         f"invalid chain_id 0: must be from 1 to {2**256 - 1}"),
        (lambda: Domain.for_token("Digital Cash", 1, TOKEN.lower()),
         f"invalid verifying_contract {TOKEN.lower()!r}: expected an EIP-55 checksummed address"),
    ],
)
def test_invalid_fields_are_refused_at_build_time(build: Any, message: str) -> None:
    with pytest.raises(InvalidAuthorizationError) as info:
        build()
    assert str(info.value) == message
    assert isinstance(info.value, ValueError)


def test_authorizations_are_frozen_and_normalise_bytes() -> None:
    auth = TransferAuthorization(from_=PAYER, to=BOB, value=1, valid_before=5, nonce=HexBytes(NONCE))
    assert type(auth.nonce) is bytes
    assert auth == TransferAuthorization(from_=PAYER, to=BOB, value=1, valid_before=5, nonce=NONCE)
    assert auth != ReceiveAuthorization(from_=PAYER, to=BOB, value=1, valid_before=5, nonce=NONCE)
    with pytest.raises(dataclasses.FrozenInstanceError):
        auth.value = 2  # type: ignore[misc]


def test_repr_shows_bytes_as_hex() -> None:
    hold = HoldAuthorization(holder=PAYER, value=3, expires_at=99, hold_id=NONCE)
    assert repr(hold) == f"HoldAuthorization(holder='{PAYER}', value=3, expires_at=99, hold_id='0x{NONCE.hex()}')"
    signed = hold.sign(KEY, DOMAIN)
    assert repr(signed) == (
        f"SignedAuthorization(authorization={hold!r}, domain={DOMAIN!r}, v={signed.v}, "
        f"r='0x{signed.r.hex()}', s='0x{signed.s.hex()}')")


def test_module_examples_run() -> None:
    result = doctest.testmod(wallet_sdk.authorizations)
    assert (result.failed, result.attempted) == (0, 4)


# --- the exception tree ---

EXCEPTION_SAMPLES: list[tuple[type[WalletnetError], dict[str, Any], str, tuple[type[BaseException], ...]]] = [
    (exc.FloatAmountError, {"value": 0.5},
     "amounts must not be floats (got 0.5); pass a str such as '12.34', an int or a Decimal", (ValueError, TypeError)),
    (exc.NegativeAmountError, {"value": "-1"}, "amount must not be negative, got '-1'", (ValueError,)),
    (exc.TooManyDecimalsError, {"value": "1.234", "decimals": 2}, "amount '1.234' has more than 2 decimal place(s)",
     (ValueError,)),
    (exc.InvalidAmountError, {"value": "x", "reason": "no"}, "invalid amount 'x': no", (ValueError,)),
    (exc.CurrencyMismatchError, {"left": 1, "right": 2}, "cannot combine 1 with 2: currency or decimals differ",
     (ValueError, TypeError)),
    (exc.InvalidPrivateKeyError, {"reason": "bad"}, "invalid private key: bad", (ValueError,)),
    (exc.InvalidMnemonicError, {"reason": "bad"}, "invalid mnemonic: bad", (ValueError,)),
    (exc.MalformedKeystoreError, {"reason": "bad"}, "malformed keystore: bad", (ValueError,)),
    (exc.WrongPasswordError, {"address": BOB}, f"wrong password for the keystore of {BOB}", (ValueError,)),
    (exc.KeystoreExistsError, {"path": "/k.json"},
     "keystore file /k.json already exists (pass overwrite=True to replace it)", (FileExistsError,)),
    (exc.InvalidAuthorizationError, {"field": "value", "value": 0, "reason": "no"}, "invalid value 0: no",
     (ValueError,)),
    (exc.InvalidSignatureError, {"expected": PAYER, "recovered": BOB},
     f"signature recovers to {BOB}, expected signer {PAYER}", (ValueError,)),
    (exc.ExpiredAuthorizationError, {"valid_before": 5, "now": 6}, "authorization expired: valid before 5, now 6",
     (ValueError,)),
    (exc.NotYetValidAuthorizationError, {"valid_after": 5, "now": 4},
     "authorization not yet valid: valid after 5, now 4", (ValueError,)),
    (exc.WrongChainError, {"expected": 1, "actual": 2}, "payload is for chain 2, expected chain 1", (ValueError,)),
    (exc.WrongContractError, {"expected": BOB, "actual": TOKEN, "role": "token"},
     f"payload is for token {TOKEN!r}, expected {BOB!r}", (ValueError,)),
    (exc.MalformedPayloadError, {"reason": "bad"}, "malformed payload: bad", (ValueError,)),
    (exc.UnsupportedPayloadVersionError, {"version": "2", "supported": ("1",)},
     "unsupported payload version '2' (supported: 1)", (ValueError,)),
    (exc.TamperedPayloadError, {"kind": "PAY", "signer": PAYER, "recovered": BOB},
     f"PAY payload was tampered with: its signature recovers to {BOB}, stated signer {PAYER}", (ValueError,)),
    (exc.UntrustedRequestError, {"acquirer": b"BANKB".ljust(32, b"\0"), "signer": BOB},
     f"the payment request is not signed by bank BANKB's request signer (signed by {BOB}): not issued by that "
     "bank, or its amount or order were changed", (ValueError,)),
    (exc.QRCodeError, {"reason": "bad"}, "cannot render QR code: bad", (ValueError,)),
    (exc.WebhookSignatureError, {"reason": "stale"}, "stale", (ValueError,)),
    (exc.UnknownEventError, {"name": "Nope", "reason": "no such event"}, "Nope: no such event", (ValueError,)),
    (exc.ArtifactNotFoundError, {"name": "X", "directory": Path("/a")},
     "no artifact 'X' in /a (run `walletnet compile`)", (LookupError,)),
    # the chain
    (exc.NodeConnectionError, {"rpc_url": "http://n", "reason": "refused"},
     "cannot reach the node at http://n: refused", (ConnectionError,)),
    (exc.WrongNetworkError, {"expected": 1, "actual": 2, "rpc_url": "http://n"},
     "the node at http://n is chain 2, but the deployment is for chain 1", (exc.WrongChainError, ValueError)),
    (exc.ContractNotDeployedError, {"contract": "DigitalCash", "address": TOKEN, "chain_id": 7},
     f"no contract code for DigitalCash at {TOKEN} on chain 7", (exc.ChainError,)),
    (exc.DeploymentMismatchError, {"contract": "DigitalCash", "address": TOKEN, "reason": "other registry"},
     f"DigitalCash at {TOKEN} is not this deployment's: other registry", (exc.ChainError,)),
    (exc.DeploymentFileError, {"path": "d.json", "reason": "bad"}, "bad deployment file d.json: bad", (ValueError,)),
    (exc.InvalidArgumentError, {"field": "tier", "value": 9, "reason": "1-4"}, "invalid tier 9: 1-4", (ValueError,)),
    (exc.TransactionRejectedError, {"reason": "underpriced", "nonce": 3},
     "the node rejected the transaction (nonce 3): underpriced", (exc.ChainError,)),
    (exc.TransactionTimeoutError, {"tx_hash": "0xab", "timeout": 1.5}, "transaction 0xab was not mined within 1.5s",
     (TimeoutError,)),
    (exc.TransactionFailedError, {"tx_hash": "0xab", "receipt": {"blockNumber": 4}},
     "transaction 0xab reverted (block 4)", (RuntimeError,)),
    # contract reverts (the generated classes: test_contract_errors.py)
    (exc.ContractRevertError, {"name": "Odd", "arguments": {"n": 1}, "data": b"\x01"}, "Odd(n=1)", ()),
    (exc.UnknownRevert, {"data": b"\xde\xad"}, "Unknown(data='0xdead')", (exc.ContractRevertError,)),
    (exc.RevertReason, {"message": "no"}, "Error(message='no')", (exc.TypedRevert,)),
    (exc.Panic, {"code": 17}, "Panic(code=17)", (exc.TypedRevert,)),
    # the HTTP client
    (exc.ApiConnectionError, {"reason": "GET /v1/health: refused"}, "GET /v1/health: refused", (ConnectionError,)),
    (exc.ApiResponseError, {"reason": "not JSON"}, "not JSON", (exc.ApiError,)),
    (exc.ClientArgumentError, {"reason": "not an id"}, "not an id", (ValueError,)),
    (exc.SecretAlreadyShownError, {"method": "POST", "path": "/v1/merchants", "fields": ("api_key",),
                                    "result": {"api_key": "[redacted: shown once]"}},
     "POST /v1/merchants was done before; its secret(s) api_key were shown once, in an answer this client did not "
     "receive, and cannot be shown again: rotate them", (exc.ApiError,)),
    (exc.OperationTimeoutError, {"operation_id": "op_1", "status": "pending", "timeout": 2.0},
     "operation op_1 still pending after 2s", (TimeoutError,)),
    (exc.ApiProblemError, {"status": 418, "problem": {"type": "about:blank", "title": "teapot"}},
     "HTTP 418 about:blank: teapot", (exc.ApiError,)),
    *[(cls, {"status": 409, "problem": {"type": PROBLEM_BASE + str(cls.slug), "detail": "no"}},
       f"HTTP 409 {cls.slug}: no", (exc.ApiProblemError,)) for cls in PROBLEM_ERRORS.values()],
]


def test_every_exception_is_sampled() -> None:
    concrete = {getattr(exc, name) for name in exc.__all__} - {
        exc.WalletnetError, exc.AmountError, exc.KeystoreError, exc.AuthorizationError, exc.PayloadError,
        exc.ChainError, exc.TypedRevert, exc.ApiError}
    assert concrete == {cls for cls, _, _, _ in EXCEPTION_SAMPLES}


@pytest.mark.parametrize(("cls", "fields", "message", "builtins"), EXCEPTION_SAMPLES,
                         ids=[c.__name__ for c, _, _, _ in EXCEPTION_SAMPLES])
def test_exceptions_keep_fields_build_messages_and_pickle(
    cls: type[WalletnetError], fields: dict[str, Any], message: str, builtins: tuple[type[BaseException], ...]
) -> None:
    error = cls(**fields)
    assert str(error) == message
    assert {name: getattr(error, name) for name in fields} == fields
    assert isinstance(error, WalletnetError)
    assert all(isinstance(error, b) for b in builtins)
    revived = pickle.loads(pickle.dumps(error))
    assert (type(revived), str(revived), revived.args) == (cls, message, (message,))
    assert {name: getattr(revived, name) for name in fields} == fields
