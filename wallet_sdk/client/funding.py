"""Bank accounts, top-up and redemption: money between a customer's deposit account and the wallet.

::

    bank.open_account("DEP-0001", "CUST-1", opening_balance=50_000)     # admin: built-in ledger only
    op = bank.top_up(wallet, 5_000)                                     # hold on the account, mint
    op = bank.wait_for_operation(op.id)                                 # completed: hold captured

    signed = Redemption(holder=key.address, value=2_000, valid_before=deadline).sign(key, domain)
    op = bank.redeem(wallet, 2_000, authorization=signed)               # or the QR text: encode_payload(signed)

Amounts are ints of minor units (or an :class:`~wallet_sdk.amount.Amount`). Above the bank's second-factor
threshold pass the customer's current code as ``totp=``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import quote

from wallet_sdk.amount import Amount
from wallet_sdk.authorizations import Redemption, SignedAuthorization
from wallet_sdk.client._core import ApiRequest, Endpoint, model
from wallet_sdk.client.common import ClientArgumentError, authorization_fields, matching, wallet_path
from wallet_sdk.client.models import Money, Operation

__all__ = [
    "AsyncFundingEndpoints",
    "BankAccount",
    "FundingEndpoints",
    "amount_fields",
    "get_account",
    "open_account",
    "redeem",
    "redemption_fields",
    "top_up",
]

_ACCOUNT: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9:._-]{0,127}")
MAX_AMOUNT: Final = 2**63 - 1


@dataclass(frozen=True)
class BankAccount:
    """A customer deposit account: ``available`` is ``balance`` less holds (top-ups in flight)."""

    code: str
    balance: Money
    available: Money
    customer_ref: str | None = None
    name: str = ""


def amount_fields(amount: int | Amount) -> dict[str, Any]:
    """``{"amount": minor}`` (plus ``"currency"`` for an Amount that has one); refuses non-positive amounts."""
    if isinstance(amount, Amount):
        fields: dict[str, Any] = {"amount": amount.minor}
        if amount.currency is not None:
            fields["currency"] = amount.currency
    elif isinstance(amount, int) and not isinstance(amount, bool):
        fields = {"amount": amount}
    else:
        raise ClientArgumentError(f"an amount is an int of minor units or an Amount, not {type(amount).__name__}")
    if not 1 <= fields["amount"] <= MAX_AMOUNT:
        raise ClientArgumentError(f"the amount must be from 1 to {MAX_AMOUNT} minor units, not {fields['amount']}")
    return fields


def _account_path(code: str) -> str:
    code = matching(_ACCOUNT, code, "not an account code (letters, digits, ':', '.', '_', '-'): {value}")
    return f"/v1/accounts/{quote(code, safe=':')}"


def redemption_fields(signed: SignedAuthorization[Redemption] | str) -> dict[str, Any]:
    """The request fields of a signed Redemption: ``authorization`` (its fields and signature), or ``payload``
    when given the QR text (``WALLETNET:1:REDEEM:...``)."""
    return authorization_fields(signed, Redemption, lambda auth: {
        "holder": auth.holder, "value": auth.value, "valid_before": auth.valid_before,
        "nonce": "0x" + auth.nonce.hex()})


def open_account(code: str, customer_ref: str, *, opening_balance: int = 0, name: str = "",
                 idempotency_key: str | None = None) -> ApiRequest[BankAccount]:
    """Open a customer deposit account in the node's built-in ledger (admin), with ``opening_balance`` minor
    units paid in cash at the branch. A node on a core-banking system refuses (its accounts live there)."""
    if isinstance(opening_balance, bool) or not isinstance(opening_balance, int) \
            or not 0 <= opening_balance <= MAX_AMOUNT:
        raise ClientArgumentError(f"opening_balance must be an int from 0 to {MAX_AMOUNT}")
    _account_path(code)
    body = {"code": code, "customer_ref": customer_ref, "opening_balance": opening_balance, "name": name}
    return ApiRequest("POST", "/v1/accounts", model(BankAccount), json=body, idempotent=True,
                      idempotency_key=idempotency_key)


def get_account(code: str) -> ApiRequest[BankAccount]:
    """A customer deposit account's booked and available balance."""
    return ApiRequest("GET", _account_path(code), model(BankAccount))


def top_up(wallet: str, amount: int | Amount, *, totp: str | None = None,
           idempotency_key: str | None = None) -> ApiRequest[Operation]:
    """Move ``amount`` from the wallet's bound deposit account into the wallet; the operation completes once
    the mint is confirmed (or fails, and the account's hold is released)."""
    return ApiRequest("POST", wallet_path(wallet, "/topups"), model(Operation), json=amount_fields(amount),
                      idempotent=True, idempotency_key=idempotency_key, totp=totp)


def redeem(wallet: str, amount: int | Amount, *, authorization: SignedAuthorization[Redemption] | str | None = None,
           totp: str | None = None, idempotency_key: str | None = None) -> ApiRequest[Operation]:
    """Burn ``amount`` from the wallet for the bound deposit account, credited once the burn is confirmed.

    ``authorization``: the customer's signed Redemption of exactly ``amount`` (or its QR text); required for a
    self-custody wallet, left out for a custodial one (the bank signs)."""
    body = amount_fields(amount)
    if authorization is not None:
        body.update(redemption_fields(authorization))
    return ApiRequest("POST", wallet_path(wallet, "/redemptions"), model(Operation), json=body, idempotent=True,
                      idempotency_key=idempotency_key, totp=totp)


class FundingEndpoints:
    open_account = Endpoint(open_account)
    get_account = Endpoint(get_account)
    top_up = Endpoint(top_up)
    redeem = Endpoint(redeem)


AsyncFundingEndpoints = FundingEndpoints  # one class serves both clients
