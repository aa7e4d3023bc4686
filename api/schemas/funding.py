"""Request and response bodies of money between the bank's books and the chain: deposit accounts
(``/v1/accounts``), a wallet's top-ups and redemptions (``/v1/wallets/{address}/topups``, ``.../redemptions``)."""

from __future__ import annotations

from typing import Final

from pydantic import BaseModel, Field

from api.common import (
    ADDRESS_PATTERN,
    Amount,
    Hex32,
    Money,
    NodeCurrency,
    RequestModel,
    SignedFormsModel,
    StrictInt,
    qr_text,
)
from node.funding.service import MAX_AMOUNT, DepositAccount

__all__ = ["ACCOUNT_CODE", "AccountOpenIn", "AccountOut", "RedemptionAuthorizationIn", "RedemptionIn", "TopUpIn",
           "account_out"]

ACCOUNT_CODE: Final = r"^[A-Za-z0-9][A-Za-z0-9:._-]{0,127}$"


class AccountOpenIn(RequestModel):
    code: str = Field(pattern=ACCOUNT_CODE, description="the account number (letters, digits, ':', '.', '_', '-')",
                      examples=["DEP-0001"])
    customer_ref: str = Field(min_length=1, max_length=64, description="the bank's customer number")
    opening_balance: StrictInt = Field(0, ge=0, le=MAX_AMOUNT,
                                 description="cash the customer paid in at the branch, in minor units")
    name: str = Field("", max_length=200)
    currency: NodeCurrency = None


class AccountOut(BaseModel):
    code: str
    customer_ref: str | None = None
    name: str = ""
    balance: Money = Field(description="booked balance")
    available: Money = Field(description="balance less holds (e.g. top-ups waiting for the chain)")


def account_out(account: DepositAccount) -> AccountOut:
    return AccountOut(code=account.code, customer_ref=account.customer_ref, name=account.name,
                      balance=Money(amount=account.balance_minor, currency=account.currency),
                      available=Money(amount=account.available_minor, currency=account.currency))


class TopUpIn(RequestModel):
    amount: Amount
    currency: NodeCurrency = None


class RedemptionAuthorizationIn(RequestModel):
    """A Redemption signed by the wallet's key (EIP-712, the token's domain), as the contract takes it."""

    holder: str = Field(pattern=ADDRESS_PATTERN)
    value: StrictInt = Field(gt=0, le=MAX_AMOUNT, description="= amount")
    valid_before: StrictInt = Field(gt=0, lt=2**256, description="Unix seconds (chain time)")
    nonce: Hex32
    v: StrictInt = Field(ge=0, le=255)
    r: Hex32
    s: Hex32


class RedemptionIn(SignedFormsModel):
    signed = "signed Redemption"

    amount: Amount
    currency: NodeCurrency = None
    authorization: RedemptionAuthorizationIn | None = Field(
        None, description="the customer's signed Redemption as fields (self-custody wallets: this or payload)")
    payload: str | None = qr_text("the signed Redemption as the app's QR text, WALLETNET:1:REDEEM:...", None)
