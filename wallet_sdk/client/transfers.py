"""P2P transfers, wallet history and balance with limits.

::

    auth = RelayedTransfer(from_=key.address, to=payee, value=1_500, valid_before=deadline,
                           nonce=relay_nonce(word, bit))
    op = bank.transfer(key.address, payee, 1_500, authorization=auth.sign(key, domain))
    op = bank.wait_for_operation(op.id)            # completed, or failed with details["reason"]
    page = bank.get_history(key.address)           # oldest first; pass page.next_cursor as cursor=
    balance = bank.get_balance(key.address)        # spendable, held, limits, remaining_today

The payer's bank (the API called) must keep the payer's wallet; the payee may be at any bank.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from wallet_sdk.amount import Amount
from wallet_sdk.authorizations import RelayedTransfer, SignedAuthorization
from wallet_sdk.client._core import ApiRequest, Endpoint, model
from wallet_sdk.client.common import authorization_fields, page_of, wallet_path
from wallet_sdk.client.funding import amount_fields
from wallet_sdk.client.models import Money, Operation, Page

__all__ = [
    "AsyncTransfersEndpoints",
    "HistoryEntry",
    "TierLimits",
    "TransfersEndpoints",
    "WalletBalance",
    "get_balance",
    "get_history",
    "transfer",
    "transfer_fields",
]


@dataclass(frozen=True)
class HistoryEntry:
    """One event of a wallet's history, as the bank's indexer saw it on chain; or a notice of the bank to the
    customer (``kind`` ``totp_*``: ``note`` says what happened; no block, transaction or effect)."""

    id: int
    kind: str  # transfer_out, transfer_in, mint, burn, hold_placed, hold_captured, hold_released; totp_* notices
    amount: Money
    spendable_delta: int  # effect on the spendable balance, minor units (negative: money out)
    held_delta: int
    block_time: str  # a notice's: when the bank wrote it
    block_number: int | None = None  # None: a notice
    tx_hash: str | None = None
    log_index: int | None = None
    note: str | None = None  # a notice's text
    counterparty: str | None = None  # the other wallet of a transfer
    bank: str | None = None  # issuing / burning bank of a mint or burn
    ref: str | None = None  # the off-chain reference of a mint, burn or capture
    burn_reason: str | None = None
    hold_id: str | None = None


@dataclass(frozen=True)
class TierLimits:
    """The limits of the wallet's tier; None means no such limit."""

    balance_cap: Money | None = None
    single_payment: Money | None = None
    daily_outflow: Money | None = None


@dataclass(frozen=True)
class WalletBalance:
    """Balance and limits read from the chain at ``block_number``."""

    wallet: str
    bank: str
    tier: int
    status: str
    spendable: Money
    held: Money
    limits: TierLimits
    spent_today: Money
    block_number: int
    remaining_today: Money | None = None  # None: no daily limit


def transfer_fields(signed: SignedAuthorization[RelayedTransfer] | str) -> dict[str, Any]:
    """The request fields of a signed RelayedTransfer: ``authorization`` (its fields, the nonce as a decimal
    string, and the signature), or ``payload`` when given the QR text (``WALLETNET:1:RELAY:...``)."""
    return authorization_fields(signed, RelayedTransfer, lambda auth: {
        "from": auth.from_, "to": auth.to, "value": auth.value, "valid_before": auth.valid_before,
        "nonce": str(auth.nonce)})


def transfer(payer: str, payee: str, amount: int | Amount, *,
             authorization: SignedAuthorization[RelayedTransfer] | str | None = None, totp: str | None = None,
             idempotency_key: str | None = None) -> ApiRequest[Operation]:
    """Pay ``amount`` from ``payer`` (kept by this bank) to ``payee`` (at any bank); the bank relays it in its
    next batch. ``authorization``: the payer's signed RelayedTransfer of exactly this payment (or its QR text);
    left out for a custodial payer (the bank signs)."""
    wallet_path(payer)
    wallet_path(payee)
    body: dict[str, Any] = {"payer": payer, "payee": payee, **amount_fields(amount)}
    if authorization is not None:
        body.update(transfer_fields(authorization))
    return ApiRequest("POST", "/v1/transfers", model(Operation), json=body, idempotent=True,
                      idempotency_key=idempotency_key, totp=totp)


def get_history(wallet: str, *, limit: int | None = None, cursor: str | None = None) -> ApiRequest[Page[HistoryEntry]]:
    """One page of the wallet's history, oldest first; pass ``next_cursor`` back as ``cursor`` for the next."""
    return ApiRequest("GET", wallet_path(wallet, "/history"), page_of(HistoryEntry),
                      params={"limit": limit, "cursor": cursor})


def get_balance(wallet: str) -> ApiRequest[WalletBalance]:
    """Spendable and held balance, the tier's limits and what is left of today's outflow limit."""
    return ApiRequest("GET", wallet_path(wallet, "/balance"), model(WalletBalance))


class TransfersEndpoints:
    transfer = Endpoint(transfer)
    get_history = Endpoint(get_history)
    get_balance = Endpoint(get_balance)


AsyncTransfersEndpoints = TransfersEndpoints  # one class serves both clients
