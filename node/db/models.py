"""Every table of the node, in one metadata: import this module before comparing or creating the schema.

The tables live beside the code that owns them (ledger, outbox, idempotency keys); this module only
gathers them so Alembic and the tests see the complete schema.
"""

from __future__ import annotations

from sqlalchemy import MetaData

import node.indexer_models  # noqa: F401  (registers the indexer's tables)
from node.api_keys.models import ApiKey, CustomerSession
from node.db.base import Base
from node.flows.atm_models import Atm, AtmEvent, AtmMessage
from node.flows.merchant_models import Merchant, PaymentRequestRecord, WebhookAttempt, WebhookEvent
from node.flows.operations import Operation
from node.flows.second_factor_models import SecondFactor, SecondFactorAudit, SecondFactorFailures
from node.flows.wallet_records import WalletRecord
from node.idempotency import IdempotencyRecord
from node.ledger.models import JournalEntry, LedgerAccount, LedgerHold, Posting
from node.outbox import OutboxRow
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
    "IdempotencyRecord",
    "JournalEntry",
    "LedgerAccount",
    "LedgerHold",
    "Merchant",
    "Operation",
    "OutboxRow",
    "PaymentRequestRecord",
    "Posting",
    "SecondFactor",
    "SecondFactorAudit",
    "SecondFactorFailures",
    "WalletRecord",
    "WebhookAttempt",
    "WebhookEvent",
    "metadata",
]

metadata: MetaData = Base.metadata
