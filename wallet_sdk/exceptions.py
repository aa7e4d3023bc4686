"""The SDK's exception tree.

Every error the SDK raises derives from :class:`WalletnetError`, so ``except WalletnetError`` catches them
all; most also derive from the built-in a caller would naturally catch (``ValueError`` for bad input), so
generic code keeps working. Each exception keeps its fields as attributes and builds its message from
them; no message ever contains a private key, a mnemonic or a password.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AmountError",
    "AuthorizationError",
    "CurrencyMismatchError",
    "ExpiredAuthorizationError",
    "FloatAmountError",
    "InvalidAmountError",
    "InvalidAuthorizationError",
    "InvalidMnemonicError",
    "InvalidPrivateKeyError",
    "InvalidSignatureError",
    "KeystoreError",
    "KeystoreExistsError",
    "MalformedKeystoreError",
    "MalformedPayloadError",
    "NegativeAmountError",
    "NotYetValidAuthorizationError",
    "PayloadError",
    "QRCodeError",
    "TamperedPayloadError",
    "TooManyDecimalsError",
    "UnsupportedPayloadVersionError",
    "UntrustedRequestError",
    "WalletnetError",
    "WrongChainError",
    "WrongContractError",
    "WrongPasswordError",
]


def _rebuild(cls: type[WalletnetError], args: tuple[Any, ...], state: dict[str, Any]) -> WalletnetError:
    exc = cls.__new__(cls, *args)
    exc.args = args
    exc.__dict__.update(state)
    return exc


class WalletnetError(Exception):
    """Root of every error the SDK raises."""

    def __reduce__(self) -> tuple[Any, ...]:
        # Subclasses take their fields, not the message, in __init__: rebuild from the saved state so the
        # exceptions survive pickling (multiprocessing, task queues) without re-running __init__.
        return (_rebuild, (type(self), self.args, dict(self.__dict__)))


# --- amounts ---


class AmountError(WalletnetError, ValueError):
    """An amount could not be parsed, formatted or combined."""


class FloatAmountError(AmountError, TypeError):
    """A float was given where money was expected: binary floats cannot hold 0.1 exactly."""

    def __init__(self, value: float) -> None:
        self.value = value
        super().__init__(f"amounts must not be floats (got {value!r}); pass a str such as '12.34', an int or a Decimal")


class NegativeAmountError(AmountError):
    """An amount below zero: balances and payments are never negative."""

    def __init__(self, value: object) -> None:
        self.value = value
        super().__init__(f"amount must not be negative, got {value!r}")


class TooManyDecimalsError(AmountError):
    """More fractional digits than the token has: rounding money silently is never right."""

    def __init__(self, value: object, decimals: int) -> None:
        self.value = value
        self.decimals = decimals
        super().__init__(f"amount {value!r} has more than {decimals} decimal place(s)")


class InvalidAmountError(AmountError):
    """Not an amount at all (empty, garbage, exponent notation, NaN, a bool, out of range)."""

    def __init__(self, value: object, reason: str) -> None:
        self.value = value
        self.reason = reason
        super().__init__(f"invalid amount {value!r}: {reason}")


class CurrencyMismatchError(AmountError, TypeError):
    """Arithmetic or comparison between amounts of different currencies or decimals."""

    def __init__(self, left: object, right: object) -> None:
        self.left = left
        self.right = right
        super().__init__(f"cannot combine {left!r} with {right!r}: currency or decimals differ")


# --- keys ---


class InvalidPrivateKeyError(WalletnetError, ValueError):
    """Malformed private key. The message says what is wrong, never what the key was."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"invalid private key: {reason}")


class InvalidMnemonicError(WalletnetError, ValueError):
    """Not a valid BIP-39 phrase. The message never repeats the phrase."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"invalid mnemonic: {reason}")


class KeystoreError(WalletnetError):
    """An encrypted keystore could not be read or written."""


class MalformedKeystoreError(KeystoreError, ValueError):
    """The keystore is not a valid scrypt/pbkdf2 v3 keyfile."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"malformed keystore: {reason}")


class WrongPasswordError(KeystoreError, ValueError):
    """The password does not open the keystore (its MAC does not match)."""

    def __init__(self, address: str | None) -> None:
        self.address = address
        whose = f" of {address}" if address else ""
        super().__init__(f"wrong password for the keystore{whose}")


class KeystoreExistsError(KeystoreError, FileExistsError):
    """Refused to overwrite a keystore file: losing a key loses the money it holds."""

    def __init__(self, path: str) -> None:
        self.path = path
        super().__init__(f"keystore file {path} already exists (pass overwrite=True to replace it)")


# --- authorizations ---


class AuthorizationError(WalletnetError, ValueError):
    """An EIP-712 authorization is invalid, or not valid here and now."""


class InvalidAuthorizationError(AuthorizationError):
    """A field fails validation when the authorization is built (caught before anything is signed)."""

    def __init__(self, field: str, value: object, reason: str) -> None:
        self.field = field
        self.value = value
        self.reason = reason
        super().__init__(f"invalid {field} {value!r}: {reason}")


class InvalidSignatureError(AuthorizationError):
    """The signature does not recover to the expected signer (or is not a valid ECDSA signature)."""

    def __init__(self, expected: str, recovered: str | None) -> None:
        self.expected = expected
        self.recovered = recovered
        got = f"recovers to {recovered}" if recovered else "is not a valid signature"
        super().__init__(f"signature {got}, expected signer {expected}")


class ExpiredAuthorizationError(AuthorizationError):
    """``now`` is at or past the authorization's deadline; the contract would revert AuthorizationExpired."""

    def __init__(self, valid_before: int, now: int) -> None:
        self.valid_before = valid_before
        self.now = now
        super().__init__(f"authorization expired: valid before {valid_before}, now {now}")


class NotYetValidAuthorizationError(AuthorizationError):
    """``now`` is at or before validAfter; the contract would revert AuthorizationNotYetValid."""

    def __init__(self, valid_after: int, now: int) -> None:
        self.valid_after = valid_after
        self.now = now
        super().__init__(f"authorization not yet valid: valid after {valid_after}, now {now}")


class WrongChainError(AuthorizationError):
    """Signed for (or requested on) another chain."""

    def __init__(self, expected: int, actual: int) -> None:
        self.expected = expected
        self.actual = actual
        super().__init__(f"payload is for chain {actual}, expected chain {expected}")


class WrongContractError(AuthorizationError):
    """Signed for another contract. ``role`` says which: "token", "settlement" or "token name"."""

    def __init__(self, expected: str, actual: str, role: str = "token") -> None:
        self.expected = expected
        self.actual = actual
        self.role = role
        super().__init__(f"payload is for {role} {actual!r}, expected {expected!r}")


# --- payloads and QR codes ---


class PayloadError(WalletnetError, ValueError):
    """A QR text payload could not be decoded."""


class MalformedPayloadError(PayloadError):
    """Not a walletnet payload: garbage, unknown kind, bad encoding, missing or extra fields."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"malformed payload: {reason}")


class UnsupportedPayloadVersionError(PayloadError):
    """A payload format version this SDK does not know (probably from a newer app)."""

    def __init__(self, version: str, supported: tuple[str, ...]) -> None:
        self.version = version
        self.supported = supported
        super().__init__(f"unsupported payload version {version!r} (supported: {', '.join(supported)})")


class TamperedPayloadError(PayloadError):
    """The payload's signature does not recover to its stated signer: some field was changed."""

    def __init__(self, kind: str, signer: str, recovered: str | None) -> None:
        self.kind = kind
        self.signer = signer
        self.recovered = recovered
        got = f"recovers to {recovered}" if recovered else "is not a valid signature"
        super().__init__(f"{kind} payload was tampered with: its signature {got}, stated signer {signer}")


class UntrustedRequestError(PayloadError):
    """A payment request (or the request signature a payment carries) is signed by a key that does not speak for
    its acquiring bank: neither the bank's request signer nor one of its active operators. Either the request
    was never issued by that bank, or its terms (amount, order, merchant, expiry) were changed after signing;
    the settlement contract would refuse the payment (InvalidPaymentRequest)."""

    def __init__(self, acquirer: bytes, signer: str) -> None:
        self.acquirer = acquirer
        self.signer = signer
        bank = acquirer.rstrip(b"\0").decode("utf-8", "replace")
        super().__init__(f"the payment request is not signed by bank {bank}'s request signer (signed by {signer}): "
                         "not issued by that bank, or its amount or order were changed")


class QRCodeError(WalletnetError, ValueError):
    """A QR code could not be rendered (bad options, or the payload does not fit in a QR code)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"cannot render QR code: {reason}")
