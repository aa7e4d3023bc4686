"""Money as integers of minor units, with exact parsing from and formatting to decimal text.

On chain an amount is a ``uint256`` of minor units (cents for a 2-decimal token). People type and read
decimal strings. This module is the only bridge between the two, and it never goes through a float:
``0.1 + 0.2 != 0.3`` in binary floating point, and a bank cannot round a customer's money by accident.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from wallet_sdk.exceptions import (
    CurrencyMismatchError,
    FloatAmountError,
    InvalidAmountError,
    NegativeAmountError,
    TooManyDecimalsError,
)

__all__ = ["MAX_DECIMALS", "MAX_MINOR", "Amount", "format_amount", "parse_amount"]

MAX_MINOR: Final = 2**256 - 1
"""The largest amount a ``uint256`` holds."""
MAX_DECIMALS: Final = 77
"""10**77 < 2**256 < 10**78: more decimals than this cannot hold even one whole unit."""

_NUMBER = re.compile(r"([0-9]+)(?:\.([0-9]+))?", re.ASCII)
_CURRENCY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,15}", re.ASCII)
_MAX_TEXT = 100  # longer than any uint256 with its decimal point; bounds the work done on hostile input
_WHITESPACE = " \t\r\n"


def _check_decimals(decimals: object) -> int:
    if isinstance(decimals, bool) or not isinstance(decimals, int) or not 0 <= decimals <= MAX_DECIMALS:
        raise InvalidAmountError(decimals, f"decimals must be an int from 0 to {MAX_DECIMALS}")
    return decimals


def _check_minor(value: object, minor: int) -> int:
    if minor > MAX_MINOR:
        raise InvalidAmountError(value, "does not fit in a uint256")
    return minor


def _scale(value: object, whole: int, fraction: str, decimals: int) -> int:
    """whole.fraction -> minor units; digits beyond ``decimals`` are allowed only if they are zeros."""
    kept, extra = fraction[:decimals], fraction[decimals:]
    if extra.strip("0"):
        raise TooManyDecimalsError(value, decimals)
    return _check_minor(value, whole * 10**decimals + int(kept.ljust(decimals, "0") or "0"))


def _parse_text(text: str, decimals: int) -> int:
    stripped = text.strip(_WHITESPACE)
    if not stripped:
        raise InvalidAmountError(text, "empty")
    if len(stripped) > _MAX_TEXT:
        raise InvalidAmountError(text[:_MAX_TEXT] + "...", f"longer than {_MAX_TEXT} characters")
    match = _NUMBER.fullmatch(stripped)
    if match is None:
        if stripped.startswith("-") and _NUMBER.fullmatch(stripped[1:]):
            raise NegativeAmountError(text)
        if "e" in stripped.lower() and not stripped.isalpha():
            raise InvalidAmountError(text, "exponent notation is not accepted; write the digits out")
        raise InvalidAmountError(text, "expected digits with an optional '.' and fraction, such as '12.34'")
    return _scale(text, int(match[1]), match[2] or "", decimals)


def _parse_decimal(value: Decimal, decimals: int) -> int:
    if not value.is_finite():
        raise InvalidAmountError(value, "not a finite number")
    if value < 0:
        raise NegativeAmountError(value)
    _sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # finite
    text = "".join(map(str, digits))
    if exponent >= 0:
        if len(text) + exponent > _MAX_TEXT:
            raise InvalidAmountError(value, "does not fit in a uint256")
        return _scale(value, int(text + "0" * exponent), "", decimals)
    # Work on the digit string, not on Decimal arithmetic: a Decimal context rounds to 28 digits.
    text = text.rjust(-exponent + 1, "0")
    if len(text) > _MAX_TEXT:
        raise InvalidAmountError(value, "does not fit in a uint256")
    return _scale(value, int(text[:exponent]), text[exponent:], decimals)


def parse_amount(value: str | int | Decimal, *, decimals: int) -> int:
    """Exact minor units of a decimal amount: ``parse_amount("12.34", decimals=2) == 1234``.

    ``value`` is a string of ASCII digits with an optional fraction ("12", "12.3", "12.34"; surrounding
    whitespace is ignored), a ``Decimal``, or an ``int`` of *whole* units. Digits beyond ``decimals`` must be
    zeros. Floats, bools, negatives, NaN/infinity, exponent notation ("1e3"), signs, separators and values
    beyond ``uint256`` are refused with a subclass of :class:`~wallet_sdk.exceptions.AmountError`.
    """
    decimals = _check_decimals(decimals)
    if isinstance(value, bool):  # before int: True is an int
        raise InvalidAmountError(value, "a bool is not an amount")
    if isinstance(value, float):
        raise FloatAmountError(value)
    if isinstance(value, int):
        if value < 0:
            raise NegativeAmountError(value)
        return _check_minor(value, value * 10**decimals)
    if isinstance(value, Decimal):
        return _parse_decimal(value, decimals)
    if isinstance(value, str):
        return _parse_text(value, decimals)
    raise InvalidAmountError(value, f"expected str, int or Decimal, not {type(value).__name__}")


def format_amount(minor: int, *, decimals: int) -> str:
    """Decimal text of ``minor`` units, always with ``decimals`` fractional digits: 1234, 2 -> "12.34"."""
    decimals = _check_decimals(decimals)
    if isinstance(minor, float):
        raise FloatAmountError(minor)
    if isinstance(minor, bool) or not isinstance(minor, int):
        raise InvalidAmountError(minor, "minor units must be an int")
    if minor < 0:
        raise NegativeAmountError(minor)
    _check_minor(minor, minor)
    if decimals == 0:
        return str(minor)
    digits = str(minor).rjust(decimals + 1, "0")
    return f"{digits[:-decimals]}.{digits[-decimals:]}"


@dataclass(frozen=True, slots=True, repr=False)
class Amount:
    """An immutable amount: ``minor`` units of a token with ``decimals`` places, optionally tagged with a currency.

    Amounts add and subtract only with amounts of the same decimals and currency, and multiply only by
    ints, so cents of one token never mix with another's. They are never negative, as on chain.

    >>> Amount.parse("12.34", decimals=2, currency="DCASH")
    Amount('12.34 DCASH')
    """

    minor: int
    decimals: int
    currency: str | None = None

    def __post_init__(self) -> None:
        format_amount(self.minor, decimals=self.decimals)  # validates type, sign, range and decimals
        if self.currency is not None and (
            not isinstance(self.currency, str) or not _CURRENCY.fullmatch(self.currency)
        ):
            raise InvalidAmountError(self.currency, "currency must be 1-16 letters, digits, '.', '_' or '-'")

    @classmethod
    def parse(cls, value: str | int | Decimal, *, decimals: int, currency: str | None = None) -> Amount:
        """Parse decimal text (or a Decimal, or an int of whole units) with :func:`parse_amount`'s rules."""
        return cls(parse_amount(value, decimals=decimals), decimals, currency)

    @classmethod
    def zero(cls, *, decimals: int, currency: str | None = None) -> Amount:
        """The zero amount: a start value for ``sum(amounts, Amount.zero(...))``."""
        return cls(0, decimals, currency)

    def format(self) -> str:
        """Decimal text without the currency: "12.34"."""
        return format_amount(self.minor, decimals=self.decimals)

    def to_decimal(self) -> Decimal:
        """The exact value as a Decimal, for display or reporting code that wants one."""
        return Decimal(self.format())

    def __str__(self) -> str:
        text = self.format()
        return f"{text} {self.currency}" if self.currency else text

    def __repr__(self) -> str:
        return f"Amount({str(self)!r})"

    def __bool__(self) -> bool:
        return self.minor != 0

    def _same_kind(self, other: object) -> Amount:
        if not isinstance(other, Amount):
            raise TypeError(f"an Amount combines only with another Amount, not {type(other).__name__}")
        if (other.decimals, other.currency) != (self.decimals, self.currency):
            raise CurrencyMismatchError(self, other)
        return other

    def __add__(self, other: Amount) -> Amount:
        return Amount(self.minor + self._same_kind(other).minor, self.decimals, self.currency)

    def __sub__(self, other: Amount) -> Amount:
        minor = self.minor - self._same_kind(other).minor
        if minor < 0:
            raise NegativeAmountError(f"{self} - {other}")
        return Amount(minor, self.decimals, self.currency)

    def __mul__(self, factor: int) -> Amount:
        if isinstance(factor, float):
            raise FloatAmountError(factor)
        if isinstance(factor, bool) or not isinstance(factor, int):
            return NotImplemented
        if factor < 0:
            raise NegativeAmountError(f"{self} * {factor}")
        return Amount(self.minor * factor, self.decimals, self.currency)

    __rmul__ = __mul__

    def __lt__(self, other: Amount) -> bool:
        return self.minor < self._same_kind(other).minor

    def __le__(self, other: Amount) -> bool:
        return self.minor <= self._same_kind(other).minor

    def __gt__(self, other: Amount) -> bool:
        return self.minor > self._same_kind(other).minor

    def __ge__(self, other: Amount) -> bool:
        return self.minor >= self._same_kind(other).minor
