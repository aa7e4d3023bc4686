"""The node's periodic jobs (run by :mod:`node.runner` every round), and the one import that loads every domain's
service, so that each flow's completion is registered before the chain writer confirms or fails an effect
(see :mod:`node.operations.models`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from node import idempotency
from node.atm import service as atm  # (registers their completions)
from node.funding import service as funding
from node.merchants import service as merchants
from node.merchants import webhooks
from node.risk import service as risk
from node.settings import NodeSettings
from node.subscriptions import service as subscriptions
from node.transfers import service as transfers
from node.wallets import service as wallets

__all__ = ["PeriodicJob", "atm", "funding", "merchants", "periodic_jobs", "risk", "subscriptions", "transfers",
           "wallets", "webhooks"]

PeriodicJob = Callable[[sessionmaker[Session], NodeSettings], Any]
"""``job(sessions, settings) -> how many things it did``: run by the node every round (node.runner)."""


def periodic_jobs() -> list[PeriodicJob]:
    """The flows' jobs that run on a clock rather than on a request (e.g. releasing expired ATM holds), the
    webhook events of merchants and of the bank's notification subscriptions and their delivery, the pruning
    of idempotency keys past their retention, and the decline of held payments nobody reviewed in time."""
    return [atm.sweep_expired_cash_outs, merchants.settle_due, webhooks.collect_events, subscriptions.collect,
            webhooks.deliver_due, idempotency.prune_expired,
            risk.expire_reviews]
