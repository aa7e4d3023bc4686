"""Tables the indexer writes: what the chain says, projected into the node's database.

Everything here is derived from contract events (:mod:`node.indexer.service` writes it, nothing else should) and can
be rebuilt by indexing again from the deployment block into an empty database.

- ``indexer_checkpoints``: where the indexer is (block + log index of the last event applied, or a whole
  block when ``log_index`` is NULL), advanced in the same transaction as the rows it covers.
- ``chain_wallets``: registry facts of each indexed wallet and its balance projection (spendable and held,
  in minor units), kept equal to ``balanceOf`` and ``heldBalance`` at the checkpoint.
- ``wallet_history``: a wallet's transactions, one row per wallet side of an event (a transfer between two
  indexed wallets is a ``transfer_out`` and a ``transfer_in`` row). Unique on (tx hash, log index, kind).
  ``spendable_delta_minor`` / ``held_delta_minor`` are the row's effect on the wallet; their sums are the
  wallet's balances. A hold capture shows as ``hold_captured`` (no effect) and ``burn`` (reason
  ``hold_capture``, held money out). The one exception to "derived from the chain": **notices** to the
  customer (``totp_*`` kinds, written by :mod:`node.notices`, no block, no transaction, no effect), kept
  here so they take their place in the one ordered history a wallet's channels page through. Indexing again
  from the chain does not restore them; their source records (``second_factor_audit``) stay.
- ``chain_holds``: ATM cash-out holds and what became of them.
- ``chain_merchants``, ``merchant_orders``, ``merchant_refunds``, ``settlement_batches``: merchants, their
  orders (paid and refunded amounts), each refund, and settlement batches (gross, refunds, fee, net), with
  each merchant's pending projection (what the settlement contract holds for it). A settlement takes
  everything pending, so when its event is applied, every order and refund of the merchant without a batch
  gets its ``batch_id``: a batch's statement lists exactly what it settled. Merchant ids are per acquiring
  bank on chain, so these rows carry the ``acquirer`` and are unique per (acquirer, merchant id); a bank's
  node keeps its own merchants only (:mod:`node.indexer.projection`).
- ``directory_merchants``, ``directory_request_signers``, ``directory_orders_paid``: in a network-wide index,
  what a payer's bank checks a payment of *any* bank's merchant against without asking the chain: each
  merchant's wallet and status, each bank's request signer, and which orders are paid (their keys only: never
  their amounts or payers, which only the acquirer's tables above hold). Kept from the events applied after
  revision 0014; what they do not show is asked of the chain.
- ``bank_issuance``: minted and burned per bank; minted - burned mirrors ``netIssued``.
- ``chain_limits``: each limit class's balance cap, single-payment and daily outflow limits (``LimitsSet``);
  with ``chain_wallets`` and ``wallet_history`` they are what a payment is admitted against without asking
  the chain (:mod:`node.operations.local_state`).

Ids (bank, merchant, order, ref, hold) are stored in :mod:`node.chain_ids`' text form, addresses checksummed,
amounts as BIGINT minor units of ``currency``.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from node.db.base import ADDRESS, CURRENCY, Base, IdType, MinorUnits, UTCDateTime, str_enum, utcnow

__all__ = [
    "BankIssuance",
    "ChainHold",
    "ChainLimits",
    "ChainMerchant",
    "ChainWallet",
    "DirectoryMerchant",
    "DirectoryOrderPaid",
    "DirectoryRequestSigner",
    "HistoryKind",
    "IndexerCheckpoint",
    "MerchantOrder",
    "MerchantRefund",
    "SettlementBatchRecord",
    "WalletHistory",
]

ID_TEXT = String(66)  # a bytes32 id as text (<= 32 bytes of UTF-8) or 0x-hex
TX_HASH = String(66)


class HistoryKind(StrEnum):
    TRANSFER_OUT = "transfer_out"
    TRANSFER_IN = "transfer_in"
    MINT = "mint"
    BURN = "burn"
    HOLD_PLACED = "hold_placed"
    HOLD_CAPTURED = "hold_captured"
    HOLD_RELEASED = "hold_released"
    # notices the node writes itself (node.notices): no block, no transaction, no effect on balances
    TOTP_ENROLLED = "totp_enrolled"
    TOTP_CHANGED = "totp_changed"
    TOTP_RESET = "totp_reset"
    TOTP_LOCKED = "totp_locked"


class _OrderKey:
    """The key of an order on chain: merchant ids are per acquiring bank, order ids per merchant."""

    acquirer: Mapped[str] = mapped_column(ID_TEXT)
    merchant_id: Mapped[str] = mapped_column(ID_TEXT)
    order_id: Mapped[str] = mapped_column(ID_TEXT)


class _LoggedEvent:
    """Where the event a row records was logged: its block (number and time) and its place in a transaction
    (unique per event: each table's ``(tx_hash, log_index)`` constraint)."""

    block_number: Mapped[int] = mapped_column(BigInteger)
    block_time: Mapped[datetime] = mapped_column(UTCDateTime())
    tx_hash: Mapped[str] = mapped_column(TX_HASH)
    log_index: Mapped[int] = mapped_column(Integer)


class IndexerCheckpoint(Base):
    __tablename__ = "indexer_checkpoints"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    chain_id: Mapped[int] = mapped_column(BigInteger)
    token_address: Mapped[str] = mapped_column(ADDRESS)  # the deployment this database follows
    scope: Mapped[str] = mapped_column(String(16))  # "network" or "bank"
    bank_id: Mapped[str | None] = mapped_column(ID_TEXT)  # the bank, in scope "bank"
    block_number: Mapped[int] = mapped_column(BigInteger)
    log_index: Mapped[int | None] = mapped_column(Integer)  # NULL: every event of block_number is applied
    block_hash: Mapped[str] = mapped_column(TX_HASH)  # of block_number, to notice a reorganisation
    block_time: Mapped[int | None] = mapped_column(BigInteger)  # of block_number (Unix seconds): the chain's clock
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ChainWallet(Base):
    __tablename__ = "chain_wallets"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    address: Mapped[str] = mapped_column(ADDRESS, unique=True)
    bank_id: Mapped[str | None] = mapped_column(ID_TEXT, index=True)  # custodian; NULL for system wallets
    kind: Mapped[str] = mapped_column(String(16))  # personal, merchant, system
    tier: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))  # active, frozen, closed
    currency: Mapped[str] = mapped_column(CURRENCY)
    spendable_minor: Mapped[int] = mapped_column(MinorUnits)  # = balanceOf
    held_minor: Mapped[int] = mapped_column(MinorUnits)  # = heldBalance
    updated_block: Mapped[int] = mapped_column(BigInteger)


class WalletHistory(Base):
    __tablename__ = "wallet_history"
    __table_args__ = (
        UniqueConstraint("tx_hash", "log_index", "kind"),
        Index("ix_wallet_history_wallet_position", "wallet", "block_number", "log_index"),
        Index("ix_wallet_history_wallet_time", "wallet", "block_time"),  # today's outflow of a wallet
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    wallet: Mapped[str] = mapped_column(ADDRESS)
    kind: Mapped[HistoryKind] = mapped_column(str_enum(HistoryKind, "wallet_history_kind"))
    amount_minor: Mapped[int] = mapped_column(MinorUnits)
    spendable_delta_minor: Mapped[int] = mapped_column(MinorUnits)
    held_delta_minor: Mapped[int] = mapped_column(MinorUnits)
    currency: Mapped[str] = mapped_column(CURRENCY)
    counterparty: Mapped[str | None] = mapped_column(ADDRESS)  # the other wallet of a transfer
    bank_id: Mapped[str | None] = mapped_column(ID_TEXT)  # issuing / burning bank of a mint or burn
    ref: Mapped[str | None] = mapped_column(ID_TEXT)  # off-chain reference of a mint, burn or capture
    burn_reason: Mapped[str | None] = mapped_column(String(32))  # redemption, hold_capture, ...
    hold_id: Mapped[str | None] = mapped_column(ID_TEXT)
    block_number: Mapped[int | None] = mapped_column(BigInteger)  # NULL: a notice
    block_time: Mapped[datetime] = mapped_column(UTCDateTime())  # a notice: when it was written
    tx_hash: Mapped[str | None] = mapped_column(TX_HASH)  # NULL: a notice
    log_index: Mapped[int | None] = mapped_column(Integer)  # NULL: a notice
    note: Mapped[str | None] = mapped_column(String(300))  # a notice's text for the customer


class ChainHold(Base):
    __tablename__ = "chain_holds"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    hold_id: Mapped[str] = mapped_column(ID_TEXT, unique=True)
    holder: Mapped[str] = mapped_column(ADDRESS, index=True)
    amount_minor: Mapped[int] = mapped_column(MinorUnits)
    currency: Mapped[str] = mapped_column(CURRENCY)
    expires_at: Mapped[int] = mapped_column(BigInteger)  # chain time, Unix seconds
    status: Mapped[str] = mapped_column(String(16))  # held, captured, released
    capture_ref: Mapped[str | None] = mapped_column(ID_TEXT)
    placed_tx_hash: Mapped[str] = mapped_column(TX_HASH)
    placed_block: Mapped[int] = mapped_column(BigInteger)
    resolved_tx_hash: Mapped[str | None] = mapped_column(TX_HASH)
    resolved_block: Mapped[int | None] = mapped_column(BigInteger)


class ChainMerchant(Base):
    """A merchant as registered on chain: ids are per acquirer, so (acquirer, merchant_id) is the key."""

    __tablename__ = "chain_merchants"
    __table_args__ = (UniqueConstraint("acquirer", "merchant_id"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    merchant_id: Mapped[str] = mapped_column(ID_TEXT)
    acquirer: Mapped[str] = mapped_column(ID_TEXT, index=True)
    wallet: Mapped[str] = mapped_column(ADDRESS)
    fee_bps: Mapped[int] = mapped_column(Integer)
    payout_mode: Mapped[str] = mapped_column(String(16))  # wallet, bank_account
    status: Mapped[str] = mapped_column(String(16))  # active, suspended
    currency: Mapped[str] = mapped_column(CURRENCY)
    pending_gross_minor: Mapped[int] = mapped_column(MinorUnits)  # paid since the last settlement
    pending_refunds_minor: Mapped[int] = mapped_column(MinorUnits)  # refunded since the last settlement
    last_batch_id: Mapped[int] = mapped_column(BigInteger)


class MerchantOrder(_OrderKey, Base):
    __tablename__ = "merchant_orders"
    __table_args__ = (
        UniqueConstraint("acquirer", "merchant_id", "order_id"),
        UniqueConstraint("paid_tx_hash", "paid_log_index"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    payer: Mapped[str] = mapped_column(ADDRESS, index=True)
    currency: Mapped[str] = mapped_column(CURRENCY)
    paid_minor: Mapped[int] = mapped_column(MinorUnits)
    refunded_minor: Mapped[int] = mapped_column(MinorUnits)
    paid_block: Mapped[int] = mapped_column(BigInteger)
    paid_time: Mapped[datetime] = mapped_column(UTCDateTime())
    paid_tx_hash: Mapped[str] = mapped_column(TX_HASH)
    paid_log_index: Mapped[int] = mapped_column(Integer)
    last_refund_ref: Mapped[str | None] = mapped_column(ID_TEXT)
    batch_id: Mapped[int | None] = mapped_column(BigInteger)  # the settlement batch its payment went into


class MerchantRefund(_OrderKey, _LoggedEvent, Base):
    """One refund of an order (OrderRefunded), and the settlement batch it went into."""

    __tablename__ = "merchant_refunds"
    __table_args__ = (
        UniqueConstraint("tx_hash", "log_index"),
        Index("ix_merchant_refunds_merchant_batch", "merchant_id", "batch_id"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    payer: Mapped[str] = mapped_column(ADDRESS)
    currency: Mapped[str] = mapped_column(CURRENCY)
    amount_minor: Mapped[int] = mapped_column(MinorUnits)
    refunded_total_minor: Mapped[int] = mapped_column(MinorUnits)  # of the order, this refund included
    ref: Mapped[str | None] = mapped_column(ID_TEXT)
    batch_id: Mapped[int | None] = mapped_column(BigInteger)


class SettlementBatchRecord(_LoggedEvent, Base):
    __tablename__ = "settlement_batches"
    __table_args__ = (
        UniqueConstraint("acquirer", "merchant_id", "batch_id"),
        UniqueConstraint("tx_hash", "log_index"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    merchant_id: Mapped[str] = mapped_column(ID_TEXT)
    batch_id: Mapped[int] = mapped_column(BigInteger)
    acquirer: Mapped[str] = mapped_column(ID_TEXT, index=True)
    currency: Mapped[str] = mapped_column(CURRENCY)
    gross_minor: Mapped[int] = mapped_column(MinorUnits)
    refunds_minor: Mapped[int] = mapped_column(MinorUnits)
    fee_minor: Mapped[int] = mapped_column(MinorUnits)
    net_minor: Mapped[int] = mapped_column(MinorUnits)
    payout_mode: Mapped[str] = mapped_column(String(16))
    ref: Mapped[str | None] = mapped_column(ID_TEXT)


class DirectoryMerchant(Base):
    """A merchant of any bank as the chain's registry shows it (MerchantRegistered, MerchantUpdated,
    MerchantStatusChanged)."""

    __tablename__ = "directory_merchants"
    __table_args__ = (UniqueConstraint("acquirer", "merchant_id"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    acquirer: Mapped[str] = mapped_column(ID_TEXT)
    merchant_id: Mapped[str] = mapped_column(ID_TEXT)
    wallet: Mapped[str] = mapped_column(ADDRESS)
    status: Mapped[str] = mapped_column(String(16))  # active, suspended


class DirectoryRequestSigner(Base):
    """The key a bank registered to sign its payment requests (RequestSignerSet)."""

    __tablename__ = "directory_request_signers"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    bank_id: Mapped[str] = mapped_column(ID_TEXT, unique=True)
    signer: Mapped[str] = mapped_column(ADDRESS)


class DirectoryOrderPaid(_OrderKey, Base):
    """An order of any bank's merchant that is paid (OrderPaid): its keys only."""

    __tablename__ = "directory_orders_paid"
    __table_args__ = (UniqueConstraint("acquirer", "merchant_id", "order_id"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)


class BankIssuance(Base):
    __tablename__ = "bank_issuance"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    bank_id: Mapped[str] = mapped_column(ID_TEXT, unique=True)
    currency: Mapped[str] = mapped_column(CURRENCY)
    minted_minor: Mapped[int] = mapped_column(MinorUnits)
    burned_minor: Mapped[int] = mapped_column(MinorUnits)


class ChainLimits(Base):
    """A limit class's limits as the token enforces them (classes 1..4 personal tiers, 5 merchant, 6 system);
    NULL: no limit (the token's 2**80 - 1 and above)."""

    __tablename__ = "chain_limits"

    limit_class: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    balance_cap: Mapped[int | None] = mapped_column(BigInteger)
    single_payment_limit: Mapped[int | None] = mapped_column(BigInteger)
    daily_outflow_limit: Mapped[int | None] = mapped_column(BigInteger)
    updated_block: Mapped[int] = mapped_column(BigInteger)
