"""Request and response bodies of the P2P transfer, history and balance endpoints."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator

from api.funding.schemas import ADDRESS, MAX_PAYLOAD, Amount, Hex32
from api.schemas import RequestModel, StrictInt
from api.wallets.schemas import Money
from node.indexer.models import WalletHistory
from node.wallets.history import WalletBalance

__all__ = ["HistoryItemOut", "LimitsOut", "RelayedTransferIn", "TransferIn", "WalletBalanceOut", "balance_out",
           "history_item_out"]


class RelayedTransferIn(RequestModel):
    """A RelayedTransfer signed by the payer's key (EIP-712, the token's domain), as ``relayTransfers`` takes it."""

    model_config = ConfigDict(populate_by_name=True)

    from_: str = Field(alias="from", pattern=ADDRESS, description="the payer")
    to: str = Field(pattern=ADDRESS, description="the payee")
    value: StrictInt = Field(gt=0, lt=2**256, description="= amount")
    valid_before: StrictInt = Field(gt=0, lt=2**256, description="Unix seconds (chain time)")
    nonce: str = Field(pattern=r"^[0-9]{1,78}$", description="the bitmap nonce (word << 8 | bit), a decimal string "
                                                               "(256 bits do not fit a JSON number everywhere)")
    v: StrictInt = Field(ge=0, le=255)
    r: Hex32
    s: Hex32


class TransferIn(RequestModel):
    payer: str = Field(pattern=ADDRESS, description="the paying wallet; this bank must keep it")
    payee: str = Field(pattern=ADDRESS, description="the receiving wallet, at any bank")
    amount: Amount
    currency: str | None = Field(None, description="the node's currency (the default); another one is refused")
    authorization: RelayedTransferIn | None = Field(
        None, description="the payer's signed RelayedTransfer as fields (self-custody payers: this or payload)")
    payload: str | None = Field(None, min_length=1, max_length=MAX_PAYLOAD,
                                description="the signed RelayedTransfer as the app's QR text, WALLETNET:1:RELAY:...")

    @model_validator(mode="after")
    def _one_form(self) -> TransferIn:
        if self.authorization is not None and self.payload is not None:
            raise ValueError("send the signed transfer once: as authorization or as payload, not both")
        return self


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


def _money(amount: int | None, currency: str) -> Money | None:
    return None if amount is None else Money(amount=amount, currency=currency)


def balance_out(balance: WalletBalance, currency: str) -> WalletBalanceOut:
    return WalletBalanceOut(
        wallet=balance.wallet, bank=balance.bank, tier=balance.tier, status=balance.status,
        spendable=Money(amount=balance.spendable_minor, currency=currency),
        held=Money(amount=balance.held_minor, currency=currency),
        limits=LimitsOut(balance_cap=_money(balance.balance_cap_minor, currency),
                         single_payment=_money(balance.single_payment_limit_minor, currency),
                         daily_outflow=_money(balance.daily_outflow_limit_minor, currency)),
        spent_today=Money(amount=balance.spent_today_minor, currency=currency),
        remaining_today=_money(balance.remaining_today_minor, currency), block_number=balance.block_number)
