"""Tables of the acquiring side: the merchants this bank acquires, their payment requests, the key that signs
those requests, and the webhook events and delivery attempts the node sends them.

What the chain says about merchants (orders paid, refunds, settlement batches) is the indexer's
(:mod:`node.indexer.models`); these tables hold what stays off chain: the merchant's legal name, its
settlement account code, its webhook endpoint and secret (encrypted with the custody key), the requests it
showed as QR codes, and the notifications owed to it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

import node.api_keys.models  # noqa: F401  (api_keys, the target of api_key_id: a node process may not import it)
from node.db.base import CURRENCY, Base, IdType, JsonType, MinorUnits, UTCDateTime, one_or_none, str_enum, utcnow

__all__ = [
    "FEE_WALLET_ACCOUNT",
    "MERCHANT_ID_MAX",
    "Merchant",
    "MerchantState",
    "PaymentRequestRecord",
    "PayoutMode",
    "RequestSigner",
    "WebhookAttempt",
    "WebhookEvent",
    "WebhookEventType",
    "WebhookState",
    "find_merchant",
    "legal_names",
]

MERCHANT_ID_MAX = 32  # characters of a merchant id; ids go on chain as text bytes32 (ASCII, so <= 32 bytes)
FEE_WALLET_ACCOUNT = "digital:fees"  # the ledger account of the digital cash the bank's fee wallet holds (asset)


class MerchantState(StrEnum):
    PENDING = "pending"  # its wallet opening and registration are on their way to the chain
    ACTIVE = "active"
    SUSPENDED = "suspended"
    FAILED = "failed"  # the chain refused the onboarding


class PayoutMode(StrEnum):
    WALLET = "wallet"  # the net of a settlement goes to the merchant's wallet
    BANK_ACCOUNT = "bank_account"  # it is burned on chain and credited to the merchant's settlement account


class Merchant(Base):
    __tablename__ = "merchants"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    merchant_id: Mapped[str] = mapped_column(String(MERCHANT_ID_MAX), unique=True)  # also its on-chain id
    legal_name: Mapped[str] = mapped_column(String(200))
    mcc: Mapped[int] = mapped_column(Integer)  # ISO 18245 merchant category code
    fee_bps: Mapped[int] = mapped_column(Integer)
    payout_mode: Mapped[PayoutMode] = mapped_column(str_enum(PayoutMode, "merchant_payout_mode"))
    settlement_account: Mapped[str] = mapped_column(String(128))  # ledger account code at this bank
    account_hash: Mapped[str] = mapped_column(String(66))  # salted hash of the account, as on chain
    wallet: Mapped[str] = mapped_column(String(42), unique=True)  # its merchant-kind wallet (custodial)
    state: Mapped[MerchantState] = mapped_column(str_enum(MerchantState, "merchant_state"))
    webhook_url: Mapped[str | None] = mapped_column(String(500))
    webhook_secret_ciphertext: Mapped[str | None] = mapped_column(Text)  # sealed with the custody key
    operation: Mapped[str | None] = mapped_column(String(40))  # the onboarding operation's public id
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def __repr__(self) -> str:  # never the webhook secret
        return f"Merchant({self.merchant_id!r}, {self.state})"


def find_merchant(session: Session, merchant_id: str, *, lock: bool = False) -> Merchant | None:
    return one_or_none(session, select(Merchant).where(Merchant.merchant_id == merchant_id), lock=lock)


def legal_names(session: Session, merchant_ids: Iterable[str]) -> dict[str, str]:
    """The legal names of those of this bank's merchants, by merchant id (what a customer's notification names)."""
    wanted = sorted(set(merchant_ids))
    if not wanted:
        return {}
    return {merchant_id: name for merchant_id, name in session.execute(
        select(Merchant.merchant_id, Merchant.legal_name).where(Merchant.merchant_id.in_(wanted)))}


class PaymentRequestRecord(Base):
    """A payment request a merchant created (and showed as a QR code). One per (merchant, order): an order is
    requested once and paid at most once. Whether it was paid is the chain's (``merchant_orders``)."""

    __tablename__ = "payment_requests"
    __table_args__ = (UniqueConstraint("merchant_id", "order_id"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    merchant_id: Mapped[str] = mapped_column(String(MERCHANT_ID_MAX))
    order_id: Mapped[str] = mapped_column(String(32))  # text, <= 32 bytes: goes on chain as bytes32
    amount_minor: Mapped[int] = mapped_column(MinorUnits)
    currency: Mapped[str] = mapped_column(CURRENCY)
    description: Mapped[str] = mapped_column(String(140), default="")
    expires_at: Mapped[int] = mapped_column(BigInteger)  # chain time, Unix seconds
    payload: Mapped[str] = mapped_column(Text)  # the QR text (WALLETNET:1:REQUEST:...)
    api_key_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("api_keys.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RequestSigner(Base):
    """The key that signs this bank's payment requests (MerchantSettlement's request signer), sealed with the
    custody key like custodial wallet keys. One row per ``purpose`` (one key, made once: see
    :mod:`node.merchants.request_signer`)."""

    __tablename__ = "request_signers"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    purpose: Mapped[str] = mapped_column(String(32), unique=True)
    address: Mapped[str] = mapped_column(String(42), unique=True)
    key_ciphertext: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def __repr__(self) -> str:  # never the key
        return f"RequestSigner({self.purpose!r}, {self.address})"


class WebhookEventType(StrEnum):
    PAYMENT_PAID = "payment.paid"
    PAYMENT_REFUNDED = "payment.refunded"
    SETTLEMENT_COMPLETED = "settlement.completed"
    NOTIFICATION_CREATED = "notification.created"  # to a bank's notification subscription (node/subscriptions)


class WebhookState(StrEnum):
    PENDING = "pending"  # waiting for its next attempt (next_attempt_at)
    DELIVERED = "delivered"  # the receiver answered 2xx
    FAILED = "failed"  # every attempt failed; a manual redelivery makes it pending again


class WebhookEvent(Base):
    """A notification owed to a merchant, made once per chain event (``source`` is unique: the event's
    transaction hash and log index), and its delivery state; or owed to a bank's notification subscription
    (``subscription_id``, no merchant; ``source`` ``sub:<subscription id>:<notification id>``)."""

    __tablename__ = "webhook_events"
    __table_args__ = (Index("ix_webhook_events_state_next", "state", "next_attempt_at"),
                      Index("ix_webhook_events_merchant_id", "merchant_id", "id"))

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)  # "evt_" + 32 hex digits
    merchant_id: Mapped[str | None] = mapped_column(String(MERCHANT_ID_MAX))  # None: a subscription's event
    subscription_id: Mapped[int | None] = mapped_column(BigInteger)  # notification_subscriptions.id
    type: Mapped[WebhookEventType] = mapped_column(str_enum(WebhookEventType, "webhook_event_type"))
    source: Mapped[str] = mapped_column(String(100), unique=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JsonType)  # the JSON body sent
    state: Mapped[WebhookState] = mapped_column(str_enum(WebhookState, "webhook_state"))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    manual: Mapped[bool] = mapped_column(default=False)  # its next attempt was asked for by a redelivery
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class WebhookAttempt(Base):
    """One try at delivering an event: the delivery log."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    event_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("webhook_events.id"), index=True)
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    url: Mapped[str] = mapped_column(String(500))
    status_code: Mapped[int | None] = mapped_column(Integer)  # None: no HTTP answer (refused, timeout ...)
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int] = mapped_column(Integer)
    manual: Mapped[bool] = mapped_column(default=False)  # asked for by a redelivery
