"""The cash-in lane: ATM cash-in messages admitted in batches, many in one database transaction (a
:class:`node.lanes.Lane`).

Each batch reads for all its messages at once: their ATMs, the events they name, the wallets as the node's view
shows them (the indexer's checkpoint: :mod:`node.operations.local_state`) and this bank's records of them, and the
signatures seen before. Then, for each message in arrival order, as :mod:`api.routes.atm` and
:func:`node.atm.service.cash_in` would: the device signature (:func:`node.atm.auth.check_message`; an accepted
message's signature is recorded whatever becomes of its cash-in, so it is never accepted twice), the event (a
re-sent event gets its first answer), then the cash-in, checked in memory against the batch's reads: an active
wallet this bank keeps, with room under its balance cap. A cash-in the view cannot admit (a wallet it does not
know yet, one it sees frozen or full: it may be behind) runs :func:`~node.atm.service.cash_in` itself under a
savepoint, which asks the chain. Then one insert per table (messages, operations, outbox rows, events) and one
commit, and only then are the ATMs answered. Nothing here calls the chain for a wallet the view admits.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, insert, select
from sqlalchemy.orm import Session

from node.atm import service
from node.atm.auth import AtmEventConflictError, AtmEventInFlightError, check_message, message_row, replayed
from node.atm.models import Atm, AtmEvent, AtmMessage
from node.db.base import utcnow
from node.db.inserts import insert_batch
from node.lanes import ACCEPTED, Answer, Batch, FlowLane
from node.operations.local_state import indexed_block, local_wallets
from node.operations.models import Operation
from node.outbox import OutboxRow
from node.wallets.models import WalletRecord, WalletState
from wallet_sdk.addresses import checksummed

__all__ = ["CashInLane", "CashInRequest"]

@dataclass(frozen=True)
class CashInRequest:
    """An ATM's cash-in message as the API hands it over: the message as signed (headers ``atm_id``,
    ``timestamp``, ``nonce``, ``signature``; method, path, raw body), the hash its event is bound to, and what
    it reports."""

    api_key_id: int
    headers: dict[str, str | None]
    method: str
    path: str
    raw: bytes
    request_hash: str
    event_id: str
    wallet: str
    amount_minor: int
    notes: Sequence[service.NoteCount]
    check: Callable[[], None] | None = None  # the API's own checks of the body, run once the message is checked


_ATMS = select(Atm.atm_id, Atm.state, Atm.secret_ciphertext).where(Atm.atm_id.in_(bindparam("ids", expanding=True)))
_EVENTS = select(AtmEvent.atm_id, AtmEvent.event_id, AtmEvent.request_hash, AtmEvent.status, AtmEvent.response).where(
    AtmEvent.atm_id.in_(bindparam("atms", expanding=True)), AtmEvent.event_id.in_(bindparam("events", expanding=True)))
_SEEN = select(AtmMessage.atm_id, AtmMessage.signature).where(
    AtmMessage.atm_id.in_(bindparam("atms", expanding=True)),
    AtmMessage.signature.in_(bindparam("signatures", expanding=True)))
"""Both by the columns of their unique index, each in a list (the pairs are picked out here): as (atm, event) pairs
or by signature alone, SQLite read every event and message the bank ever took for each batch of cash-ins."""
_RECORDS = select(WalletRecord.address, WalletRecord.state).where(
    WalletRecord.address.in_(bindparam("addresses", expanding=True)))


class _Batch(Batch[CashInRequest]):
    lane: CashInLane

    def __init__(self, lane: CashInLane, session: Session, requests: list[CashInRequest]) -> None:
        super().__init__(lane, session, requests)
        self.messages: list[dict[str, Any]] = []
        self.operations: list[dict[str, Any]] = []
        self.rows: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self.answered: dict[tuple[str, str], tuple[str, Answer]] = {}
        db = session.connection()
        atm_ids = list({r.headers["atm_id"] for r in requests if r.headers["atm_id"]})
        self.atms = {row.atm_id: row for row in db.execute(_ATMS, {"ids": atm_ids})}
        pairs = list({(r.headers["atm_id"], r.event_id) for r in requests if r.headers["atm_id"] in self.atms})
        wanted = set(pairs)
        self.recorded = {(row.atm_id, row.event_id): row for row in db.execute(_EVENTS, {
            "atms": list({a for a, _ in pairs}), "events": list({e for _, e in pairs})})
            if (row.atm_id, row.event_id) in wanted} if pairs else {}
        signatures = list({s.strip().lower() for r in requests if (s := r.headers["signature"])})
        self.seen = {(row.atm_id, row.signature) for row in db.execute(_SEEN, {
            "atms": list({r.headers["atm_id"] for r in requests}), "signatures": signatures})}
        wallets = list({a for a in (checksummed(r.wallet) for r in requests) if a is not None})
        self.views = local_wallets(session, wallets) if indexed_block(session) is not None else {}
        self.records = {row.address: row.state for row in db.execute(_RECORDS, {"addresses": wallets})}
        self.added: dict[str, int] = {}  # what earlier cash-ins of the batch put into each wallet

    def _answer(self, request: CashInRequest) -> Answer:
        settings = self.lane.settings
        atm_id = request.headers["atm_id"]
        ts = check_message(self.atms.get(atm_id or ""), settings, **request.headers, method=request.method,
                           path=request.path, body=request.raw)
        assert atm_id is not None and request.headers["signature"] is not None
        message = message_row(atm_id, request.headers["signature"], ts)
        if (atm_id, message["signature"]) in self.seen:
            raise replayed()
        self.seen.add((atm_id, message["signature"]))
        self.messages.append(message)  # recorded whatever becomes of the cash-in
        event = (atm_id, request.event_id)
        earlier = self.answered.get(event) or self._recorded(event)
        if earlier is not None:
            digest, answer = earlier
            if not hmac.compare_digest(digest, request.request_hash):
                raise AtmEventConflictError(f"event {request.event_id} of ATM {atm_id} was sent before with another "
                                            "body", event_id=request.event_id)
            return Answer(answer.status, answer.body, replayed=True)
        if request.check is not None:
            request.check()
        op = self._fast(request, atm_id)
        if op is None:
            op = self._full(request)
        answer = Answer(ACCEPTED, self.lane.render(op))
        self.answered[event] = (request.request_hash, answer)
        self.events.append({"atm_id": atm_id, "event_id": request.event_id, "request_hash": request.request_hash,
                            "operation": op.public_id, "status": answer.status, "response": answer.body,
                            "created_at": utcnow()})
        return answer

    def _recorded(self, event: tuple[str, str]) -> tuple[str, Answer] | None:
        row = self.recorded.get(event)
        return None if row is None else (row.request_hash, Answer(row.status, row.response))

    def _fast(self, request: CashInRequest, atm_id: str) -> Operation | None:
        """The cash-in's operation if the batch's reads admit it (raising what ``cash_in`` raises for bad notes or
        a bad address); None if ``cash_in`` itself is to decide."""
        settings = self.lane.settings
        wallet = service.counted(request.wallet, request.amount_minor, request.notes)
        local = self.views.get(wallet)
        state = self.records.get(wallet)
        if local is None or local.bank_id != settings.bank_id or local.status != "active" \
                or (state is not None and state != WalletState.ACTIVE) \
                or not local.has_room_for(self.added.get(wallet, 0) + request.amount_minor):
            return None
        values, row = service.cash_in_rows(settings, atm_id, event_id=request.event_id, wallet=wallet,
                                           amount_minor=request.amount_minor, notes=request.notes,
                                           api_key_id=request.api_key_id)
        self.operations.append(values)
        self.rows.append(row)
        self.added[wallet] = self.added.get(wallet, 0) + request.amount_minor
        return Operation(**values)

    def _full(self, request: CashInRequest) -> Operation:
        """``cash_in`` itself, under a savepoint: it asks the chain about what the view does not admit."""
        atm = self.session.scalars(select(Atm).where(Atm.atm_id == request.headers["atm_id"])).one()
        with self.session.begin_nested():
            return service.cash_in(self.session, self.lane.settings, self.lane.network(), atm,
                                   event_id=request.event_id, wallet=request.wallet,
                                   amount_minor=request.amount_minor, notes=request.notes,
                                   api_key_id=request.api_key_id)

    def write(self) -> None:
        """Insert what the batch made: the messages seen, the operations, their mints, the events answered."""
        db = self.session.connection()
        for table, rows in ((Operation.__table__, self.operations), (OutboxRow.__table__, self.rows)):
            if rows:
                db.execute(insert(table), rows)
        insert_batch(self.session, AtmMessage, self.messages, unique=("atm_id", "signature"),
                     taken=lambda _row: replayed())
        insert_batch(self.session, AtmEvent, self.events, unique=("atm_id", "event_id"),
                     taken=lambda row: AtmEventInFlightError(f"event {row['event_id']} is being handled; retry it "
                                                             "shortly"))


class CashInLane(FlowLane[CashInRequest]):
    """A bank's cash-in lane (module docstring)."""

    thread_name = "cash-in-lane"
    batch = _Batch
