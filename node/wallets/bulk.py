"""Bulk enrolment of existing customers, in batches: a chunk's new custodial wallets go in with one insert per
table instead of a savepoint, a look-up and three inserts per row.

Row by row (:func:`node.wallets.service.enrol_row`), a chunk of 500 cost about 2 ms of the API's CPU per wallet,
mostly the ORM and SQLite's savepoints. Here every row is checked first (a bad row fails alone, as before); the
rows that open a new custodial wallet with no bank account to bind (the common case: the bank's customers
moved onto the chain) are written together; what the batch cannot decide on its own goes row by row, exactly as
before: a customer enrolled already (its wallet is returned, or a conflict), the same customer twice in the
chunk, a self-custody address (the chain is asked whether it is taken), an account to bind (the ledger is asked
whose it is). If a concurrent request enrolled one of the batch's customers first, the insert fails as a whole
and every row of the batch goes row by row.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from node.db.base import utcnow
from node.errors import FlowError
from node.operations.models import ATTRIBUTION_INFO, Operation, OperationKind, operation_row
from node.outbox import OutboxRow, new_row
from node.settings import NodeSettings
from node.wallets.models import CustodyMode, WalletRecord, WalletState, seal_key
from node.wallets.service import (
    Actor,
    EnrolmentOutcome,
    Opened,
    OpeningRequest,
    check_request,
    enrol_row,
    opening_request,
)
from wallet_sdk.chain.network import Network
from wallet_sdk.keys import fresh_keys

__all__ = ["enrol"]


@dataclass(frozen=True)
class _New:
    """A row the batch opens: its position, request, tier and normalized phone."""

    index: int
    request: OpeningRequest
    tier: int
    phone: str | None


def enrol(session: Session, settings: NodeSettings, network: Network | None, rows: Sequence[Mapping[str, Any]], *,
          actor: Actor) -> list[EnrolmentOutcome]:
    """Open (or find) the wallet of ``bulk:<customer_ref>`` of each row; one outcome per row, in order."""
    outcomes: dict[int, EnrolmentOutcome] = {}
    batch: list[_New] = []
    alone: list[int] = []
    for index, row in enumerate(rows):
        try:
            request = opening_request(row)
            tier, phone, _ = check_request(request, settings)
        except FlowError as exc:
            outcomes[index] = EnrolmentOutcome(index, str(row.get("customer_ref") or ""), error=exc)
            continue
        if request.custody is CustodyMode.CUSTODIAL and request.account is None:
            batch.append(_New(index, request, tier, phone))
        else:
            alone.append(index)
    batch, later = _new_customers(session, batch)
    alone += later
    if batch:
        try:
            with session.begin_nested():
                outcomes.update(_open_all(session, settings, batch, actor))
        except IntegrityError:  # a concurrent request enrolled one of these customers first
            alone += [new.index for new in batch]
    for index in sorted(alone):
        outcomes[index] = enrol_row(session, settings, network, index, rows[index], actor=actor)
    return [outcomes[index] for index in range(len(rows))]


def _new_customers(session: Session, batch: list[_New]) -> tuple[list[_New], list[int]]:
    """The rows whose customer has no enrolment yet and comes once in the chunk; the others' positions."""
    counts = Counter(new.request.enrolment_key for new in batch)
    keys = list(counts)
    known = {key for start in range(0, len(keys), 500) for key in session.scalars(
        select(WalletRecord.enrolment_key).where(WalletRecord.enrolment_key.in_(keys[start:start + 500])))}
    fresh = [new for new in batch if counts[new.request.enrolment_key] == 1 and new.request.enrolment_key not in known]
    taken = {new.index for new in fresh}
    return fresh, [new.index for new in batch if new.index not in taken]


def _open_all(session: Session, settings: NodeSettings, batch: list[_New],
              actor: Actor) -> dict[int, EnrolmentOutcome]:
    """Write the batch's wallets, operations and outbox rows: one insert per table."""
    now = utcnow()
    attribution = session.info.get(ATTRIBUTION_INFO)
    wallets, operations, outbox, outcomes = [], [], [], {}
    for new, (address, key) in zip(batch, fresh_keys(len(batch)), strict=True):
        request = new.request
        wallet = {"address": address, "customer_ref": request.customer_ref, "enrolment_key": request.enrolment_key,
                  "channel": request.channel.value, "verification": request.verification, "tier": new.tier,
                  "custody": request.custody, "state": WalletState.PENDING, "phone": new.phone,
                  "account_code": None, "account_salt": None, "account_hash": None,
                  "key_ciphertext": seal_key(settings, key), "freeze_reason": None, "created_at": now,
                  "updated_at": now}
        op = operation_row(OperationKind.WALLET_OPEN, channel=actor.channel, api_key_id=actor.api_key_id,
                           attribution=attribution, wallet=address,
                           details={"customer_ref": request.customer_ref,
                                    "verification": request.verification.value, "tier": new.tier,
                                    "custody": request.custody.value})
        wallets.append(wallet)
        operations.append(op)
        outbox.append(new_row(f"{op['public_id']}:open", "open_wallet",
                              {"wallet": address, "tier": new.tier, "operation": op["public_id"]}))
        opened = Opened(address, op["public_id"], new.tier, request.custody, created=True)
        outcomes[new.index] = EnrolmentOutcome(new.index, request.customer_ref, opened=opened)
    db = session.connection()
    for table, values in ((WalletRecord.__table__, wallets), (Operation.__table__, operations),
                          (OutboxRow.__table__, outbox)):
        db.execute(insert(table), values)
    return outcomes
