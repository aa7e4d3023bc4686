"""Request and response bodies of ``/v1/wallets``: a wallet's record and balance, its opening (counter, app,
bulk), tier, freeze, bound account and closure, its history and its balance with limits; and the functions that
shape the node's records into them."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from api.common import ADDRESS_PATTERN, MAX_DB_INT, Money, RequestModel, StrictInt
from api.problems import KINDS, ProblemKind
from api.schemas.operations import OperationOut, operation_out
from node.errors import FlowError, FlowValidationError
from node.indexer.models import WalletHistory
from node.wallets.history import RegisteredWallet
from node.wallets.models import CustodyMode, Verification, WalletRecord
from node.wallets.service import EnrolmentOutcome, Opening
from wallet_sdk.client.transfers import WalletBalance

__all__ = [
    "BindAccountIn",
    "EnrolmentIn",
    "EnrolmentOut",
    "EnrolmentResultOut",
    "EnrolmentRowIn",
    "FreezeIn",
    "HistoryItemOut",
    "LimitsOut",
    "NoteIn",
    "OpenWalletIn",
    "RowErrorOut",
    "TierIn",
    "WalletBalanceOut",
    "WalletOpeningOut",
    "WalletOut",
    "WalletRecordOut",
    "balance_out",
    "enrolment_out",
    "history_item_out",
    "opening_out",
    "record_out",
    "row_error",
    "wallet_out",
]


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


class WalletOpeningOut(BaseModel):
    wallet: WalletRecordOut
    operation: OperationOut = Field(description="the opening; the wallet is usable once it is completed")
    created: bool = Field(description="false when this customer's enrolment in this channel had opened the "
                                      "wallet before (the same wallet and operation are returned)")


def wallet_out(wallet: RegisteredWallet, currency: str) -> WalletOut:
    return WalletOut(address=wallet.address, bank=wallet.bank, tier=wallet.tier, status=wallet.status,
                     balance=Money(amount=wallet.balance_minor, currency=currency))


def record_out(record: WalletRecord) -> WalletRecordOut:
    return WalletRecordOut(address=record.address, customer_ref=record.customer_ref, channel=record.channel,
                           verification=record.verification.value, tier=record.tier, custody=record.custody.value,
                           state=record.state.value, phone=record.phone, account=record.account_code,
                           freeze_reason=record.freeze_reason, created_at=record.created_at,
                           updated_at=record.updated_at)


def opening_out(opening: Opening) -> WalletOpeningOut:
    return WalletOpeningOut(wallet=record_out(opening.record), operation=operation_out(opening.operation),
                            created=opening.created)


def row_error(exc: FlowError) -> RowErrorOut:
    """A row's error as the problem it would be on its own."""
    kind = ProblemKind(exc.problem)
    field = exc.field if isinstance(exc, FlowValidationError) else None
    return RowErrorOut(type=kind.uri, title=KINDS[kind].title, detail=exc.detail, field=field)


def enrolment_out(outcomes: list[EnrolmentOutcome]) -> EnrolmentOut:
    results = []
    for outcome in outcomes:
        shown = outcome.shown
        if shown is None:
            assert outcome.error is not None
            results.append(EnrolmentResultOut(index=outcome.index, customer_ref=outcome.customer_ref, status="failed",
                                              error=row_error(outcome.error)))
            continue
        results.append(EnrolmentResultOut(
            index=outcome.index, customer_ref=outcome.customer_ref, status="opened" if shown.created else "existing",
            wallet=shown.wallet, operation_id=shown.operation_id, tier=shown.tier, custody=shown.custody.value))
    return EnrolmentOut(results=results)


class HistoryItemOut(BaseModel):
    """A chain event as the bank's indexer saw it, or a notice of the bank to the customer (``totp_*`` kinds:
    no block, transaction or effect; ``note`` says what happened)."""

    id: int = Field(description="position in the node's history (ascending)")
    kind: str = Field(description="transfer_out, transfer_in, mint, burn, hold_placed, hold_captured, hold_released; "
                                  "notices: totp_enrolled, totp_changed, totp_reset (a teller's reset), totp_locked "
                                  "(too many wrong codes)")
    amount: Money
    spendable_delta: int = Field(description="effect on the spendable balance, minor units (negative: out)")
    held_delta: int = Field(description="effect on the money on hold, minor units")
    counterparty: str | None = Field(None, description="the other wallet of a transfer")
    bank: str | None = Field(None, description="the issuing or burning bank of a mint or burn")
    ref: str | None = Field(None, description="the off-chain reference a mint, burn or capture carries")
    burn_reason: str | None = None
    hold_id: str | None = None
    block_number: int | None = Field(description="null for a notice")
    block_time: datetime = Field(description="the block's time; a notice's: when the bank wrote it")
    tx_hash: str | None = Field(description="null for a notice")
    log_index: int | None = Field(description="null for a notice")
    note: str | None = Field(None, description="a notice's text for the customer")


def history_item_out(row: WalletHistory) -> HistoryItemOut:
    return HistoryItemOut(id=row.id, kind=row.kind.value, amount=Money(amount=row.amount_minor, currency=row.currency),
                          spendable_delta=row.spendable_delta_minor, held_delta=row.held_delta_minor,
                          counterparty=row.counterparty, bank=row.bank_id, ref=row.ref, burn_reason=row.burn_reason,
                          hold_id=row.hold_id, block_number=row.block_number, block_time=row.block_time,
                          tx_hash=row.tx_hash, log_index=row.log_index, note=row.note)


class LimitsOut(BaseModel):
    """The wallet's tier limits; null means the tier has no such limit."""

    balance_cap: Money | None
    single_payment: Money | None
    daily_outflow: Money | None


class WalletBalanceOut(BaseModel):
    wallet: str
    bank: str = Field(description="the custodian bank")
    tier: int
    status: str = Field(description="active, frozen or closed")
    spendable: Money = Field(description="what the wallet can pay now")
    held: Money = Field(description="set aside for ATM cash-outs in progress")
    limits: LimitsOut
    spent_today: Money = Field(description="paid out today (chain time, UTC day)")
    remaining_today: Money | None = Field(description="what the daily outflow limit still allows today (null: no "
                                                      "limit); a payment also needs the spendable balance")
    block_number: int = Field(description="the block these values were read at")


def balance_out(balance: WalletBalance) -> WalletBalanceOut:
    """The node's reading (the SDK's WalletBalance, which is what this body describes) as the response body."""
    return WalletBalanceOut(**asdict(balance))
