"""Every table of the node, in one metadata: import this module before comparing or creating the schema.

The tables live beside the code that owns them (ledger, outbox, idempotency keys); this module only
gathers them so Alembic and the tests see the complete schema.
"""

from __future__ import annotations

from sqlalchemy import MetaData

import node.indexer.models  # noqa: F401  (registers the indexer's tables)
from node.api_keys.models import ApiKey, CustomerSession
from node.atm.models import Atm, AtmEvent, AtmMessage
from node.db.base import Base
from node.idempotency import IdempotencyRecord
from node.ledger.models import JournalEntry, LedgerAccount, LedgerHold, Posting
from node.merchants.models import Merchant, PaymentRequestRecord, WebhookAttempt, WebhookEvent
from node.notifications.models import CustomerSettings, Notification
from node.operations.models import Operation
from node.outbox import OutboxRow
from node.reconcile.runs import ReconciliationRun
from node.risk.models import RiskDecision, RiskPayee, RiskRuleSet, RiskWalletState
from node.roles.models import NodeRole
from node.second_factor.models import SecondFactor, SecondFactorAudit, SecondFactorFailures
from node.subscriptions.models import NotificationSubscription
from node.wallets.models import WalletRecord
from node.writer.models import ChainTransaction, ChainTxAttempt, ChainTxRow

__all__ = [
    "ApiKey",
    "Atm",
    "AtmEvent",
    "AtmMessage",
    "Base",
    "ChainTransaction",
    "ChainTxAttempt",
    "ChainTxRow",
    "CustomerSession",
    "CustomerSettings",
    "IdempotencyRecord",
    "JournalEntry",
    "LedgerAccount",
    "LedgerHold",
    "Merchant",
    "NodeRole",
    "Notification",
    "NotificationSubscription",
    "Operation",
    "OutboxRow",
    "PaymentRequestRecord",
    "Posting",
    "ReconciliationRun",
    "RiskDecision",
    "RiskPayee",
    "RiskRuleSet",
    "RiskWalletState",
    "SecondFactor",
    "SecondFactorAudit",
    "SecondFactorFailures",
    "WalletRecord",
    "WebhookAttempt",
    "WebhookEvent",
    "metadata",
]

metadata: MetaData = Base.metadata
