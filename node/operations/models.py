"""Operations: the node's record of each business event (a top-up, an ATM cash-in, a P2P payment ...).

A flow service writes an :class:`Operation` in the same database transaction as its ledger bookings and the
outbox rows of its on-chain effects. An outbox row that belongs to an operation names it in its payload
(``"operation": <public id>``, plus ``"step"`` when the operation has several on-chain steps). When the chain
writer moves such a row to ``confirmed`` or ``failed``, :func:`node.outbox.transition` runs :func:`on_outcome`
(registered with the outbox when this module is imported) in that same transaction, which runs the completion
registered for the operation's kind (:func:`completes`) with the row's :class:`~node.outbox.RowOutcome`:
capture the bank-account hold after a top-up's mint, release it after a failure, and so on. So a flow's
completion happens exactly once, atomically with the row's final state. Each domain registers its completions
in its ``completions`` (or ``service``) module; importing :mod:`node.jobs` loads them all, which every process
that runs the chain writer does.

Statuses (:class:`OperationStatus`): ``pending`` (effects in flight), ``pending_review`` (held by the risk engine
until a risk officer approves it, then ``pending``, or declines it, then ``failed``), ``held`` (ATM cash-out
waiting for the dispense), ``completed``, ``failed`` (nothing happened, or what happened was undone),
``released`` (an ATM hold returned to the wallet).

Who asked is recorded on each operation: the channel and API key the flow passes, and what the API knows
beyond them (a teller's branch and operator, a customer session), which it puts on the request's database
session with :func:`attribute` before the flow runs; :func:`new_operation` copies it onto every operation the
request makes.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final, cast

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    ForeignKey,
    Index,
    Row,
    String,
    Text,
    bindparam,
    literal,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

import node.api_keys.models  # noqa: F401  (api_keys, the target of api_key_id: a node process may not import it)
from node import outbox
from node.db.base import (
    ADDRESS,
    CURRENCY,
    Base,
    IdType,
    JsonType,
    MinorUnits,
    UTCDateTime,
    one_or_none,
    str_enum,
    utcnow,
)
from node.db.inserts import insert_new
from node.errors import NotFoundError
from node.outbox import OutboxRow, RowOutcome
from wallet_sdk.exceptions import DeclaredError, error_message

if TYPE_CHECKING:
    from node.ledger.adapter import CoreBankingLedger

__all__ = [
    "FINAL",
    "IN_FLIGHT",
    "Attribution",
    "Completion",
    "Operation",
    "OperationKind",
    "OperationNotFoundError",
    "OperationStatus",
    "attribute",
    "completes",
    "confirmed",
    "failure_details",
    "finish",
    "get_operation",
    "hold_key",
    "hold_key_expression",
    "new_operation",
    "new_public_id",
    "new_ref",
    "on_outcome",
    "operation_ledger",
    "operation_payload",
    "operation_row",
    "refused",
]



class OperationKind(StrEnum):
    WALLET_OPEN = "wallet_open"
    TIER_CHANGE = "tier_change"
    FREEZE = "freeze"
    UNFREEZE = "unfreeze"
    ACCOUNT_BINDING = "account_binding"
    WALLET_CLOSE = "wallet_close"
    TOPUP = "topup"
    REDEMPTION = "redemption"
    ATM_CASH_IN = "atm_cash_in"
    ATM_CASH_OUT = "atm_cash_out"
    P2P = "p2p"
    MERCHANT_ONBOARD = "merchant_onboard"
    MERCHANT_PAYMENT = "merchant_payment"
    MERCHANT_REFUND = "merchant_refund"
    SETTLEMENT = "settlement"


class OperationStatus(StrEnum):
    PENDING = "pending"
    PENDING_REVIEW = "pending_review"  # held by the risk engine for a risk officer (node.risk): nothing enqueued
    HELD = "held"
    COMPLETED = "completed"
    FAILED = "failed"
    RELEASED = "released"


FINAL: Final = frozenset({OperationStatus.COMPLETED, OperationStatus.FAILED, OperationStatus.RELEASED})
IN_FLIGHT: Final = (OperationStatus.PENDING, OperationStatus.HELD)  # not final: the chain has not answered yet


class Operation(Base):
    __tablename__ = "operations"
    __table_args__ = (
        Index("ix_operations_wallet_id", "wallet", "id"),
        Index("ix_operations_kind_status", "kind", "status"),  # open ATM cash-outs, swept every round (0006)
        Index("ix_operations_wallet_auth_nonce", "wallet", "auth_nonce"),  # nonces used, every payment (0019)
        Index("ix_operations_wallet_status", "wallet", "status"),  # a payer's pending outflows (0019)
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)  # "op_" + 32 hex digits: what the API shows
    kind: Mapped[OperationKind] = mapped_column(str_enum(OperationKind, "operation_kind"))
    status: Mapped[OperationStatus] = mapped_column(str_enum(OperationStatus, "operation_status"))
    channel: Mapped[str] = mapped_column(String(16))  # teller, app, atm, admin, bulk ...
    api_key_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("api_keys.id"))
    branch: Mapped[str | None] = mapped_column(String(64))  # a teller's branch (X-Teller-Branch)
    operator: Mapped[str | None] = mapped_column(String(64))  # the teller at that branch (X-Teller-Operator)
    # the customer session an app acted in; no foreign key, so expired sessions can be pruned (ids stay unique)
    customer_session_id: Mapped[int | None] = mapped_column(BigInteger)
    wallet: Mapped[str | None] = mapped_column(ADDRESS)
    counterparty: Mapped[str | None] = mapped_column(ADDRESS)
    amount_minor: Mapped[int | None] = mapped_column(MinorUnits)
    currency: Mapped[str | None] = mapped_column(CURRENCY)
    account: Mapped[str | None] = mapped_column(String(128))  # the bank account code, if one is involved
    ref: Mapped[str | None] = mapped_column(String(66), unique=True)  # the ref its chain effect carries
    details: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    auth_nonce: Mapped[str | None] = mapped_column(String(80))  # details["nonce"], indexed: a signed nonce's use
    error: Mapped[str | None] = mapped_column(Text)
    tx_hash: Mapped[str | None] = mapped_column(String(66))  # of the (last) confirmed on-chain effect
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def final(self) -> bool:
        return self.status in FINAL

    def __repr__(self) -> str:
        return f"Operation({self.public_id!r}, {self.kind.value}, {self.status.value})"


@error_message("no operation {public_id!r}")
class OperationNotFoundError(DeclaredError, NotFoundError):
    public_id: str


@dataclass(frozen=True)
class Attribution:
    """Who asked, beyond the channel and API key: a teller's branch and operator id, or the customer session an
    app acted in."""

    branch: str | None = None
    operator: str | None = None
    customer_session_id: int | None = None


HOLD_KEY_PREFIX: Final = "atm-hold:"
ATTRIBUTION_INFO: Final = "operation_attribution"
"""``session.info`` key of the :class:`Attribution` of the operations made in that database session."""


def attribute(session: Session, attribution: Attribution) -> None:
    """Record ``attribution`` on every operation :func:`new_operation` adds to ``session`` from now on."""
    session.info[ATTRIBUTION_INFO] = attribution


def new_public_id() -> str:
    return "op_" + secrets.token_hex(16)


def new_ref(prefix: str) -> str:
    """A fresh chain ref: ``prefix`` (1-6 characters, e.g. ``"TOPUP"``) + ``-`` + 24 hex digits (<= 31 bytes)."""
    if not 1 <= len(prefix) <= 6 or not prefix.isascii():
        raise ValueError("a ref prefix is 1-6 ASCII characters")
    return f"{prefix}-{secrets.token_hex(12)}"


def operation_row(kind: OperationKind, *, channel: str, api_key_id: int | None = None,
                  attribution: Attribution | None = None, wallet: str | None = None, counterparty: str | None = None,
                  amount_minor: int | None = None, currency: str | None = None, account: str | None = None,
                  ref: str | None = None, status: OperationStatus = OperationStatus.PENDING,
                  details: Mapping[str, Any] | None = None, ledger: str | None = None) -> dict[str, Any]:
    """The column values of a new operation (a fresh public id, created now), for :func:`new_operation` or for an
    insert of many at once (node.transfers.lane). ``ledger``: the ledger adapter its completion books to
    (``settings.ledger_adapter``), kept for :func:`operation_ledger`."""
    now = utcnow()
    if ledger is not None:
        details = {**(details or {}), "ledger": ledger}
    who = attribution or Attribution()
    return {
        "public_id": new_public_id(), "kind": kind, "status": status, "channel": channel, "api_key_id": api_key_id,
        "branch": who.branch, "operator": who.operator, "customer_session_id": who.customer_session_id,
        "wallet": wallet, "counterparty": counterparty, "amount_minor": amount_minor, "currency": currency,
        "account": account, "ref": ref, "details": dict(details or {}),
        "auth_nonce": None if details is None or details.get("nonce") is None else str(details["nonce"]),
        "error": None, "tx_hash": None,
        "created_at": now, "updated_at": now, "completed_at": now if status in FINAL else None}


def new_operation(session: Session, kind: OperationKind, *, channel: str, api_key_id: int | None = None,
                  wallet: str | None = None, counterparty: str | None = None, amount_minor: int | None = None,
                  currency: str | None = None, account: str | None = None, ref: str | None = None,
                  status: OperationStatus = OperationStatus.PENDING,
                  details: Mapping[str, Any] | None = None, ledger: str | None = None) -> Operation:
    """Insert a new operation (:func:`operation_row`) in ``session``'s transaction (its ids are known at once),
    with the session's :class:`Attribution` if the API set one (:func:`attribute`)."""
    op = insert_new(session, Operation, operation_row(
        kind, channel=channel, api_key_id=api_key_id, attribution=session.info.get(ATTRIBUTION_INFO), wallet=wallet,
        counterparty=counterparty, amount_minor=amount_minor, currency=currency, account=account, ref=ref,
        status=status, details=details, ledger=ledger), unique=("public_id",))
    assert op is not None, "public ids are 128 random bits"
    return op


_LOCKED_OPERATIONS: Final = "walletnet_locked_operations"  # session.info: operations read by _lock_operations


def get_operation(session: Session, public_id: str, *, lock: bool = False) -> Operation:
    op = session.info.get(_LOCKED_OPERATIONS, {}).get(public_id)
    if op is not None:  # read and locked in this transaction already, with a batch of rows (node.outbox)
        return cast("Operation", op)
    op = one_or_none(session, select(Operation).where(Operation.public_id == public_id), lock=lock)
    if op is None:
        raise OperationNotFoundError(public_id)
    return op


def finish(op: Operation, status: OperationStatus, *, error: str | None = None, tx_hash: str | None = None,
           **details: Any) -> Operation:
    """Move ``op`` to ``status`` (recording ``error``, ``tx_hash`` and extra ``details``)."""
    now = utcnow()
    op.status = status
    op.updated_at = now
    if status in FINAL:
        op.completed_at = now
    if error is not None:
        op.error = error
    if tx_hash is not None:
        op.tx_hash = tx_hash
    if details:
        op.details = {**(op.details or {}), **details}
    return op


def operation_ledger(session: Session, op: Operation) -> CoreBankingLedger:
    """The ledger ``op`` books to, with the node's own accounts open. Completions run in the chain writer,
    without the API's settings, so services record the adapter as ``details["ledger"]`` (see
    :func:`new_operation`'s ``ledger``)."""
    from node.ledger import open_ledger
    from node.ledger.accounts import ensure_system_accounts

    ledger = open_ledger(session, str((op.details or {}).get("ledger", "builtin")))
    ensure_system_accounts(ledger, op.currency or "")
    return ledger


def operation_payload(op: Operation, step: str | None = None, **fields: Any) -> dict[str, Any]:
    """An outbox payload of ``fields`` that names ``op`` (and ``step``), so its outcome completes the flow."""
    payload = dict(fields)
    payload["operation"] = op.public_id
    if step is not None:
        payload["step"] = step
    return payload


# ------------------------------------------------------------------ completions

Completion = Callable[[Session, Operation, OutboxRow, RowOutcome], None]
"""``completion(session, operation, row, outcome)``: runs in the transaction that finalizes ``row``;
``outcome.confirmed`` says how it ended, ``outcome.events`` and ``outcome.revert`` what the chain said."""

_COMPLETIONS: dict[OperationKind, Completion] = {}


def completes(kind: OperationKind) -> Callable[[Completion], Completion]:
    """Register the completion of operations of ``kind`` (one per kind; a module does this at import)."""

    def register(fn: Completion) -> Completion:
        if kind in _COMPLETIONS and _COMPLETIONS[kind] is not fn:
            raise ValueError(f"operation kind {kind.value!r} already has a completion")
        _COMPLETIONS[kind] = fn
        return fn

    return register


def failure_details(outcome: RowOutcome) -> dict[str, str]:
    """``{"reason": "<Solidity error name>"}`` of the contract error that refused the row (e.g.
    ``BalanceCapExceeded``), for a failed operation's details, so clients can branch on the reason without
    parsing; empty if no single contract error refused it."""
    return {"reason": outcome.reason} if outcome.reason else {}


def confirmed(op: Operation, row: OutboxRow, **details: Any) -> Operation:
    """Complete ``op``: the chain confirmed its outbox ``row`` (its transaction is recorded, with ``details``)."""
    return finish(op, OperationStatus.COMPLETED, tx_hash=row.tx_hash, **details)


def refused(op: Operation, row: OutboxRow, outcome: RowOutcome, fallback: str, **details: Any) -> Operation:
    """Fail ``op``: the chain refused its outbox ``row``. The error is the row's (``fallback`` if it has none) and
    the details name the contract error (:func:`failure_details`), with ``details`` (e.g. ``tx_hash=``)."""
    return finish(op, OperationStatus.FAILED, error=row.last_error or fallback, **details,
                  **failure_details(outcome))


@outbox.before_final
def _lock_operations(session: Session, rows: Sequence[OutboxRow]) -> None:
    """Read and lock the operations a writer's batch of rows will complete, in one query (each would be read
    on its own by :func:`on_outcome`)."""
    ids = [row.payload["operation"] for row in rows
           if isinstance(row.payload, dict) and isinstance(row.payload.get("operation"), str)]
    if ids:
        found = session.scalars(select(Operation).where(Operation.public_id.in_(ids)).with_for_update())
        session.info.setdefault(_LOCKED_OPERATIONS, {}).update({op.public_id: op for op in found})


@outbox.on_final
def on_outcome(session: Session, row: OutboxRow, outcome: RowOutcome) -> None:
    """Run by :func:`node.outbox.transition` when a row becomes final: completes the operation it names."""
    public_id = row.payload.get("operation") if isinstance(row.payload, dict) else None
    if not isinstance(public_id, str):
        return
    op = get_operation(session, public_id, lock=True)
    completion = _COMPLETIONS.get(op.kind)
    if completion is None:
        raise LookupError(f"no completion is registered for operations of kind {op.kind.value!r}: a process "
                          "that runs the chain writer imports node.jobs, which loads every flow's completions")
    completion(session, op, row, outcome)

def hold_key(hold_id: str, step: str, attempt: int = 1) -> str:
    """The outbox key of a cash-out's hold ``step`` (place, capture, release): by the hold's id, so a withdrawal
    code is placed once at this bank whatever the ATM event; retries of a step count their attempt."""
    return f"{HOLD_KEY_PREFIX}{hold_id}:{step}" if attempt == 1 else f"{HOLD_KEY_PREFIX}{hold_id}:{step}:{attempt}"


BulkCompletion = Callable[[Session, Sequence[Row[Any]], str], None]
"""``complete(session, operations, tx_hash)``: what the completion of a kind does when the chain confirmed all of
``operations`` (rows of id, public id, kind, status, wallet) in ``tx_hash``, beyond the operations' own
completion (:func:`_confirmed_in_bulk` does that)."""

_BULK_COMPLETIONS: dict[OperationKind, BulkCompletion] = {}


def completes_in_bulk(kind: OperationKind) -> Callable[[BulkCompletion], BulkCompletion]:
    """Register a kind's completion of many confirmed operations at once (its :func:`completes` stays the rule
    for one; the two must agree)."""

    def register(fn: BulkCompletion) -> BulkCompletion:
        _BULK_COMPLETIONS[kind] = fn
        return fn

    return register


_BULK_READ = select(Operation.id, Operation.public_id, Operation.kind, Operation.status, Operation.wallet).where(
    Operation.public_id.in_(bindparam("ids", expanding=True)))


@outbox.confirms_in_bulk(on_outcome)
def _confirmed_in_bulk(session: Session, payloads: Mapping[int, Any], tx_hash: str) -> Callable[[], None] | None:
    """:func:`on_outcome` for a batch the chain confirmed whole: when every row names its own pending operation,
    all of one kind that completes in bulk, one UPDATE completes them (and the kind's bulk completion does the
    rest); otherwise None."""
    ids = [payload.get("operation") if isinstance(payload, dict) else None for payload in payloads.values()]
    if not all(isinstance(i, str) for i in ids) or len(set(ids)) != len(ids):
        return None
    statement = _BULK_READ.with_for_update() if session.get_bind().dialect.name == "postgresql" else _BULK_READ
    ops = session.execute(statement, {"ids": ids}).all()
    kinds = {OperationKind(op.kind) for op in ops}
    if len(ops) != len(ids) or len(kinds) != 1 or any(op.status != OperationStatus.PENDING for op in ops):
        return None
    complete = _BULK_COMPLETIONS.get(kinds.pop())
    if complete is None:
        return None

    def apply() -> None:
        now = utcnow()
        session.execute(update(Operation).where(Operation.id.in_([op.id for op in ops]))
                        .values(status=OperationStatus.COMPLETED, tx_hash=tx_hash, updated_at=now, completed_at=now)
                        .execution_options(synchronize_session=False))
        complete(session, ops, tx_hash)

    return apply


def hold_key_expression(hold_id: ColumnElement[str], step: str) -> ColumnElement[str]:
    """:func:`hold_key` (first attempt) as SQL, of a column holding the hold's id."""
    return literal(HOLD_KEY_PREFIX) + hold_id + literal(f":{step}")
