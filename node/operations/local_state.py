"""What a payment is admitted against without asking the chain: the indexer's projection at its checkpoint and
this node's own outflows the projection does not show yet.

The indexer keeps, at its checkpoint block ``B``, every wallet's registration, status, tier, spendable balance
and history (:mod:`node.indexer.models`), and each limit class's limits. What this node sends out of a wallet
and ``B`` does not show yet is in its own records: outflow operations still pending, and those whose
transaction was mined after ``B`` (the writer records each transaction's block). Together they say, with no
JSON-RPC call, whether the chain will take a payment:

- **spendable** = the balance at ``B`` - this node's outflows not in ``B``;
- **spent today** = outflows in ``B``'s history since the start of today (UTC) + the same unindexed outflows;
- the wallet's **status** and its **limit class**'s single-payment and daily limits at ``B``.

The view is conservative for this node's own traffic (it may count an outflow twice for a moment, never not at
all), and it does not count money coming in that ``B`` does not show. So when it admits a payment the chain
takes it, unless the wallet itself moved money on chain meanwhile (a self-custody wallet may call the token
directly); then the payment's relay fails with the chain's reason and the view catches up at the next block.
When it would refuse, or does not know the wallet or its limits (a wallet opened moments ago, a database
indexed before limits were), the caller asks the chain, as before (:func:`node.operations.checks.check_outflow`).

Every payment reads these, so they are SQL Core statements built once and run on the session's connection
(in its transaction): through the ORM each read cost about six times as much CPU.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from sqlalchemy import ColumnElement, Select, bindparam, case, func, select
from sqlalchemy.orm import Session

from node.indexer.models import ChainLimits, ChainWallet, HistoryKind, IndexerCheckpoint, WalletHistory
from node.indexer.service import CHECKPOINT_NAME
from node.outbox import OutboxRow
from node.writer.models import ChainTransaction, ChainTxRow

__all__ = ["LocalWallet", "chain_now", "day_start", "indexed_block", "keys_mined", "keys_mined_after", "local_now",
           "local_times", "local_wallet", "local_wallets", "network_indexed", "spent_since", "spent_today"]

MERCHANT_CLASS: Final = 5
SYSTEM_CLASS: Final = 6
_OUTFLOW_HISTORY: Final = (HistoryKind.TRANSFER_OUT, HistoryKind.HOLD_PLACED, HistoryKind.BURN)
_NOT_DAILY_BURNS: Final = ("wallet_closure",)  # a closure empties the wallet outside the daily limit


@dataclass(frozen=True)
class LocalWallet:
    """A wallet as the indexer's checkpoint shows it, with its limit class's limits (None: no limit)."""

    address: str
    bank_id: str | None
    status: str  # active, frozen, closed
    spendable: int
    single_payment_limit: int | None
    daily_outflow_limit: int | None
    held: int = 0  # money held on it (an ATM cash-out in progress): part of what it owns
    balance_cap: int | None = None  # what it may own at most

    def has_room_for(self, amount_minor: int) -> bool:
        """Whether ``amount_minor`` more leaves it under its balance cap (money coming in that the checkpoint
        does not show is not counted: the chain has the last word)."""
        return self.balance_cap is None or self.spendable + self.held + amount_minor <= self.balance_cap


_CHECKPOINT = select(IndexerCheckpoint.block_number, IndexerCheckpoint.log_index).where(
    IndexerCheckpoint.name == CHECKPOINT_NAME)
_CHECKPOINT_TIME = select(IndexerCheckpoint.block_time).where(IndexerCheckpoint.name == CHECKPOINT_NAME)
_CHECKPOINT_SCOPE = select(IndexerCheckpoint.scope).where(IndexerCheckpoint.name == CHECKPOINT_NAME)
_LIMIT_CLASS = case((ChainWallet.kind == "merchant", MERCHANT_CLASS), (ChainWallet.kind == "system", SYSTEM_CLASS),
                    else_=ChainWallet.tier)
_WALLET = (select(ChainWallet.address, ChainWallet.bank_id, ChainWallet.status, ChainWallet.spendable_minor,
                  ChainLimits.single_payment_limit, ChainLimits.daily_outflow_limit, ChainWallet.held_minor,
                  ChainLimits.balance_cap)
           .join(ChainLimits, ChainLimits.limit_class == _LIMIT_CLASS)
           .where(ChainWallet.address.in_(bindparam("addresses", expanding=True))))
_NEWEST_TIMES = (select(WalletHistory.wallet, func.max(WalletHistory.block_time))
                 .where(WalletHistory.wallet.in_(bindparam("wallets", expanding=True)),
                        WalletHistory.block_number.is_not(None)).group_by(WalletHistory.wallet))
_SPENT_SINCE = select(WalletHistory.wallet, func.sum(-WalletHistory.spendable_delta_minor)).where(
    WalletHistory.wallet.in_(bindparam("wallets", expanding=True)), WalletHistory.block_time >= bindparam("since"),
    WalletHistory.block_number.is_not(None), WalletHistory.spendable_delta_minor < 0,
    WalletHistory.kind.in_(_OUTFLOW_HISTORY),
    (WalletHistory.burn_reason.is_(None)) | (WalletHistory.burn_reason.not_in(_NOT_DAILY_BURNS))
).group_by(WalletHistory.wallet)


def indexed_block(session: Session) -> int | None:
    """The last block whose every event the indexer has applied (None: it never ran)."""
    row = session.connection().execute(_CHECKPOINT).first()
    if row is None:
        return None
    return int(row.block_number) - (1 if row.log_index is not None else 0)


def network_indexed(session: Session) -> bool:
    """Whether the indexer keeps the whole network (and so the merchant directory of every bank), not only this
    bank's own wallets and merchants."""
    return session.connection().execute(_CHECKPOINT_SCOPE).scalar() == "network"


def local_wallets(session: Session, addresses: Iterable[str]) -> dict[str, LocalWallet]:
    """Those of ``addresses`` the checkpoint shows (with their class's limits), by address; one query for all."""
    rows = session.connection().execute(_WALLET, {"addresses": list(addresses)})
    return {row.address: LocalWallet(row.address, row.bank_id, row.status, row.spendable_minor,
                                     row.single_payment_limit, row.daily_outflow_limit, row.held_minor,
                                     row.balance_cap) for row in rows}


def local_wallet(session: Session, address: str) -> LocalWallet | None:
    """``address`` as the checkpoint shows it, or None if the indexer has not seen it (or its class's limits)."""
    return local_wallets(session, [address]).get(address)


def chain_now(session: Session) -> int:
    """The chain's clock as this node knows it: the wall clock, or the time of the newest block the indexer
    reached if that is later (a test chain's clock may run ahead)."""
    seen = session.connection().execute(_CHECKPOINT_TIME).scalar()
    return max(int(time.time()), int(seen or 0))


def local_times(session: Session, wallets: Iterable[str]) -> dict[str, int]:
    """The chain's clock as this node knows it, for each of ``wallets``: :func:`chain_now`, or the newest block it
    indexed for the wallet if that is later."""
    wanted = list(wallets)
    wall = chain_now(session)
    clocks = dict.fromkeys(wanted, wall)
    for wallet, newest in session.connection().execute(_NEWEST_TIMES, {"wallets": wanted}):
        if newest is not None:
            clocks[wallet] = max(wall, int(newest.replace(tzinfo=UTC).timestamp()))
    return clocks


def local_now(session: Session, wallet: str) -> int:
    """:func:`local_times` of one wallet."""
    return local_times(session, [wallet])[wallet]


def day_start(now: int) -> datetime:
    """00:00 UTC of the day of ``now`` (Unix seconds): where the token's daily outflow limit starts afresh."""
    return datetime.fromtimestamp(now - now % 86_400, UTC)


def spent_since(session: Session, wallets: Iterable[str], since: datetime) -> dict[str, int]:
    """What the indexed history shows each of ``wallets`` sent out of its spendable balance since ``since``:
    what the token counts against the daily outflow limit (transfers, holds, burns but a closure's)."""
    wanted = list(wallets)
    spent = dict.fromkeys(wanted, 0)
    for wallet, total in session.connection().execute(_SPENT_SINCE, {"wallets": wanted, "since": since}):
        spent[wallet] = int(total or 0)
    return spent


def spent_today(session: Session, wallet: str, now: int) -> int:
    """:func:`spent_since` 00:00 UTC of ``now``, of one wallet."""
    return spent_since(session, [wallet], day_start(now))[wallet]


def keys_mined(block_filter: ColumnElement[bool]) -> Select[str]:
    """The outbox keys whose transaction the writer recorded in a block that ``block_filter`` keeps."""
    return (select(OutboxRow.idempotency_key)
            .join(ChainTxRow, ChainTxRow.outbox_id == OutboxRow.id)
            .join(ChainTransaction, ChainTransaction.id == ChainTxRow.chain_tx_id)
            .where(block_filter))


_MINED_AFTER = select(OutboxRow.idempotency_key).where(OutboxRow.id.in_(
    select(ChainTxRow.outbox_id).where(ChainTxRow.chain_tx_id.in_(
        select(ChainTransaction.id).where(ChainTransaction.block_number > bindparam("block"))))))
"""Driven from the few transactions past ``block`` (their block number is indexed): as a join from the outbox,
SQLite read every outbox row of the node's life for each batch of payments."""


def keys_mined_after(session: Session, block: int) -> set[str]:
    """The outbox keys whose transaction the writer recorded as mined after ``block`` (a few: those the
    indexer has not reached yet)."""
    return set(session.connection().scalars(_MINED_AFTER, {"block": block}))
