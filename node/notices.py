"""Notices to a wallet's customer, shown in the wallet's history (``GET /v1/wallets/{address}/history``) until
the node has customer notifications of their own.

A notice is a ``wallet_history`` row the node writes itself, not the indexer: a ``totp_*`` kind, the text in
``note``, no block or transaction, and no effect on balances (zero amount and deltas, so reconciliation's sums
are untouched). It takes the next history id, so it comes in the order the node learnt of it, between the
chain events the indexer applied before and after, and a client paging with a cursor sees it exactly once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert
from sqlalchemy.orm import Session

from node.db.base import utcnow
from node.indexer.models import HistoryKind, WalletHistory
from node.notifications.models import NotificationType
from node.notifications.store import insert_notifications

__all__ = ["NOTICE_KINDS", "notify"]

NOTICE_KINDS = frozenset({HistoryKind.TOTP_ENROLLED, HistoryKind.TOTP_CHANGED, HistoryKind.TOTP_RESET,
                          HistoryKind.TOTP_LOCKED})
_NOTIFIED_AS = {HistoryKind.TOTP_ENROLLED: NotificationType.SECOND_FACTOR_ENROLLED,
                HistoryKind.TOTP_CHANGED: NotificationType.SECOND_FACTOR_CHANGED,
                HistoryKind.TOTP_RESET: NotificationType.SECOND_FACTOR_RESET,
                HistoryKind.TOTP_LOCKED: NotificationType.SECOND_FACTOR_LOCKED}


def notify(session: Session, wallet: str, kind: HistoryKind, note: str, *, currency: str,
           at: datetime | None = None) -> None:
    """Add a notice of ``kind`` with ``note`` (at most 300 characters) to ``wallet``'s history, and the customer's
    notification of it (``second_factor_*``, source ``notice:<history id>``) in the same transaction."""
    if kind not in NOTICE_KINDS:
        raise ValueError(f"{kind.value} is a chain event, not a notice")
    history_id = session.execute(insert(WalletHistory).values(
        wallet=wallet, kind=kind, amount_minor=0, spendable_delta_minor=0, held_delta_minor=0, currency=currency,
        block_time=at or utcnow(), note=note[:300]).returning(WalletHistory.id)).scalar_one()
    insert_notifications(session, [{"wallet": wallet, "type": _NOTIFIED_AS[kind].value, "params": {"note": note[:300]},
                                    "source": f"notice:{history_id}"}])
