"""The built-in double-entry ledger through its adapter interface, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from node_support import CURRENCY, deposit_cash
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from node.ledger import (
    AccountConflictError,
    AccountKind,
    AccountNotFoundError,
    BalanceOverflowError,
    CaptureExceedsHoldError,
    CoreBankingLedger,
    EntryAlreadyReversedError,
    EntryNotFoundError,
    HoldExpiredError,
    HoldNotActiveError,
    HoldNotAllowedError,
    HoldNotFoundError,
    HoldState,
    InsufficientFundsError,
    InvalidAmountError,
    Leg,
    ReferenceConflictError,
    SqlLedger,
    UnbalancedEntryError,
    open_ledger,
)
from node.ledger.builtin import MAX_AMOUNT_MINOR
from node.ledger.models import JournalEntry, LedgerHold, Posting


def _balances(book: SqlLedger, *codes: str) -> dict[str, int]:
    return {code: book.balance(code).amount_minor for code in codes}


def _count(session: Session, model: type[object]) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


# ------------------------------------------------------------------ accounts and the interface


def test_the_builtin_ledger_is_the_default_adapter(session: Session) -> None:
    book = open_ledger(session)
    assert isinstance(book, SqlLedger)
    assert isinstance(book, CoreBankingLedger)
    assert isinstance(open_ledger(session, "node.ledger.builtin:SqlLedger"), SqlLedger)
    with pytest.raises(ValueError, match=r"package\.module:factory"):
        open_ledger(session, "no-colon")
    with pytest.raises(TypeError, match="does not implement CoreBankingLedger"):
        open_ledger(session, "builtins:repr")
    # an adapter that cannot say who owns an account is refused, rather than bound accounts left unchecked
    with pytest.raises(TypeError, match="does not implement CoreBankingLedger"):
        open_ledger(session, "test_node_ledger:LedgerWithoutOwners")


class LedgerWithoutOwners:
    """An adapter with the money methods only: no ``account_info`` (owner look-up), no ``open_account``."""

    def __init__(self, session: Session) -> None:
        self._ledger = SqlLedger(session)

    def __getattr__(self, name: str) -> object:
        if name in {"debit", "credit", "transfer", "hold", "release", "capture", "reverse", "balance", "available"}:
            return getattr(self._ledger, name)
        raise AttributeError(name)


def test_open_account_is_idempotent_and_refuses_a_different_kind_or_currency(ledger: SqlLedger) -> None:
    again = ledger.open_account("deposit:alice", AccountKind.CUSTOMER_DEPOSIT, CURRENCY)
    assert again.kind is AccountKind.CUSTOMER_DEPOSIT and again.currency == CURRENCY
    with pytest.raises(AccountConflictError) as kind_clash:
        ledger.open_account("deposit:alice", AccountKind.MERCHANT_SETTLEMENT, CURRENCY)
    assert kind_clash.value.code == "deposit:alice"
    with pytest.raises(AccountConflictError):
        ledger.open_account("deposit:alice", AccountKind.CUSTOMER_DEPOSIT, "EUR")


def test_new_accounts_have_zero_balances(ledger: SqlLedger) -> None:
    balance = ledger.balance("deposit:alice")
    assert (balance.account, balance.amount_minor, balance.currency) == ("deposit:alice", 0, CURRENCY)
    assert ledger.available("deposit:alice").amount_minor == 0
    with pytest.raises(AccountNotFoundError) as missing:
        ledger.balance("deposit:nobody")
    assert missing.value.code == "deposit:nobody"


# ------------------------------------------------------------------ balanced entries


def test_cash_deposit_posts_a_balanced_entry_and_balances_follow_from_postings(ledger: SqlLedger) -> None:
    entry = ledger.credit("deposit:alice", 12_345, contra="vault", reference="counter-1", memo="notes in",
                          correlation_id="branch-7:slip-1")
    assert entry.reference == "counter-1"
    assert entry.correlation_id == "branch-7:slip-1"
    assert sorted(entry.legs, key=lambda leg: leg.account) == [Leg("deposit:alice", -12_345), Leg("vault", 12_345)]
    assert sum(leg.amount_minor for leg in entry.legs) == 0
    # normal-side balances: the customer's liability and the vault's asset both grew
    assert _balances(ledger, "deposit:alice", "vault") == {"deposit:alice": 12_345, "vault": 12_345}
    ledger.session.commit()

    # a fresh session derives the same balances from the postings alone
    fresh = SqlLedger(ledger.session)
    ledger.session.expire_all()
    assert fresh.balance("deposit:alice").amount_minor == 12_345


def test_wallet_funding_moves_money_through_suspense_to_the_chain_position(ledger: SqlLedger) -> None:
    deposit_cash(ledger, "deposit:alice", 50_000, "in-1")
    ledger.debit("deposit:alice", 20_000, contra="suspense:wallet-funding", reference="fund-1")
    assert _balances(ledger, "deposit:alice", "suspense:wallet-funding") == {
        "deposit:alice": 30_000, "suspense:wallet-funding": 20_000}
    ledger.debit("suspense:wallet-funding", 20_000, contra="chain:issued", reference="fund-1:minted")
    assert _balances(ledger, "suspense:wallet-funding", "chain:issued") == {
        "suspense:wallet-funding": 0, "chain:issued": 20_000}


def test_a_multi_leg_settlement_entry(ledger: SqlLedger) -> None:
    ledger.transfer([Leg.debit("chain:issued", 10_000), Leg.credit("merchant:m1", 10_000)], reference="orders")
    entry = ledger.transfer(
        [Leg.debit("merchant:m1", 10_000), Leg.credit("income:fees", 150), Leg.credit("deposit:bob", 9_850)],
        reference="settle-1",
    )
    assert len(entry.legs) == 3
    assert _balances(ledger, "merchant:m1", "income:fees", "deposit:bob") == {
        "merchant:m1": 0, "income:fees": 150, "deposit:bob": 9_850}


def test_an_unbalanced_entry_is_refused_and_leaves_nothing(ledger: SqlLedger) -> None:
    with pytest.raises(UnbalancedEntryError) as unbalanced:
        ledger.transfer([Leg.debit("vault", 100), Leg.credit("deposit:alice", 99)], reference="bad")
    assert unbalanced.value.reference == "bad"
    assert unbalanced.value.imbalance_minor == {CURRENCY: 1}
    with pytest.raises(UnbalancedEntryError):
        ledger.transfer([Leg.debit("vault", 100)], reference="one-leg")
    assert _count(ledger.session, JournalEntry) == 0
    assert _count(ledger.session, Posting) == 0


def test_entries_balance_per_currency(ledger: SqlLedger) -> None:
    ledger.open_account("vault:eur", AccountKind.VAULT_CASH, "EUR")
    ledger.open_account("deposit:alice:eur", AccountKind.CUSTOMER_DEPOSIT, "EUR")
    with pytest.raises(UnbalancedEntryError) as mixed:  # 100 DCASH against 100 EUR is no balance
        ledger.transfer([Leg.debit("vault", 100), Leg.credit("deposit:alice:eur", 100)], reference="fx")
    assert mixed.value.imbalance_minor == {CURRENCY: 100, "EUR": -100}
    entry = ledger.transfer([Leg.debit("vault", 100), Leg.credit("deposit:alice", 100),
                             Leg.debit("vault:eur", 7), Leg.credit("deposit:alice:eur", 7)], reference="two-cur")
    assert entry.currency == f"{CURRENCY},EUR"
    assert ledger.balance("deposit:alice:eur").currency == "EUR"


@pytest.mark.parametrize("amount", [0, -5, 1.5, True, "100", 2**63])
def test_amounts_are_positive_integers_of_minor_units(ledger: SqlLedger, amount: object) -> None:
    with pytest.raises(InvalidAmountError) as invalid:
        ledger.credit("deposit:alice", amount, contra="vault", reference="x")  # type: ignore[arg-type]
    assert invalid.value.amount == amount


def test_unknown_accounts_are_refused(ledger: SqlLedger) -> None:
    with pytest.raises(AccountNotFoundError):
        ledger.credit("deposit:ghost", 1, contra="vault", reference="ghost")


# ------------------------------------------------------------------ no overdraft


def test_a_deposit_account_cannot_be_overdrawn(ledger: SqlLedger) -> None:
    deposit_cash(ledger, "deposit:alice", 1_000, "in-1")
    with pytest.raises(InsufficientFundsError) as short:
        ledger.debit("deposit:alice", 1_001, contra="vault", reference="out-1")
    assert (short.value.account, short.value.available_minor, short.value.requested_minor) == (
        "deposit:alice", 1_000, 1_001)
    ledger.debit("deposit:alice", 1_000, contra="vault", reference="out-2")
    assert ledger.balance("deposit:alice").amount_minor == 0


def test_cash_cannot_go_negative_but_the_chain_position_can(ledger: SqlLedger) -> None:
    with pytest.raises(InsufficientFundsError) as no_notes:  # an ATM cannot dispense notes it does not have
        ledger.credit("atm:0001", 500, contra="vault", reference="atm-out")
    assert no_notes.value.account == "atm:0001"
    # netIssued is negative when a bank redeemed more than it issued
    ledger.debit("chain:issued", 700, contra="suspense:wallet-funding", reference="redeemed")
    assert ledger.balance("chain:issued").amount_minor == -700


def test_no_balance_goes_past_64_bits(ledger: SqlLedger) -> None:
    deposit_cash(ledger, "deposit:alice", MAX_AMOUNT_MINOR, "in-max")
    with pytest.raises(BalanceOverflowError) as vault:  # each amount fits, the vault's sum would not
        deposit_cash(ledger, "deposit:bob", 1, "in-one")
    assert (vault.value.account, vault.value.balance_minor, vault.value.change_minor) == ("vault", MAX_AMOUNT_MINOR, 1)
    ledger.debit("chain:issued", MAX_AMOUNT_MINOR, contra="suspense:wallet-funding", reference="redeemed")
    with pytest.raises(BalanceOverflowError) as below:
        ledger.debit("chain:issued", 1, contra="equity", reference="redeemed-again")
    assert (below.value.account, below.value.change_minor) == ("chain:issued", -1)
    assert _balances(ledger, "vault", "deposit:bob", "chain:issued", "equity") == {
        "vault": MAX_AMOUNT_MINOR, "deposit:bob": 0, "chain:issued": -MAX_AMOUNT_MINOR, "equity": 0}
    assert ledger.entry("in-one") is None and ledger.entry("redeemed-again") is None


# ------------------------------------------------------------------ idempotency by reference


def test_posting_the_same_reference_twice_returns_the_first_entry(sessions: sessionmaker[Session],
                                                                   ledger: SqlLedger) -> None:
    first = ledger.credit("deposit:alice", 2_500, contra="vault", reference="atm-evt-42")
    again = ledger.credit("deposit:alice", 2_500, contra="vault", reference="atm-evt-42")
    assert again.id == first.id
    ledger.session.commit()
    with sessions() as other:  # and after a restart, from another session
        assert SqlLedger(other).credit("deposit:alice", 2_500, contra="vault", reference="atm-evt-42").id == first.id
    assert ledger.balance("deposit:alice").amount_minor == 2_500
    assert _count(ledger.session, JournalEntry) == 1


def test_the_same_reference_with_other_amounts_or_accounts_is_a_conflict(ledger: SqlLedger) -> None:
    ledger.credit("deposit:alice", 2_500, contra="vault", reference="atm-evt-42")
    with pytest.raises(ReferenceConflictError) as conflict:
        ledger.credit("deposit:alice", 2_600, contra="vault", reference="atm-evt-42")
    assert conflict.value.reference == "atm-evt-42"
    with pytest.raises(ReferenceConflictError):
        ledger.credit("deposit:bob", 2_500, contra="vault", reference="atm-evt-42")
    assert ledger.balance("deposit:alice").amount_minor == 2_500
    assert ledger.balance("deposit:bob").amount_minor == 0


# ------------------------------------------------------------------ reversals


def test_a_reversal_is_a_mirror_entry_and_restores_balances(ledger: SqlLedger) -> None:
    deposit_cash(ledger, "deposit:alice", 9_000, "in-1")
    original = ledger.debit("deposit:alice", 4_000, contra="suspense:wallet-funding", reference="fund-1",
                            correlation_id="evt-1")
    reversal = ledger.reverse("fund-1", reversal_reference="fund-1:reversal")
    assert reversal.reverses == "fund-1"
    assert reversal.correlation_id == "evt-1"
    assert sorted(reversal.legs) == sorted(Leg(leg.account, -leg.amount_minor) for leg in original.legs)
    assert _balances(ledger, "deposit:alice", "suspense:wallet-funding") == {
        "deposit:alice": 9_000, "suspense:wallet-funding": 0}
    # the original stays as it was: corrections never edit
    kept = ledger.entry("fund-1")
    assert kept is not None and kept.legs == original.legs
    statement = [e.reference for e in ledger.entries_for("deposit:alice")]
    assert statement == ["in-1", "fund-1", "fund-1:reversal"]


def test_an_entry_is_reversed_once(ledger: SqlLedger) -> None:
    deposit_cash(ledger, "deposit:alice", 1_000, "in-1")
    first = ledger.reverse("in-1", reversal_reference="in-1:rev")
    assert ledger.reverse("in-1", reversal_reference="in-1:rev").id == first.id  # idempotent
    with pytest.raises(EntryAlreadyReversedError) as twice:
        ledger.reverse("in-1", reversal_reference="in-1:rev-again")
    assert (twice.value.reference, twice.value.reversed_by) == ("in-1", "in-1:rev")
    with pytest.raises(EntryNotFoundError):
        ledger.reverse("never-posted", reversal_reference="x")
    assert ledger.balance("deposit:alice").amount_minor == 0


def test_a_reversal_cannot_overdraw(ledger: SqlLedger) -> None:
    deposit_cash(ledger, "deposit:alice", 1_000, "in-1")
    ledger.debit("deposit:alice", 800, contra="vault", reference="out-1")
    with pytest.raises(InsufficientFundsError):  # the money was spent: reversing the deposit would overdraw
        ledger.reverse("in-1", reversal_reference="in-1:rev")


# ------------------------------------------------------------------ holds


def test_a_hold_reduces_available_but_not_the_balance(ledger: SqlLedger) -> None:
    deposit_cash(ledger, "deposit:alice", 10_000, "in-1")
    hold = ledger.hold("deposit:alice", 3_000, reference="atm-wd-1", memo="ATM withdrawal")
    assert (hold.state, hold.amount_minor, hold.currency) == (HoldState.ACTIVE, 3_000, CURRENCY)
    assert ledger.balance("deposit:alice").amount_minor == 10_000
    assert ledger.available("deposit:alice").amount_minor == 7_000
    with pytest.raises(InsufficientFundsError) as short:  # the held money cannot be spent twice
        ledger.debit("deposit:alice", 7_001, contra="vault", reference="out-1")
    assert short.value.available_minor == 7_000
    with pytest.raises(InsufficientFundsError):
        ledger.hold("deposit:alice", 7_001, reference="atm-wd-2")


def test_release_gives_the_money_back_and_is_idempotent(ledger: SqlLedger) -> None:
    deposit_cash(ledger, "deposit:alice", 10_000, "in-1")
    ledger.hold("deposit:alice", 3_000, reference="atm-wd-1")
    released = ledger.release("atm-wd-1")
    assert released.state is HoldState.RELEASED
    assert ledger.release("atm-wd-1").state is HoldState.RELEASED
    assert ledger.available("deposit:alice").amount_minor == 10_000
    with pytest.raises(HoldNotActiveError) as gone:
        ledger.capture("atm-wd-1", contra="atm:0001")
    assert gone.value.state == "released"


def test_capture_debits_the_held_amount(ledger: SqlLedger) -> None:
    deposit_cash(ledger, "deposit:alice", 10_000, "in-1")
    ledger.hold("deposit:alice", 10_000, reference="atm-wd-1")
    entry = ledger.capture("atm-wd-1", contra="suspense:wallet-funding")  # all of it: the hold covers itself
    assert entry.reference == "hold:atm-wd-1:capture"
    assert ledger.balance("deposit:alice").amount_minor == 0
    assert ledger.available("deposit:alice").amount_minor == 0
    hold = ledger.get_hold("atm-wd-1")
    assert (hold.state, hold.captured_minor, hold.capture_reference) == (HoldState.CAPTURED, 10_000, entry.reference)
    assert ledger.capture("atm-wd-1", contra="suspense:wallet-funding").id == entry.id  # idempotent
    with pytest.raises(HoldNotActiveError):
        ledger.release("atm-wd-1")


def test_partial_capture_releases_the_rest(ledger: SqlLedger) -> None:
    deposit_cash(ledger, "deposit:alice", 10_000, "in-1")
    ledger.hold("deposit:alice", 6_000, reference="atm-wd-1")
    with pytest.raises(CaptureExceedsHoldError) as too_much:
        ledger.capture("atm-wd-1", contra="suspense:wallet-funding", amount_minor=6_001)
    assert (too_much.value.held_minor, too_much.value.requested_minor) == (6_000, 6_001)
    ledger.capture("atm-wd-1", contra="suspense:wallet-funding", amount_minor=4_000)
    assert ledger.balance("deposit:alice").amount_minor == 6_000
    assert ledger.available("deposit:alice").amount_minor == 6_000
    with pytest.raises(HoldNotActiveError):  # a second capture with another amount
        ledger.capture("atm-wd-1", contra="suspense:wallet-funding", amount_minor=2_000)


def test_holds_only_on_deposit_accounts_and_unknown_holds(ledger: SqlLedger) -> None:
    with pytest.raises(HoldNotAllowedError) as vault:
        ledger.hold("vault", 1, reference="h")
    assert vault.value.kind == "vault_cash"
    with pytest.raises(HoldNotFoundError):
        ledger.release("no-such-hold")
    with pytest.raises(HoldNotFoundError):
        ledger.capture("no-such-hold", contra="vault")


def test_holds_are_idempotent_by_reference(ledger: SqlLedger) -> None:
    deposit_cash(ledger, "deposit:alice", 10_000, "in-1")
    ledger.hold("deposit:alice", 3_000, reference="atm-wd-1")
    assert ledger.hold("deposit:alice", 3_000, reference="atm-wd-1").amount_minor == 3_000
    assert ledger.available("deposit:alice").amount_minor == 7_000  # held once
    with pytest.raises(ReferenceConflictError):
        ledger.hold("deposit:alice", 3_001, reference="atm-wd-1")
    assert _count(ledger.session, LedgerHold) == 1


def test_an_expired_hold_frees_the_money_and_cannot_be_captured(session: Session, ledger: SqlLedger) -> None:
    now = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
    clock = [now]
    book = SqlLedger(session, clock=lambda: clock[0])
    deposit_cash(book, "deposit:alice", 10_000, "in-1")
    book.hold("deposit:alice", 4_000, reference="atm-wd-1", expires_at=now + timedelta(minutes=5))
    assert book.available("deposit:alice").amount_minor == 6_000
    clock[0] = now + timedelta(minutes=5)
    assert book.available("deposit:alice").amount_minor == 10_000
    with pytest.raises(HoldExpiredError) as expired:
        book.capture("atm-wd-1", contra="suspense:wallet-funding")
    assert expired.value.expires_at == now + timedelta(minutes=5)
    assert book.release("atm-wd-1").state is HoldState.RELEASED
