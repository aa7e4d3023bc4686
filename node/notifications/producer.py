"""Making notifications from the chain events the indexer applies: once per event, in the indexer's transaction.

The indexer calls a :class:`NotificationProducer` once per round (``Indexer(round_hooks=...)``, wired by
:mod:`node.runner`), after the round's rows are flushed and before its checkpoint is saved, with the round's decoded
events in chain order. It looks at the wallets the events name that this bank keeps for a customer (indexed
``personal`` wallets of this bank; merchants have their webhooks), and writes every notification of the round in
ONE ``INSERT ... ON CONFLICT DO NOTHING`` on (wallet, type, source): the checkpoint and the notifications commit
together, and a round applied again (or a re-index) adds nothing.

What each event becomes (``source`` is ``tx:<tx hash>:<log index>`` of the event):

- ``Transfer`` between two wallets: ``payment_sent`` to the payer, ``payment_received`` to the payee (with
  ``counterparty``); also ``large_payment`` to the payer at or above ``notify_large_payment``;
- ``OrderPaid``: ``payment_sent`` to the payer (``merchant_id``, ``merchant_name``, ``order_id``; the transfer into
  the settlement contract beside it is not told again), and ``large_payment`` likewise;
- ``OrderRefunded``: ``refund_received`` (merchant, order);
- ``Minted``: ``atm_cash_in`` (ref ``CASHIN-...``) or ``top_up``; ``Burned`` (redemption): ``redemption``;
- ``HoldPlaced`` / ``HoldCaptured`` / ``HoldReleased``: ``cash_out_held`` / ``cash_out_dispensed`` /
  ``cash_out_released``;
- ``WalletFrozen``: ``wallet_frozen`` (``reason_code``, ``by_regulator``, and the ``note`` of the bank's freeze
  operation when it has one); ``WalletUnfrozen``: ``wallet_unfrozen``;
- ``WalletTierChanged``: ``tier_changed`` (``previous_tier``, ``tier``);
- an outflow (transfer out, merchant payment, hold, redemption): ``daily_limit_80`` / ``daily_limit_100`` when it
  takes the UTC day's outflow across 80% / 100% of the tier's daily limit.

The day's outflow is what the token counts against the daily limit, as :mod:`node.operations.local_state` reads it
from ``wallet_history`` (spendable money out by a transfer, a hold or a burn other than a closure).
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from node.chain_ids import id_or_none, id_text
from node.indexer.models import ChainLimits, ChainWallet, HistoryKind, WalletHistory
from node.notifications.models import NotificationType
from node.notifications.store import insert_notifications
from node.operations.models import Operation, OperationKind
from node.settings import NodeSettings
from wallet_sdk.chain.events import Event
from wallet_sdk.chain.network import Network
from wallet_sdk.enums import BurnReason

__all__ = ["MerchantNames", "NotificationProducer", "tx_source"]

T = NotificationType
_CHUNK: Final = 500  # addresses per IN (SQLite's bound parameters are limited)
_OUTFLOW_KINDS: Final = (HistoryKind.TRANSFER_OUT, HistoryKind.HOLD_PLACED, HistoryKind.BURN)
_NOT_DAILY_BURNS: Final = ("wallet_closure",)
_WALLET_ARGS: Final = ("wallet", "from", "to", "holder", "payer")

MerchantNames = Callable[[Session, Iterable[str]], Mapping[str, str]]
"""``names(session, merchant_ids) -> {merchant id: legal name}`` of this bank's merchants (passed in: the merchants'
package depends on this one through the second factor's notices)."""


def tx_source(event: Event) -> str:
    """The ``source`` of a notification made from ``event``."""
    return f"tx:{event.tx_hash}:{event.log_index}"


@dataclass(frozen=True)
class NotificationProducer:
    """The indexer's round hook that makes this bank's customers' notifications (see the module docstring)."""

    bank_id: str  # this bank's id as text (ChainWallet.bank_id)
    currency: str
    large_payment: int  # minor units: a payment out at or above it is also a large_payment
    network: Network  # the token's decimals (read once, when first needed), the contracts' addresses
    merchant_names: MerchantNames  # this bank's merchants' legal names (node.merchants.models.legal_names)

    @classmethod
    def for_node(cls, settings: NodeSettings, network: Network,
                 merchant_names: MerchantNames) -> NotificationProducer:
        return cls(settings.bank_id, settings.currency, settings.notify_large_payment, network, merchant_names)

    @functools.cached_property
    def decimals(self) -> int:
        return self.network.decimals

    @property
    def settlement(self) -> str:
        """The MerchantSettlement contract: transfers to and from it are told by its own events."""
        return self.network.addresses["MerchantSettlement"]

    @property
    def token(self) -> str:
        """The DigitalCash contract (the hold escrow)."""
        return self.network.addresses["DigitalCash"]

    def __call__(self, session: Session, events: Sequence[Event], block_times: Mapping[int, datetime]) -> None:
        if not events:
            return
        customers = self._customer_wallets(session, events)
        if not customers:
            return
        rows: list[dict[str, Any]] = []
        outflows: list[Event] = []
        merchants = self._merchant_names(session, events)
        for event in events:
            rows.extend(self._from_event(session, event, customers, merchants, outflows))
        rows.extend(self._daily_limits(session, events, outflows, customers, block_times))
        insert_notifications(session, rows)

    # ------------------------------------------------------------------ look-ups, a few queries per round

    def _customer_wallets(self, session: Session, events: Sequence[Event]) -> dict[str, int]:
        """The customer wallets of this bank among those ``events`` name, with their tier."""
        named = sorted({value for event in events for key in _WALLET_ARGS
                        if isinstance(value := event.args.get(key), str)})
        found: dict[str, int] = {}
        for start in range(0, len(named), _CHUNK):
            found.update((address, tier) for address, tier in session.execute(
                select(ChainWallet.address, ChainWallet.tier).where(
                    ChainWallet.address.in_(named[start:start + _CHUNK]), ChainWallet.bank_id == self.bank_id,
                    ChainWallet.kind == "personal")))
        return found

    def _merchant_names(self, session: Session, events: Sequence[Event]) -> dict[tuple[str, str], str]:
        """(acquirer, merchant id) -> the legal name, for this bank's merchants the events name."""
        ours = {id_text(e["merchantId"]) for e in events
                if e.name in ("OrderPaid", "OrderRefunded") and id_text(e["acquirer"]) == self.bank_id}
        if not ours:
            return {}
        return {(self.bank_id, merchant_id): name for merchant_id, name in self.merchant_names(session, ours).items()}

    def _freeze_note(self, session: Session, wallet: str, reason: int) -> str | None:
        """The note of this bank's newest freeze of ``wallet`` with ``reason``, if it wrote one."""
        found: list[dict[str, Any]] = list(session.scalars(select(Operation.details).where(
            Operation.wallet == wallet, Operation.kind == OperationKind.FREEZE).order_by(Operation.id.desc()).limit(5)))
        for details in found:
            if isinstance(details, dict) and details.get("reason") == reason:
                note = details.get("note")
                return note if isinstance(note, str) and note else None
        return None

    # ------------------------------------------------------------------ events

    def _row(self, wallet: str, type_: T, event: Event, **params: Any) -> dict[str, Any]:
        if "amount" in params:
            params = {**params, "currency": self.currency, "decimals": self.decimals}
        return {"wallet": wallet, "type": type_.value, "params": {**params, "tx_hash": event.tx_hash},
                "source": tx_source(event)}

    def _from_event(self, session: Session, event: Event, customers: Mapping[str, int],
                    merchants: Mapping[tuple[str, str], str], outflows: list[Event]) -> Iterable[dict[str, Any]]:
        name = event.name
        if name == "Transfer":
            source, target, value = event["from"], event["to"], int(event["value"])
            if target == self.settlement and source in customers:
                outflows.append(event)  # a merchant payment's money out (OrderPaid beside it tells it)
            if {source, target} & {self.settlement, self.token, "0x" + "00" * 20}:
                return  # told by OrderPaid / OrderRefunded / Minted / Burned / Hold* beside it
            if source in customers:
                outflows.append(event)
                yield self._row(source, T.PAYMENT_SENT, event, amount=value, counterparty=target)
                if value >= self.large_payment:
                    yield self._row(source, T.LARGE_PAYMENT, event, amount=value, counterparty=target)
            if target in customers:
                yield self._row(target, T.PAYMENT_RECEIVED, event, amount=value, counterparty=source)
        elif name in ("OrderPaid", "OrderRefunded"):
            payer = event["payer"]
            if payer not in customers:
                return
            acquirer, merchant_id = id_text(event["acquirer"]), id_text(event["merchantId"])
            amount = int(event["amount"])
            merchant = {"amount": amount, "merchant_id": merchant_id, "acquirer": acquirer,
                        "merchant_name": merchants.get((acquirer, merchant_id), merchant_id),
                        "order_id": id_text(event["orderId"])}
            if name == "OrderRefunded":
                yield self._row(payer, T.REFUND_RECEIVED, event, **merchant)
                return
            yield self._row(payer, T.PAYMENT_SENT, event, **merchant)
            if amount >= self.large_payment:
                yield self._row(payer, T.LARGE_PAYMENT, event, **merchant)
        elif name == "Minted":
            wallet = event["wallet"]
            if wallet in customers:
                ref = id_or_none(event["ref"]) or ""
                kind = T.ATM_CASH_IN if ref.startswith("CASHIN") else T.TOP_UP
                yield self._row(wallet, kind, event, amount=int(event["amount"]), ref=ref)
        elif name == "Burned":
            wallet = event["wallet"]
            if wallet in customers and event["reason"] == BurnReason.REDEMPTION:
                outflows.append(event)
                yield self._row(wallet, T.REDEMPTION, event, amount=int(event["amount"]),
                                ref=id_or_none(event["ref"]))
        elif name in ("HoldPlaced", "HoldCaptured", "HoldReleased"):
            holder = event["holder"]
            if holder in customers:
                kind = {"HoldPlaced": T.CASH_OUT_HELD, "HoldCaptured": T.CASH_OUT_DISPENSED,
                        "HoldReleased": T.CASH_OUT_RELEASED}[name]
                if name == "HoldPlaced":
                    outflows.append(event)
                yield self._row(holder, kind, event, amount=int(event["amount"]), hold_id=id_text(event["holdId"]))
        elif name == "WalletFrozen":
            wallet = event["wallet"]
            if wallet in customers:
                reason, by_regulator = int(event["reason"]), bool(event["byRegulator"])
                note = None if by_regulator else self._freeze_note(session, wallet, reason)
                yield self._row(wallet, T.WALLET_FROZEN, event, reason_code=reason, by_regulator=by_regulator,
                                **({"note": note} if note else {}))
        elif name == "WalletUnfrozen":
            if event["wallet"] in customers:
                yield self._row(event["wallet"], T.WALLET_UNFROZEN, event)
        elif name == "WalletTierChanged" and event["wallet"] in customers:
            yield self._row(event["wallet"], T.TIER_CHANGED, event, previous_tier=int(event["previousTier"]),
                            tier=int(event["tier"]))

    # ------------------------------------------------------------------ the daily limit

    def _daily_limits(self, session: Session, events: Sequence[Event], outflows: Sequence[Event],
                      customers: Mapping[str, int], block_times: Mapping[int, datetime]) -> list[dict[str, Any]]:
        """``daily_limit_80`` / ``daily_limit_100`` for each outflow of the round that takes its wallet's UTC day
        of outflow across 80% / 100% of its tier's daily limit.

        What each wallet sent out that day before the round is summed by the database (one aggregate per day the
        round's wallets first spend in: a day that starts inside the round has nothing before it); the round's
        own outflows are added in chain order from its events, so the work does not grow with the day's history."""
        if not outflows:
            return []
        limits = {limit_class: daily for limit_class, daily in session.execute(
            select(ChainLimits.limit_class, ChainLimits.daily_outflow_limit))}
        first_day: dict[str, datetime] = {}
        for event in outflows:
            first_day.setdefault(_outflow_wallet(event), _day_start(block_times[event.block_number]))
        by_day: dict[datetime, list[str]] = defaultdict(list)
        for wallet, day in first_day.items():
            by_day[day].append(wallet)
        start = events[0]  # the round's first event: every history row before the round is before it
        before_round = (WalletHistory.block_number < start.block_number) | (
            (WalletHistory.block_number == start.block_number) & (WalletHistory.log_index < start.log_index))
        spent: dict[tuple[str, datetime], int] = defaultdict(int)
        for day, wallets in by_day.items():
            for chunk in range(0, len(wallets), _CHUNK):
                for wallet, total in session.execute(
                        select(WalletHistory.wallet, func.sum(-WalletHistory.spendable_delta_minor))
                        .where(WalletHistory.wallet.in_(wallets[chunk:chunk + _CHUNK]),
                               WalletHistory.block_time >= day, WalletHistory.block_time < day + timedelta(days=1),
                               WalletHistory.block_number.is_not(None), WalletHistory.spendable_delta_minor < 0,
                               WalletHistory.kind.in_(_OUTFLOW_KINDS), before_round,
                               (WalletHistory.burn_reason.is_(None))
                               | (WalletHistory.burn_reason.not_in(_NOT_DAILY_BURNS)))
                        .group_by(WalletHistory.wallet)):
                    spent[wallet, day] = int(total or 0)
        made: list[dict[str, Any]] = []
        for event in outflows:
            wallet, day = _outflow_wallet(event), _day_start(block_times[event.block_number])
            before = spent[wallet, day]
            spent[wallet, day] = after = before + _outflow_amount(event)
            limit = limits.get(customers.get(wallet, -1))
            if not limit:
                continue
            for percent, kind in ((80, T.DAILY_LIMIT_80), (100, T.DAILY_LIMIT_100)):
                if before * 100 < limit * percent <= after * 100:
                    made.append({"wallet": wallet, "type": kind.value, "source": tx_source(event),
                                 "params": {"spent": after, "limit": int(limit), "percent": percent,
                                            "day": day.date().isoformat(), "currency": self.currency,
                                            "decimals": self.decimals, "tx_hash": event.tx_hash}})
        return made


def _outflow_wallet(event: Event) -> str:
    return str(event.args.get("from") or event.args.get("holder") or event.args.get("wallet"))


def _outflow_amount(event: Event) -> int:
    """What an outflow event (Transfer, HoldPlaced, Burned) took from the wallet's spendable balance."""
    return int(event.args["value"] if event.name == "Transfer" else event.args["amount"])


def _day_start(at: datetime) -> datetime:
    at = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    return at.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
