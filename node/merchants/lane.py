"""The POS lane: payments that merchants' points of sale hand in (customer-presented QR codes), admitted in batches,
many in one database transaction (a :class:`node.lanes.Lane`).

Each batch reads for all its payments at once: the merchants (locked: ``FOR UPDATE`` on PostgreSQL), the idempotency
keys, the chain's clock as the node last saw it, the node's view of the merchants, orders and payers (the indexer's
checkpoint), the orders' requests and the payments of those orders on their way, the payers' outflows the view does
not show yet, and the bank's request-signing key. Then, for each payment in arrival order, the checks of
:func:`node.merchants.service.pos_payment`, in memory: the merchant, the payment's signature, deadline, merchant and
order, the amount the merchant asked for, the payer's state, balance and limits (less what earlier payments of the
batch took) and, for this bank's own customers, its risk rules (anything but a plain allow runs ``pos_payment``,
which records and acts on the decision); then the bank signs the request the payment answers. A payer of another
bank that the view does not show (a node that indexes its own bank's wallets only, or a wallet opened a moment ago)
is admitted on its signature: the chain judges its balance and limits when the payment is relayed, and a refusal
fails the operation with the contract's reason, as for any payment. A payment the view cannot admit (a merchant it
does not show active, a payer it would refuse, a payer of this bank it does not show yet, a payment that brings a
request signature of its own) runs ``pos_payment`` itself under a savepoint, which asks the chain; its payer then
keeps to that path for the rest of the batch. Then one insert per table (requests, operations, outbox rows, keys)
and one commit, and only then are the points of sale answered.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import bindparam, insert, select
from sqlalchemy.orm import Session

from node.chain_ids import id_text
from node.errors import FlowNotFoundError
from node.indexer.models import ChainMerchant, MerchantOrder
from node.lanes import ACCEPTED, Answer, Batch, BatchKeys, FlowLane, Keyed
from node.merchants import service
from node.merchants.models import Merchant, MerchantState, PaymentRequestRecord
from node.merchants.request_signer import request_signing_key
from node.operations.checks import admits, check_authorization, unindexed_outflows
from node.operations.local_state import chain_now, day_start, indexed_block, local_wallets, spent_since
from node.operations.models import IN_FLIGHT, Operation, OperationKind
from node.outbox import OutboxRow
from node.risk.engine import Payment
from node.risk.state import RiskView
from node.wallets.models import WalletRecord
from wallet_sdk.authorizations import MerchantPayment, SignedAuthorization
from wallet_sdk.chain.network import Network

__all__ = ["PosLane", "PosRequest"]

@dataclass(frozen=True)
class PosRequest:
    """A payment a merchant's POS hands in, as the API passes it on."""

    keyed: Keyed  # its Idempotency-Key
    api_key_id: int
    merchant_id: str
    payload: str  # the customer's signed payment (WALLETNET:1:PAY:...)
    amount_minor: int | None  # what the POS charges, for an order not requested yet


_MERCHANTS = select(Merchant.merchant_id, Merchant.state, Merchant.wallet).where(
    Merchant.merchant_id.in_(bindparam("ids", expanding=True)))
_ACTIVE = select(ChainMerchant.merchant_id).where(
    ChainMerchant.acquirer == bindparam("acquirer"), ChainMerchant.merchant_id.in_(bindparam("ids", expanding=True)),
    ChainMerchant.status == "active")
_PAID = select(MerchantOrder.merchant_id, MerchantOrder.order_id).where(
    MerchantOrder.acquirer == bindparam("acquirer"), MerchantOrder.merchant_id.in_(bindparam("ids", expanding=True)),
    MerchantOrder.order_id.in_(bindparam("orders", expanding=True)))
"""By the columns of their unique indexes (the pairs are picked out here): with (merchant, order) pairs SQLite
read every order of the bank's merchants, and every payment request, for each batch."""
_REQUESTS = select(PaymentRequestRecord.merchant_id, PaymentRequestRecord.order_id, PaymentRequestRecord.amount_minor,
                   PaymentRequestRecord.expires_at).where(
    PaymentRequestRecord.merchant_id.in_(bindparam("ids", expanding=True)),
    PaymentRequestRecord.order_id.in_(bindparam("orders", expanding=True)))
_OWN = select(WalletRecord.address, WalletRecord.created_at, WalletRecord.updated_at).where(
    WalletRecord.address.in_(bindparam("addresses", expanding=True)))
_ON_THEIR_WAY = select(Operation.details).where(
    Operation.kind == OperationKind.MERCHANT_PAYMENT, Operation.status.in_(IN_FLIGHT),
    Operation.details["merchant_id"].as_string().in_(bindparam("ids", expanding=True)),
    Operation.details["order_id"].as_string().in_(bindparam("orders", expanding=True)))


class _Batch(Batch[PosRequest]):
    lane: PosLane

    def __init__(self, lane: PosLane, session: Session, requests: list[PosRequest]) -> None:
        super().__init__(lane, session, requests)
        self.network = lane.network()
        self.bank = lane.settings.bank_id
        self.requests: list[dict[str, Any]] = []
        self.operations: list[dict[str, Any]] = []
        self.rows: list[dict[str, Any]] = []
        self.taken_out: dict[str, int] = {}  # what the batch's payments took from each payer so far
        self.slow: set[str] = set()  # payers that took the full path: they keep to it in this batch
        self.spent: dict[Any, dict[str, int]] = {}
        self.now = chain_now(session)
        self.decoded = {id(request): _payment_of(self.network, request.payload, self.now) for request in requests}
        self._read(requests)

    def _read(self, requests: list[PosRequest]) -> None:
        session, db = self.session, self.session.connection()
        self.keys = BatchKeys(session, [r.keyed for r in requests])
        ids = sorted({r.merchant_id for r in requests})
        statement = _MERCHANTS.with_for_update() if session.get_bind().dialect.name == "postgresql" else _MERCHANTS
        self.merchants = {row.merchant_id: row for row in db.execute(statement, {"ids": ids})}
        self.active = set(db.execute(_ACTIVE, {"acquirer": self.bank, "ids": ids}).scalars())
        payments = [d.authorization for d in self.decoded.values() if d is not None]
        orders = sorted({(id_text(p.merchant_id), id_text(p.order_id)) for p in payments})
        wanted = set(orders)
        self.paid = {(row.merchant_id, row.order_id) for row in db.execute(_PAID, {
            "acquirer": self.bank, "ids": sorted({m for m, _ in orders}), "orders": sorted({o for _, o in orders})})
            } & wanted if orders else set()
        self.asked: dict[tuple[str, str], Any] = {(row.merchant_id, row.order_id): row for row in db.execute(
            _REQUESTS, {"ids": sorted({m for m, _ in orders}), "orders": sorted({o for _, o in orders})})
            if (row.merchant_id, row.order_id) in wanted} if orders else {}
        self.on_their_way: set[tuple[str, str]] = set()
        if orders:
            rows = db.execute(_ON_THEIR_WAY, {"ids": sorted({m for m, _ in orders}),
                                              "orders": sorted({o for _, o in orders})})
            details: dict[str, Any]
            for details in rows.scalars():  # this node's payments of these orders not final yet
                if details.get("acquirer", self.bank) == self.bank:
                    self.on_their_way.add((str(details.get("merchant_id")), str(details.get("order_id"))))
        self.payers = sorted({p.payer for p in payments})
        self.block = indexed_block(session)
        self.views = local_wallets(session, self.payers) if self.block is not None else {}
        self.unindexed = unindexed_outflows(session, self.payers, self.block) if self.block is not None else {}
        self.own = {row.address: row for row in db.execute(_OWN, {"addresses": self.payers})}
        merchants = {row.wallet for row in self.merchants.values()}
        self.risk = RiskView(session, self.lane.settings, list(self.own), merchants)  # this bank's payers only
        self._key: Any = None

    # ------------------------------------------------------------------ a payment

    def _answer(self, request: PosRequest) -> Answer:
        replay = self.keys.judge(request.keyed)
        if replay is not None:
            return replay
        merchant = self.merchants.get(request.merchant_id)
        if merchant is None:  # as service.get_merchant
            raise FlowNotFoundError(f"this bank acquires no merchant {request.merchant_id!r}",
                                    merchant_id=request.merchant_id)
        values = self._fast(request, merchant)
        op = self._full(request) if values is None else Operation(**values)
        answer = Answer(ACCEPTED, self.lane.render(op))
        self.keys.record(request.keyed, answer)
        return answer

    def _fast(self, request: PosRequest, merchant: Any) -> dict[str, Any] | None:
        """The operation's values if the batch's reads admit the payment (raising what ``pos_payment`` raises for
        a bad one); None if ``pos_payment`` itself is to decide."""
        item = self.decoded[id(request)]
        if item is None or merchant.state != MerchantState.ACTIVE or request.merchant_id not in self.active:
            return None  # pos_payment says why it refuses, or asks the chain
        settings = self.lane.settings
        if request.amount_minor is not None:
            service.check_amount(request.amount_minor)
        auth = item.authorization
        service.check_for_merchant(settings, request.merchant_id, auth)
        order = (request.merchant_id, id_text(auth.order_id))
        service.check_payment_terms(self.network, auth, self.now)
        if order in self.paid or order in self.on_their_way:
            return None  # pos_payment says which
        asked = self.asked.get(order)
        service.check_requested(asked, order[1], auth, request.amount_minor)
        check_authorization(item, self.network, signer=auth.payer, now=self.now, recovered=True)  # by decoding
        payer, local = auth.payer, self.views.get(auth.payer)
        if payer in self.slow:
            return None
        if local is not None:  # checked as the chain will
            out = self.unindexed.get(payer, 0) + self.taken_out.get(payer, 0)
            if local.status != "active" or not admits(local, auth.amount, out, lambda: self._spent_today(payer)):
                return None
        elif payer in self.own:  # this bank's, but not in the view yet: asked of the chain
            return None
        own = self.own.get(payer)
        screened = None
        if own is not None and local is not None:  # this bank's customer: its risk rules judge the payment
            payment = Payment("merchant_payment", payer, merchant.wallet, auth.amount, "merchant", "customer",
                              self.now)
            profile, verdict = self.risk.evaluate(payment, opened_at=own.created_at, changed_at=own.updated_at,
                                                  daily_limit=local.daily_outflow_limit)
            if not verdict.allowed:
                return None  # pos_payment judges again, records the decision and acts on it
            screened = (payment, profile)
        key, terms = self._signing_key(), auth.request_terms()
        signature = None
        if asked is None:  # the POS named the amount: this bank requests the order now
            row, issued = service.request_row(settings, self.network, key, request.merchant_id, order[1],
                                              amount_minor=auth.amount, expires_at=auth.valid_before,
                                              description="", api_key_id=request.api_key_id)
            self.requests.append(row)
            self.asked[order] = _Asked(auth.amount, auth.valid_before)
            if issued.terms() == terms:  # what the payment answers: signed once
                signature = issued.signature
        if signature is None:
            signature = terms.sign(key, self.network.settlement_domain())
        signed = SignedAuthorization(authorization=auth.with_request_signature(signature), domain=item.domain,
                                     v=item.v, r=item.r, s=item.s)
        values, row = service.payment_rows(settings, signed, acquirer=self.bank, merchant_id=request.merchant_id,
                                           order_id=order[1], channel="merchant", api_key_id=request.api_key_id,
                                           signed_by="customer", merchant_wallet=merchant.wallet)
        self.operations.append(values)
        self.rows.append(row)
        self.taken_out[payer] = self.taken_out.get(payer, 0) + auth.amount
        self.on_their_way.add(order)
        if screened is not None:
            self.risk.record(*screened)
        return values

    def _signing_key(self) -> Any:
        if self._key is None:
            self._key = request_signing_key(self.session, self.lane.settings)
        return self._key

    def _spent_today(self, payer: str) -> int:
        day = day_start(self.now)
        if day not in self.spent:
            self.spent[day] = spent_since(self.session, self.payers, day)
        return self.spent[day].get(payer, 0)

    def _full(self, request: PosRequest) -> Operation:
        """``pos_payment`` itself, under a savepoint, once the batch's rows so far are written (it reads them)."""
        self.write()
        item = self.decoded[id(request)]
        if item is not None:
            self.slow.add(item.authorization.payer)
        with self.session.begin_nested():
            op = service.pos_payment(self.session, self.lane.settings, self.network, request.merchant_id,
                                     payload=request.payload, amount_minor=request.amount_minor,
                                     channel="merchant", api_key_id=request.api_key_id)
        self.on_their_way.add((request.merchant_id, str(op.details["order_id"])))
        return op

    def write(self) -> None:
        """Insert what the batch's payments made so far: requests, operations, outbox rows, idempotency keys."""
        db = self.session.connection()
        for table, rows in ((PaymentRequestRecord.__table__, self.requests), (Operation.__table__, self.operations),
                            (OutboxRow.__table__, self.rows)):
            if rows:
                db.execute(insert(table), rows)
                rows.clear()
        self.risk.write(self.session)
        self.keys.write()


def _payment_of(network: Network, payload: str, now: int) -> SignedAuthorization[MerchantPayment] | None:
    """The payload as a customer's signed merchant payment that does not bring a request signature of its own, or
    None: ``pos_payment`` then says what is wrong with it (or asks the chain who signed its request)."""
    try:
        item = service.decode_payment(network, payload, now, ask_chain=False)
    except Exception:
        return None
    if isinstance(item, SignedAuthorization) and isinstance(item.authorization, MerchantPayment) \
            and item.authorization.request_signature is None:
        return cast("SignedAuthorization[MerchantPayment]", item)
    return None


@dataclass(frozen=True)
class _Asked:
    """A request this batch made, as :func:`node.merchants.service.check_requested` reads it."""

    amount_minor: int
    expires_at: int


class PosLane(FlowLane[PosRequest]):
    """A bank's POS lane (module docstring)."""

    thread_name = "pos-lane"
    batch = _Batch
