"""Amounts: exact parsing and formatting between decimal text and integer minor units."""

from __future__ import annotations

import doctest
import pickle
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import wallet_sdk.amount
from wallet_sdk.amount import MAX_MINOR, Amount, format_amount, parse_amount
from wallet_sdk.exceptions import (
    AmountError,
    CurrencyMismatchError,
    FloatAmountError,
    InvalidAmountError,
    NegativeAmountError,
    TooManyDecimalsError,
    WalletnetError,
)


@pytest.mark.parametrize(
    ("value", "decimals", "minor"),
    [
        ("12.34", 2, 1234),
        ("0.01", 2, 1),
        ("0", 2, 0),
        ("12", 2, 1200),
        ("12.3", 2, 1230),
        ("1.230", 2, 123),  # extra digits are fine when they are zeros: nothing is rounded
        ("007.50", 2, 750),
        (" 12.34\n", 2, 1234),
        ("12", 0, 12),
        ("0.000001", 6, 1),
        (12, 2, 1200),  # ints are whole units
        (0, 2, 0),
        (Decimal("12.34"), 2, 1234),
        (Decimal("1E+2"), 2, 10000),
        (Decimal("0.000"), 2, 0),
        (Decimal("-0"), 2, 0),
        (Decimal("12.340000"), 2, 1234),
        ("115792089237316195423570985008687907853269984665640564039457584007913129639.935", 3, MAX_MINOR),
    ],
)
def test_parse_amount(value: Any, decimals: int, minor: int) -> None:
    assert parse_amount(value, decimals=decimals) == minor


SHAPE = "expected digits with an optional '.' and fraction, such as '12.34'"


@pytest.mark.parametrize(
    ("value", "error", "message"),
    [
        (12.34, FloatAmountError,
         "amounts must not be floats (got 12.34); pass a str such as '12.34', an int or a Decimal"),
        (0.0, FloatAmountError,
         "amounts must not be floats (got 0.0); pass a str such as '12.34', an int or a Decimal"),
        ("-1", NegativeAmountError, "amount must not be negative, got '-1'"),
        ("-0.5", NegativeAmountError, "amount must not be negative, got '-0.5'"),
        (-3, NegativeAmountError, "amount must not be negative, got -3"),
        (Decimal("-0.01"), NegativeAmountError, "amount must not be negative, got Decimal('-0.01')"),
        ("1.234", TooManyDecimalsError, "amount '1.234' has more than 2 decimal place(s)"),
        ("0.001", TooManyDecimalsError, "amount '0.001' has more than 2 decimal place(s)"),
        (Decimal("1.005"), TooManyDecimalsError, "amount Decimal('1.005') has more than 2 decimal place(s)"),
        ("", InvalidAmountError, "invalid amount '': empty"),
        ("   ", InvalidAmountError, "invalid amount '   ': empty"),
        ("1e3", InvalidAmountError, "invalid amount '1e3': exponent notation is not accepted; write the digits out"),
        ("1.5E-2", InvalidAmountError,
         "invalid amount '1.5E-2': exponent notation is not accepted; write the digits out"),
        ("abc", InvalidAmountError, f"invalid amount 'abc': {SHAPE}"),
        ("nan", InvalidAmountError, f"invalid amount 'nan': {SHAPE}"),
        ("12,34", InvalidAmountError, f"invalid amount '12,34': {SHAPE}"),
        ("1_000", InvalidAmountError, f"invalid amount '1_000': {SHAPE}"),
        ("+1", InvalidAmountError, f"invalid amount '+1': {SHAPE}"),
        (".5", InvalidAmountError, f"invalid amount '.5': {SHAPE}"),
        ("5.", InvalidAmountError, f"invalid amount '5.': {SHAPE}"),
        ("\u0661\u0662", InvalidAmountError, f"invalid amount '\u0661\u0662': {SHAPE}"),  # int() accepts these
        ("12.34 DCASH", InvalidAmountError, f"invalid amount '12.34 DCASH': {SHAPE}"),
        (Decimal("NaN"), InvalidAmountError, "invalid amount Decimal('NaN'): not a finite number"),
        (Decimal("Infinity"), InvalidAmountError, "invalid amount Decimal('Infinity'): not a finite number"),
        (True, InvalidAmountError, "invalid amount True: a bool is not an amount"),
        (None, InvalidAmountError, "invalid amount None: expected str, int or Decimal, not NoneType"),
        (b"12", InvalidAmountError, "invalid amount b'12': expected str, int or Decimal, not bytes"),
        (2**256, InvalidAmountError, f"invalid amount {2**256}: does not fit in a uint256"),
        ("9" * 101, InvalidAmountError, f"invalid amount '{'9' * 100}...': longer than 100 characters"),
    ],
)
def test_parse_amount_rejects(value: Any, error: type[AmountError], message: str) -> None:
    with pytest.raises(error) as info:
        parse_amount(value, decimals=2)
    assert str(info.value) == message
    assert isinstance(info.value, WalletnetError)
    assert isinstance(info.value, ValueError)


def test_errors_keep_their_fields() -> None:
    with pytest.raises(TooManyDecimalsError) as too_many:
        parse_amount("1.234", decimals=2)
    assert (too_many.value.value, too_many.value.decimals) == ("1.234", 2)
    with pytest.raises(FloatAmountError) as floating:
        parse_amount(0.1, decimals=2)  # type: ignore[arg-type]
    assert floating.value.value == 0.1
    assert isinstance(floating.value, TypeError)
    with pytest.raises(InvalidAmountError) as invalid:
        parse_amount("x", decimals=2)
    assert (invalid.value.value, invalid.value.reason) == (
        "x", "expected digits with an optional '.' and fraction, such as '12.34'")
    revived = pickle.loads(pickle.dumps(too_many.value))
    assert (type(revived), str(revived), revived.decimals) == (
        TooManyDecimalsError, "amount '1.234' has more than 2 decimal place(s)", 2)


@pytest.mark.parametrize("decimals", [-1, 78, True, 2.0, "2"])
def test_decimals_must_be_a_small_int(decimals: Any) -> None:
    with pytest.raises(InvalidAmountError) as info:
        parse_amount("1", decimals=decimals)
    assert str(info.value) == f"invalid amount {decimals!r}: decimals must be an int from 0 to 77"


@pytest.mark.parametrize(
    ("minor", "decimals", "text"),
    [(1234, 2, "12.34"), (5, 2, "0.05"), (0, 2, "0.00"), (1200, 2, "12.00"), (12, 0, "12"), (1, 6, "0.000001"),
     (MAX_MINOR, 0, str(MAX_MINOR))],
)
def test_format_amount(minor: int, decimals: int, text: str) -> None:
    assert format_amount(minor, decimals=decimals) == text


@pytest.mark.parametrize(
    ("minor", "error", "message"),
    [
        (-1, NegativeAmountError, "amount must not be negative, got -1"),
        (1.5, FloatAmountError,
         "amounts must not be floats (got 1.5); pass a str such as '12.34', an int or a Decimal"),
        ("12", InvalidAmountError, "invalid amount '12': minor units must be an int"),
        (False, InvalidAmountError, "invalid amount False: minor units must be an int"),
        (2**256, InvalidAmountError, f"invalid amount {2**256}: does not fit in a uint256"),
    ],
)
def test_format_amount_rejects(minor: Any, error: type[AmountError], message: str) -> None:
    with pytest.raises(error) as info:
        format_amount(minor, decimals=2)
    assert str(info.value) == message


@given(minor=st.integers(min_value=0, max_value=MAX_MINOR), decimals=st.integers(min_value=0, max_value=77))
def test_format_then_parse_is_identity(minor: int, decimals: int) -> None:
    text = format_amount(minor, decimals=decimals)
    assert parse_amount(text, decimals=decimals) == minor
    assert parse_amount(Decimal(text), decimals=decimals) == minor


@given(whole=st.integers(min_value=0, max_value=10**30), fraction=st.text("0123456789", min_size=1, max_size=2))
def test_parse_then_format_is_identity(whole: int, fraction: str) -> None:
    text = f"{whole}.{fraction.ljust(2, '0')}"
    assert format_amount(parse_amount(text, decimals=2), decimals=2) == text


# --- Amount ---


def test_amount_repr_str_and_value() -> None:
    amount = Amount.parse("12.34", decimals=2, currency="DCASH")
    assert amount == Amount(1234, 2, "DCASH")
    assert repr(amount) == "Amount('12.34 DCASH')"
    assert str(amount) == "12.34 DCASH"
    assert amount.format() == "12.34"
    assert amount.to_decimal() == Decimal("12.34")
    assert repr(Amount(5, 0)) == "Amount('5')"
    assert repr(Amount.zero(decimals=2, currency="DCASH")) == "Amount('0.00 DCASH')"
    assert bool(Amount(0, 2)) is False
    assert bool(Amount(1, 2)) is True


def test_amount_is_immutable_and_hashable() -> None:
    amount = Amount(1234, 2, "DCASH")
    with pytest.raises(AttributeError):
        amount.minor = 1  # type: ignore[misc]
    assert {amount, Amount(1234, 2, "DCASH")} == {amount}
    assert Amount(1234, 2, "DCASH") != Amount(1234, 2)
    assert Amount(1234, 2) != Amount(1234, 3)


def test_amount_arithmetic() -> None:
    a, b = Amount(1234, 2, "DCASH"), Amount(66, 2, "DCASH")
    assert a + b == Amount(1300, 2, "DCASH")
    assert a - b == Amount(1168, 2, "DCASH")
    assert a * 3 == Amount(3702, 2, "DCASH")
    assert 3 * a == Amount(3702, 2, "DCASH")
    assert sum([a, b, b], Amount.zero(decimals=2, currency="DCASH")) == Amount(1366, 2, "DCASH")
    assert b < a
    assert a > b
    assert a >= Amount(1234, 2, "DCASH")
    assert b <= a
    assert max(a, b) is a


@pytest.mark.parametrize(
    ("other", "currency"),
    [(Amount(1, 2, "USD"), "USD"), (Amount(1, 3, "DCASH"), "DCASH"), (Amount(1, 2), None)],
)
def test_amount_arithmetic_needs_the_same_currency_and_decimals(other: Amount, currency: str | None) -> None:
    a = Amount(1234, 2, "DCASH")
    for operation in (lambda: a + other, lambda: a - other, lambda: a < other, lambda: a >= other):
        with pytest.raises(CurrencyMismatchError) as info:
            operation()
        assert info.value.left is a
        assert info.value.right is other
        assert str(info.value) == f"cannot combine {a!r} with {other!r}: currency or decimals differ"


def test_amount_arithmetic_refuses_other_types() -> None:
    a = Amount(1234, 2, "DCASH")
    with pytest.raises(TypeError, match=r"^an Amount combines only with another Amount, not int$"):
        a + 1  # type: ignore[operator]
    with pytest.raises(FloatAmountError):
        a * 1.5  # type: ignore[operator]
    with pytest.raises(TypeError):
        a * True  # type: ignore[operator]
    with pytest.raises(NegativeAmountError) as info:
        a * -1
    assert str(info.value) == "amount must not be negative, got '12.34 DCASH * -1'"


def test_amount_never_goes_negative() -> None:
    with pytest.raises(NegativeAmountError) as info:
        Amount(1, 2, "DCASH") - Amount(2, 2, "DCASH")
    assert str(info.value) == "amount must not be negative, got '0.01 DCASH - 0.02 DCASH'"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"minor": -1, "decimals": 2}, "amount must not be negative, got -1"),
        ({"minor": 1.0, "decimals": 2},
         "amounts must not be floats (got 1.0); pass a str such as '12.34', an int or a Decimal"),
        ({"minor": 1, "decimals": 99}, "invalid amount 99: decimals must be an int from 0 to 77"),
        ({"minor": 1, "decimals": 2, "currency": ""},
         "invalid amount '': currency must be 1-16 letters, digits, '.', '_' or '-'"),
        ({"minor": 1, "decimals": 2, "currency": "D CASH"},
         "invalid amount 'D CASH': currency must be 1-16 letters, digits, '.', '_' or '-'"),
    ],
)
def test_amount_validates_its_fields(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(AmountError) as info:
        Amount(**kwargs)
    assert str(info.value) == message


def test_docstring_examples_run() -> None:
    result = doctest.testmod(wallet_sdk.amount)
    assert (result.failed, result.attempted) == (0, 1)
