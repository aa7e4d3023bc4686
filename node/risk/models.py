"""The risk engine's tables (issue 22).

- ``risk_wallet_state``: per wallet, its recent outflows as the engine saw them (``events``: ``[unix time,
  amount, new payee 0/1]``, newest last, at most :data:`node.risk.rules.MAX_EVENTS` within 30 days). Written in the
  transaction of the payments it counts (the P2P lane: once per batch), so it survives restarts and never counts
  a payment that did not commit.
- ``risk_payees``: the (wallet, payee) pairs the wallet has paid: a payee not here is new.
- ``risk_decisions``: every decision other than a plain allow, with the rules that fired and the features each
  saw; a held operation's review (state, officer, reason) and the outbox row it enqueues when approved.
- ``risk_rule_sets``: each change of the bank's rules, with who changed them and why; the newest is in force.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from node.db.base import ADDRESS, CURRENCY, Base, IdType, JsonType, MinorUnits, UTCDateTime, str_enum, utcnow

__all__ = ["ReviewState", "RiskDecision", "RiskPayee", "RiskRuleSet", "RiskWalletState"]


class ReviewState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DECLINED = "declined"
    EXPIRED = "expired"  # nobody decided in time: declined


class RiskWalletState(Base):
    __tablename__ = "risk_wallet_state"

    wallet: Mapped[str] = mapped_column(ADDRESS, primary_key=True)
    events: Mapped[list[Any]] = mapped_column(JsonType)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RiskPayee(Base):
    __tablename__ = "risk_payees"
    __table_args__ = (UniqueConstraint("wallet", "payee"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    wallet: Mapped[str] = mapped_column(ADDRESS)
    payee: Mapped[str] = mapped_column(ADDRESS)
    first_at: Mapped[int] = mapped_column(BigInteger)  # unix time


class RiskDecision(Base):
    __tablename__ = "risk_decisions"
    __table_args__ = (
        Index("ix_risk_decisions_wallet_id", "wallet", "id"),
        Index("ix_risk_decisions_review_state", "review_state", "expires_at"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)  # "rd_" + 32 hex digits
    action: Mapped[str] = mapped_column(String(16))  # node.risk.rules.Action
    flow: Mapped[str] = mapped_column(String(24))
    channel: Mapped[str] = mapped_column(String(16))
    api_key_id: Mapped[int | None] = mapped_column(BigInteger)
    wallet: Mapped[str] = mapped_column(ADDRESS)
    counterparty: Mapped[str | None] = mapped_column(ADDRESS)
    amount_minor: Mapped[int] = mapped_column(MinorUnits)
    currency: Mapped[str] = mapped_column(CURRENCY)
    hits: Mapped[list[Any]] = mapped_column(JsonType)  # [{rule, kind, action, features: {name: value}}]
    operation_id: Mapped[str | None] = mapped_column(String(40))  # the operation it held, or the freeze's
    review_state: Mapped[ReviewState | None] = mapped_column(str_enum(ReviewState, "risk_review_state"))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reviewed_by: Mapped[int | None] = mapped_column(BigInteger)  # the officer's API key
    review_reason: Mapped[str | None] = mapped_column(Text)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    held: Mapped[dict[str, Any] | None] = mapped_column(JsonType)  # the outbox row to enqueue when approved
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RiskRuleSet(Base):
    __tablename__ = "risk_rule_sets"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    rules: Mapped[list[Any]] = mapped_column(JsonType)
    api_key_id: Mapped[int | None] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(Text)
    previous: Mapped[list[Any] | None] = mapped_column(JsonType)  # the rules it replaced (for the audit)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
