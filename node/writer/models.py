"""The chain writer's tables: every transaction it signed, every signed version of it, and the outbox rows
it carries.

- ``chain_transactions``: one per nonce of the operator account (unique per sender): what it calls, its
  gas limit and its state (pending until a version is mined with enough confirmations).
- ``chain_transaction_attempts``: the signed versions of one transaction: the raw bytes exactly as
  broadcast, their hash and fees. The first is the original; later ones are replacements (same nonce,
  higher fees). Whichever is mined wins; the others can then never be.
- ``chain_transaction_rows``: which outbox rows a transaction carries and which items of its batch call
  are theirs. An outbox row is in at most one transaction (its primary key), so it is never signed
  under a second nonce while the first could still be mined. The one exception is final: a batch of
  several rows mined reverted changed nothing, and its rows leave it to be sent again one by one.

A transaction, its first attempt and its rows are committed together with the rows' move to
``submitted``, before anything is broadcast.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from node.db.base import Base, IdType, UTCDateTime, str_enum, utcnow

__all__ = ["ChainTransaction", "ChainTxAttempt", "ChainTxRow", "ChainTxState"]

ADDRESS_LENGTH = 42  # "0x" + 40 hex digits
HASH_LENGTH = 66  # "0x" + 64 hex digits


class ChainTxState(StrEnum):
    PENDING = "pending"  # signed and stored; broadcast (or about to be); no version final yet
    MINED = "mined"  # a version was mined with status 1 and has enough confirmations
    REVERTED = "reverted"  # a version was mined with status 0
    DISPLACED = "displaced"  # the nonce was used by a transaction the writer did not sign


class ChainTransaction(Base):
    __tablename__ = "chain_transactions"
    __table_args__ = (UniqueConstraint("sender", "nonce"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    sender: Mapped[str] = mapped_column(String(ADDRESS_LENGTH))
    nonce: Mapped[int] = mapped_column(BigInteger)
    chain_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(64))
    to_address: Mapped[str] = mapped_column(String(ADDRESS_LENGTH))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    gas_limit: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[ChainTxState] = mapped_column(str_enum(ChainTxState, "chain_tx_state"), index=True,
                                                default=ChainTxState.PENDING)
    mined_hash: Mapped[str | None] = mapped_column(String(HASH_LENGTH))
    block_number: Mapped[int | None] = mapped_column(BigInteger, index=True)  # the txs the indexer has not reached
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def __repr__(self) -> str:
        return f"ChainTransaction(nonce={self.nonce}, kind={self.kind!r}, state={self.state!r})"


class ChainTxAttempt(Base):
    __tablename__ = "chain_transaction_attempts"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    chain_tx_id: Mapped[int] = mapped_column(IdType, ForeignKey("chain_transactions.id"), index=True)
    tx_hash: Mapped[str] = mapped_column(String(HASH_LENGTH), unique=True)
    raw_tx: Mapped[bytes] = mapped_column(LargeBinary)
    gas_price: Mapped[int | None] = mapped_column(BigInteger)  # wei per gas, legacy transactions
    max_fee_per_gas: Mapped[int | None] = mapped_column(BigInteger)  # wei per gas, EIP-1559
    max_priority_fee_per_gas: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)  # signed at

    def __repr__(self) -> str:
        return f"ChainTxAttempt(tx_hash={self.tx_hash!r})"


class ChainTxRow(Base):
    __tablename__ = "chain_transaction_rows"

    outbox_id: Mapped[int] = mapped_column(IdType, ForeignKey("outbox.id"), primary_key=True)
    chain_tx_id: Mapped[int] = mapped_column(IdType, ForeignKey("chain_transactions.id"), index=True)
    first_item: Mapped[int] = mapped_column(Integer)  # index of the row's first item in the batch call
    item_count: Mapped[int] = mapped_column(Integer)

    def __repr__(self) -> str:
        return f"ChainTxRow(outbox_id={self.outbox_id}, items={self.first_item}+{self.item_count})"
