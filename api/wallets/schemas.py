"""Request and response bodies of the wallet endpoints (the opening's answer, which holds an operation, is
:class:`api.wallets.service.WalletOpeningOut`: api.operations.schemas imports ``Money`` from here)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from api.schemas import MAX_DB_INT, RequestModel, StrictInt
from node.wallets.models import CustodyMode, Verification

__all__ = [
    "BindAccountIn",
    "EnrolmentIn",
    "EnrolmentOut",
    "EnrolmentResultOut",
    "EnrolmentRowIn",
    "FreezeIn",
    "Money",
    "NoteIn",
    "OpenWalletIn",
    "RowErrorOut",
    "TierIn",
    "WalletOut",
    "WalletRecordOut",
]

ADDRESS_PATTERN = r"^0x[0-9a-fA-F]{40}$"


class Money(BaseModel):
    amount: int = Field(description="integer amount in minor units of `currency`")
    currency: str


class WalletOut(BaseModel):
    address: str = Field(description="EIP-55 checksummed wallet address")
    bank: str = Field(description="code of the custodian bank (empty for system wallets)")
    tier: int
    status: str = Field(description="active, frozen or closed")
    balance: Money = Field(description="spendable balance (money on hold excluded)")


class WalletRecordOut(BaseModel):
    """The bank's own record of a wallet it opened (the chain's view is ``GET /v1/wallets/{address}``)."""

    address: str
    customer_ref: str = Field(description="the bank's customer reference")
    channel: str = Field(description="where it was opened: teller, app or bulk")
    verification: str = Field(description="in_person, bank_account, identity_document or phone")
    tier: int = Field(description="1 (in person) .. 4 (phone only); each tier has its limits on chain")
    custody: str = Field(description="custodial (the bank keeps the key) or self (the customer's app does)")
    state: str = Field(description="pending, active, frozen, closing, closed or failed (the opening)")
    phone: str | None = None
    account: str | None = Field(None, description="the bound deposit account of this bank, if any")
    freeze_reason: int | None = None
    created_at: datetime
    updated_at: datetime


class OpenWalletIn(RequestModel):
    customer_ref: str = Field(min_length=1, max_length=64, description="the bank's customer reference")
    verification: Verification = Field(description="counter: in_person (tier 1); app: bank_account (tier 2, "
                                                   "needs `account`), identity_document (tier 3), phone "
                                                   "(tier 4, needs `phone`)")
    custody: CustodyMode = Field(CustodyMode.CUSTODIAL, description="custodial: the bank makes and keeps the key; "
                                                                    "self: register the customer's `address`")
    address: str | None = Field(None, pattern=ADDRESS_PATTERN, description="self-custody: the customer's address")
    proof: str | None = Field(None, pattern=r"^0x[0-9a-fA-F]{130}$",
                              description="self-custody: the key's EIP-712 signature of the registration "
                                          "(required in the app; see wallet_sdk.client.wallets.sign_registration)")
    phone: str | None = Field(None, max_length=32)
    account: str | None = Field(None, min_length=1, max_length=128,
                                description="a deposit account of this bank to bind (hashed on chain)")
    channel: Literal["teller", "app"] | None = Field(
        None, description="only for a key with both the teller and the app scope")


class EnrolmentRowIn(RequestModel):
    """One row of the enrolment CSV. Values are checked row by row, so a bad row fails alone."""

    customer_ref: str | None = Field(None, max_length=200)
    verification: str | None = Field(None, max_length=200)
    tier: Annotated[StrictInt, Field(ge=0, le=MAX_DB_INT)] | str | None = Field(
        None, description="optional: a weaker tier than the verification's")
    custody: str | None = Field(None, max_length=200, description="custodial (default) or self")
    address: str | None = Field(None, max_length=200)
    phone: str | None = Field(None, max_length=200)
    account: str | None = Field(None, max_length=200)


class EnrolmentIn(RequestModel):
    rows: list[EnrolmentRowIn] = Field(min_length=1, max_length=500)


class RowErrorOut(BaseModel):
    type: str = Field(description="the problem type URI this error would have as a response of its own")
    title: str
    detail: str | None = None
    field: str | None = Field(None, description="the row's field at fault, if one is")


class EnrolmentResultOut(BaseModel):
    index: int = Field(description="the row's position in the request, from 0")
    customer_ref: str
    status: Literal["opened", "existing", "failed"]
    wallet: str | None = None
    operation_id: str | None = Field(None, description="the opening operation (poll it to see it completed)")
    tier: int | None = None
    custody: str | None = None
    error: RowErrorOut | None = None


class EnrolmentOut(BaseModel):
    results: list[EnrolmentResultOut]


class TierIn(RequestModel):
    tier: StrictInt = Field(ge=1, le=4)
    reason: str | None = Field(None, max_length=200)


class FreezeIn(RequestModel):
    reason: StrictInt = Field(ge=1, le=65535, description="the bank's reason code, stored on chain")
    note: str | None = Field(None, max_length=200)


class NoteIn(RequestModel):
    note: str | None = Field(None, max_length=200)


class BindAccountIn(RequestModel):
    account: str = Field(min_length=1, max_length=128, description="a deposit account of this bank")
