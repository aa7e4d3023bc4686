"""The P2P lane: many payment requests admitted in one database transaction by one thread (a
:class:`node.lanes.Lane`: group commit).

Rather than running :func:`node.transfers.service.transfer` per request, each batch is:

1. **Reads for all of them at once**: the payers' records (locked: ``FOR UPDATE`` on PostgreSQL, the write lock
   of ``BEGIN IMMEDIATE`` on SQLite), their idempotency keys, the indexer's checkpoint and the node's view of
   payers and payees, the payers' clocks, outflows the checkpoint does not show yet and used nonces
   (:mod:`node.operations.local_state`, :mod:`node.operations.checks`): about ten statements per batch instead
   of about twenty per request.
2. **Each request in turn**, in arrival order, with the same checks and errors as ``transfer``: the idempotency
   key (a replay, a reused key), the API's own checks, the payer's owner, then either the **fast path** (a
   signed transfer from an active wallet of this bank, to a wallet the view knows, within the second-factor
   threshold, that the view admits: checked in memory, against the batch's reads plus what earlier requests
   of the batch took from the payer, and that the risk rules allow, judged on the payers' risk state read once
   for the batch, :mod:`node.risk.state`) or the **full path** (``transfer`` itself, under a savepoint, after the
   batch's rows so far are written so that it sees them: custodial payers, QR payloads, codes, wallets the
   view does not know or would refuse, payments the risk rules do not simply allow: there the engine judges
   again, records its decision and acts on it). A payer that took the full path takes it for the rest of the
   batch.
3. **Writes for all of them at once**: the operations, their outbox rows, the payers' risk state and their
   idempotency keys, each recorded as completed with its answer (the key is never in flight: it commits with
   the work, or not at all), then one commit. Only then is any request answered.

Two payments from one wallet are strictly ordered (one thread, one transaction at a time, the payer's record
locked), so they never both pass a balance that covers one; payments from different wallets share the
transaction. A batch that fails as a whole is run again request by request (:meth:`node.lanes.Lane.run`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, insert, select
from sqlalchemy.orm import Session

from node.errors import AuthorizationInvalidError, FlowNotFoundError
from node.lanes import ACCEPTED, DEFAULT_MAX_BATCH, Answer, Batch, BatchKeys, FlowLane, Keyed
from node.operations.checks import admits, check_authorization, nonces_in_flight, unindexed_outflows
from node.operations.local_state import day_start, indexed_block, local_times, local_wallets, spent_since
from node.operations.models import (
    Attribution,
    Operation,
    OperationKind,
    attribute,
    operation_row,
)
from node.outbox import OutboxRow, new_row
from node.risk.engine import Payment
from node.risk.state import RiskView
from node.transfers.service import decode_transfer, signed_transfer, transfer
from node.wallets.models import WalletRecord, WalletState
from node.writer.kinds import relay_payload
from wallet_sdk.addresses import checksummed
from wallet_sdk.authorizations import RelayedTransfer, SignedAuthorization, verify
from wallet_sdk.chain.network import to_address

__all__ = ["DEFAULT_MAX_BATCH", "Answer", "TransferLane", "TransferRequest"]

@dataclass(frozen=True)
class TransferRequest:
    """A P2P payment request as the API hands it over (its own checks are in ``check``)."""

    keyed: Keyed  # its Idempotency-Key
    api_key_id: int
    channel: str
    attribution: Attribution
    customer_ref: str | None  # a customer session's customer: the payer must be its wallet
    payer: str
    payee: str
    amount_minor: int
    authorization: dict[str, Any] | None = None  # the fields of signed_transfer
    payload: str | None = None  # the QR text form
    totp_code: str | None = field(default=None, repr=False)
    check: Callable[[], None] | None = None  # the API's own checks, run once the key is judged


_PAYERS = select(WalletRecord.address, WalletRecord.customer_ref, WalletRecord.state, WalletRecord.created_at,
                 WalletRecord.updated_at).where(
    WalletRecord.address.in_(bindparam("addresses", expanding=True)))


class _Batch(Batch[TransferRequest]):
    """One transaction of the lane: the reads for all its requests, then each request, then the writes."""

    lane: TransferLane

    def __init__(self, lane: TransferLane, session: Session, requests: list[TransferRequest]) -> None:
        super().__init__(lane, session, requests)
        self.network = lane.network()
        self.signed: dict[int, SignedAuthorization[RelayedTransfer] | BaseException] = {}
        self.operations: list[dict[str, Any]] = []
        self.rows: list[dict[str, Any]] = []
        self.taken_out: dict[str, int] = {}  # what the batch's requests took from each payer so far
        self.nonces: set[tuple[str, str]] = set()
        self.slow: set[str] = set()  # payers that took the full path: they keep to it in this batch
        self.spent: dict[Any, dict[str, int]] = {}
        self.verified: set[int] = set()  # requests whose signature is checked (before the write lock is taken)
        domain = self.network.domain()
        for request in requests:
            if request.authorization is not None:
                try:
                    signed = self.signed[id(request)] = signed_transfer(self.network, **request.authorization)
                    if signed.domain == domain:
                        verify(signed, domain)
                        self.verified.add(id(request))
                except Exception as exc:
                    self.signed.setdefault(id(request), exc)  # a bad signature: check_authorization says why
        self._read(requests)

    def _read(self, requests: list[TransferRequest]) -> None:
        session = self.session
        self.keys = BatchKeys(session, [r.keyed for r in requests])
        payers = sorted({a for a in (checksummed(r.payer) for r in requests) if a is not None})
        statement = _PAYERS.with_for_update() if session.get_bind().dialect.name == "postgresql" else _PAYERS
        self.records = {row.address: row for row in session.connection().execute(statement, {"addresses": payers})}
        self.block = indexed_block(session)
        payees = {a for a in (checksummed(r.payee) for r in requests) if a is not None}
        self.views = local_wallets(session, set(payers) | payees) if self.block is not None else {}
        self.clocks = local_times(session, payers)
        self.unindexed = unindexed_outflows(session, payers, self.block) if self.block is not None else {}
        nonces = [(signed.authorization.from_, str(signed.authorization.nonce)) for signed in self.signed.values()
                  if isinstance(signed, SignedAuthorization)]
        self.used = nonces_in_flight(session, OperationKind.P2P, nonces, completed=True)
        self.payers = payers
        self.risk = RiskView(session, self.lane.settings, payers, payees)

    # ------------------------------------------------------------------ a request

    def _answer(self, request: TransferRequest) -> Answer:
        replay = self.keys.judge(request.keyed)
        if replay is not None:
            return replay
        if request.check is not None:
            request.check()
        payer = checksummed(request.payer)
        if request.customer_ref is not None:
            payer = to_address(request.payer, "address")
            record = self.records.get(payer)
            if record is None or record.customer_ref != request.customer_ref:  # as api.customers.own_wallet
                raise FlowNotFoundError(f"this customer has no wallet {payer} at this bank", wallet=payer)
        values = self._fast(request, payer)
        if values is None:
            return self._full(request)
        answer = Answer(ACCEPTED, self.lane.render(Operation(**values)))
        self.keys.record(request.keyed, answer)
        return answer

    def _fast(self, request: TransferRequest, payer: str | None) -> dict[str, Any] | None:
        """The operation's values if the batch's reads admit the payment (raising what ``transfer`` raises for a
        bad authorization); None if the full path decides."""
        signed = self.signed.get(id(request))
        settings = self.lane.settings
        if payer is None or payer in self.slow or not isinstance(signed, SignedAuthorization) \
                or request.amount_minor > settings.second_factor_threshold or request.amount_minor < 1:
            return None
        payee = checksummed(request.payee)
        record, local = self.records.get(payer), self.views.get(payer)
        if payee is None or payee == payer or payee not in self.views or record is None \
                or record.state != WalletState.ACTIVE or local is None or local.status != "active" \
                or local.bank_id != settings.bank_id:
            return None
        now = self.clocks[payer]
        check_authorization(signed, self.network, signer=payer, now=now, recovered=id(request) in self.verified)
        auth = signed.authorization
        if auth.to != payee or auth.value != request.amount_minor:
            raise AuthorizationInvalidError(f"the signed transfer pays {auth.value} to {auth.to}, the request "
                                            f"{request.amount_minor} to {payee}")
        nonce = str(auth.nonce)
        if (payer, nonce) in self.used or (payer, nonce) in self.nonces:
            raise AuthorizationInvalidError("this transfer's nonce was used already", nonce=nonce)
        out = self.unindexed.get(payer, 0) + self.taken_out.get(payer, 0)
        if not admits(local, request.amount_minor, out, lambda: self._spent_today(payer, now)):
            return None  # the full path asks the chain, and says why it refuses
        payment = Payment("p2p", payer, payee, request.amount_minor, request.channel, "customer", now)
        profile, verdict = self.risk.evaluate(payment, opened_at=record.created_at, changed_at=record.updated_at,
                                              daily_limit=local.daily_outflow_limit)
        if not verdict.allowed:
            return None  # the full path decides again on the written state, records and acts on the decision
        values = operation_row(
            OperationKind.P2P, channel=request.channel, api_key_id=request.api_key_id,
            attribution=request.attribution, wallet=payer, counterparty=payee, amount_minor=request.amount_minor,
            currency=settings.currency,
            details={"nonce": nonce, "valid_before": auth.valid_before, "signed_by": "customer"})
        self.operations.append(values)
        self.rows.append(new_row(f"{values['public_id']}:relay", "relay_transfers",
                                 {**relay_payload([signed]), "operation": values["public_id"]}))
        self.taken_out[payer] = self.taken_out.get(payer, 0) + request.amount_minor
        self.nonces.add((payer, nonce))
        self.risk.record(payment, profile)
        return values

    def _spent_today(self, payer: str, now: int) -> int:
        day = day_start(now)
        if day not in self.spent:  # one query for every payer of the batch (they share a day, mostly)
            self.spent[day] = spent_since(self.session, self.payers, day)
        return self.spent[day].get(payer, 0)

    def _full(self, request: TransferRequest) -> Answer:
        """``transfer`` itself, under a savepoint, once the batch's rows so far are written (it reads them)."""
        self.write()
        payer = checksummed(request.payer)
        if payer is not None:
            self.slow.add(payer)
        with self.session.begin_nested():
            attribute(self.session, request.attribution)
            signed = self.signed.get(id(request))
            if isinstance(signed, BaseException):
                raise signed
            if request.payload is not None:
                signed = decode_transfer(self.network, request.payload)
            op = transfer(self.session, self.lane.settings, self.network, payer=request.payer, payee=request.payee,
                          amount_minor=request.amount_minor, signed=signed, channel=request.channel,
                          api_key_id=request.api_key_id, totp_code=request.totp_code)
            answer = Answer(ACCEPTED, self.lane.render(op))
            self.keys.record(request.keyed, answer)
            self.write()
        return answer

    def write(self) -> None:
        """Insert what the batch's requests made so far: operations, outbox rows, idempotency keys."""
        db = self.session.connection()
        for table, rows in ((Operation.__table__, self.operations), (OutboxRow.__table__, self.rows)):
            if rows:
                db.execute(insert(table), rows)
                rows.clear()
        self.risk.write(self.session)
        self.keys.write()


class TransferLane(FlowLane[TransferRequest]):
    """A bank's P2P lane (module docstring)."""

    thread_name = "p2p-lane"
    batch = _Batch
