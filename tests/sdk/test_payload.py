"""QR text payloads: exact format, round trips, and a distinct error for each way a payload can be wrong."""

from __future__ import annotations

import base64
import dataclasses
import re
from typing import Any

import pytest
from eth_utils.address import to_checksum_address
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
    order_id,
)
from wallet_sdk.exceptions import (
    ExpiredAuthorizationError,
    InvalidAuthorizationError,
    MalformedPayloadError,
    PayloadError,
    TamperedPayloadError,
    UnsupportedPayloadVersionError,
    UntrustedRequestError,
    WalletnetError,
    WrongChainError,
    WrongContractError,
)
from wallet_sdk.keys import WalletKey
from wallet_sdk.payload import PaymentRequest, decode_payload, encode_payload

KEY = WalletKey("0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
PAYER = KEY.address
ACQ_KEY = WalletKey("0x" + "5a" * 32)  # the acquirer's request signer
ACQ = b"BANKB".ljust(32, b"\0")
BOB = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
TOKEN = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
SETTLEMENT = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"
CHAIN = 31337
DOMAIN = Domain.for_token("Digital Cash", CHAIN, TOKEN)
NONCE = bytes(31) + b"\x01"
MID, OID = merchant_id("M-COFFEE-001"), order_id("ORDER-123")
DEADLINE = 2_000_000_000
NOW = 1_900_000_000
QR_ALPHANUMERIC = re.compile(r"[0-9A-Z $%*+\-./:]*")

TRANSFER = TransferAuthorization(from_=PAYER, to=BOB, value=1234, valid_before=DEADLINE, nonce=NONCE)
REQUEST = PaymentRequest.issue(ACQ_KEY, acquirer=ACQ, merchant_id=MID, order_id=OID, amount=Amount(1234, 2, "DCASH"),
                               expires_at=DEADLINE, chain_id=CHAIN, token=TOKEN, settlement=SETTLEMENT,
                               description="2 flat whites")
PAYMENT = MerchantPayment(acquirer=ACQ, merchant_id=MID, order_id=OID, payer=PAYER, amount=1234,
                          valid_before=DEADLINE, settlement=SETTLEMENT, request_signature=REQUEST.signature)


def by_acquirer(acquirer: bytes, signer: str) -> bool:
    """The acquirer's request signers, as Network.is_request_signer would say from the chain."""
    return acquirer == ACQ and signer == ACQ_KEY.address


def examples() -> list[Authorization]:
    return [
        TRANSFER,
        ReceiveAuthorization(from_=PAYER, to=BOB, value=1, valid_after=10, valid_before=DEADLINE, nonce=NONCE),
        CancelAuthorization(authorizer=PAYER, nonce=NONCE),
        RelayedTransfer(from_=PAYER, to=BOB, value=99, valid_before=DEADLINE, nonce=2**255 + 7),
        HoldAuthorization(holder=PAYER, value=20_000, hold_id=NONCE, expires_at=DEADLINE),
        Redemption(holder=PAYER, value=5_000, valid_before=DEADLINE, nonce=NONCE),
        PAYMENT,
    ]


def decode(text: str, **overrides: Any) -> Any:
    options: dict[str, Any] = {"chain_id": CHAIN, "contract": TOKEN, "now": NOW} | overrides
    return decode_payload(text, **options)


# An independent, minimal CBOR writer for building test bodies, valid and not.
def head(major: int, n: int) -> bytes:
    if n < 24:
        return bytes([major << 5 | n])
    size = next(s for s in (1, 2, 4, 8) if n < 256**s)
    return bytes([major << 5 | {1: 24, 2: 25, 4: 26, 8: 27}[size]]) + n.to_bytes(size, "big")


def cbor(value: Any) -> bytes:
    if isinstance(value, int):
        if value >= 2**64:
            return b"\xc2" + cbor(value.to_bytes((value.bit_length() + 7) // 8, "big"))
        return head(0, value)
    if isinstance(value, bytes):
        return head(2, len(value)) + value
    if isinstance(value, str):
        return head(3, len(value.encode())) + value.encode()
    assert isinstance(value, dict)
    return head(5, len(value)) + b"".join(cbor(k) + cbor(v) for k, v in sorted(value.items()))


def wrap(kind: str, body: bytes) -> str:
    return f"WALLETNET:1:{kind}:" + base64.b32encode(body).decode().rstrip("=")


def transfer_body(signature: bytes) -> dict[int, Any]:
    return {0: CHAIN, 1: bytes.fromhex(TOKEN[2:]), 2: "Digital Cash", 3: signature, 4: bytes.fromhex(PAYER[2:]),
            5: bytes.fromhex(BOB[2:]), 6: 1234, 7: 0, 8: DEADLINE, 9: NONCE}


# --- format ---


def test_exact_format_of_a_signed_transfer() -> None:
    signed = TRANSFER.sign(KEY, DOMAIN)
    text = encode_payload(signed)
    assert text == wrap("TRANSFER", cbor(transfer_body(signed.signature)))
    assert text.startswith("WALLETNET:1:TRANSFER:")
    assert len(text) == 341
    assert QR_ALPHANUMERIC.fullmatch(text)


def test_exact_format_of_a_payment_request() -> None:
    text = encode_payload(REQUEST)
    assert text == wrap("REQUEST", cbor({
        0: CHAIN, 1: bytes.fromhex(TOKEN[2:]), 3: REQUEST.signature, 4: MID, 5: OID, 6: 1234, 7: 2, 8: "DCASH",
        9: DEADLINE, 10: "2 flat whites", 11: bytes.fromhex(SETTLEMENT[2:]), 12: ACQ}))
    assert QR_ALPHANUMERIC.fullmatch(text)
    assert len(text) == 430


@pytest.mark.parametrize("auth", examples(), ids=lambda a: type(a).__name__)
def test_round_trip_each_kind(auth: Authorization) -> None:
    signed = auth.sign(KEY, DOMAIN)
    text = encode_payload(signed)
    assert QR_ALPHANUMERIC.fullmatch(text)
    decoded = decode(text)
    assert decoded == signed
    assert type(decoded.authorization) is type(auth)
    assert decode(text.lower()) == signed  # scanners may lowercase
    assert decode(f"  {text}\n") == signed


def test_round_trip_payment_request() -> None:
    decoded = decode(encode_payload(REQUEST))
    assert decoded == REQUEST
    assert decode(encode_payload(REQUEST).lower()) == REQUEST


def test_payment_request_becomes_a_payment() -> None:
    assert REQUEST.to_payment(PAYER) == PAYMENT
    assert REQUEST.to_payment(PAYER, valid_after=5) == dataclasses.replace(PAYMENT, valid_after=5)
    assert PAYMENT.request_terms() == REQUEST.terms()


def test_a_payment_request_is_signed_by_its_acquirer() -> None:
    """The SDK checks the acquirer's signature: an edited amount (or order) recovers to another key."""
    assert REQUEST.signer == ACQ_KEY.address
    assert decode(encode_payload(REQUEST), is_request_signer=by_acquirer) == REQUEST
    for changes in ({"amount": Amount(1, 2, "DCASH")}, {"order_id": order_id("ORDER-9")}, {"acquirer": bytes(32)},
                    {"expires_at": DEADLINE + 1}):
        edited = encode_payload(dataclasses.replace(REQUEST, **changes))
        decode(edited)  # a valid signature, by somebody: only the acquirer's keys tell
        with pytest.raises(UntrustedRequestError) as info:
            decode(edited, is_request_signer=by_acquirer)
        assert info.value.signer != ACQ_KEY.address
    with pytest.raises(TamperedPayloadError) as tampered:
        decode(encode_payload(dataclasses.replace(REQUEST, signature=bytes(65))))
    assert tampered.value.kind == "REQUEST request"
    stranger = PaymentRequest.issue(KEY, acquirer=ACQ, merchant_id=MID, order_id=OID, amount=REQUEST.amount,
                                    expires_at=DEADLINE, chain_id=CHAIN, token=TOKEN, settlement=SETTLEMENT)
    with pytest.raises(UntrustedRequestError) as untrusted:
        decode(encode_payload(stranger), is_request_signer=by_acquirer)
    assert (untrusted.value.acquirer, untrusted.value.signer) == (ACQ, PAYER)


def test_a_payment_carries_the_request_signature_it_answers() -> None:
    """A PAY answering a request carries the acquirer's signature; one presented at the POS carries none."""
    signed = PAYMENT.sign(KEY, DOMAIN)
    assert decode(encode_payload(signed), is_request_signer=by_acquirer) == signed
    at_the_pos = dataclasses.replace(PAYMENT, request_signature=None).sign(KEY, DOMAIN)
    text = encode_payload(at_the_pos)
    assert len(text) < len(encode_payload(signed))
    assert decode(text, is_request_signer=by_acquirer).authorization.request_signature is None
    # the payer re-signs a payment of 1 under the request of 12.34: the request signature does not cover it
    underpaid = dataclasses.replace(PAYMENT, amount=1).sign(KEY, DOMAIN)
    with pytest.raises(UntrustedRequestError):
        decode(encode_payload(underpaid), is_request_signer=by_acquirer)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"amount": Amount(1234, 2)}, "invalid amount Amount('12.34'): expected a positive Amount with a currency"),
        ({"amount": Amount(0, 2, "DCASH")},
         "invalid amount Amount('0.00 DCASH'): expected a positive Amount with a currency"),
        ({"amount": 1234}, "invalid amount 1234: expected a positive Amount with a currency"),
        ({"description": "x" * 141}, f"invalid description {'x' * 141!r}: expected a str of at most 140 characters"),
        ({"merchant_id": b"M"}, "invalid merchant_id b'M': expected 32 bytes"),
        ({"expires_at": 0}, f"invalid expires_at 0: must be from 1 to {2**256 - 1}"),
        ({"chain_id": 0}, f"invalid chain_id 0: must be from 1 to {2**256 - 1}"),
        ({"token": TOKEN.lower()},
         f"invalid verifying_contract {TOKEN.lower()!r}: expected an EIP-55 checksummed address"),
        ({"settlement": "0x" + "00" * 20}, f"invalid settlement '0x{'00' * 20}': must not be the zero address"),
    ],
)
def test_payment_request_validation(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidAuthorizationError) as info:
        dataclasses.replace(REQUEST, **changes)
    assert str(info.value) == message


# --- property: every valid payload survives the round trip ---

addresses = st.binary(min_size=20, max_size=20).filter(any).map(to_checksum_address)
uints = st.integers(min_value=0, max_value=2**256 - 1)
positive = st.integers(min_value=1, max_value=2**256 - 1)
bytes32 = st.binary(min_size=32, max_size=32)
windows = st.tuples(uints, uints).filter(lambda w: w[0] != w[1]).map(sorted)


@st.composite
def authorizations(draw: st.DrawFn) -> Authorization:
    kind = draw(st.sampled_from(["transfer", "receive", "cancel", "relay", "hold", "redeem", "pay"]))
    after, before = draw(windows)
    if kind in ("transfer", "receive"):
        cls = TransferAuthorization if kind == "transfer" else ReceiveAuthorization
        return cls(from_=PAYER, to=draw(addresses), value=draw(positive), valid_after=after, valid_before=before,
                   nonce=draw(bytes32))
    if kind == "cancel":
        return CancelAuthorization(authorizer=PAYER, nonce=draw(bytes32))
    if kind == "relay":
        return RelayedTransfer(from_=PAYER, to=draw(addresses), value=draw(positive), valid_before=draw(positive),
                               nonce=draw(uints))
    if kind == "hold":
        return HoldAuthorization(holder=PAYER, value=draw(positive), hold_id=draw(bytes32), expires_at=draw(positive))
    if kind == "redeem":
        return Redemption(holder=PAYER, value=draw(positive), valid_before=draw(positive), nonce=draw(bytes32))
    return MerchantPayment(acquirer=draw(bytes32), merchant_id=draw(bytes32), order_id=draw(bytes32), payer=PAYER,
                           amount=draw(positive), valid_after=after, valid_before=before, settlement=draw(addresses))


domains = st.builds(Domain.for_token, st.text(min_size=1, max_size=40), positive, addresses)

requests = st.builds(
    PaymentRequest.issue, st.just(ACQ_KEY),
    acquirer=bytes32, merchant_id=bytes32, order_id=bytes32,
    amount=st.builds(Amount, positive.filter(lambda m: m < 10**70), st.integers(0, 6),
                     st.from_regex(r"[A-Z][A-Za-z0-9._-]{0,15}", fullmatch=True)),
    expires_at=positive, chain_id=positive, token=addresses, settlement=addresses,
    description=st.text(max_size=140),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(auth=authorizations(), domain=domains)
def test_signed_payload_round_trip(auth: Authorization, domain: Domain) -> None:
    signed = auth.sign(KEY, domain)
    text = encode_payload(signed)
    assert QR_ALPHANUMERIC.fullmatch(text)
    assert decode_payload(text, chain_id=domain.chain_id, contract=domain.verifying_contract, now=0) == signed


@settings(max_examples=200, deadline=None)
@given(request=requests)
def test_payment_request_round_trip(request: PaymentRequest) -> None:
    text = encode_payload(request)
    assert QR_ALPHANUMERIC.fullmatch(text)
    assert decode_payload(text, chain_id=request.chain_id, contract=request.token, now=0) == request


# --- wrong chain, wrong contract, expired ---


def test_wrong_chain() -> None:
    for text in (encode_payload(TRANSFER.sign(KEY, DOMAIN)), encode_payload(REQUEST)):
        with pytest.raises(WrongChainError) as info:
            decode(text, chain_id=1)
        assert (info.value.expected, info.value.actual) == (1, CHAIN)
        assert str(info.value) == f"payload is for chain {CHAIN}, expected chain 1"


def test_wrong_contract() -> None:
    for text in (encode_payload(PAYMENT.sign(KEY, DOMAIN)), encode_payload(REQUEST)):
        with pytest.raises(WrongContractError) as info:
            decode(text, contract=BOB)
        assert (info.value.expected, info.value.actual, info.value.role) == (BOB, TOKEN, "token")
        assert str(info.value) == f"payload is for token {TOKEN!r}, expected {BOB!r}"
        assert decode(text, contract=TOKEN.lower()).__class__ in (SignedAuthorization, PaymentRequest)
        with pytest.raises(WrongContractError) as settlement:
            decode(text, settlement=BOB)
        assert (settlement.value.expected, settlement.value.actual, settlement.value.role) == (
            BOB, SETTLEMENT, "settlement")
        assert str(settlement.value) == f"payload is for settlement {SETTLEMENT!r}, expected {BOB!r}"


def test_wrong_token_name() -> None:
    text = encode_payload(TRANSFER.sign(KEY, DOMAIN))
    assert decode(text, token_name="Digital Cash").authorization == TRANSFER
    with pytest.raises(WrongContractError) as info:
        decode(text, token_name="Other Cash")
    assert str(info.value) == "payload is for token name 'Digital Cash', expected 'Other Cash'"


def test_expired() -> None:
    text = encode_payload(TRANSFER.sign(KEY, DOMAIN))
    assert decode(text, now=DEADLINE - 1).authorization == TRANSFER
    with pytest.raises(ExpiredAuthorizationError) as info:
        decode(text, now=DEADLINE)
    assert (info.value.valid_before, info.value.now) == (DEADLINE, DEADLINE)
    assert str(info.value) == f"authorization expired: valid before {DEADLINE}, now {DEADLINE}"
    with pytest.raises(ExpiredAuthorizationError):
        decode(encode_payload(REQUEST), now=DEADLINE)


def test_expired_against_the_clock() -> None:
    stale = dataclasses.replace(TRANSFER, valid_before=1)
    with pytest.raises(ExpiredAuthorizationError):
        decode_payload(encode_payload(stale.sign(KEY, DOMAIN)), chain_id=CHAIN, contract=TOKEN)


def test_not_yet_valid_is_returned() -> None:
    early = dataclasses.replace(TRANSFER, valid_after=NOW + 100)
    assert decode(encode_payload(early.sign(KEY, DOMAIN))).authorization == early


def test_cancel_never_expires() -> None:
    cancel = CancelAuthorization(authorizer=PAYER, nonce=NONCE)
    assert decode(encode_payload(cancel.sign(KEY, DOMAIN)), now=2**255).authorization == cancel


# --- tampering ---

CHANGES: dict[type[Authorization], dict[str, Any]] = {
    TransferAuthorization: {"to": SETTLEMENT, "value": 1235, "valid_after": 1, "valid_before": DEADLINE + 1,
                            "nonce": bytes(32)},
    ReceiveAuthorization: {"to": SETTLEMENT, "value": 2, "valid_after": 11, "valid_before": DEADLINE + 1,
                           "nonce": bytes(32)},
    CancelAuthorization: {"nonce": bytes(32)},
    RelayedTransfer: {"to": SETTLEMENT, "value": 100, "valid_before": DEADLINE + 1, "nonce": 8},
    HoldAuthorization: {"value": 20_001, "hold_id": bytes(32), "expires_at": DEADLINE + 1},
    Redemption: {"value": 5_001, "valid_before": DEADLINE + 1, "nonce": bytes(32)},
    MerchantPayment: {"merchant_id": merchant_id("M-OTHER"), "order_id": order_id("ORDER-124"), "amount": 1,
                      "valid_after": 1, "valid_before": DEADLINE + 1, "settlement": BOB, "acquirer": bytes(32)},
}


@pytest.mark.parametrize(
    ("auth", "field", "value"),
    [(auth, name, value) for auth in examples() for name, value in CHANGES[type(auth)].items()],
    ids=lambda x: type(x).__name__ if isinstance(x, Authorization) else str(x)[:12],
)
def test_any_changed_field_is_tampering(auth: Authorization, field: str, value: Any) -> None:
    signed = auth.sign(KEY, DOMAIN)
    forged = dataclasses.replace(signed, authorization=dataclasses.replace(auth, **{field: value}))
    kind = encode_payload(signed).split(":")[2]
    with pytest.raises(TamperedPayloadError) as info:
        decode(encode_payload(forged))
    assert info.value.kind == kind
    assert info.value.signer == PAYER
    assert info.value.recovered not in (None, PAYER)
    assert str(info.value) == (
        f"{kind} payload was tampered with: its signature recovers to {info.value.recovered}, stated signer {PAYER}")


def test_changed_signer_or_domain_name_is_tampering() -> None:
    signed = TRANSFER.sign(KEY, DOMAIN)
    forged = dataclasses.replace(signed, authorization=dataclasses.replace(TRANSFER, from_=BOB))
    with pytest.raises(TamperedPayloadError) as info:
        decode(encode_payload(forged))
    assert info.value.signer == BOB
    assert info.value.recovered not in (None, BOB)
    renamed = dataclasses.replace(signed, domain=Domain.for_token("Digital Cash 2", CHAIN, TOKEN))
    with pytest.raises(TamperedPayloadError):
        decode(encode_payload(renamed))


def test_invalid_signature_bytes_are_tampering() -> None:
    signed = TRANSFER.sign(KEY, DOMAIN)
    for forged in (dataclasses.replace(signed, v=30), dataclasses.replace(signed, r=bytes(32))):
        with pytest.raises(TamperedPayloadError) as info:
            decode(encode_payload(forged))
        assert info.value.recovered is None
        assert str(info.value) == (
            f"TRANSFER payload was tampered with: its signature is not a valid signature, stated signer {PAYER}")


# --- malformed and unsupported ---

GOOD = transfer_body(TRANSFER.sign(KEY, DOMAIN).signature)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "not a WALLETNET: payload"),
        ("hello", "not a WALLETNET: payload"),
        ("bitcoin:1:PAY:AAAA", "not a WALLETNET: payload"),
        ("WALLETNET:1", "expected WALLETNET:1:<kind>:<data>"),
        ("WALLETNET:1:PAY", "expected WALLETNET:1:<kind>:<data>"),
        ("WALLETNET:1:STEAL:AAAA", "unknown kind 'STEAL'"),
        ("WALLETNET:1:PAY:", "data is not unpadded base32"),
        ("WALLETNET:1:PAY:AB!D", "data is not unpadded base32"),
        ("WALLETNET:1:PAY:AAAA====", "data is not unpadded base32"),
        ("WALLETNET:1:PAY:A", "data is not unpadded base32"),
        ("WALLETNET:1:PAY:AAA", "data is not unpadded base32"),
        ("WALLETNET:1:PAY:AB", "data is not canonical base32"),  # stray bits in the last character
        ("WALLETNET:1:PAY:" + "A" * 5000, "longer than 4296 characters"),
        (wrap("TRANSFER", b""), "data is not unpadded base32"),
        (wrap("TRANSFER", b"\x01"), "data is not a CBOR map"),
        (wrap("TRANSFER", cbor(GOOD) + b"\x00"), "trailing bytes after the CBOR map"),
        (wrap("TRANSFER", cbor(GOOD)[:-3]), "truncated data"),
        (wrap("TRANSFER", cbor({k: v for k, v in GOOD.items() if k != 6})), "missing field 'value'"),
        (wrap("TRANSFER", cbor({k: v for k, v in GOOD.items() if k != 3})), "missing field 'signature'"),
        (wrap("TRANSFER", cbor(GOOD | {42: 1})), "unknown field key 42"),
        (wrap("TRANSFER", cbor(GOOD | {6: "1234"})), "value must be an unsigned integer"),
        (wrap("TRANSFER", cbor(GOOD | {5: BOB})), "to must be 20 bytes"),
        (wrap("TRANSFER", cbor(GOOD | {9: NONCE[1:]})), "nonce must be 32 bytes"),
        (wrap("TRANSFER", cbor(GOOD | {3: b"\x00" * 64})), "signature must be 65 bytes"),
        (wrap("TRANSFER", cbor(GOOD | {2: b"Digital Cash"})), "name must be text"),
        (wrap("TRANSFER", cbor(GOOD | {6: 0})), f"invalid value 0: must be from 1 to {2**256 - 1}"),
        (wrap("TRANSFER", cbor(GOOD | {5: bytes(20)})), f"invalid to '0x{'00' * 20}': must not be the zero address"),
        (wrap("TRANSFER", cbor(GOOD | {7: DEADLINE})), f"invalid valid_before {DEADLINE}: must be after valid_after "
                                                        f"({DEADLINE})"),
        (wrap("TRANSFER", cbor(GOOD | {0: 0})), f"invalid chain_id 0: must be from 1 to {2**256 - 1}"),
        (wrap("CANCEL", cbor(GOOD)), "unknown field key 6"),  # a transfer's body under another kind
        # CBOR that is valid but not in the one canonical form this format allows
        (wrap("TRANSFER", b"\xa1\x18\x00\x00"), "non-canonical CBOR length"),
        (wrap("TRANSFER", b"\xa1\x00\x19\x00\x05"), "non-canonical CBOR length"),
        (wrap("TRANSFER", b"\xbf\x00\x00\xff"), "indefinite or reserved CBOR length"),
        (wrap("TRANSFER", b"\xa2\x01\x00\x00\x00"), "map keys must be ascending unsigned integers"),
        (wrap("TRANSFER", b"\xa2\x00\x00\x00\x00"), "map keys must be ascending unsigned integers"),
        (wrap("TRANSFER", b"\xa1\x61\x61\x00"), "map keys must be ascending unsigned integers"),
        (wrap("TRANSFER", b"\xa1\x00\x20"), "unexpected CBOR major type 1"),  # negative integer
        (wrap("TRANSFER", b"\xa1\x00\xf9\x3c\x00"), "unexpected CBOR major type 7"),  # half-precision 1.0
        (wrap("TRANSFER", b"\xa1\x00\xf5"), "unexpected CBOR major type 7"),  # true
        (wrap("TRANSFER", b"\xa1\x00\xa0"), "unexpected CBOR major type 5"),  # nested map
        (wrap("TRANSFER", b"\xa1\x00\x80"), "unexpected CBOR major type 4"),  # array
        (wrap("TRANSFER", b"\xa1\x00\xc1\x00"), "unexpected CBOR major type 6"),  # a tag other than bignum
        (wrap("TRANSFER", b"\xa1\x00\xc2\x41\x05"), "non-canonical CBOR bignum"),  # bignum below 2**64
        (wrap("TRANSFER", b"\xa1\x00\xc2\x49\x00" + b"\x01" * 8), "non-canonical CBOR bignum"),  # leading zero
        (wrap("TRANSFER", b"\xa1\x00\xc2\x00"), "non-canonical CBOR bignum"),
        (wrap("TRANSFER", b"\xa1\x00\x62\xc3\x28"), "text is not UTF-8"),
        (wrap("TRANSFER", b"\xa1\x00\x5b" + b"\xff" * 8), "truncated data"),
    ],
)
def test_malformed(text: str, reason: str) -> None:
    with pytest.raises(MalformedPayloadError) as info:
        decode(text)
    assert info.value.reason == reason
    assert str(info.value) == f"malformed payload: {reason}"
    assert isinstance(info.value, PayloadError)
    assert isinstance(info.value, WalletnetError)
    assert isinstance(info.value, ValueError)


def test_bignums_decode() -> None:
    relay = RelayedTransfer(from_=PAYER, to=BOB, value=2**64, valid_before=2**256 - 1, nonce=2**64 - 1)
    signed = relay.sign(KEY, DOMAIN)
    assert decode(encode_payload(signed)) == signed


def test_not_text_is_malformed() -> None:
    with pytest.raises(MalformedPayloadError) as info:
        decode(b"WALLETNET:1:PAY:AAAA")  # type: ignore[arg-type]
    assert info.value.reason == "expected text, not bytes"


@pytest.mark.parametrize(("text", "version"), [("WALLETNET:2:PAY:AAAA", "2"), ("walletnet:99", "99"),
                                               ("WALLETNET:1b:X", "1b"), ("WALLETNET::", "")])
def test_unsupported_version(text: str, version: str) -> None:
    with pytest.raises(UnsupportedPayloadVersionError) as info:
        decode(text)
    assert (info.value.version, info.value.supported) == (version, ("1",))
    assert str(info.value) == f"unsupported payload version {version!r} (supported: 1)"


def test_encode_refuses_what_it_cannot_carry() -> None:
    with pytest.raises(TypeError, match=r"^expected a SignedAuthorization or PaymentRequest, not str$"):
        encode_payload("WALLETNET")  # type: ignore[arg-type]
    v2 = Domain(name="Digital Cash", version="2", chain_id=CHAIN, verifying_contract=TOKEN)
    with pytest.raises(InvalidAuthorizationError) as info:
        encode_payload(TRANSFER.sign(KEY, v2))
    assert str(info.value) == "invalid domain version '2': payloads carry version 1"


def test_decode_needs_a_real_contract_address() -> None:
    with pytest.raises(InvalidAuthorizationError) as info:
        decode(encode_payload(REQUEST), contract="token")
    assert str(info.value) == "invalid contract 'token': expected an address"
