"""EIP-712 authorizations that wallet holders sign and banks relay, exactly as the contracts verify them.

Each class is one signed type of ``contracts/interfaces/IDigitalCash.sol`` (``MerchantPayment`` is the
ReceiveWithAuthorization that IMerchantSettlement expects). The domain is the token's: name = token name,
version "1", chainId, verifyingContract = the DigitalCash proxy. The one exception is what an acquiring bank
signs for each order it asks to be paid, :class:`PaymentRequestTerms`, in the settlement contract's domain
(:func:`settlement_domain`). Everything is validated when built, so nothing malformed is ever signed:

>>> key = WalletKey.from_private_key("0x" + "11" * 32)
>>> domain = Domain.for_token("Digital Cash", 31337, "0x5FbDB2315678afecb367f032d93F642f64180aa3")
>>> auth = TransferAuthorization(from_=key.address, to="0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
...                              value=1234, valid_before=2_000_000_000, nonce=bytes(32))
>>> verify(auth.sign(key, domain), domain) == key.address
True

Ids: a merchant id or order id is its UTF-8 text right-padded with zero bytes to 32 bytes (at most 32
bytes, no NUL), the same rule as bank ids, so ids stay readable in events and block explorers
(:func:`id_to_text` reads one back). Hash longer references yourself (``keccak(text)``) and pass bytes.
"""

from __future__ import annotations

import functools
import keyword
import re
import secrets
import time
from dataclasses import dataclass, field, fields, replace
from typing import Any, ClassVar, Final, Generic, Self, TypeVar, cast

import coincurve
from eth_typing import ChecksumAddress
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from wallet_sdk.addresses import checksummed
from wallet_sdk.exceptions import (
    ExpiredAuthorizationError,
    InvalidAuthorizationError,
    InvalidSignatureError,
    NotYetValidAuthorizationError,
)
from wallet_sdk.keys import SECP256K1_N, WalletKey

__all__ = [
    "DOMAIN_VERSION",
    "Authorization",
    "CancelAuthorization",
    "Domain",
    "HoldAuthorization",
    "MerchantPayment",
    "PaymentRequestTerms",
    "ReceiveAuthorization",
    "Redemption",
    "RelayedTransfer",
    "SignedAuthorization",
    "TransferAuthorization",
    "id_to_text",
    "merchant_id",
    "new_nonce",
    "order_id",
    "payment_nonce",
    "recover_signer",
    "relay_nonce",
    "settlement_domain",
    "split_signature",
    "verify",
]

DOMAIN_VERSION: Final = "1"
SETTLEMENT_DOMAIN_NAME: Final = "MerchantSettlement"  # the EIP-712 domain name of payment requests
_UINT256_MAX: Final = 2**256 - 1
_ZERO_ADDRESS: Final = "0x" + "00" * 20
_DOMAIN_FIELDS: Final = (("name", "string"), ("version", "string"), ("chainId", "uint256"),
                         ("verifyingContract", "address"))
_EIP3009_FIELDS: Final = (("from", "address"), ("to", "address"), ("value", "uint256"), ("validAfter", "uint256"),
                          ("validBefore", "uint256"), ("nonce", "bytes32"))

# --- ids and nonces ---


def new_nonce() -> bytes:
    """A random bytes32 nonce (EIP-3009 nonce, hold id, redemption nonce): unguessable and never reused."""
    return secrets.token_bytes(32)


def relay_nonce(word: int, bit: int) -> int:
    """A RelayedTransfer nonce in the contract's bitmap: bit ``bit`` (0-255) of word ``word``.

    Using the 256 bits of one word before moving to the next keeps relays cheap and lets a wallet spend
    nonces in any order.
    """
    _uint("word", word, limit=2**248 - 1)
    _uint("bit", bit, limit=255)
    return word << 8 | bit


def _text_id(what: str, text: str) -> bytes:
    if not isinstance(text, str):
        raise InvalidAuthorizationError(what, text, "expected a str")
    raw = text.encode("utf-8")
    if not 1 <= len(raw) <= 32 or b"\0" in raw:
        raise InvalidAuthorizationError(what, text, "must be 1-32 bytes of UTF-8 without NUL")
    return raw.ljust(32, b"\0")


def order_id(text: str) -> bytes:
    """The bytes32 id of an order reference: ``order_id("ORDER-123") == b"ORDER-123" + bytes(23)``."""
    return _text_id("order id", text)


def merchant_id(text: str) -> bytes:
    """The bytes32 id of a merchant code: UTF-8, right-padded with zeros (as :func:`order_id`)."""
    return _text_id("merchant id", text)


def id_to_text(value: bytes) -> str:
    """Read back an id made by :func:`order_id`/:func:`merchant_id`; any other bytes32 comes back as 0x-hex."""
    raw = _bytes32("id", value)
    text = raw.rstrip(b"\0")
    if text and b"\0" not in text:
        try:
            return text.decode("utf-8")
        except UnicodeDecodeError:
            pass
    return "0x" + raw.hex()


def payment_nonce(acquirer: bytes, merchant_id: bytes, order_id: bytes) -> bytes:
    """keccak256(abi.encode(acquirer, merchantId, orderId)): the EIP-3009 nonce that binds a payment to one order
    of one merchant of one acquiring bank (merchant ids are per acquirer)."""
    # abi.encode of bytes32 values is their plain concatenation.
    return keccak(_bytes32("acquirer", acquirer) + _bytes32("merchant_id", merchant_id)
                  + _bytes32("order_id", order_id))


# --- validation ---


def _uint(name: str, value: object, *, positive: bool = False, limit: int = _UINT256_MAX) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidAuthorizationError(name, value, "expected an int")
    if not (1 if positive else 0) <= value <= limit:
        raise InvalidAuthorizationError(name, value, f"must be from {1 if positive else 0} to {limit}")
    return value


def _address(name: str, value: object) -> ChecksumAddress:
    if not isinstance(value, str) or checksummed(value) != value:
        raise InvalidAuthorizationError(name, value, "expected an EIP-55 checksummed address")
    if value == _ZERO_ADDRESS:
        raise InvalidAuthorizationError(name, value, "must not be the zero address")
    return cast(ChecksumAddress, value)


def _bytes32(name: str, value: object) -> bytes:
    if not isinstance(value, bytes) or len(value) != 32:
        raise InvalidAuthorizationError(name, value, "expected 32 bytes")
    return bytes(value)  # HexBytes and other subclasses become plain bytes, so equality is plain too


def _repr(obj: Any) -> str:
    """Dataclass repr with bytes as 0x-hex, which is how people read ids, nonces and signatures."""
    shown = ", ".join(f"{f.name}={_json_value(getattr(obj, f.name))!r}" for f in fields(obj))
    return f"{type(obj).__name__}({shown})"


def _normalize(obj: object, attr: str, value: object) -> None:
    object.__setattr__(obj, attr, value)  # frozen dataclass: the one sanctioned write, in __post_init__


def _attribute(name: str) -> str:
    """The Python attribute of an EIP-712 field: snake case, a keyword with a trailing underscore."""
    snake = re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()
    return snake + "_" if keyword.iskeyword(snake) else snake


def _check_window(valid_after: int, valid_before: int) -> None:
    if valid_before <= valid_after:
        raise InvalidAuthorizationError("valid_before", valid_before, f"must be after valid_after ({valid_after})")


class _Struct:
    """An EIP-712 struct kept as a frozen dataclass: ``FIELDS`` names its fields (EIP-712 names and types, in the
    contract's order), each the attribute of that name in snake case (``from`` is ``from_``, ``validBefore``
    ``valid_before``). Constructing one checks each field as its type says (an EIP-55 address other than zero,
    an int of uint256, 32 bytes, made plain bytes); ``POSITIVE`` names the uint256 attributes that must not be
    0. :meth:`message` is the fields by their EIP-712 names."""

    PRIMARY_TYPE: ClassVar[str]
    FIELDS: ClassVar[tuple[tuple[str, str], ...]] = ()
    POSITIVE: ClassVar[frozenset[str]] = frozenset()
    _ATTRIBUTES: ClassVar[tuple[tuple[str, str, str], ...]] = ()  # (EIP-712 name, type, attribute)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._ATTRIBUTES = tuple((name, kind, _attribute(name)) for name, kind in cls.FIELDS)

    def __post_init__(self) -> None:
        for _, kind, attr in self._ATTRIBUTES:
            value = getattr(self, attr)
            if kind == "address":
                _address(attr, value)
            elif kind == "bytes32":
                _normalize(self, attr, _bytes32(attr, value))
            else:  # uint256
                _uint(attr, value, positive=attr in self.POSITIVE)

    def message(self) -> dict[str, Any]:
        """The EIP-712 message: field name -> value (addresses as checksummed str, bytes32 as bytes)."""
        return {name: getattr(self, attr) for name, _, attr in self._ATTRIBUTES}

    def __repr__(self) -> str:
        return _repr(self)


# --- EIP-712 encoding (all walletnet types are flat structs of atomic fields) ---


def _encode_type(primary: str, fields: tuple[tuple[str, str], ...]) -> str:
    return f"{primary}({','.join(f'{kind} {name}' for name, kind in fields)})"


def _encode_value(kind: str, value: Any) -> bytes:
    if kind == "address":
        return bytes(12) + bytes.fromhex(value[2:])
    if kind == "uint256":
        return int(value).to_bytes(32, "big")
    if kind == "bytes32":
        return bytes(value)
    if kind == "string":
        return keccak(value.encode("utf-8"))
    raise AssertionError(f"unsupported EIP-712 type {kind}")  # pragma: no cover - the types are fixed here


@functools.cache
def _type_hash(primary: str, fields: tuple[tuple[str, str], ...]) -> bytes:
    return keccak(_encode_type(primary, fields).encode())


def _hash_struct(primary: str, fields: tuple[tuple[str, str], ...], values: dict[str, Any]) -> bytes:
    encoded = b"".join(_encode_value(kind, values[name]) for name, kind in fields)
    return keccak(_type_hash(primary, fields) + encoded)


def _json_value(value: Any) -> Any:
    return "0x" + value.hex() if isinstance(value, bytes) else value


def _typed_data(primary: str, fields: tuple[tuple[str, str], ...], domain: Domain,
                message: dict[str, Any]) -> dict[str, Any]:
    """A full EIP-712 message, JSON-ready (bytes32 as 0x-hex), for eth_signTypedData_v4 or eth_account."""
    return {
        "types": {
            "EIP712Domain": [{"name": n, "type": t} for n, t in _DOMAIN_FIELDS],
            primary: [{"name": n, "type": t} for n, t in fields],
        },
        "primaryType": primary,
        "domain": domain.typed_data(),
        "message": {name: _json_value(value) for name, value in message.items()},
    }


def split_signature(signature: bytes) -> tuple[int, bytes, bytes]:
    """``(v, r, s)`` of a 65-byte r ‖ s ‖ v signature (v as 27/28, or 0/1 as some signers give it)."""
    if not isinstance(signature, bytes) or len(signature) != 65:
        raise InvalidAuthorizationError("signature", signature, "expected 65 bytes")
    v = signature[64] + 27 if signature[64] < 2 else signature[64]
    return v, signature[:32], signature[32:64]


def _recover(digest: bytes, v: int, r: bytes, s: bytes) -> ChecksumAddress | None:
    """The address that signed ``digest`` under OpenZeppelin ECDSA's rules (v 27/28, 0 < r < n,
    0 < s <= n/2); None for a signature the contract would reject."""
    r_int, s_int = int.from_bytes(r, "big"), int.from_bytes(s, "big")
    if v not in (27, 28) or not 0 < r_int < SECP256K1_N or not 0 < s_int <= SECP256K1_N // 2:
        return None
    try:  # libsecp256k1 directly: eth-keys' objects around it cost more than the recovery itself
        public = coincurve.PublicKey.from_signature_and_message(r + s + bytes([v - 27]), digest, hasher=None)
    except ValueError:
        return None
    return _address_of(public.format(compressed=False)[1:])


@functools.lru_cache(maxsize=4096)
def _address_of(public_key: bytes) -> ChecksumAddress:
    """The address of a 64-byte public key (remembered: a wallet signs many payments, and its keccak and EIP-55
    checksum cost as much as the recovery)."""
    return to_checksum_address(keccak(public_key)[12:])


@dataclass(frozen=True, kw_only=True)
class Domain:
    """An EIP-712 domain. walletnet signs everything in the token's: use :meth:`for_token`."""

    name: str
    version: str
    chain_id: int
    verifying_contract: str

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise InvalidAuthorizationError("domain name", self.name, "expected a non-empty str")
        if not isinstance(self.version, str) or not self.version:
            raise InvalidAuthorizationError("domain version", self.version, "expected a non-empty str")
        _uint("chain_id", self.chain_id, positive=True)
        _address("verifying_contract", self.verifying_contract)

    @classmethod
    def for_token(cls, name: str, chain_id: int, address: str) -> Domain:
        """The domain of the DigitalCash token ``name`` at proxy ``address`` on ``chain_id`` (version "1")."""
        return cls(name=name, version=DOMAIN_VERSION, chain_id=chain_id, verifying_contract=address)

    def typed_data(self) -> dict[str, Any]:
        """The ``domain`` member of an EIP-712 message."""
        return {"name": self.name, "version": self.version, "chainId": self.chain_id,
                "verifyingContract": self.verifying_contract}

    def separator(self) -> bytes:
        """The domain separator, as the contract's ``DOMAIN_SEPARATOR()`` returns it (computed once per domain:
        a node checks every payment's signature in the same one)."""
        return _separator(self)


@functools.lru_cache(maxsize=64)
def _separator(domain: Domain) -> bytes:
    return _hash_struct("EIP712Domain", _DOMAIN_FIELDS, domain.typed_data())


# --- authorizations ---


class Authorization(_Struct):
    """What every signed type shares: EIP-712 encoding, signing, and its validity window.

    Subclasses set ``PRIMARY_TYPE``, ``FIELDS`` and ``POSITIVE`` (see :class:`_Struct`: the fields are checked
    and the message made from them), ``SIGNER`` (the field naming who must sign) and ``WINDOW``.
    """

    SIGNER: ClassVar[str]
    WINDOW: ClassVar[tuple[str | None, str | None]] = (None, None)
    """The attributes the contract checks the time against, (valid after, valid before); None: it checks none."""

    def _window(self) -> tuple[int | None, int | None]:
        """(valid after, valid before) as the contract checks them; None where it checks nothing."""
        after, before = (None if attr is None else int(getattr(self, attr)) for attr in self.WINDOW)
        return after, before

    @classmethod
    def encode_type(cls) -> str:
        """The EIP-712 type string, e.g. ``Hold(address holder,uint256 value,bytes32 holdId,uint256 expiresAt)``."""
        return _encode_type(cls.PRIMARY_TYPE, cls.FIELDS)

    @classmethod
    def type_hash(cls) -> bytes:
        """keccak256 of :meth:`encode_type`: the contract's ``*_TYPEHASH`` constant."""
        return _type_hash(cls.PRIMARY_TYPE, cls.FIELDS)

    @property
    def signer(self) -> ChecksumAddress:
        """Who must sign: ``from``, ``holder``, ``authorizer`` or the payer."""
        return cast(ChecksumAddress, self.message()[self.SIGNER])

    def struct_hash(self) -> bytes:
        return _hash_struct(self.PRIMARY_TYPE, self.FIELDS, self.message())

    def typed_data(self, domain: Domain) -> dict[str, Any]:
        """The full EIP-712 message, JSON-ready (bytes32 as 0x-hex), for eth_signTypedData_v4 or eth_account."""
        return _typed_data(self.PRIMARY_TYPE, self.FIELDS, domain, self.message())

    def digest(self, domain: Domain) -> bytes:
        """keccak256("\\x19\\x01" ‖ domainSeparator ‖ structHash): what the signature signs."""
        return keccak(b"\x19\x01" + domain.separator() + self.struct_hash())

    def sign(self, key: WalletKey, domain: Domain) -> SignedAuthorization[Self]:
        """Sign with ``key``, which must be the authorization's :attr:`signer` (anything else would revert)."""
        if key.address != self.signer:
            raise InvalidAuthorizationError(self.SIGNER, self.signer, f"the signing key is {key.address}")
        v, r, s = key.sign_digest(self.digest(domain))
        return SignedAuthorization(authorization=self, domain=domain, v=v, r=r, s=s)

    def check_time(self, now: int | None = None) -> None:
        """Raise if the contract would refuse it at ``now`` (Unix seconds; default: the clock)."""
        moment = int(time.time()) if now is None else now
        valid_after, valid_before = self._window()
        if valid_before is not None and moment >= valid_before:
            raise ExpiredAuthorizationError(valid_before, moment)
        if valid_after is not None and moment <= valid_after:
            raise NotYetValidAuthorizationError(valid_after, moment)


@dataclass(frozen=True, kw_only=True, repr=False)
class _Eip3009Fields(Authorization):
    from_: str
    to: str
    value: int
    valid_before: int
    valid_after: int = 0
    nonce: bytes = field(default_factory=new_nonce)

    FIELDS: ClassVar[tuple[tuple[str, str], ...]] = _EIP3009_FIELDS
    POSITIVE: ClassVar[frozenset[str]] = frozenset({"value"})
    SIGNER: ClassVar[str] = "from"
    WINDOW: ClassVar[tuple[str | None, str | None]] = ("valid_after", "valid_before")

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_window(self.valid_after, self.valid_before)


@dataclass(frozen=True, kw_only=True, repr=False)
class TransferAuthorization(_Eip3009Fields):
    """EIP-3009 TransferWithAuthorization: ``from_`` lets anyone relay a transfer of ``value`` to ``to``."""

    PRIMARY_TYPE: ClassVar[str] = "TransferWithAuthorization"


@dataclass(frozen=True, kw_only=True, repr=False)
class ReceiveAuthorization(_Eip3009Fields):
    """EIP-3009 ReceiveWithAuthorization: like a transfer, but only the payee ``to`` may submit it."""

    PRIMARY_TYPE: ClassVar[str] = "ReceiveWithAuthorization"


@dataclass(frozen=True, kw_only=True, repr=False)
class CancelAuthorization(Authorization):
    """EIP-3009 CancelAuthorization: burns an unused ``nonce`` of ``authorizer`` so it can never be used."""

    authorizer: str
    nonce: bytes

    PRIMARY_TYPE: ClassVar[str] = "CancelAuthorization"
    FIELDS: ClassVar[tuple[tuple[str, str], ...]] = (("authorizer", "address"), ("nonce", "bytes32"))
    SIGNER: ClassVar[str] = "authorizer"


@dataclass(frozen=True, kw_only=True, repr=False)
class RelayedTransfer(Authorization):
    """A transfer for the bank relay batch (``relayTransfers``), with an unordered uint256 bitmap nonce."""

    from_: str
    to: str
    value: int
    valid_before: int
    nonce: int = field(default_factory=lambda: secrets.randbits(256))

    PRIMARY_TYPE: ClassVar[str] = "RelayedTransfer"
    FIELDS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("from", "address"), ("to", "address"), ("value", "uint256"), ("validBefore", "uint256"), ("nonce", "uint256"))
    POSITIVE: ClassVar[frozenset[str]] = frozenset({"value", "valid_before"})
    SIGNER: ClassVar[str] = "from"
    WINDOW: ClassVar[tuple[str | None, str | None]] = (None, "valid_before")


_HOLDER_FIELDS: Final = (("holder", "address"), ("value", "uint256"))  # the EIP-712 fields of _HolderAuthorization


@dataclass(frozen=True, kw_only=True, repr=False)
class _HolderAuthorization(Authorization):
    """What a holder signs about ``value`` of their own wallet, valid until the attribute the subclass names
    with the class keyword ``deadline`` (``class Hold(_HolderAuthorization, deadline="expires_at")``): the
    holder signs, and both ``value`` and the deadline must be positive."""

    holder: str
    value: int

    SIGNER: ClassVar[str] = "holder"

    def __init_subclass__(cls, *, deadline: str, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.POSITIVE = frozenset({"value", deadline})
        cls.WINDOW = (None, deadline)


@dataclass(frozen=True, kw_only=True, repr=False)
class HoldAuthorization(_HolderAuthorization, deadline="expires_at"):
    """Hold: the holder lets their bank set ``value`` aside for an ATM cash-out until ``expires_at``.

    The expiry doubles as the signature's deadline: a hold cannot be placed at or after it.
    """

    expires_at: int
    hold_id: bytes = field(default_factory=new_nonce)

    PRIMARY_TYPE: ClassVar[str] = "Hold"
    FIELDS: ClassVar[tuple[tuple[str, str], ...]] = (*_HOLDER_FIELDS, ("holdId", "bytes32"), ("expiresAt", "uint256"))


@dataclass(frozen=True, kw_only=True, repr=False)
class Redemption(_HolderAuthorization, deadline="valid_before"):
    """Redemption: the holder asks their bank to burn ``value`` and pay it to the bound bank account."""

    valid_before: int
    nonce: bytes = field(default_factory=new_nonce)

    PRIMARY_TYPE: ClassVar[str] = "Redemption"
    FIELDS: ClassVar[tuple[tuple[str, str], ...]] = (*_HOLDER_FIELDS, ("validBefore", "uint256"), ("nonce", "bytes32"))


@dataclass(frozen=True, kw_only=True, repr=False)
class PaymentRequestTerms(_Struct):
    """What the acquiring bank signs for each order it asks to be paid: the EIP-712
    ``PaymentRequest(bytes32 acquirer,bytes32 merchantId,bytes32 orderId,uint256 amount,uint256 expiresAt)`` in
    the settlement contract's domain (:func:`settlement_domain`).

    MerchantSettlement.pay refuses a payment without the acquirer's signature of exactly these terms (by the
    key the bank registered with ``setRequestSigner``, or by one of its active operators): nobody pays an
    order the acquirer did not request, nor pays it another amount. ``expires_at`` is the payment's
    ``valid_before``.
    """

    acquirer: bytes
    merchant_id: bytes
    order_id: bytes
    amount: int
    expires_at: int

    PRIMARY_TYPE: ClassVar[str] = "PaymentRequest"
    FIELDS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("acquirer", "bytes32"), ("merchantId", "bytes32"), ("orderId", "bytes32"), ("amount", "uint256"),
        ("expiresAt", "uint256"))
    POSITIVE: ClassVar[frozenset[str]] = frozenset({"amount", "expires_at"})

    @classmethod
    def type_hash(cls) -> bytes:
        """keccak256 of the EIP-712 type string: the contract's ``PAYMENT_REQUEST_TYPEHASH``."""
        return keccak(_encode_type(cls.PRIMARY_TYPE, cls.FIELDS).encode())

    def typed_data(self, domain: Domain) -> dict[str, Any]:
        return _typed_data(self.PRIMARY_TYPE, self.FIELDS, domain, self.message())

    def digest(self, domain: Domain) -> bytes:
        """What the acquirer signs; the contract's ``paymentRequestDigest(...)``."""
        return keccak(b"\x19\x01" + domain.separator() + _hash_struct(self.PRIMARY_TYPE, self.FIELDS,
                                                                        self.message()))

    def sign(self, key: WalletKey, domain: Domain) -> bytes:
        """The 65-byte r ‖ s ‖ v signature of these terms by ``key`` (the acquirer's request signer)."""
        v, r, s = key.sign_digest(self.digest(domain))
        return r + s + bytes([v])

    def recover(self, signature: bytes, domain: Domain) -> ChecksumAddress:
        """Who signed these terms with ``signature`` (:class:`InvalidSignatureError` if the contract would
        reject it as a signature)."""
        if not isinstance(signature, bytes) or len(signature) != 65:
            raise InvalidSignatureError("the acquirer", None)
        signer = _recover(self.digest(domain), *split_signature(signature))
        if signer is None:
            raise InvalidSignatureError("the acquirer", None)
        return signer


def settlement_domain(chain_id: int, settlement: str) -> Domain:
    """The EIP-712 domain of payment requests: the MerchantSettlement proxy's (name "MerchantSettlement",
    version "1")."""
    return Domain(name=SETTLEMENT_DOMAIN_NAME, version=DOMAIN_VERSION, chain_id=chain_id,
                  verifying_contract=settlement)


@dataclass(frozen=True, kw_only=True, repr=False)
class MerchantPayment(Authorization):
    """A payment of order ``order_id`` at merchant ``merchant_id`` of bank ``acquirer``, relayed by anyone to
    ``settlement.pay``.

    The payer signs a ReceiveWithAuthorization to the settlement contract whose nonce is
    :func:`payment_nonce` (acquirer, merchant, order): a relayer cannot redirect it, change the amount or reuse
    it for another order, and each order is paid at most once. ``request_signature`` is the acquirer's
    signature of the request it answers (:meth:`request_terms`), which ``pay`` requires; the payer's signature
    does not cover it. It is None while the acquirer has not signed (customer-presented QR: the acquirer adds
    it when the merchant's POS hands the payment in).
    """

    acquirer: bytes
    merchant_id: bytes
    order_id: bytes
    payer: str
    amount: int
    valid_before: int
    settlement: str
    valid_after: int = 0
    request_signature: bytes | None = None

    PRIMARY_TYPE: ClassVar[str] = "ReceiveWithAuthorization"
    FIELDS: ClassVar[tuple[tuple[str, str], ...]] = _EIP3009_FIELDS
    SIGNER: ClassVar[str] = "from"
    WINDOW: ClassVar[tuple[str | None, str | None]] = ("valid_after", "valid_before")

    def __post_init__(self) -> None:
        _normalize(self, "acquirer", _bytes32("acquirer", self.acquirer))
        _normalize(self, "merchant_id", _bytes32("merchant_id", self.merchant_id))
        _normalize(self, "order_id", _bytes32("order_id", self.order_id))
        if self.request_signature is not None and (not isinstance(self.request_signature, bytes)
                                                   or len(self.request_signature) != 65):
            raise InvalidAuthorizationError("request_signature", self.request_signature, "expected 65 bytes")
        _address("payer", self.payer)
        _address("settlement", self.settlement)
        _uint("amount", self.amount, positive=True)
        _uint("valid_after", self.valid_after)
        _uint("valid_before", self.valid_before)
        _check_window(self.valid_after, self.valid_before)

    @functools.cached_property
    def nonce(self) -> bytes:  # remembered: a payment's message, signer and relay each ask for it (a keccak)
        return payment_nonce(self.acquirer, self.merchant_id, self.order_id)

    def request_terms(self) -> PaymentRequestTerms:
        """The request this payment answers, as the acquirer signs it (its expiry is ``valid_before``)."""
        return PaymentRequestTerms(acquirer=self.acquirer, merchant_id=self.merchant_id, order_id=self.order_id,
                                   amount=self.amount, expires_at=self.valid_before)

    def with_request_signature(self, signature: bytes) -> MerchantPayment:
        """This payment with the acquirer's request signature (the payer's signature stays valid)."""
        return replace(self, request_signature=signature)

    def as_receive(self) -> ReceiveAuthorization:
        """The ReceiveWithAuthorization this payment is, on the token's side."""
        return ReceiveAuthorization(from_=self.payer, to=self.settlement, value=self.amount,
                                    valid_after=self.valid_after, valid_before=self.valid_before, nonce=self.nonce)

    def message(self) -> dict[str, Any]:
        return self.as_receive().message()


# --- signatures ---

A = TypeVar("A", bound=Authorization, covariant=True)
T = TypeVar("T", bound=Authorization)


@dataclass(frozen=True, kw_only=True, repr=False)
class SignedAuthorization(Generic[A]):
    """An authorization with its ECDSA signature and the domain it was signed in.

    ``v, r, s`` are what the contract functions take; :attr:`signature` is the 65-byte r ‖ s ‖ v form.
    """

    authorization: A
    domain: Domain
    v: int
    r: bytes
    s: bytes

    def __post_init__(self) -> None:
        _uint("v", self.v, limit=255)
        _normalize(self, "r", _bytes32("r", self.r))
        _normalize(self, "s", _bytes32("s", self.s))

    @staticmethod
    def from_signature(authorization: T, domain: Domain, signature: bytes) -> SignedAuthorization[T]:
        """Split a 65-byte r ‖ s ‖ v signature (v as 27/28, or 0/1 as some signers give it)."""
        v, r, s = split_signature(signature)
        return SignedAuthorization(authorization=authorization, domain=domain, v=v, r=r, s=s)

    def __repr__(self) -> str:
        return _repr(self)

    @property
    def signature(self) -> bytes:
        return self.r + self.s + bytes([self.v])

    @property
    def signer(self) -> ChecksumAddress:
        """Who should have signed (the authorization's stated signer); :func:`verify` checks it."""
        return self.authorization.signer


def recover_signer(signed: SignedAuthorization[Authorization], domain: Domain) -> ChecksumAddress:
    """The address whose key made ``signed``'s signature over its authorization in ``domain``.

    Applies OpenZeppelin ECDSA's rules (v 27/28, 0 < r < n, 0 < s <= n/2): a signature the contract would
    reject raises :class:`InvalidSignatureError` rather than recovering some address.
    """
    recovered = _recover(signed.authorization.digest(domain), signed.v, signed.r, signed.s)
    if recovered is None:
        raise InvalidSignatureError(signed.signer, None)
    return recovered


def verify(signed: SignedAuthorization[Authorization], domain: Domain) -> ChecksumAddress:
    """Check that ``signed`` was signed in ``domain`` by its stated signer; return that signer.

    Pass the domain you trust (your deployment's), not ``signed.domain``: a signature made for another
    chain or contract must fail here, as it would on chain.
    """
    recovered = recover_signer(signed, domain)
    if recovered != signed.signer:
        raise InvalidSignatureError(signed.signer, recovered)
    return recovered
