"""The SDK's exception tree: every error class the SDK raises, hand-written, in one module.

Every error derives from :class:`WalletnetError`, so ``except WalletnetError`` catches them all; most also
derive from the built-in a caller would naturally catch (``ValueError`` for bad input, ``ConnectionError``
when a node does not answer, ``TimeoutError``), so generic code keeps working. Each exception keeps its
fields as attributes and builds its message from them (declared so: :class:`DeclaredError`); no message ever
contains a private key, a mnemonic or a password. The branches:

- amounts, keys and keystores, EIP-712 authorizations, QR payloads, webhooks, events, artifacts;
- :class:`ChainError`: talking to the chain and its deployment (connection, deployment file, sending);
- :class:`ContractRevertError`: a contract refused a call. Each custom error of the contracts has its own
  subclass in :mod:`wallet_sdk.reverts`, generated from the ABI by ``walletnet compile``; the machinery they
  share (:class:`TypedRevert`) and Solidity's built-in reverts are here;
- :class:`ApiError`: the HTTP client of a bank node's API; a problem answer raises the
  :class:`ApiProblemError` subclass of its ``type`` (``slug``).
"""

from __future__ import annotations

import dataclasses
import keyword
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Final, TypeVar, dataclass_transform, get_type_hints

from eth_typing import ChecksumAddress
from eth_utils.abi import function_signature_to_4byte_selector

from wallet_sdk import enums as contract_enums
from wallet_sdk.enums import as_enum

__all__ = [
    "AccountNotBoundError",
    "AmountError",
    "ApiConnectionError",
    "ApiError",
    "ApiProblemError",
    "ApiResponseError",
    "ArtifactNotFoundError",
    "AtmAuthenticationFailedError",
    "AtmMessageReplayedError",
    "AuthorizationError",
    "AuthorizationInvalidError",
    "ChainError",
    "ChainUnavailableError",
    "ClientArgumentError",
    "ConflictError",
    "ContractNotDeployedError",
    "ContractRejectedError",
    "ContractRevertError",
    "CurrencyMismatchError",
    "CustomerSessionRequiredError",
    "DeploymentFileError",
    "DeploymentMismatchError",
    "ExpiredAuthorizationError",
    "FloatAmountError",
    "ForbiddenError",
    "IdempotencyKeyInFlightError",
    "IdempotencyKeyReusedError",
    "InsufficientBalanceError",
    "InsufficientFundsError",
    "InternalServerError",
    "InvalidAmountError",
    "InvalidArgumentError",
    "InvalidAuthorizationError",
    "InvalidMnemonicError",
    "InvalidPrivateKeyError",
    "InvalidSignatureError",
    "InvalidStateError",
    "KeystoreError",
    "KeystoreExistsError",
    "LimitExceededError",
    "MalformedKeystoreError",
    "MalformedPayloadError",
    "MerchantNotActiveError",
    "MethodNotAllowedError",
    "NegativeAmountError",
    "NetworkPausedError",
    "NodeConnectionError",
    "NotFoundError",
    "NotYetValidAuthorizationError",
    "OperationTimeoutError",
    "OrderAlreadyPaidError",
    "Panic",
    "PayloadError",
    "PaymentRequestExpiredError",
    "QRCodeError",
    "RefundExceedsRefundableError",
    "RequestTimeoutError",
    "RequestTooLargeError",
    "RevertReason",
    "RiskDeclinedError",
    "SecondFactorCoolingOffError",
    "SecondFactorInvalidError",
    "SecondFactorLockedError",
    "SecondFactorRequiredError",
    "SecretAlreadyShownError",
    "ServiceUnavailableError",
    "TamperedPayloadError",
    "TooManyDecimalsError",
    "TransactionFailedError",
    "TransactionRejectedError",
    "TransactionTimeoutError",
    "TypedRevert",
    "UnauthorizedError",
    "UnknownEventError",
    "UnknownRevert",
    "UnsupportedPayloadVersionError",
    "UntrustedRequestError",
    "ValidationError",
    "WalletFrozenError",
    "WalletNotActiveError",
    "WalletNotCustodiedHereError",
    "WalletnetError",
    "WebhookSignatureError",
    "WrongChainError",
    "WrongContractError",
    "WrongNetworkError",
    "WrongPasswordError",
]


def _rebuild(cls: type[WalletnetError], args: tuple[Any, ...], state: dict[str, Any]) -> WalletnetError:
    exc = cls.__new__(cls, *args)
    exc.args = args
    exc.__dict__.update(state)
    return exc


@dataclass_transform(eq_default=False, field_specifiers=(field,))
class DeclaredError(Exception):
    """An exception declared by its fields and its message, instead of an ``__init__`` that stores the one and
    builds the other: the SDK's errors and the node's are written so.

    A subclass decorated with :func:`error_message` is made a dataclass (without ``__eq__`` and ``__repr__``) of
    the fields it annotates: its constructor takes them, in order, and keeps them as attributes. The message is a
    ``str.format`` template of the error's attributes, fields and properties alike (a property serves a part
    that is more than a field's value); a ``datetime`` is shown in ISO 8601. A subclass of such a class inherits
    its fields and message, and may be decorated with a message (and fields) of its own. The message goes to the
    ``__init__`` of the class after this one in the MRO (the node's errors take it as their ``detail``), so this
    class comes before the other exceptions in a class's bases::

        @error_message("amount {value!r} has more than {decimals} decimal place(s)")
        class TooManyDecimalsError(AmountError):
            value: object
            decimals: int

    Not in ``__all__`` (nor is :func:`error_message`): it is how errors are written, not one the SDK raises.
    """

    MESSAGE: ClassVar[str] = ""  # the template given to @error_message

    def __post_init__(self) -> None:
        super().__init__(self.MESSAGE.format_map(_Attributes(self)))


_E = TypeVar("_E", bound=DeclaredError)


def error_message(template: str) -> Callable[[type[_E]], type[_E]]:
    """Declare a :class:`DeclaredError` subclass: its message ``template``, and its annotated fields."""

    def declare(cls: type[_E]) -> type[_E]:
        cls.MESSAGE = template
        return dataclass(eq=False, repr=False)(cls)

    return declare


class _Attributes:
    """The mapping ``str.format_map`` reads a message's fields from: the error's attributes."""

    def __init__(self, error: DeclaredError) -> None:
        self._error = error

    def __getitem__(self, name: str) -> Any:
        value = getattr(self._error, name)
        return value.isoformat() if isinstance(value, datetime) else value


class WalletnetError(DeclaredError):
    """Root of every error the SDK raises."""

    def __reduce__(self) -> tuple[Any, ...]:
        # Subclasses take their fields, not the message, in __init__: rebuild from the saved state so the
        # exceptions survive pickling (multiprocessing, task queues) without re-running __init__.
        return (_rebuild, (type(self), self.args, dict(self.__dict__)))


def _recovery_of(error: InvalidSignatureError | TamperedPayloadError) -> str:
    """What the signature of an error's message recovered to (the errors' ``_recovery`` property)."""
    return f"recovers to {error.recovered}" if error.recovered else "is not a valid signature"


@error_message("invalid {field} {value!r}: {reason}")
class _InvalidField(DeclaredError):
    """The fields and message of an invalid argument, shared by the branches that check arguments."""

    field: str
    value: object
    reason: str


# --- amounts ---


class AmountError(WalletnetError, ValueError):
    """An amount could not be parsed, formatted or combined."""


@error_message("amounts must not be floats (got {value!r}); pass a str such as '12.34', an int or a Decimal")
class FloatAmountError(AmountError, TypeError):
    """A float was given where money was expected: binary floats cannot hold 0.1 exactly."""

    value: float


@error_message("amount must not be negative, got {value!r}")
class NegativeAmountError(AmountError):
    """An amount below zero: balances and payments are never negative."""

    value: object


@error_message("amount {value!r} has more than {decimals} decimal place(s)")
class TooManyDecimalsError(AmountError):
    """More fractional digits than the token has: rounding money silently is never right."""

    value: object
    decimals: int


@error_message("invalid amount {value!r}: {reason}")
class InvalidAmountError(AmountError):
    """Not an amount at all (empty, garbage, exponent notation, NaN, a bool, out of range)."""

    value: object
    reason: str


@error_message("cannot combine {left!r} with {right!r}: currency or decimals differ")
class CurrencyMismatchError(AmountError, TypeError):
    """Arithmetic or comparison between amounts of different currencies or decimals."""

    left: object
    right: object


# --- keys ---


@error_message("invalid private key: {reason}")
class InvalidPrivateKeyError(WalletnetError, ValueError):
    """Malformed private key. The message says what is wrong, never what the key was."""

    reason: str


@error_message("invalid mnemonic: {reason}")
class InvalidMnemonicError(WalletnetError, ValueError):
    """Not a valid BIP-39 phrase. The message never repeats the phrase."""

    reason: str


class KeystoreError(WalletnetError):
    """An encrypted keystore could not be read or written."""


@error_message("malformed keystore: {reason}")
class MalformedKeystoreError(KeystoreError, ValueError):
    """The keystore is not a valid scrypt/pbkdf2 v3 keyfile."""

    reason: str


@error_message("wrong password for the keystore{_of_whom}")
class WrongPasswordError(KeystoreError, ValueError):
    """The password does not open the keystore (its MAC does not match)."""

    address: str | None

    @property
    def _of_whom(self) -> str:
        return f" of {self.address}" if self.address else ""


@error_message("keystore file {path} already exists (pass overwrite=True to replace it)")
class KeystoreExistsError(KeystoreError, FileExistsError):
    """Refused to overwrite a keystore file: losing a key loses the money it holds."""

    path: str


# --- authorizations ---


class AuthorizationError(WalletnetError, ValueError):
    """An EIP-712 authorization is invalid, or not valid here and now."""


class InvalidAuthorizationError(_InvalidField, AuthorizationError):
    """A field fails validation when the authorization is built (caught before anything is signed)."""


@error_message("signature {_recovery}, expected signer {expected}")
class InvalidSignatureError(AuthorizationError):
    """The signature does not recover to the expected signer (or is not a valid ECDSA signature)."""

    expected: str
    recovered: str | None

    _recovery = property(_recovery_of)


@error_message("authorization expired: valid before {valid_before}, now {now}")
class ExpiredAuthorizationError(AuthorizationError):
    """``now`` is at or past the authorization's deadline; the contract would revert AuthorizationExpired."""

    valid_before: int
    now: int


@error_message("authorization not yet valid: valid after {valid_after}, now {now}")
class NotYetValidAuthorizationError(AuthorizationError):
    """``now`` is at or before validAfter; the contract would revert AuthorizationNotYetValid."""

    valid_after: int
    now: int


@error_message("payload is for chain {actual}, expected chain {expected}")
class WrongChainError(AuthorizationError):
    """Signed for (or requested on) another chain."""

    expected: int
    actual: int


@error_message("payload is for {role} {actual!r}, expected {expected!r}")
class WrongContractError(AuthorizationError):
    """Signed for another contract. ``role`` says which: "token", "settlement" or "token name"."""

    expected: str
    actual: str
    role: str = "token"


# --- payloads and QR codes ---


class PayloadError(WalletnetError, ValueError):
    """A QR text payload could not be decoded."""


@error_message("malformed payload: {reason}")
class MalformedPayloadError(PayloadError):
    """Not a walletnet payload: garbage, unknown kind, bad encoding, missing or extra fields."""

    reason: str


@error_message("unsupported payload version {version!r} (supported: {_supported})")
class UnsupportedPayloadVersionError(PayloadError):
    """A payload format version this SDK does not know (probably from a newer app)."""

    version: str
    supported: tuple[str, ...]

    @property
    def _supported(self) -> str:
        return ", ".join(self.supported)


@error_message("{kind} payload was tampered with: its signature {_recovery}, stated signer {signer}")
class TamperedPayloadError(PayloadError):
    """The payload's signature does not recover to its stated signer: some field was changed."""

    kind: str
    signer: str
    recovered: str | None

    _recovery = property(_recovery_of)


@error_message("the payment request is not signed by bank {_bank}'s request signer (signed by {signer}): not issued "
               "by that bank, or its amount or order were changed")
class UntrustedRequestError(PayloadError):
    """A payment request (or the request signature a payment carries) is signed by a key that does not speak for
    its acquiring bank: neither the bank's request signer nor one of its active operators. Either the request
    was never issued by that bank, or its terms (amount, order, merchant, expiry) were changed after signing;
    the settlement contract would refuse the payment (InvalidPaymentRequest)."""

    acquirer: bytes
    signer: str

    @property
    def _bank(self) -> str:
        return self.acquirer.rstrip(b"\0").decode("utf-8", "replace")


@error_message("cannot render QR code: {reason}")
class QRCodeError(WalletnetError, ValueError):
    """A QR code could not be rendered (bad options, or the payload does not fit in a QR code)."""

    reason: str


# --- webhooks, events, artifacts ---


@error_message("{reason}")
class WebhookSignatureError(WalletnetError, ValueError):
    """The webhook's signature header is malformed, does not match the body, or is too old (a replay)."""

    reason: str


@error_message("{name}: {reason}")
class UnknownEventError(WalletnetError, ValueError):
    """An event name (or indexed argument filter) that the selected contracts do not have."""

    name: str
    reason: str


@error_message("no artifact {name!r} in {directory} (run `walletnet compile`)")
class ArtifactNotFoundError(WalletnetError, LookupError):
    """No compiled artifact of that name: run ``walletnet compile``."""

    name: str
    directory: Path


# --- the chain: connecting, deployments, sending ---


class ChainError(WalletnetError):
    """A problem talking to the chain or with the deployment (not a contract revert)."""


@error_message("cannot reach the node at {rpc_url}: {reason}")
class NodeConnectionError(ChainError, ConnectionError):
    """The JSON-RPC node does not answer."""

    rpc_url: str
    reason: str


@error_message("{_node} is chain {actual}, but the deployment is for chain {expected}")
class WrongNetworkError(WrongChainError):
    """The node's chain id is not the deployment's: the file belongs to another network.

    A :class:`~wallet_sdk.exceptions.WrongChainError`, so one ``except`` covers payloads and networks.
    """

    rpc_url: str = ""

    @property
    def _node(self) -> str:
        return f"the node at {self.rpc_url}" if self.rpc_url else "the node"


@error_message("no contract code for {contract} at {address} on chain {chain_id}")
class ContractNotDeployedError(ChainError):
    """No contract code at an address the deployment names (wrong file, or a chain reset since)."""

    contract: str
    address: str
    chain_id: int


@error_message("{contract} at {address} is not this deployment's: {reason}")
class DeploymentMismatchError(ChainError):
    """Code exists at the deployment's addresses, but the contracts are not wired to each other as deployed."""

    contract: str
    address: str
    reason: str


@error_message("bad deployment file {path}: {reason}")
class DeploymentFileError(ChainError, ValueError):
    """The deployment file is missing or malformed."""

    path: str
    reason: str


class InvalidArgumentError(_InvalidField, ChainError, ValueError):
    """An argument of a chain call is not valid (caught before anything is sent)."""


@error_message("the node rejected the transaction{_at_nonce}: {reason}")
class TransactionRejectedError(ChainError):
    """The node refused a signed transaction (insufficient funds for gas, underpriced, nonce trouble...)."""

    reason: str
    nonce: int | None = None

    @property
    def _at_nonce(self) -> str:
        return f" (nonce {self.nonce})" if self.nonce is not None else ""


@error_message("transaction {tx_hash} was not mined within {timeout:g}s")
class TransactionTimeoutError(ChainError, TimeoutError):
    """No receipt within the timeout: the transaction may still be mined later (wait again with its hash)."""

    tx_hash: str
    timeout: float


@error_message("transaction {tx_hash} reverted (block {receipt[blockNumber]})")
class TransactionFailedError(ChainError, RuntimeError):
    """A mined transaction has status 0 (the bare sender of deployments; the chain bindings raise the typed
    revert instead)."""

    tx_hash: str
    receipt: Any


# --- contract reverts (the classes of the contracts' custom errors are generated: wallet_sdk.reverts) ---


class ContractRevertError(WalletnetError):
    """A contract call reverted; ``name`` and ``arguments`` are the Solidity custom error's.

    ``data`` is the raw revert data. When the revert happened in a mined transaction, ``tx_hash`` and
    ``receipt`` are set (both ``None`` for a revert found while estimating gas or in a call). The message is
    built from the fields: ``WalletNotActive(wallet='0x...', status=2 (FROZEN))``.
    """

    def __init__(self, name: str, arguments: dict[str, Any], data: bytes) -> None:
        self.name = name
        self.arguments = arguments
        self.data = data
        self.tx_hash: str | None = None
        self.receipt: Any = None
        args = ", ".join(f"{k}={_show(v)}" for k, v in arguments.items())
        super().__init__(f"{name}({args})")


def _show(value: Any) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, int) and not isinstance(value, bool) and type(value) is not int:  # an IntEnum
        return f"{int(value)} ({getattr(value, 'name', '')})"
    return repr(value)


def _solidity_name(attr: str) -> str:
    """``from_`` -> ``from``: the attribute of a Solidity argument named like a Python keyword."""
    return attr[:-1] if attr.endswith("_") and keyword.iskeyword(attr[:-1]) else attr


def _attr_name(solidity: str) -> str:
    return solidity + "_" if keyword.iskeyword(solidity) else solidity


_ENUM_FIELDS: dict[type, dict[str, type[IntEnum]]] = {}


def _enum_fields(cls: type[TypedRevert]) -> dict[str, type[IntEnum]]:
    """Fields typed with an ``IntEnum`` (resolved once per class)."""
    found = _ENUM_FIELDS.get(cls)
    if found is None:
        hints = get_type_hints(cls)
        found = _ENUM_FIELDS[cls] = {
            f.name: hints[f.name] for f in dataclasses.fields(cls)
            if isinstance(hints.get(f.name), type) and issubclass(hints[f.name], IntEnum)}
    return found


_SCALARS: Final[dict[str, Any]] = {"address": ChecksumAddress, "bool": bool, "string": str}


def _argument_type(declared: str) -> tuple[str, Any]:
    """A declared argument type -> its canonical ABI type and the Python type it decodes to: ``address`` ->
    ``ChecksumAddress``, an enum of :mod:`wallet_sdk.enums` (a ``uint8`` on the wire) -> that ``IntEnum``,
    ``uint256[]`` -> ``list[int]``, a struct (``(address,uint256)``) -> a tuple."""
    if declared.endswith("]"):
        cut = declared.rindex("[")
        abi, element = _argument_type(declared[:cut])
        return abi + declared[cut:], list[element]  # type: ignore[valid-type]
    enum = getattr(contract_enums, declared, None)
    if isinstance(enum, type) and issubclass(enum, IntEnum):
        return "uint8", enum
    if declared.startswith("("):
        return declared, tuple[Any, ...]
    if declared in _SCALARS:
        return declared, _SCALARS[declared]
    sized = re.fullmatch(r"(u?int|bytes)\d*", declared)
    if sized is None:
        raise TypeError(f"no Python type for the declared argument type {declared!r}")
    return declared, bytes if sized[1] == "bytes" else int


def _declared(declaration: str) -> tuple[str, dict[str, Any]]:
    """``WalletNotActive(address wallet, WalletStatus status)`` -> the canonical signature
    (``WalletNotActive(address,uint8)``) and the fields' annotations (``wallet: ChecksumAddress``, ``status:
    WalletStatus``); arguments are separated by ", ", a struct's components by "," alone."""
    name, _, rest = declaration.partition("(")
    types, annotations = [], {}
    for argument in filter(None, rest.removesuffix(")").split(", ")):
        declared, _, solidity = argument.rpartition(" ")
        abi, annotations[_attr_name(solidity)] = _argument_type(declared)
        types.append(abi)
    return f"{name}({','.join(types)})", annotations


@dataclass_transform(eq_default=False, field_specifiers=(field,))
@dataclass(eq=False, repr=False)
class TypedRevert(ContractRevertError):
    """Base of the typed revert classes: a dataclass whose fields are the Solidity error's arguments.

    Its subclasses, one per custom error of the contracts, are generated from the ABI into
    :mod:`wallet_sdk.reverts` by ``walletnet compile``. Each is named after its Solidity error and has the
    error's arguments as attributes with their Solidity names (a Python keyword gets a trailing underscore:
    ``from_``), so code reads like the contract::

        try:
            operator.transfer_with_authorization(signed)
        except SinglePaymentLimitExceeded as exc:
            print(exc.wallet, exc.amount, exc.limit)

    ``arguments`` holds the same values keyed by the Solidity names, ``SIGNATURE`` the canonical signature and
    ``SELECTOR`` the four bytes that start the revert data. Enum arguments are the SDK's ``IntEnum`` (they
    equal the raw ``uint8``; a value outside the enum stays an int). An error declared by several contracts
    with the same signature is one class; where one declaration types an argument as an enum and another as
    its ``uint8`` (``WalletNotActive.status``), the class uses the enum. Construct one by keyword or position
    like the Solidity error (``WalletNotActive(wallet=..., status=WalletStatus.FROZEN)``), optionally with the
    raw revert ``data``. A subclass declares the error as a class keyword, like Solidity with the SDK's enum
    names (``error=``; its fields and canonical signature follow from it), and the selector is computed::

        class WalletNotActive(TypedRevert, error="WalletNotActive(address wallet, WalletStatus status)"):
            ...

    or names the canonical signature (``signature=``) and annotates the fields itself, which a type checker
    then sees (the arguments of a class declared by ``error=`` are ``Any`` to it).
    """

    SIGNATURE: ClassVar[str] = ""
    SELECTOR: ClassVar[bytes] = b""  # the first four bytes of keccak(SIGNATURE)
    ERROR_NAME: ClassVar[str] = ""  # the Solidity name, when it cannot be the class name

    data: bytes = field(default=b"", kw_only=True)

    def __init_subclass__(cls, *, signature: str = "", error: str = "", **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if error:
            signature, cls.__annotations__ = _declared(error)
        dataclass(eq=False, repr=False)(cls)
        cls.SIGNATURE = signature or cls.SIGNATURE
        name = cls.ERROR_NAME or cls.__name__
        if cls.SIGNATURE.partition("(")[0] != name:
            raise TypeError(f"{cls.__name__}.SIGNATURE {cls.SIGNATURE!r} does not name {name}")
        selector = function_signature_to_4byte_selector(cls.SIGNATURE)
        if cls.SELECTOR and selector != cls.SELECTOR:
            raise TypeError(f"{cls.__name__}.SELECTOR is not the selector of {cls.SIGNATURE}")
        cls.SELECTOR = selector

    if TYPE_CHECKING:
        def __getattr__(self, name: str) -> Any:
            """An argument of an error declared by ``error=``: its fields are made at run time."""

    def __post_init__(self) -> None:
        for attr, enum in _enum_fields(type(self)).items():
            object.__setattr__(self, attr, as_enum(enum, getattr(self, attr)))
        arguments = {_solidity_name(f.name): getattr(self, f.name) for f in dataclasses.fields(self)
                     if f.name != "data"}
        ContractRevertError.__init__(self, type(self).ERROR_NAME or type(self).__name__, arguments, self.data)

    def __repr__(self) -> str:
        shown = ", ".join(f"{_attr_name(k)}={v!r}" for k, v in self.arguments.items())
        return f"{type(self).__name__}({shown})"

    @classmethod
    def selector(cls) -> bytes:
        """The 4-byte selector that starts this error's revert data."""
        return cls.SELECTOR

    @classmethod
    def argument_names(cls) -> tuple[str, ...]:
        """The Solidity argument names, in order."""
        return tuple(_solidity_name(f.name) for f in dataclasses.fields(cls) if f.name != "data")

    @classmethod
    def from_arguments(cls, arguments: dict[str, Any], *, data: bytes = b"") -> TypedRevert:
        """Build from decoded arguments keyed by their Solidity names."""
        return cls(**{_attr_name(k): v for k, v in arguments.items()}, data=data)


class UnknownRevert(ContractRevertError):
    """Revert data that matches no known error, or a revert without data (out of gas, a bare ``revert()``)."""

    def __init__(self, *, data: bytes = b"") -> None:
        super().__init__("Unknown", {"data": "0x" + data.hex()} if data else {}, data)


PANIC_REASONS: Final = {
    0x00: "generic compiler panic",
    0x01: "assert failed",
    0x11: "arithmetic overflow or underflow",
    0x12: "division or modulo by zero",
    0x21: "invalid enum value",
    0x22: "corrupt storage byte array",
    0x31: "pop on an empty array",
    0x32: "array index out of bounds",
    0x41: "out of memory",
    0x51: "call to an uninitialized function",
}


class RevertReason(TypedRevert, signature="Error(string)"):
    """Solidity's built-in ``Error(string)``: a ``require(cond, "message")`` or ``revert("message")``.

    walletnet's contracts use custom errors only; this comes from other contracts or tooling. Its
    ``name`` is "Error".
    """

    ERROR_NAME: ClassVar[str] = "Error"

    message: str


class Panic(TypedRevert, signature="Panic(uint256)"):
    """Solidity's built-in ``Panic(uint256)``: a failed assert, overflow, division by zero, ...; see :attr:`reason`."""

    code: int

    @property
    def reason(self) -> str:
        return PANIC_REASONS.get(self.code, f"panic code {self.code:#x}")


# --- the HTTP client of a bank node's API ---

PROBLEM_BASE: Final = "https://walletnet.dev/problems/"
"""The prefix of every problem ``type`` the API answers with: ``PROBLEM_BASE + slug``."""


class ApiError(WalletnetError):
    """Root of the HTTP client's errors."""


@error_message("{reason}")
class ApiConnectionError(ApiError, ConnectionError):
    """The API could not be reached (after the retries the request allowed)."""

    reason: str


@error_message("{reason}")
class ApiResponseError(ApiError):
    """The API answered something the client cannot read (not the documented shape)."""

    reason: str


@error_message("{reason}")
class ClientArgumentError(ApiError, ValueError):
    """An argument the client refuses before sending anything."""

    reason: str


@error_message("{method} {path} was done before; its secret(s) {_fields} were shown once, in an answer this client "
               "did not receive, and cannot be shown again: rotate them")
class SecretAlreadyShownError(ApiError):
    """The request was done, but its answer is the replay of an Idempotency-Key (for instance a retry after a
    dropped connection) and the secrets in it were shown once, in a first answer this client never got: the
    API does not keep them. ``fields`` names them (the ``Idempotent-Redacted`` header); ``result`` is the
    answer with ``"[redacted: shown once]"`` in their place. Rotate the secret: a merchant's API key is revoked
    and a new one created, a TOTP secret enrolled again (with its current code, or a teller's reset)."""

    method: str
    path: str
    fields: tuple[str, ...]
    result: Any

    @property
    def _fields(self) -> str:
        return ", ".join(self.fields)


@error_message("operation {operation_id} still {status} after {timeout:g}s")
class OperationTimeoutError(ApiError, TimeoutError):
    """An operation did not become final within the time the caller waited."""

    operation_id: str
    status: str
    timeout: float


class ApiProblemError(ApiError):
    """The API refused the request with a problem document (``problem``: all of it)."""

    slug: ClassVar[str | None] = None

    def __init__(self, status: int, problem: Mapping[str, Any] | None, text: str = "") -> None:
        self.status = status
        self.problem: dict[str, Any] = dict(problem or {})
        self.type: str = str(self.problem.get("type", "about:blank"))
        self.title: str = str(self.problem.get("title", ""))
        detail = self.problem.get("detail")
        self.detail: str | None = str(detail) if detail is not None else None
        self.errors: list[dict[str, Any]] = list(self.problem.get("errors") or [])
        shown = self.detail or self.title or text[:200] or "no details"
        super().__init__(f"HTTP {status} {self.type.removeprefix(PROBLEM_BASE)}: {shown}")

    def _text(self, member: str) -> str | None:
        """The problem's ``member`` as text, or None if it has none (what a subclass's property shows)."""
        value = self.problem.get(member)
        return str(value) if value is not None else None


class ValidationError(ApiProblemError):
    slug = "validation"


class UnauthorizedError(ApiProblemError):
    slug = "unauthorized"


class ForbiddenError(ApiProblemError):
    slug = "forbidden"


class NotFoundError(ApiProblemError):
    slug = "not-found"


class MethodNotAllowedError(ApiProblemError):
    slug = "method-not-allowed"


class ConflictError(ApiProblemError):
    slug = "conflict"


class IdempotencyKeyReusedError(ConflictError):
    slug = "idempotency-key-reused"


class IdempotencyKeyInFlightError(ConflictError):
    slug = "idempotency-key-in-flight"


class InsufficientBalanceError(ApiProblemError):
    slug = "insufficient-balance"


class LimitExceededError(ApiProblemError):
    slug = "limit-exceeded"


class WalletFrozenError(ApiProblemError):
    slug = "wallet-frozen"


class WalletNotActiveError(ApiProblemError):
    slug = "wallet-not-active"


class NetworkPausedError(ApiProblemError):
    slug = "network-paused"


class ContractRejectedError(ApiProblemError):
    slug = "contract-rejected"


class ChainUnavailableError(ApiProblemError):
    slug = "chain-unavailable"


class ServiceUnavailableError(ApiProblemError):
    slug = "service-unavailable"


class InternalServerError(ApiProblemError):
    slug = "internal"


class RequestTooLargeError(ApiProblemError):
    """The request body is larger than the node takes (its setting ``api_max_body``, 64 KiB by default)."""

    slug = "request-too-large"


class RequestTimeoutError(ApiProblemError):
    """The request body did not reach the node within its setting ``api_body_timeout``; nothing was done."""

    slug = "request-timeout"


class SecondFactorRequiredError(ForbiddenError):
    slug = "second-factor-required"


class SecondFactorInvalidError(ForbiddenError):
    """The code is wrong, expired or used; ``problem["attempts_left"]`` says how many more wrong codes lock the
    factor out (``problem["locked_until"]`` when this one did)."""

    slug = "second-factor-invalid"


class SecondFactorLockedError(ApiProblemError):
    """Too many wrong codes: every code, even the right one, is refused until :attr:`locked_until` (HTTP 429,
    ``Retry-After``)."""

    slug = "second-factor-locked"

    @property
    def locked_until(self) -> str | None:
        """ISO 8601 time the lock-out ends."""
        return self._text("locked_until")

    @property
    def retry_after(self) -> int | None:
        """Seconds until the lock-out ends (when the answer was made)."""
        value = self.problem.get("retry_after")
        return int(value) if isinstance(value, int) else None


class SecondFactorCoolingOffError(ForbiddenError):
    """A teller reset the wallet's TOTP lately: operations above ``problem["threshold"]`` are refused until
    :attr:`until`, whatever the code; smaller ones go on."""

    slug = "second-factor-cooling-off"

    @property
    def until(self) -> str | None:
        """ISO 8601 time the cooling-off ends."""
        return self._text("until")


class CustomerSessionRequiredError(ForbiddenError):
    """An ``app`` API key alone acts for no customer: mint a customer session and send its token."""

    slug = "customer-session-required"


class RiskDeclinedError(ForbiddenError):
    """The bank's risk rules declined the payment (``action`` ``freeze``: and froze the wallet); nothing moved."""

    slug = "risk-declined"

    @property
    def decision(self) -> str | None:
        """The decision's id (``rd_...``): what a risk officer looks up."""
        return self._text("decision")

    @property
    def action(self) -> str | None:
        return self._text("action")

    @property
    def rules(self) -> list[str]:
        return [str(r) for r in self.problem.get("rules") or []]


class InsufficientFundsError(ApiProblemError):
    """The bank account (not the wallet) lacks the money."""

    slug = "insufficient-funds"


class AuthorizationInvalidError(ApiProblemError):
    slug = "authorization-invalid"


class AtmAuthenticationFailedError(UnauthorizedError):
    slug = "atm-authentication-failed"


class AtmMessageReplayedError(ConflictError):
    slug = "atm-message-replayed"


class InvalidStateError(ConflictError):
    slug = "invalid-state"


class WalletNotCustodiedHereError(ConflictError):
    slug = "wallet-not-custodied-here"


class AccountNotBoundError(ConflictError):
    slug = "account-not-bound"


class MerchantNotActiveError(ConflictError):
    slug = "merchant-not-active"


class OrderAlreadyPaidError(ConflictError):
    """The order is paid (or a payment of it is on its way): an order is paid at most once."""

    slug = "order-already-paid"


class PaymentRequestExpiredError(ConflictError):
    slug = "payment-request-expired"


class RefundExceedsRefundableError(ValidationError):
    """The refund is more than the order has left to refund (or than the merchant has pending)."""

    slug = "refund-exceeds-refundable"
