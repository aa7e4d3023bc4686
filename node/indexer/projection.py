"""How each contract event changes the indexer's tables (:mod:`node.indexer.models`).

:class:`Projection` applies events, in chain order, inside the caller's transaction; it never commits, and the
caller calls :meth:`Projection.flush` before it does (wallet history rows are gathered and written in one
multi-row INSERT there: one ORM object per row was most of a round's database time). It keeps to its scope:

- ``network``: every wallet and bank;
- ``bank``: the bank's own wallets (known from their ``WalletOpened``, which always comes first) and its
  own issuance. A transfer with a wallet of another bank keeps only this bank's side; movements of the
  settlement contract's system wallet are not projected (its settlement batches are, for the bank's
  merchants).

A network-wide index also keeps the merchant directory (every bank's merchants, request signers and paid
orders' keys: :class:`~node.indexer.models.DirectoryMerchant` and its neighbours), which a payer's bank checks a
payment of another bank's merchant against; nothing else reads it.

Merchants, in either scope, are those the bank acquires (all of them only in a network-wide index without
a bank): merchant ids are per acquirer on chain, so two banks' "SHOP1" are two merchants, and a bank's
statements, webhooks and daily settlement must never see another bank's orders. Merchant rows are keyed
by (acquirer, merchant id); every merchant event names its acquirer.

Value movements come from the events that say why money moved (``Minted``, ``Burned``, ``HoldPlaced``,
``HoldReleased``) and from ``Transfer`` only between two wallets; a ``Transfer`` from or to the zero address
or the token contract itself (the hold escrow) always has one of those events beside it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from node.chain_ids import id_or_none, id_text
from node.errors import NodeError
from node.indexer.models import (
    BankIssuance,
    ChainHold,
    ChainLimits,
    ChainMerchant,
    ChainWallet,
    DirectoryMerchant,
    DirectoryOrderPaid,
    DirectoryRequestSigner,
    HistoryKind,
    MerchantOrder,
    MerchantRefund,
    SettlementBatchRecord,
    WalletHistory,
)
from wallet_sdk.chain.events import Event
from wallet_sdk.chain.types import BurnReason, MerchantStatus, PayoutMode, WalletKind

__all__ = ["EVENT_NAMES", "IndexScope", "IndexedValueTooLargeError", "Projection"]

ZERO_ADDRESS: Final = "0x" + "00" * 20
MAX_MINOR: Final = 2**63 - 1  # a BIGINT column
_HISTORY_OPTIONAL: Final = ("counterparty", "bank_id", "ref", "burn_reason", "hold_id")
_WALLET_ARGS: Final = ("wallet", "from", "to", "holder")  # the arguments that name a wallet the projection moves
PREFETCH_CHUNK: Final = 500  # addresses per query (SQLite's bound parameters are limited)
"""WalletHistory's columns some kinds leave NULL: every gathered row names them all, so they go in one INSERT."""

EVENT_NAMES: Final = (
    "WalletOpened", "WalletTierChanged", "WalletFrozen", "WalletUnfrozen", "WalletClosed",
    "Transfer", "Minted", "Burned", "HoldPlaced", "HoldCaptured", "HoldReleased",
    "MerchantRegistered", "MerchantUpdated", "MerchantStatusChanged", "OrderPaid", "OrderRefunded",
    "MerchantSettled", "LimitsSet", "RequestSignerSet",
)
"""The events the indexer asks the node for (the rest do not change its tables)."""


class IndexScope(StrEnum):
    NETWORK = "network"  # everything: it is a permissioned network
    BANK = "bank"  # the bank's own wallets, merchants and issuance


class IndexedValueTooLargeError(NodeError, ValueError):
    """An on-chain amount does not fit the database's 64-bit money columns."""

    def __init__(self, event: Event, value: int) -> None:
        self.event = event
        self.value = value
        super().__init__(f"{event!r}: {value} minor units do not fit in 64 bits")


def _limit(value: int) -> int | None:
    """A limit as stored: None for "no limit" (the token treats 2**80 - 1 and above so) or any value beyond
    the 64-bit column, which no payment can reach anyway."""
    return int(value) if int(value) <= MAX_MINOR else None


def _name(member: object) -> str:
    return getattr(member, "name", str(member)).lower()


@dataclass
class Projection:
    """Applies events to the indexer's tables in ``session`` (see the module docstring)."""

    session: Session
    scope: IndexScope
    bank_id: bytes | None  # required in scope "bank"
    token_address: str
    currency: str
    block_times: Mapping[int, datetime]
    _wallets: dict[str, ChainWallet | None] = field(default_factory=dict)
    _merchants: dict[tuple[str, str], ChainMerchant | None] = field(default_factory=dict)
    _issuances: dict[str, BankIssuance] = field(default_factory=dict)
    _history: list[dict[str, Any]] = field(default_factory=list)  # WalletHistory rows not written yet
    _orders_paid: list[dict[str, str]] = field(default_factory=list)  # DirectoryOrderPaid rows not written yet

    def __post_init__(self) -> None:
        if self.scope is IndexScope.BANK and self.bank_id is None:
            raise ValueError("the bank scope needs the bank's id")
        self._handlers: dict[str, Callable[[Event], None]] = {
            "WalletOpened": self._wallet_opened,
            "WalletTierChanged": self._wallet_tier_changed,
            "WalletFrozen": lambda e: self._wallet_status(e, "frozen"),
            "WalletUnfrozen": lambda e: self._wallet_status(e, "active"),
            "WalletClosed": lambda e: self._wallet_status(e, "closed"),
            "Transfer": self._transfer,
            "Minted": self._minted,
            "Burned": self._burned,
            "HoldPlaced": self._hold_placed,
            "HoldCaptured": self._hold_captured,
            "HoldReleased": self._hold_released,
            "MerchantRegistered": self._merchant_registered,
            "MerchantUpdated": self._merchant_updated,
            "MerchantStatusChanged": self._merchant_status_changed,
            "OrderPaid": self._order_paid,
            "OrderRefunded": self._order_refunded,
            "MerchantSettled": self._merchant_settled,
            "LimitsSet": self._limits_set,
            "RequestSignerSet": self._request_signer_set,
        }

    def prefetch(self, events: Sequence[Event]) -> None:
        """Read the rows of every wallet ``events`` name in a few queries (each would be read on its own when an
        event first names it: a bulk enrolment's round names thousands)."""
        named = {value for event in events for key in _WALLET_ARGS if isinstance(value := event.args.get(key), str)}
        wanted = sorted(named - self._wallets.keys())
        for start in range(0, len(wanted), PREFETCH_CHUNK):
            chunk = wanted[start:start + PREFETCH_CHUNK]
            found = {row.address: row for row in self.session.scalars(
                select(ChainWallet).where(ChainWallet.address.in_(chunk)))}
            self._wallets.update({address: found.get(address) for address in chunk})

    def apply(self, event: Event) -> None:
        handler = self._handlers.get(event.name)
        if handler is not None:
            handler(event)

    def flush(self) -> None:
        """Write what the events applied so far changed (the session's objects, then the history rows)."""
        self.session.flush()
        if self._history:
            self.session.execute(insert(WalletHistory), self._history)
            self._history.clear()
        if self._orders_paid:
            self.session.execute(insert(DirectoryOrderPaid), self._orders_paid)
            self._orders_paid.clear()

    # ------------------------------------------------------------------ scope and look-ups

    def _bank_in_scope(self, bank_id: bytes) -> bool:
        return self.scope is IndexScope.NETWORK or bytes(bank_id) == self.bank_id

    def _existing_wallet(self, address: str) -> ChainWallet | None:
        """The wallet's row if it is indexed (in scope "bank": one of the bank's wallets)."""
        if address not in self._wallets:
            self._wallets[address] = self.session.scalars(
                select(ChainWallet).where(ChainWallet.address == address)).one_or_none()
        return self._wallets[address]

    def _wallet(self, address: str) -> ChainWallet | None:
        """The row of a wallet that moves money, if in scope; in scope "network" every wallet is (one never seen
        opened, which cannot happen after the deployment block, would get a row as a system wallet)."""
        row = self._existing_wallet(address)
        if row is None and self.scope is IndexScope.NETWORK:
            row = self._new_wallet(address, bank_id=None, kind="system", tier=0, block=0)
        return row

    def _new_wallet(self, address: str, *, bank_id: str | None, kind: str, tier: int, block: int) -> ChainWallet:
        row = ChainWallet(address=address, bank_id=bank_id, kind=kind, tier=tier, status="active",
                          currency=self.currency, spendable_minor=0, held_minor=0, updated_block=block)
        self.session.add(row)
        self._wallets[address] = row
        return row

    def _merchant_in_scope(self, acquirer: bytes) -> bool:
        return self.bank_id is None or bytes(acquirer) == self.bank_id

    def _merchant(self, event: Event) -> ChainMerchant | None:
        """The row of the event's merchant (acquirer, merchant id), if it is one this index keeps."""
        if not self._merchant_in_scope(event["acquirer"]):
            return None
        key = (id_text(event["acquirer"]), id_text(event["merchantId"]))
        if key not in self._merchants:
            self._merchants[key] = self.session.scalars(select(ChainMerchant).where(
                ChainMerchant.acquirer == key[0], ChainMerchant.merchant_id == key[1])).one_or_none()
        return self._merchants[key]

    def _issuance(self, bank_id: str) -> BankIssuance:
        row = self._issuances.get(bank_id)
        if row is None:
            row = self.session.scalars(select(BankIssuance).where(BankIssuance.bank_id == bank_id)).one_or_none()
            if row is None:
                row = BankIssuance(bank_id=bank_id, currency=self.currency, minted_minor=0, burned_minor=0)
                self.session.add(row)
            self._issuances[bank_id] = row
        return row

    def _amount(self, event: Event, key: str) -> int:
        value = int(event[key])
        if value > MAX_MINOR:
            raise IndexedValueTooLargeError(event, value)
        return value

    def _limits_set(self, event: Event) -> None:
        """A limit class's limits (WalletRegistry and the token emit the same values in one transaction)."""
        row = self.session.get(ChainLimits, int(event["limitClass"]))
        if row is None:
            row = ChainLimits(limit_class=int(event["limitClass"]))
            self.session.add(row)
        row.balance_cap = _limit(event["balanceCap"])
        row.single_payment_limit = _limit(event["singlePaymentLimit"])
        row.daily_outflow_limit = _limit(event["dailyOutflowLimit"])
        row.updated_block = event.block_number

    # ------------------------------------------------------------------ history and balances

    def _record(self, wallet: ChainWallet, event: Event, kind: HistoryKind, amount: int, *, spendable: int = 0,
                held: int = 0, **columns: Any) -> None:
        wallet.spendable_minor += spendable
        wallet.held_minor += held
        wallet.updated_block = event.block_number
        self._history.append({
            "wallet": wallet.address, "kind": kind, "amount_minor": amount, "spendable_delta_minor": spendable,
            "held_delta_minor": held, "currency": self.currency, "block_number": event.block_number,
            "block_time": self.block_times[event.block_number], "tx_hash": event.tx_hash,
            "log_index": event.log_index, **dict.fromkeys(_HISTORY_OPTIONAL), **columns})

    def _transfer(self, event: Event) -> None:
        source, target = event["from"], event["to"]
        if {source, target} & {ZERO_ADDRESS, self.token_address}:
            return  # a mint, burn or hold movement: recorded from Minted / Burned / Hold* beside it
        value = self._amount(event, "value")
        sender = self._wallet(source)
        if sender is not None:
            self._record(sender, event, HistoryKind.TRANSFER_OUT, value, spendable=-value, counterparty=target)
        receiver = self._wallet(target)
        if receiver is not None:
            self._record(receiver, event, HistoryKind.TRANSFER_IN, value, spendable=value, counterparty=source)

    def _supply_change(self, event: Event) -> tuple[int, str, ChainWallet | None]:
        """A Minted or Burned event's amount, its bank's id as text, and its wallet's row if in scope."""
        return self._amount(event, "amount"), id_text(event["bankId"]), self._wallet(event["wallet"])

    def _minted(self, event: Event) -> None:
        amount, bank, wallet = self._supply_change(event)
        if self._bank_in_scope(event["bankId"]):
            self._issuance(bank).minted_minor += amount
        if wallet is not None:
            self._record(wallet, event, HistoryKind.MINT, amount, spendable=amount, bank_id=bank,
                         ref=id_or_none(event["ref"]))

    def _burned(self, event: Event) -> None:
        amount, bank, wallet = self._supply_change(event)
        if self._bank_in_scope(event["bankId"]):
            self._issuance(bank).burned_minor += amount
        if wallet is None:
            return
        reason = event["reason"]
        from_held = reason == BurnReason.HOLD_CAPTURE  # a capture burns money already moved to held
        self._record(wallet, event, HistoryKind.BURN, amount, spendable=0 if from_held else -amount,
                     held=-amount if from_held else 0, bank_id=bank, ref=id_or_none(event["ref"]),
                     burn_reason=_name(reason))

    # ------------------------------------------------------------------ holds

    def _hold_placed(self, event: Event) -> None:
        wallet = self._wallet(event["holder"])
        if wallet is None:
            return
        amount = self._amount(event, "amount")
        hold = id_text(event["holdId"])
        self._record(wallet, event, HistoryKind.HOLD_PLACED, amount, spendable=-amount, held=amount, hold_id=hold)
        self.session.add(ChainHold(hold_id=hold, holder=wallet.address, amount_minor=amount, currency=self.currency,
                                   expires_at=int(event["expiresAt"]), status="held", placed_tx_hash=event.tx_hash,
                                   placed_block=event.block_number))

    def _resolve_hold(self, event: Event, status: str, ref: str | None = None) -> None:
        hold = self.session.scalars(select(ChainHold).where(ChainHold.hold_id == id_text(event["holdId"]))).one()
        hold.status = status
        hold.capture_ref = ref
        hold.resolved_tx_hash = event.tx_hash
        hold.resolved_block = event.block_number

    def _hold_captured(self, event: Event) -> None:
        wallet = self._wallet(event["holder"])
        if wallet is None:
            return
        ref = id_or_none(event["ref"])
        self._record(wallet, event, HistoryKind.HOLD_CAPTURED, self._amount(event, "amount"),
                     hold_id=id_text(event["holdId"]), ref=ref)
        self._resolve_hold(event, "captured", ref)

    def _hold_released(self, event: Event) -> None:
        wallet = self._wallet(event["holder"])
        if wallet is None:
            return
        amount = self._amount(event, "amount")
        self._record(wallet, event, HistoryKind.HOLD_RELEASED, amount, spendable=amount, held=-amount,
                     hold_id=id_text(event["holdId"]))
        self._resolve_hold(event, "released")

    # ------------------------------------------------------------------ the registry

    def _wallet_opened(self, event: Event) -> None:
        bank = bytes(event["bankId"])
        if not self._bank_in_scope(bank):
            return
        kind, tier = _name(WalletKind(event["kind"])), int(event["tier"])
        wallet = self._existing_wallet(event["wallet"])
        if wallet is None:
            self._new_wallet(event["wallet"], bank_id=id_or_none(bank), kind=kind, tier=tier,
                             block=event.block_number)
            return
        wallet.bank_id, wallet.kind, wallet.tier, wallet.status = id_or_none(bank), kind, tier, "active"
        wallet.updated_block = event.block_number

    def _wallet_tier_changed(self, event: Event) -> None:
        wallet = self._existing_wallet(event["wallet"])
        if wallet is not None:
            wallet.tier = int(event["tier"])
            wallet.updated_block = event.block_number

    def _wallet_status(self, event: Event, status: str) -> None:
        wallet = self._existing_wallet(event["wallet"])
        if wallet is not None:
            wallet.status = status
            wallet.updated_block = event.block_number

    # ------------------------------------------------------------------ merchants

    def _directory(self, event: Event) -> DirectoryMerchant | None:
        """The directory's row of the event's merchant (None: not in the directory, or a bank-scope index)."""
        if self.scope is not IndexScope.NETWORK:
            return None
        return self.session.scalars(select(DirectoryMerchant).where(
            DirectoryMerchant.acquirer == id_text(event["acquirer"]),
            DirectoryMerchant.merchant_id == id_text(event["merchantId"]))).one_or_none()

    def _request_signer_set(self, event: Event) -> None:
        if self.scope is not IndexScope.NETWORK:
            return
        bank = id_text(event["bankId"])
        row = self.session.scalars(select(DirectoryRequestSigner).where(
            DirectoryRequestSigner.bank_id == bank)).one_or_none()
        if row is None:
            self.session.add(DirectoryRequestSigner(bank_id=bank, signer=event["signer"]))
        else:
            row.signer = event["signer"]

    def _merchant_registered(self, event: Event) -> None:
        if self.scope is IndexScope.NETWORK:
            self.session.add(DirectoryMerchant(acquirer=id_text(event["acquirer"]),
                                               merchant_id=id_text(event["merchantId"]), wallet=event["wallet"],
                                               status="active"))
        if not self._merchant_in_scope(event["acquirer"]):
            return
        merchant = ChainMerchant(
            merchant_id=id_text(event["merchantId"]), acquirer=id_text(event["acquirer"]), wallet=event["wallet"],
            fee_bps=int(event["feeBps"]), payout_mode=_name(PayoutMode(event["payoutMode"])), status="active",
            currency=self.currency, pending_gross_minor=0, pending_refunds_minor=0, last_batch_id=0)
        self.session.add(merchant)
        self._merchants[merchant.acquirer, merchant.merchant_id] = merchant

    def _merchant_updated(self, event: Event) -> None:
        listed = self._directory(event)
        if listed is not None:
            listed.wallet = event["wallet"]
        merchant = self._merchant(event)
        if merchant is not None:
            merchant.wallet = event["wallet"]
            merchant.fee_bps = int(event["feeBps"])
            merchant.payout_mode = _name(PayoutMode(event["payoutMode"]))

    def _merchant_status_changed(self, event: Event) -> None:
        listed = self._directory(event)
        if listed is not None:
            listed.status = _name(MerchantStatus(event["status"]))
        merchant = self._merchant(event)
        if merchant is not None:
            merchant.status = _name(MerchantStatus(event["status"]))

    def _order_paid(self, event: Event) -> None:
        if self.scope is IndexScope.NETWORK:
            self._orders_paid.append({"acquirer": id_text(event["acquirer"]),
                                      "merchant_id": id_text(event["merchantId"]),
                                      "order_id": id_text(event["orderId"])})
        merchant = self._merchant(event)
        if merchant is None:
            return
        amount = self._amount(event, "amount")
        merchant.pending_gross_minor += amount
        self.session.add(MerchantOrder(
            acquirer=merchant.acquirer, merchant_id=merchant.merchant_id, order_id=id_text(event["orderId"]),
            payer=event["payer"],
            currency=self.currency, paid_minor=amount, refunded_minor=0, paid_block=event.block_number,
            paid_time=self.block_times[event.block_number], paid_tx_hash=event.tx_hash,
            paid_log_index=event.log_index))

    def _order_refunded(self, event: Event) -> None:
        merchant = self._merchant(event)
        if merchant is None:
            return
        merchant.pending_refunds_minor += self._amount(event, "amount")
        order = self.session.scalars(select(MerchantOrder).where(
            MerchantOrder.acquirer == merchant.acquirer, MerchantOrder.merchant_id == merchant.merchant_id,
            MerchantOrder.order_id == id_text(event["orderId"]))).one()
        order.refunded_minor = self._amount(event, "refundedTotal")
        order.last_refund_ref = id_or_none(event["ref"])
        self.session.add(MerchantRefund(
            acquirer=merchant.acquirer, merchant_id=merchant.merchant_id, order_id=order.order_id,
            payer=event["payer"], currency=self.currency, amount_minor=self._amount(event, "amount"),
            refunded_total_minor=order.refunded_minor, ref=order.last_refund_ref, block_number=event.block_number,
            block_time=self.block_times[event.block_number], tx_hash=event.tx_hash, log_index=event.log_index))

    def _merchant_settled(self, event: Event) -> None:
        merchant = self._merchant(event)
        if merchant is None:
            return
        merchant.pending_gross_minor = 0
        merchant.pending_refunds_minor = 0
        merchant.last_batch_id = int(event["batchId"])
        self.session.flush()  # the orders and refunds added by earlier events of this round
        for model in (MerchantOrder, MerchantRefund):  # the batch settles everything pending: all without one
            self.session.execute(update(model).where(
                model.acquirer == merchant.acquirer, model.merchant_id == merchant.merchant_id,
                model.batch_id.is_(None)).values(batch_id=merchant.last_batch_id))
        self.session.add(SettlementBatchRecord(
            merchant_id=merchant.merchant_id, batch_id=int(event["batchId"]), acquirer=id_text(event["acquirer"]),
            currency=self.currency, gross_minor=self._amount(event, "gross"),
            refunds_minor=self._amount(event, "refunds"), fee_minor=self._amount(event, "fee"),
            net_minor=self._amount(event, "net"), payout_mode=_name(PayoutMode(event["payoutMode"])),
            ref=id_or_none(event["ref"]), block_number=event.block_number,
            block_time=self.block_times[event.block_number], tx_hash=event.tx_hash, log_index=event.log_index))

