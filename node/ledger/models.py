"""Tables of the built-in double-entry ledger.

Sign convention: a posting's ``amount_minor`` is positive for a debit and negative for a credit, so a
journal entry balances when its postings sum to zero (per currency). An account's balance is derived from
its postings only (there is no stored balance to drift): ``sum(amount_minor)`` for debit-normal accounts
(assets), its negation for credit-normal ones (liabilities, income, equity).

An entry is inserted *unposted*, gets its postings, and is then flipped to ``posted``; the database refuses
that flip unless the postings balance, and refuses any change to a posted entry or its postings (see the
initial migration's triggers). Only posted entries count towards balances.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from node.db.base import CURRENCY, Base, IdType, MinorUnits, UTCDateTime, str_enum, utcnow
from node.ledger.types import AccountKind, HoldState

__all__ = ["JournalEntry", "LedgerAccount", "LedgerHold", "Posting"]


class LedgerAccount(Base):
    __tablename__ = "ledger_accounts"
    __table_args__ = (
        # target of the postings' (account_id, currency) foreign key: a posting's currency is its account's
        UniqueConstraint("id", "currency"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    code: Mapped[str] = mapped_column(String(128), unique=True)
    kind: Mapped[AccountKind] = mapped_column(str_enum(AccountKind, "ledger_account_kind"))
    currency: Mapped[str] = mapped_column(CURRENCY)
    name: Mapped[str] = mapped_column(String(200), default="")
    owner_ref: Mapped[str | None] = mapped_column(String(128), index=True)  # customer, ATM or merchant id
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def __repr__(self) -> str:
        return f"LedgerAccount(code={self.code!r}, kind={self.kind.value!r}, currency={self.currency!r})"


class JournalEntry(Base):
    __tablename__ = "ledger_entries"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    reference: Mapped[str] = mapped_column(String(200), unique=True)  # the caller's idempotency reference
    correlation_id: Mapped[str | None] = mapped_column(String(200), index=True)  # the business event
    memo: Mapped[str] = mapped_column(Text, default="")
    fingerprint: Mapped[str] = mapped_column(String(64))  # sha256 of the legs: same reference, same legs
    posted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    reverses_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("ledger_entries.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    postings: Mapped[list[Posting]] = relationship(back_populates="entry", order_by="Posting.id")

    def __repr__(self) -> str:
        return f"JournalEntry(id={self.id!r}, reference={self.reference!r}, posted={self.posted!r})"


class Posting(Base):
    __tablename__ = "ledger_postings"
    __table_args__ = (
        CheckConstraint("amount_minor <> 0", name="nonzero_amount"),
        ForeignKeyConstraint(["account_id", "currency"], ["ledger_accounts.id", "ledger_accounts.currency"]),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    entry_id: Mapped[int] = mapped_column(IdType, ForeignKey("ledger_entries.id"), index=True)
    account_id: Mapped[int] = mapped_column(IdType, index=True)
    currency: Mapped[str] = mapped_column(CURRENCY)
    amount_minor: Mapped[int] = mapped_column(MinorUnits)  # > 0 debit, < 0 credit

    entry: Mapped[JournalEntry] = relationship(back_populates="postings")
    account: Mapped[LedgerAccount] = relationship(foreign_keys=[account_id], viewonly=True,
                                                  primaryjoin="Posting.account_id == LedgerAccount.id")


class LedgerHold(Base):
    """Money set aside on a deposit account: available = balance - active holds."""

    __tablename__ = "ledger_holds"
    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="positive_amount"),
        CheckConstraint("captured_minor IS NULL OR (captured_minor > 0 AND captured_minor <= amount_minor)",
                        name="capture_within_hold"),
        ForeignKeyConstraint(["account_id", "currency"], ["ledger_accounts.id", "ledger_accounts.currency"]),
        Index("ix_ledger_holds_account_id_state", "account_id", "state"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    reference: Mapped[str] = mapped_column(String(200), unique=True)
    account_id: Mapped[int] = mapped_column(IdType)
    currency: Mapped[str] = mapped_column(CURRENCY)
    amount_minor: Mapped[int] = mapped_column(MinorUnits)
    state: Mapped[HoldState] = mapped_column(str_enum(HoldState, "ledger_hold_state"), default=HoldState.ACTIVE)
    memo: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    captured_minor: Mapped[int | None] = mapped_column(MinorUnits)
    capture_entry_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("ledger_entries.id"))

    account: Mapped[LedgerAccount] = relationship(foreign_keys=[account_id], viewonly=True,
                                                  primaryjoin="LedgerHold.account_id == LedgerAccount.id")
