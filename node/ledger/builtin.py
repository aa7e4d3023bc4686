"""The built-in core-banking ledger: double entry in the node's own database.

:class:`SqlLedger` works in the caller's session and never commits: the caller's business record, the
ledger entry and the outbox row of the same event commit together. Before checking a balance it locks the
accounts concerned (``SELECT ... FOR UPDATE`` in id order on PostgreSQL; on SQLite every transaction holds
the database's write lock from its start, see :mod:`node.db.engine`), so two sessions debiting one account
can never overdraw it.

Each entry is written unposted, then its postings, then it is flipped to posted; the database itself
refuses that flip when the postings do not balance (and PostgreSQL checks every entry again at commit).
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import TypeVar

from sqlalchemy import func, or_, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from node.db.base import utcnow
from node.ledger.errors import (
    AccountConflictError,
    AccountNotFoundError,
    BalanceOverflowError,
    CaptureExceedsHoldError,
    EntryAlreadyReversedError,
    EntryNotFoundError,
    HoldExpiredError,
    HoldNotActiveError,
    HoldNotAllowedError,
    HoldNotFoundError,
    InsufficientFundsError,
    InvalidAmountError,
    ReferenceConflictError,
    UnbalancedEntryError,
)
from node.ledger.models import JournalEntry, LedgerAccount, LedgerHold, Posting
from node.ledger.types import AccountInfo, AccountKind, Balance, Entry, Hold, HoldState, Leg, NormalSide

__all__ = ["MAX_AMOUNT_MINOR", "SqlLedger"]

MAX_AMOUNT_MINOR = 2**63 - 1  # a BIGINT column

_Row = TypeVar("_Row", LedgerAccount, LedgerHold)


def _check_amount(amount: object, *, positive: bool = False) -> int:
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise InvalidAmountError(amount, "amounts are integers of minor units")
    if amount == 0 or (positive and amount < 0):
        raise InvalidAmountError(amount, "must be positive" if positive else "must not be zero")
    if abs(amount) > MAX_AMOUNT_MINOR:
        raise InvalidAmountError(amount, "exceeds 64 bits")
    return amount


def _sign(kind: AccountKind) -> int:
    """Multiply a raw posting sum (debits positive) by this to get the balance on the normal side."""
    return 1 if kind.normal_side is NormalSide.DEBIT else -1


def _fingerprint(legs: Iterable[tuple[str, int]], reverses: str | None) -> str:
    canonical = json.dumps({"legs": sorted(legs), "reverses": reverses}, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


class SqlLedger:
    """The default :class:`~node.ledger.adapter.CoreBankingLedger`, on the node's database."""

    def __init__(self, session: Session, *, clock: Callable[[], datetime] = utcnow) -> None:
        self.session = session
        self._clock = clock

    # ------------------------------------------------------------------ accounts

    def open_account(self, code: str, kind: AccountKind, currency: str, *, name: str = "",
                     owner_ref: str | None = None) -> AccountInfo:
        """Open account ``code`` (idempotent: opening it again with the same kind and currency returns it)."""
        kind = AccountKind(kind)
        if not code or len(code) > 128:
            raise ValueError("an account code must be 1..128 characters")
        account = self._account_or_none(code)
        if account is None:
            account = self._add_or_twin(
                LedgerAccount(code=code, kind=kind, currency=currency, name=name, owner_ref=owner_ref),
                lambda: self._account_or_none(code))
        if account.kind is not kind or account.currency != currency:
            raise AccountConflictError(code, f"{account.kind.value} in {account.currency}",
                                       f"{kind.value} in {currency}")
        return self._account_info(account)

    def account_info(self, code: str) -> AccountInfo:
        return self._account_info(self._account(code))

    # ------------------------------------------------------------------ the adapter interface

    def debit(self, account: str, amount_minor: int, *, contra: str, reference: str, memo: str = "",
              correlation_id: str | None = None) -> Entry:
        amount = _check_amount(amount_minor, positive=True)
        return self.transfer([Leg.debit(account, amount), Leg.credit(contra, amount)], reference=reference,
                             memo=memo, correlation_id=correlation_id)

    def credit(self, account: str, amount_minor: int, *, contra: str, reference: str, memo: str = "",
               correlation_id: str | None = None) -> Entry:
        amount = _check_amount(amount_minor, positive=True)
        return self.transfer([Leg.credit(account, amount), Leg.debit(contra, amount)], reference=reference,
                             memo=memo, correlation_id=correlation_id)

    def transfer(self, legs: Sequence[Leg], *, reference: str, memo: str = "",
                 correlation_id: str | None = None) -> Entry:
        return self._post(legs, reference=reference, memo=memo, correlation_id=correlation_id)

    def hold(self, account: str, amount_minor: int, *, reference: str, memo: str = "",
             expires_at: datetime | None = None) -> Hold:
        amount = _check_amount(amount_minor, positive=True)
        acct = self._account(account)
        if not acct.kind.takes_holds:
            raise HoldNotAllowedError(account, acct.kind.value)
        existing = self._hold_or_none(reference)
        if existing is not None:
            return self._same_hold(existing, acct, amount)
        self._lock([acct])
        existing = self._hold_or_none(reference)  # a twin may have committed while we waited for the lock
        if existing is not None:
            return self._same_hold(existing, acct, amount)
        available = self._available_minor(acct)
        if available < amount:
            raise InsufficientFundsError(acct.code, acct.currency, available, amount)
        hold = self._add_or_twin(
            LedgerHold(reference=reference, account_id=acct.id, currency=acct.currency, amount_minor=amount,
                       state=HoldState.ACTIVE, memo=memo, expires_at=expires_at, created_at=self._clock()),
            lambda: self._hold_or_none(reference))
        return self._same_hold(hold, acct, amount)

    def release(self, reference: str) -> Hold:
        hold = self._locked_hold(reference)
        if hold.state is HoldState.CAPTURED:
            raise HoldNotActiveError(reference, hold.state.value)
        if hold.state is HoldState.ACTIVE:
            hold.state = HoldState.RELEASED
            hold.resolved_at = self._clock()
            self.session.flush()
        return self._hold_info(hold, hold.account)

    def capture(self, reference: str, *, contra: str, amount_minor: int | None = None,
                entry_reference: str | None = None, memo: str = "") -> Entry:
        hold = self._locked_hold(reference)
        amount = hold.amount_minor if amount_minor is None else _check_amount(amount_minor, positive=True)
        entry_ref = entry_reference or f"hold:{reference}:capture"
        legs = [Leg.debit(hold.account.code, amount), Leg.credit(contra, amount)]
        if hold.state is HoldState.CAPTURED:
            done = self.session.get(JournalEntry, hold.capture_entry_id)
            if done is not None and done.reference == entry_ref and hold.captured_minor == amount:
                return self._post(legs, reference=entry_ref, memo=memo)  # returns the recorded entry
            raise HoldNotActiveError(reference, hold.state.value)
        if hold.state is not HoldState.ACTIVE:
            raise HoldNotActiveError(reference, hold.state.value)
        now = self._clock()
        if hold.expires_at is not None and hold.expires_at <= now:
            raise HoldExpiredError(reference, hold.expires_at)
        if amount > hold.amount_minor:
            raise CaptureExceedsHoldError(reference, hold.amount_minor, amount)
        entry = self._post(legs, reference=entry_ref, memo=memo or hold.memo, exclude_hold_id=hold.id)
        hold.state = HoldState.CAPTURED
        hold.captured_minor = amount
        hold.capture_entry_id = entry.id
        hold.resolved_at = now
        self.session.flush()
        return entry

    def reverse(self, reference: str, *, reversal_reference: str, memo: str = "") -> Entry:
        original = self._entry_or_none(reference)
        if original is None or not original.posted:
            raise EntryNotFoundError(reference)
        earlier = self.session.scalars(select(JournalEntry).where(JournalEntry.reverses_id == original.id)).first()
        if earlier is not None and earlier.reference != reversal_reference:
            raise EntryAlreadyReversedError(reference, earlier.reference)
        legs = [Leg(p.account.code, -p.amount_minor) for p in original.postings]
        try:
            return self._post(legs, reference=reversal_reference, memo=memo or f"reversal of {reference}",
                              correlation_id=original.correlation_id, reverses=original)
        except IntegrityError:  # a concurrent reversal of the same entry committed first
            earlier = self.session.scalars(
                select(JournalEntry).where(JournalEntry.reverses_id == original.id)).first()
            if earlier is None:
                raise
            raise EntryAlreadyReversedError(reference, earlier.reference) from None

    def balance(self, account: str) -> Balance:
        acct = self._account(account)
        return Balance(acct.code, self._balance_minor(acct), acct.currency)

    def available(self, account: str) -> Balance:
        acct = self._account(account)
        return Balance(acct.code, self._available_minor(acct), acct.currency)

    # ------------------------------------------------------------------ look-ups

    def entry(self, reference: str) -> Entry | None:
        found = self._entry_or_none(reference)
        return self._entry_info(found) if found is not None and found.posted else None

    def get_hold(self, reference: str) -> Hold:
        hold = self._hold_or_none(reference)
        if hold is None:
            raise HoldNotFoundError(reference)
        return self._hold_info(hold, hold.account)

    def entries_for(self, account: str) -> list[Entry]:
        """Posted entries touching ``account``, oldest first (a statement)."""
        acct = self._account(account)
        rows = self.session.scalars(
            select(JournalEntry)
            .where(JournalEntry.posted == true(),
                   JournalEntry.id.in_(select(Posting.entry_id).where(Posting.account_id == acct.id)))
            .order_by(JournalEntry.id)
        ).all()
        return [self._entry_info(row) for row in rows]

    # ------------------------------------------------------------------ internals

    def _post(self, legs: Sequence[Leg], *, reference: str, memo: str = "", correlation_id: str | None = None,
              reverses: JournalEntry | None = None, exclude_hold_id: int | None = None) -> Entry:
        if not reference or len(reference) > 200:
            raise ValueError("a reference must be 1..200 characters")
        if len(legs) < 2:
            raise UnbalancedEntryError(reference, {})
        accounts = {code: self._account(code) for code in {leg.account for leg in legs}}
        imbalance: dict[str, int] = defaultdict(int)
        change: dict[str, int] = defaultdict(int)  # per account, on its normal side
        for leg in legs:
            amount = _check_amount(leg.amount_minor)
            acct = accounts[leg.account]
            imbalance[acct.currency] += amount
            change[acct.code] += amount * _sign(acct.kind)
        if any(imbalance.values()):
            raise UnbalancedEntryError(reference, {c: a for c, a in imbalance.items() if a})
        digest = _fingerprint(((leg.account, leg.amount_minor) for leg in legs),
                              reverses.reference if reverses is not None else None)

        existing = self._entry_or_none(reference)
        if existing is not None:
            return self._same_entry(existing, digest)
        debited = [accounts[code] for code, delta in change.items()
                   if delta < 0 and not accounts[code].kind.may_go_negative]
        if debited:
            self._lock(debited)
            existing = self._entry_or_none(reference)  # a twin may have committed while we waited
            if existing is not None:
                return self._same_entry(existing, digest)
            for acct in debited:
                available = self._available_minor(acct, exclude_hold_id=exclude_hold_id)
                if available + change[acct.code] < 0:
                    raise InsufficientFundsError(acct.code, acct.currency, available, -change[acct.code])
        # Every balance stays within 64 bits: SQLite sums postings in them and fails past them (it has one writer
        # at a time, so this check is exact there; PostgreSQL sums BIGINTs as numeric and never fails).
        for code, delta in change.items():
            if not delta:
                continue
            balance = self._balance_minor(accounts[code])
            if abs(balance + delta) > MAX_AMOUNT_MINOR:
                raise BalanceOverflowError(code, accounts[code].currency, balance, delta)

        entry = JournalEntry(reference=reference, correlation_id=correlation_id, memo=memo, fingerprint=digest,
                             posted=False, reverses_id=reverses.id if reverses is not None else None,
                             created_at=self._clock())
        try:
            with self.session.begin_nested():
                self.session.add(entry)
                self.session.flush()
                for leg in legs:
                    acct = accounts[leg.account]
                    self.session.add(Posting(entry_id=entry.id, account_id=acct.id, currency=acct.currency,
                                             amount_minor=leg.amount_minor))
                self.session.flush()
                entry.posted = True  # the database checks the balance here (and PostgreSQL again at commit)
                entry.posted_at = self._clock()
                self.session.flush()
        except IntegrityError:
            existing = self._entry_or_none(reference)
            if existing is None:
                raise
            return self._same_entry(existing, digest)
        self.session.refresh(entry, ["postings"])
        return self._entry_info(entry)

    def _same_entry(self, existing: JournalEntry, digest: str) -> Entry:
        if existing.fingerprint != digest or not existing.posted:
            raise ReferenceConflictError(existing.reference)
        return self._entry_info(existing)

    def _add_or_twin(self, row: _Row, twin: Callable[[], _Row | None]) -> _Row:
        """Add ``row`` in a savepoint; if a unique key refuses it, return instead the twin (found by ``twin``) that
        a concurrent transaction committed first."""
        try:
            with self.session.begin_nested():
                self.session.add(row)
        except IntegrityError:
            existing = twin()
            if existing is None:
                raise
            return existing
        return row

    def _same_hold(self, existing: LedgerHold, acct: LedgerAccount, amount: int) -> Hold:
        if existing.account_id != acct.id or existing.amount_minor != amount:
            raise ReferenceConflictError(existing.reference)
        return self._hold_info(existing, acct)

    def _lock(self, accounts: Iterable[LedgerAccount]) -> None:
        ids = sorted({a.id for a in accounts})  # one order everywhere: no deadlocks between two debits
        self.session.execute(select(LedgerAccount.id).where(LedgerAccount.id.in_(ids)).order_by(LedgerAccount.id)
                             .with_for_update())

    def _balance_minor(self, acct: LedgerAccount) -> int:
        raw = self.session.scalar(
            select(func.coalesce(func.sum(Posting.amount_minor), 0))
            .join(JournalEntry, JournalEntry.id == Posting.entry_id)
            .where(Posting.account_id == acct.id, JournalEntry.posted == true())
        )
        return int(raw or 0) * _sign(acct.kind)

    def _held_minor(self, acct: LedgerAccount, exclude_hold_id: int | None = None) -> int:
        query = select(func.coalesce(func.sum(LedgerHold.amount_minor), 0)).where(
            LedgerHold.account_id == acct.id,
            LedgerHold.state == HoldState.ACTIVE,
            or_(LedgerHold.expires_at.is_(None), LedgerHold.expires_at > self._clock()),
        )
        if exclude_hold_id is not None:
            query = query.where(LedgerHold.id != exclude_hold_id)
        return int(self.session.scalar(query) or 0)

    def _available_minor(self, acct: LedgerAccount, exclude_hold_id: int | None = None) -> int:
        return self._balance_minor(acct) - self._held_minor(acct, exclude_hold_id)

    def _account_or_none(self, code: str) -> LedgerAccount | None:
        return self.session.scalars(select(LedgerAccount).where(LedgerAccount.code == code)).one_or_none()

    def _account(self, code: str) -> LedgerAccount:
        acct = self._account_or_none(code)
        if acct is None:
            raise AccountNotFoundError(code)
        return acct

    def _entry_or_none(self, reference: str) -> JournalEntry | None:
        return self.session.scalars(
            select(JournalEntry).where(JournalEntry.reference == reference).execution_options(populate_existing=True)
        ).one_or_none()

    def _hold_or_none(self, reference: str) -> LedgerHold | None:
        return self.session.scalars(select(LedgerHold).where(LedgerHold.reference == reference)).one_or_none()

    def _locked_hold(self, reference: str) -> LedgerHold:
        hold = self.session.scalars(
            select(LedgerHold).where(LedgerHold.reference == reference).with_for_update()
            .execution_options(populate_existing=True)
        ).one_or_none()
        if hold is None:
            raise HoldNotFoundError(reference)
        return hold

    @staticmethod
    def _account_info(acct: LedgerAccount) -> AccountInfo:
        return AccountInfo(code=acct.code, kind=acct.kind, currency=acct.currency, name=acct.name,
                           owner_ref=acct.owner_ref)

    def _entry_info(self, entry: JournalEntry) -> Entry:
        legs = tuple(Leg(p.account.code, p.amount_minor) for p in entry.postings)
        currencies = sorted({p.currency for p in entry.postings})
        reverses = self.session.get(JournalEntry, entry.reverses_id) if entry.reverses_id is not None else None
        return Entry(id=entry.id, reference=entry.reference, legs=legs, currency=",".join(currencies),
                     memo=entry.memo, correlation_id=entry.correlation_id,
                     reverses=reverses.reference if reverses is not None else None, posted_at=entry.posted_at)

    def _hold_info(self, hold: LedgerHold, acct: LedgerAccount) -> Hold:
        capture_ref = None
        if hold.capture_entry_id is not None:
            captured = self.session.get(JournalEntry, hold.capture_entry_id)
            capture_ref = captured.reference if captured is not None else None
        return Hold(reference=hold.reference, account=acct.code, amount_minor=hold.amount_minor,
                    currency=hold.currency, state=hold.state, expires_at=hold.expires_at,
                    captured_minor=hold.captured_minor, capture_reference=capture_ref)
