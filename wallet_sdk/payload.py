"""Compact text payloads for QR codes: signed authorizations and merchant payment requests.

Format (version 1)::

    WALLETNET:1:<KIND>:<BODY>

``KIND`` is TRANSFER, RECEIVE, CANCEL, RELAY, HOLD, REDEEM, PAY (a signed authorization) or REQUEST (a
:class:`PaymentRequest`, signed by the merchant's acquiring bank). ``BODY`` is unpadded base32 (RFC 4648) of
a deterministic CBOR map (RFC 8949 core encoding: unsigned ints, byte and text strings, bignums, and integer
keys in ascending order). Why not base64 of JSON: every character of this format is in the QR alphanumeric set
(A-Z, 2-7, ':'), which a QR code stores in 5.5 bits per character where base64 needs byte mode's 8, and binary
fields are raw bytes rather than hex. A signed merchant payment is about 450 characters and a 69x69 QR code
(version 13-M); base64 of JSON takes about 750 characters and 105x105 (22-M). Any CBOR library still
reads the body. Decoding is case-insensitive, since scanners and URI handlers may lowercase the text.

Map keys: 0 chain id, 1 token (EIP-712 verifying contract), 2 token name (domain name), 3 the 65-byte
signature (a REQUEST's is the acquirer's, in the settlement contract's domain); each kind's own fields from 4
on (see ``_SIGNED_FIELDS`` and ``_REQUEST_FIELDS``). A PAY carries the acquirer's request signature (key 12)
when it answers a REQUEST, and none when the customer presents it at the point of sale (the acquirer adds it).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any, Final

from eth_typing import ChecksumAddress
from eth_utils.address import is_hex_address, to_checksum_address

from wallet_sdk.addresses import checksummed
from wallet_sdk.amount import Amount
from wallet_sdk.authorizations import (
    DOMAIN_VERSION,
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
    _address,
    _bytes32,
    _normalize,
    _repr,
    _uint,
    recover_signer,
    settlement_domain,
)
from wallet_sdk.exceptions import (
    AmountError,
    AuthorizationError,
    ExpiredAuthorizationError,
    InvalidAuthorizationError,
    InvalidSignatureError,
    MalformedPayloadError,
    NotYetValidAuthorizationError,
    TamperedPayloadError,
    UnsupportedPayloadVersionError,
    UntrustedRequestError,
    WrongChainError,
    WrongContractError,
)
from wallet_sdk.keys import WalletKey

__all__ = [
    "MAX_DESCRIPTION",
    "PAYLOAD_SCHEME",
    "PAYLOAD_VERSION",
    "Payload",
    "PaymentRequest",
    "RequestSignerCheck",
    "decode_payload",
    "encode_payload",
]

PAYLOAD_SCHEME: Final = "WALLETNET"
PAYLOAD_VERSION: Final = "1"
MAX_DESCRIPTION: Final = 140  # characters; a payment request's description is a label, not a document
_MAX_TEXT: Final = 4296  # the most characters a QR code holds (version 40-L, alphanumeric)

# --- payment requests ---


@dataclass(frozen=True, kw_only=True, repr=False)
class PaymentRequest:
    """A merchant's request, signed by its acquiring bank: "pay ``amount`` for order ``order_id`` of merchant
    ``merchant_id`` (of bank ``acquirer``) before ``expires_at``".

    ``signature`` is the acquirer's EIP-712 signature of :meth:`terms` in the settlement contract's domain; the
    settlement contract refuses a payment without it, so a request whose amount was edited cannot be paid. Who
    signed is :attr:`signer`; whether that key speaks for the acquirer is on chain (``Network.is_request_signer``,
    or ``decode_payload(..., is_request_signer=...)``). The description is a label and is not signed. The payer's
    app turns a request into a :class:`MerchantPayment` with :meth:`to_payment`, signs that, and the payer's
    signature binds acquirer, merchant, order and amount.
    """

    acquirer: bytes
    merchant_id: bytes
    order_id: bytes
    amount: Amount
    expires_at: int
    chain_id: int
    token: str
    settlement: str
    signature: bytes
    description: str = ""

    def __post_init__(self) -> None:
        _normalize(self, "acquirer", _bytes32("acquirer", self.acquirer))
        _normalize(self, "merchant_id", _bytes32("merchant_id", self.merchant_id))
        _normalize(self, "order_id", _bytes32("order_id", self.order_id))
        if not isinstance(self.amount, Amount) or self.amount.currency is None or not self.amount:
            raise InvalidAuthorizationError("amount", self.amount, "expected a positive Amount with a currency")
        _uint("expires_at", self.expires_at, positive=True)
        Domain.for_token("-", self.chain_id, self.token)  # validates chain id and token address
        _address("settlement", self.settlement)
        if not isinstance(self.description, str) or len(self.description) > MAX_DESCRIPTION:
            raise InvalidAuthorizationError("description", self.description,
                                            f"expected a str of at most {MAX_DESCRIPTION} characters")
        if not isinstance(self.signature, bytes) or len(self.signature) != 65:
            raise InvalidAuthorizationError("signature", self.signature, "expected the acquirer's 65-byte signature")

    def __repr__(self) -> str:
        return _repr(self)

    @classmethod
    def issue(cls, key: WalletKey, *, acquirer: bytes, merchant_id: bytes, order_id: bytes, amount: Amount,
              expires_at: int, chain_id: int, token: str, settlement: str, description: str = "") -> PaymentRequest:
        """A request signed by ``key``, the acquirer's request signer (or one of its operators)."""
        terms = PaymentRequestTerms(acquirer=acquirer, merchant_id=merchant_id, order_id=order_id,
                                    amount=amount.minor, expires_at=expires_at)
        return cls(acquirer=acquirer, merchant_id=merchant_id, order_id=order_id, amount=amount,
                   expires_at=expires_at, chain_id=chain_id, token=token, settlement=settlement,
                   signature=terms.sign(key, settlement_domain(chain_id, settlement)), description=description)

    def terms(self) -> PaymentRequestTerms:
        """What the acquirer signed."""
        return PaymentRequestTerms(acquirer=self.acquirer, merchant_id=self.merchant_id, order_id=self.order_id,
                                   amount=self.amount.minor, expires_at=self.expires_at)

    @property
    def signer(self) -> ChecksumAddress:
        """The address that signed the request (:class:`InvalidSignatureError` for a malformed signature)."""
        return self.terms().recover(self.signature, settlement_domain(self.chain_id, self.settlement))

    def to_payment(self, payer: str, *, valid_after: int = 0) -> MerchantPayment:
        """The payment ``payer`` signs to settle this request, valid until the request expires (the settlement
        contract checks the acquirer's signature with the payment's ``valid_before`` as the expiry: keep it)."""
        return MerchantPayment(acquirer=self.acquirer, merchant_id=self.merchant_id, order_id=self.order_id,
                               payer=payer, amount=self.amount.minor, valid_after=valid_after,
                               valid_before=self.expires_at, settlement=self.settlement,
                               request_signature=self.signature)

    def check_time(self, now: int | None = None) -> None:
        """Raise :class:`ExpiredAuthorizationError` once the request can no longer be paid."""
        moment = int(time.time()) if now is None else now
        if moment >= self.expires_at:
            raise ExpiredAuthorizationError(self.expires_at, moment)


Payload = SignedAuthorization[Authorization] | PaymentRequest
"""What a payload text carries."""

RequestSignerCheck = Callable[[bytes, str], bool]
"""``(acquirer bank id, signer address) -> bool``: does this key sign the acquirer's payment requests?
``Network.is_request_signer`` answers it from the chain."""

# --- field tables: (CBOR key, attribute, codec) ---

_CHAIN, _TOKEN, _NAME, _SIGNATURE = 0, 1, 2, 3

_SIGNED_FIELDS: Final[dict[str, tuple[type[Authorization], tuple[tuple[int, str, str], ...]]]] = {
    "TRANSFER": (TransferAuthorization, ((4, "from_", "address"), (5, "to", "address"), (6, "value", "uint"),
                                         (7, "valid_after", "uint"), (8, "valid_before", "uint"),
                                         (9, "nonce", "bytes32"))),
    "RECEIVE": (ReceiveAuthorization, ((4, "from_", "address"), (5, "to", "address"), (6, "value", "uint"),
                                       (7, "valid_after", "uint"), (8, "valid_before", "uint"),
                                       (9, "nonce", "bytes32"))),
    "CANCEL": (CancelAuthorization, ((4, "authorizer", "address"), (5, "nonce", "bytes32"))),
    "RELAY": (RelayedTransfer, ((4, "from_", "address"), (5, "to", "address"), (6, "value", "uint"),
                                (7, "valid_before", "uint"), (8, "nonce", "uint"))),
    "HOLD": (HoldAuthorization, ((4, "holder", "address"), (5, "value", "uint"), (6, "hold_id", "bytes32"),
                                 (7, "expires_at", "uint"))),
    "REDEEM": (Redemption, ((4, "holder", "address"), (5, "value", "uint"), (6, "valid_before", "uint"),
                            (7, "nonce", "bytes32"))),
    "PAY": (MerchantPayment, ((4, "merchant_id", "bytes32"), (5, "order_id", "bytes32"), (6, "payer", "address"),
                              (7, "amount", "uint"), (8, "valid_after", "uint"), (9, "valid_before", "uint"),
                              (10, "settlement", "address"), (11, "acquirer", "bytes32"),
                              (12, "request_signature", "signature"))),
}
_KIND_OF: Final = {cls: kind for kind, (cls, _) in _SIGNED_FIELDS.items()}
_OPTIONAL: Final = frozenset({"request_signature"})  # left out of the map when None
_REQUEST_FIELDS: Final = ((_CHAIN, "chain_id", "uint"), (_TOKEN, "token", "address"),
                          (_SIGNATURE, "signature", "signature"), (4, "merchant_id", "bytes32"),
                          (5, "order_id", "bytes32"), (6, "minor", "uint"), (7, "decimals", "uint"),
                          (8, "currency", "text"), (9, "expires_at", "uint"), (10, "description", "text"),
                          (11, "settlement", "address"), (12, "acquirer", "bytes32"))
_DOMAIN_FIELDS: Final = ((_CHAIN, "chain_id", "uint"), (_TOKEN, "token", "address"), (_NAME, "name", "text"),
                         (_SIGNATURE, "signature", "signature"))


def _to_wire(codec: str, value: Any) -> Any:
    return bytes.fromhex(value[2:]) if codec == "address" else value


def _from_wire(codec: str, attr: str, value: Any) -> Any:
    sizes = {"address": 20, "bytes32": 32, "signature": 65}
    if codec in sizes:
        if not isinstance(value, bytes) or len(value) != sizes[codec]:
            raise MalformedPayloadError(f"{attr} must be {sizes[codec]} bytes")
        return checksummed("0x" + value.hex()) if codec == "address" else value
    expected = int if codec == "uint" else str
    if not isinstance(value, expected):
        raise MalformedPayloadError(f"{attr} must be {'an unsigned integer' if codec == 'uint' else 'text'}")
    return value


# --- encoding ---


def encode_payload(item: Payload) -> str:
    """The QR text for a signed authorization or a payment request."""
    if isinstance(item, PaymentRequest):
        values = {f.name: getattr(item, f.name) for f in fields(item)} | {
            "minor": item.amount.minor, "decimals": item.amount.decimals, "currency": item.amount.currency}
        body = {key: _to_wire(codec, values[attr]) for key, attr, codec in _REQUEST_FIELDS}
        return _wrap("REQUEST", body)
    if not isinstance(item, SignedAuthorization):
        raise TypeError(f"expected a SignedAuthorization or PaymentRequest, not {type(item).__name__}")
    auth, domain = item.authorization, item.domain
    if type(auth) not in _KIND_OF:
        raise TypeError(f"no payload kind for {type(auth).__name__}")
    if domain.version != DOMAIN_VERSION:
        raise InvalidAuthorizationError("domain version", domain.version, f"payloads carry version {DOMAIN_VERSION}")
    kind = _KIND_OF[type(auth)]
    body = {_CHAIN: domain.chain_id, _TOKEN: _to_wire("address", domain.verifying_contract), _NAME: domain.name,
            _SIGNATURE: item.signature}
    body |= {key: _to_wire(codec, getattr(auth, attr)) for key, attr, codec in _SIGNED_FIELDS[kind][1]
             if getattr(auth, attr) is not None or attr not in _OPTIONAL}
    return _wrap(kind, body)


def _wrap(kind: str, body: dict[int, Any]) -> str:
    encoded = base64.b32encode(_cbor_encode(body)).decode("ascii").rstrip("=")
    return f"{PAYLOAD_SCHEME}:{PAYLOAD_VERSION}:{kind}:{encoded}"


# --- decoding ---

_BASE32 = re.compile(r"[A-Z2-7]*", re.ASCII)


def _unwrap(text: str) -> tuple[str, dict[int, Any]]:
    if not isinstance(text, str):
        raise MalformedPayloadError(f"expected text, not {type(text).__name__}")
    text = text.strip()
    if len(text) > _MAX_TEXT:
        raise MalformedPayloadError(f"longer than {_MAX_TEXT} characters")
    parts = text.upper().split(":", 3)
    if parts[0] != PAYLOAD_SCHEME or len(parts) < 2:
        raise MalformedPayloadError(f"not a {PAYLOAD_SCHEME}: payload")
    if parts[1] != PAYLOAD_VERSION:
        raise UnsupportedPayloadVersionError(text.split(":", 3)[1][:16], (PAYLOAD_VERSION,))
    if len(parts) != 4:
        raise MalformedPayloadError("expected WALLETNET:1:<kind>:<data>")
    kind, encoded = parts[2], parts[3]
    if kind != "REQUEST" and kind not in _SIGNED_FIELDS:
        raise MalformedPayloadError(f"unknown kind {kind[:16]!r}")
    if not encoded or not _BASE32.fullmatch(encoded) or len(encoded) % 8 in (1, 3, 6):
        raise MalformedPayloadError("data is not unpadded base32")
    try:
        raw = base64.b32decode(encoded + "=" * (-len(encoded) % 8))
    except binascii.Error:
        raise MalformedPayloadError("data is not unpadded base32") from None
    if base64.b32encode(raw).decode("ascii").rstrip("=") != encoded:  # stray bits in the last character
        raise MalformedPayloadError("data is not canonical base32")
    return kind, _cbor_decode(raw)


def _take(body: dict[int, Any], spec: tuple[tuple[int, str, str], ...]) -> dict[str, Any]:
    unknown = sorted(set(body) - {key for key, _, _ in spec})
    if unknown:
        raise MalformedPayloadError(f"unknown field key {unknown[0]}")
    missing = [attr for key, attr, _ in spec if key not in body and attr not in _OPTIONAL]
    if missing:
        raise MalformedPayloadError(f"missing field {missing[0]!r}")
    return {attr: _from_wire(codec, attr, body[key]) for key, attr, codec in spec if key in body}


def _checksummed(name: str, value: str) -> str:
    if not isinstance(value, str) or not is_hex_address(value):
        raise InvalidAuthorizationError(name, value, "expected an address")
    proper = checksummed(value)
    return proper if proper is not None else to_checksum_address(value)  # mixed case, checksum wrong: as before


def decode_payload(text: str, *, chain_id: int, contract: str, settlement: str | None = None,
                   token_name: str | None = None, now: int | None = None,
                   is_request_signer: RequestSignerCheck | None = None) -> Payload:
    """Decode and check a payload for use on ``chain_id`` with the token at ``contract``.

    Checks, in order, each with its own error: the format (:class:`MalformedPayloadError`,
    :class:`UnsupportedPayloadVersionError`); the chain (:class:`WrongChainError`); the token, and when
    given the settlement contract and the token name (:class:`WrongContractError`); that a signature
    recovers to its stated signer (:class:`TamperedPayloadError`; a REQUEST's, and a PAY's request signature,
    must be a valid signature); when ``is_request_signer`` is given, that the acquirer's key signed the
    request (:class:`UntrustedRequestError`: an edited amount recovers to some other address); that it has not
    expired at ``now`` (:class:`ExpiredAuthorizationError`). A signed authorization that is not valid *yet* is
    returned: it can be relayed later (``authorization.check_time()`` tells).
    """
    contract = _checksummed("contract", contract)
    if settlement is not None:
        settlement = _checksummed("settlement", settlement)
    kind, body = _unwrap(text)
    item: Payload
    actual_settlement: str | None
    try:
        if kind == "REQUEST":
            values = _take(body, _REQUEST_FIELDS)
            amount = Amount(values.pop("minor"), values.pop("decimals"), values.pop("currency"))
            item = PaymentRequest(amount=amount, **values)
            actual_chain, actual_token, actual_settlement = item.chain_id, item.token, item.settlement
        else:
            cls, spec = _SIGNED_FIELDS[kind]
            values = _take(body, _DOMAIN_FIELDS + spec)
            domain = Domain.for_token(values.pop("name"), values.pop("chain_id"), values.pop("token"))
            signature = values.pop("signature")
            item = SignedAuthorization.from_signature(cls(**values), domain, signature)
            actual_chain, actual_token = domain.chain_id, domain.verifying_contract
            actual_settlement = values.get("settlement")
    except (AuthorizationError, AmountError) as exc:  # well-formed CBOR, but not a valid authorization
        raise MalformedPayloadError(str(exc)) from None
    if actual_chain != chain_id:
        raise WrongChainError(chain_id, actual_chain)
    if actual_token != contract:
        raise WrongContractError(contract, actual_token, "token")
    if settlement is not None and actual_settlement is not None and actual_settlement != settlement:
        raise WrongContractError(settlement, actual_settlement, "settlement")
    if isinstance(item, PaymentRequest):
        _check_request(kind, item.terms(), item.signature, settlement_domain(item.chain_id, item.settlement),
                       is_request_signer)
        item.check_time(now)
        return item
    if token_name is not None and item.domain.name != token_name:
        raise WrongContractError(token_name, item.domain.name, "token name")
    try:
        recovered: str | None = recover_signer(item, item.domain)
    except InvalidSignatureError:
        recovered = None
    if recovered != item.signer:
        raise TamperedPayloadError(kind, item.signer, recovered)
    auth = item.authorization
    if isinstance(auth, MerchantPayment) and auth.request_signature is not None:
        _check_request(kind, auth.request_terms(), auth.request_signature,
                       settlement_domain(item.domain.chain_id, auth.settlement), is_request_signer)
    with contextlib.suppress(NotYetValidAuthorizationError):  # fine to carry: see the docstring
        item.authorization.check_time(now)
    return item


def _check_request(kind: str, terms: PaymentRequestTerms, signature: bytes, domain: Domain,
                   is_request_signer: RequestSignerCheck | None) -> None:
    """The acquirer's request signature is a valid signature and, if we can ask, by the acquirer's key."""
    try:
        signer = terms.recover(signature, domain)
    except InvalidSignatureError:
        raise TamperedPayloadError(f"{kind} request", "the acquirer", None) from None
    if is_request_signer is not None and not is_request_signer(terms.acquirer, signer):
        raise UntrustedRequestError(terms.acquirer, signer)


# --- a deterministic CBOR subset (RFC 8949 §4.2.1 core encoding) ---

_UINT, _BYTES, _TEXT, _MAP, _TAG = 0, 2, 3, 5, 6
_BIGNUM_TAG = 2
_U64: Final = 2**64


def _head(major: int, argument: int) -> bytes:
    if argument < 24:
        return bytes([major << 5 | argument])
    for info, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if argument < 1 << (8 * size):
            return bytes([major << 5 | info]) + argument.to_bytes(size, "big")
    raise AssertionError("argument does not fit in 64 bits")  # pragma: no cover - callers use bignums


def _cbor_encode(value: Any) -> bytes:
    if isinstance(value, bool):
        raise TypeError("no bools in payloads")
    if isinstance(value, int):
        if value < 0:
            raise TypeError("no negative integers in payloads")
        if value < _U64:
            return _head(_UINT, value)
        magnitude = value.to_bytes((value.bit_length() + 7) // 8, "big")
        return _head(_TAG, _BIGNUM_TAG) + _head(_BYTES, len(magnitude)) + magnitude
    if isinstance(value, bytes):
        return _head(_BYTES, len(value)) + value
    if isinstance(value, str):
        raw = value.encode("utf-8")
        return _head(_TEXT, len(raw)) + raw
    if isinstance(value, dict):
        return _head(_MAP, len(value)) + b"".join(
            _cbor_encode(key) + _cbor_encode(item) for key, item in sorted(value.items()))
    raise TypeError(f"cannot encode {type(value).__name__}")


class _Reader:
    """Reads only what :func:`_cbor_encode` writes, in its one canonical form; anything else is malformed."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def _bytes(self, count: int) -> bytes:
        if count > len(self.data) - self.pos:
            raise MalformedPayloadError("truncated data")
        chunk = self.data[self.pos:self.pos + count]
        self.pos += count
        return chunk

    def head(self) -> tuple[int, int]:
        initial = self._bytes(1)[0]
        major, info = initial >> 5, initial & 0x1F
        if info < 24:
            return major, info
        if info > 27:
            raise MalformedPayloadError("indefinite or reserved CBOR length")
        size = 1 << (info - 24)
        argument = int.from_bytes(self._bytes(size), "big")
        if argument < (24 if size == 1 else 1 << (4 * size)):
            raise MalformedPayloadError("non-canonical CBOR length")
        return major, argument

    def item(self, *, top: bool = False) -> Any:
        major, argument = self.head()
        if major == _UINT:
            return argument
        if major == _BYTES:
            return self._bytes(argument)
        if major == _TEXT:
            try:
                return self._bytes(argument).decode("utf-8")
            except UnicodeDecodeError:
                raise MalformedPayloadError("text is not UTF-8") from None
        if major == _TAG and argument == _BIGNUM_TAG:
            tag_major, length = self.head()
            magnitude = self._bytes(length) if tag_major == _BYTES else b""
            if tag_major != _BYTES or not magnitude or magnitude[0] == 0 or int.from_bytes(magnitude) < _U64:
                raise MalformedPayloadError("non-canonical CBOR bignum")
            return int.from_bytes(magnitude, "big")
        if major == _MAP and top:
            result: dict[int, Any] = {}
            for _ in range(argument):
                key = self.item()
                if not isinstance(key, int) or (result and key <= max(result)):
                    raise MalformedPayloadError("map keys must be ascending unsigned integers")
                result[key] = self.item()
            return result
        raise MalformedPayloadError(f"unexpected CBOR major type {major}")


def _cbor_decode(data: bytes) -> dict[int, Any]:
    reader = _Reader(data)
    body = reader.item(top=True)
    if not isinstance(body, dict):
        raise MalformedPayloadError("data is not a CBOR map")
    if reader.pos != len(data):
        raise MalformedPayloadError("trailing bytes after the CBOR map")
    return body

