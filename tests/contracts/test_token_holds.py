"""DigitalCash holds (ATM cash-out): place on the holder's signature, capture (burn) or release by the
custodian bank, release by the holder after expiry; held money is out of balanceOf, in totalSupply."""

from __future__ import annotations

from typing import Any

from token_support import (
    CAPTURED,
    FROZEN,
    HELD,
    HOLD_CAPTURE,
    HOLD_NONE,
    RELEASED,
    ZERO32,
    ZERO_ADDRESS,
    auth_args,
    balance,
    cancel_args,
    close,
    events,
    freeze,
    funded_wallet,
    held,
    hold_args,
    log_names,
    mint,
    net_issued,
    now,
    op,
    pause,
    rand32,
    set_limits,
    start_of_next_day,
    supply,
    today,
    unfreeze,
    wallet_state,
)


def place(system: Any, holder: Any, value: int, bank: str = "A", **kw: Any) -> tuple[bytes, Any]:
    args = hold_args(system, holder, value, **kw)
    receipt = system.send(system.token.functions.placeHold(*args), op(system, bank))
    return args[2], receipt


def hold_of(system: Any, hold_id: bytes) -> tuple[str, int, int, int]:
    holder, amount, expires_at, status = system.token.functions.holdOf(hold_id).call()
    return holder, amount, expires_at, status


def test_place_hold(system: Any) -> None:
    t = system.token
    start_of_next_day(system)
    holder = funded_wallet(system, 10_000)
    expires_at = now(system) + 600
    hold_id, receipt = place(system, holder, 3_000, expires_at=expires_at)
    assert log_names(system, receipt) == ["AuthorizationUsed", "Transfer", "HoldPlaced"]
    assert events(t, "HoldPlaced", receipt) == [
        {"holdId": hold_id, "holder": holder.address, "amount": 3_000, "expiresAt": expires_at}]
    # in ERC-20 terms the token contract is the escrow
    assert events(t, "Transfer", receipt) == [{"from": holder.address, "to": t.address, "value": 3_000}]
    assert events(t, "AuthorizationUsed", receipt) == [{"authorizer": holder.address, "nonce": hold_id}]
    assert hold_of(system, hold_id) == (holder.address, 3_000, expires_at, HELD)
    assert balance(system, holder) == 7_000 and held(system, holder) == 3_000
    assert t.functions.totalHeld().call() == 3_000 and balance(system, t.address) == 3_000
    assert supply(system) == 10_000  # held money is still money
    assert wallet_state(system, holder)[2:] == (today(system), 3_000)  # a hold is outflow
    assert t.functions.authorizationState(holder.address, hold_id).call() is True
    assert hold_of(system, rand32()) == (ZERO_ADDRESS, 0, 0, HOLD_NONE)


def test_place_hold_errors(system: Any, reverts: Any) -> None:
    t = system.token
    holder = funded_wallet(system, 100_000, tier=4)  # single 500.00, daily 1,000.00
    custodian = op(system)
    for caller in (op(system, "B"), system.operator, system.accounts[0]):
        with reverts("NotCustodianOperator", caller=caller.address, wallet=holder.address):
            system.send(t.functions.placeHold(*hold_args(system, holder, 1)), caller)
    with reverts("ZeroAmount"):
        system.send(t.functions.placeHold(*hold_args(system, holder, 0)), custodian)
    t0 = now(system)
    with reverts("AuthorizationExpired", validBefore=t0):
        system.send(t.functions.placeHold(*hold_args(system, holder, 1, expires_at=t0)), custodian)
    forged = hold_args(system, system.new_wallet(), 1, holder=holder.address)
    with reverts("InvalidSignature", expectedSigner=holder.address):
        system.send(t.functions.placeHold(*forged), custodian)
    with reverts("SinglePaymentLimitExceeded", wallet=holder.address, amount=50_001, limit=50_000):
        system.send(t.functions.placeHold(*hold_args(system, holder, 50_001)), custodian)

    args = hold_args(system, holder, 50_000)
    system.send(t.functions.placeHold(*args), custodian)
    with reverts("AuthorizationAlreadyUsed", authorizer=holder.address, nonce=args[2]):  # replay
        system.send(t.functions.placeHold(*args), custodian)
    other = funded_wallet(system, 1_000)
    with reverts("HoldAlreadyExists", holdId=args[2]):  # another holder, same hold id
        system.send(t.functions.placeHold(*hold_args(system, other, 1, hold_id=args[2])), custodian)
    with reverts("ERC20InsufficientBalance", sender=holder.address, balance=50_000, needed=50_001):
        system.send(t.functions.placeHold(*hold_args(system, holder, 50_001)), custodian)
    freeze(system, holder)
    with reverts("WalletNotActive", wallet=holder.address, status=FROZEN):
        system.send(t.functions.placeHold(*hold_args(system, holder, 1)), custodian)
    unfreeze(system, holder)
    pause(system)
    with reverts("EnforcedPause"):
        system.send(t.functions.placeHold(*hold_args(system, holder, 1)), custodian)


def test_place_hold_counts_toward_the_daily_limit_and_release_does_not_give_it_back(system: Any,
                                                                                   reverts: Any) -> None:
    t = system.token
    start_of_next_day(system)
    set_limits(system, 4, 1_000_000, 50_000, 100_000)  # a roomier cap: only the daily limit binds
    holder = funded_wallet(system, 200_000, tier=4)
    custodian = op(system)
    first, _ = place(system, holder, 50_000)
    place(system, holder, 40_000)
    with reverts("DailyOutflowLimitExceeded", wallet=holder.address, spentToday=90_000, amount=10_001,
                 limit=100_000):
        system.send(t.functions.placeHold(*hold_args(system, holder, 10_001)), custodian)
    system.send(t.functions.releaseHold(first), custodian)
    assert balance(system, holder) == 160_000
    assert t.functions.remainingDailyAllowance(holder.address).call() == 10_000
    with reverts("DailyOutflowLimitExceeded", wallet=holder.address, spentToday=90_000, amount=10_001,
                 limit=100_000):
        system.send(t.functions.placeHold(*hold_args(system, holder, 10_001)), custodian)


def test_cancelled_hold_authorization_cannot_be_placed(system: Any, reverts: Any) -> None:
    t = system.token
    holder = funded_wallet(system, 1_000)
    args = hold_args(system, holder, 100)
    system.send(t.functions.cancelAuthorization(*cancel_args(system, holder, args[2])), op(system))
    with reverts("AuthorizationAlreadyUsed", authorizer=holder.address, nonce=args[2]):
        system.send(t.functions.placeHold(*args), op(system))


def test_capture_hold(system: Any) -> None:
    t = system.token
    holder = funded_wallet(system, 10_000, bank="B")
    hold_id, _ = place(system, holder, 3_000, bank="B")
    ref = rand32()
    receipt = system.send(t.functions.captureHold(hold_id, ref), op(system, "B", 1))
    bank = system.banks["B"].id
    assert log_names(system, receipt) == ["Transfer", "HoldCaptured", "Burned"]
    assert events(t, "Transfer", receipt) == [{"from": t.address, "to": ZERO_ADDRESS, "value": 3_000}]
    assert events(t, "HoldCaptured", receipt) == [
        {"holdId": hold_id, "holder": holder.address, "amount": 3_000, "ref": ref}]
    assert events(t, "Burned", receipt) == [
        {"wallet": holder.address, "bankId": bank, "amount": 3_000, "ref": ref, "reason": HOLD_CAPTURE}]
    assert events(system.consortium, "IssuanceRecorded", receipt) == [
        {"bankId": bank, "delta": -3_000, "netIssued": 7_000}]
    assert hold_of(system, hold_id)[3] == CAPTURED
    assert balance(system, holder) == 7_000 and held(system, holder) == 0
    assert supply(system) == 7_000 and t.functions.totalHeld().call() == 0 and net_issued(system, "B") == 7_000


def test_capture_errors(system: Any, reverts: Any) -> None:
    t = system.token
    holder = funded_wallet(system, 10_000)
    hold_id, _ = place(system, holder, 1_000)
    unknown = rand32()
    with reverts("UnknownHold", holdId=unknown):
        system.send(t.functions.captureHold(unknown, ZERO32), op(system))
    for caller in (op(system, "B"), system.operator, system.accounts[0]):
        with reverts("NotCustodianOperator", caller=caller.address, wallet=holder.address):
            system.send(t.functions.captureHold(hold_id, ZERO32), caller)
    pause(system)
    with reverts("EnforcedPause"):
        system.send(t.functions.captureHold(hold_id, ZERO32), op(system))
    system.send(t.functions.unpause(), system.operator)
    # capture stays possible after expiry while nobody released the hold
    system.increase_time(7_200)
    system.send(t.functions.captureHold(hold_id, ZERO32), op(system))
    with reverts("HoldNotActive", holdId=hold_id, status=CAPTURED):
        system.send(t.functions.captureHold(hold_id, ZERO32), op(system))
    with reverts("HoldNotActive", holdId=hold_id, status=CAPTURED):
        system.send(t.functions.releaseHold(hold_id), op(system))


def test_release_by_the_bank(system: Any, reverts: Any) -> None:
    t = system.token
    holder = funded_wallet(system, 10_000)
    hold_id, _ = place(system, holder, 4_000)
    custodian = op(system)
    receipt = system.send(t.functions.releaseHold(hold_id), custodian)
    assert log_names(system, receipt) == ["Transfer", "HoldReleased"]
    assert events(t, "Transfer", receipt) == [{"from": t.address, "to": holder.address, "value": 4_000}]
    assert events(t, "HoldReleased", receipt) == [
        {"holdId": hold_id, "holder": holder.address, "amount": 4_000, "by": custodian.address}]
    assert hold_of(system, hold_id)[3] == RELEASED
    assert balance(system, holder) == 10_000 and held(system, holder) == 0 and supply(system) == 10_000
    with reverts("HoldNotActive", holdId=hold_id, status=RELEASED):
        system.send(t.functions.releaseHold(hold_id), custodian)
    with reverts("HoldNotActive", holdId=hold_id, status=RELEASED):
        system.send(t.functions.captureHold(hold_id, ZERO32), custodian)
    with reverts("UnknownHold"):
        system.send(t.functions.releaseHold(rand32()), custodian)


def test_release_by_the_holder_only_after_expiry(system: Any, reverts: Any) -> None:
    t = system.token
    holder = funded_wallet(system, 10_000, holder=system.accounts[0])
    expires_at = now(system) + 600
    hold_id, _ = place(system, holder, 2_500, expires_at=expires_at)
    with reverts("HoldNotExpired", holdId=hold_id, expiresAt=expires_at):
        system.send(t.functions.releaseHold(hold_id), holder)
    stranger = system.accounts[1]
    with reverts("NotCustodianOperator", caller=stranger.address, wallet=holder.address):
        system.send(t.functions.releaseHold(hold_id), stranger)
    with reverts("NotCustodianOperator", caller=op(system, "B").address, wallet=holder.address):
        system.send(t.functions.releaseHold(hold_id), op(system, "B"))
    system.increase_time(601)
    receipt = system.send(t.functions.releaseHold(hold_id), holder)
    assert events(t, "HoldReleased", receipt) == [
        {"holdId": hold_id, "holder": holder.address, "amount": 2_500, "by": holder.address}]
    assert balance(system, holder) == 10_000 and held(system, holder) == 0
    # after expiry a stranger still may not release
    hold_2, _ = place(system, holder, 100, expires_at=now(system) + 10)
    system.increase_time(11)
    with reverts("NotCustodianOperator", caller=stranger.address, wallet=holder.address):
        system.send(t.functions.releaseHold(hold_2), stranger)


def test_release_refused_while_paused(system: Any, reverts: Any) -> None:
    t = system.token
    holder = funded_wallet(system, 10_000)
    hold_id, _ = place(system, holder, 1_000)
    pause(system)
    with reverts("EnforcedPause"):
        system.send(t.functions.releaseHold(hold_id), op(system))


def test_a_freeze_after_the_hold_does_not_block_capture_or_release(system: Any, reverts: Any) -> None:
    """The ATM may have dispensed before the freeze: the bank must still capture (or reverse) the hold."""
    t = system.token
    holder = funded_wallet(system, 10_000)
    dispensed, _ = place(system, holder, 1_000)
    reversed_, _ = place(system, holder, 2_000)
    freeze(system, holder)
    system.send(t.functions.captureHold(dispensed, ZERO32), op(system))
    system.send(t.functions.releaseHold(reversed_), op(system))
    assert held(system, holder) == 0
    assert balance(system, holder) == 9_000 and supply(system) == 9_000
    # released money stays frozen: the wallet still cannot pay
    other = funded_wallet(system, 0)
    with reverts("WalletNotActive", wallet=holder.address, status=FROZEN):
        system.send(t.functions.transferWithAuthorization(*auth_args(system, holder, other, 1)), op(system))


def test_balance_cap_counts_held_money(system: Any, reverts: Any) -> None:
    t = system.token
    holder = funded_wallet(system, 100_000, tier=4)  # cap 1,000.00
    hold_id, _ = place(system, holder, 40_000)
    assert balance(system, holder) == 60_000
    payer = funded_wallet(system, 100_000, bank="B")
    with reverts("BalanceCapExceeded", wallet=holder.address, balanceAfter=100_001, cap=100_000):
        mint(system, holder, 1)
    payer_sender = funded_wallet(system, 1_000, holder=system.accounts[0])
    with reverts("BalanceCapExceeded", wallet=holder.address, balanceAfter=100_001, cap=100_000):
        system.send(t.functions.transfer(holder.address, 1), payer_sender)
    # releasing never breaks the cap: balance + held is unchanged
    system.send(t.functions.releaseHold(hold_id), op(system))
    assert balance(system, holder) == 100_000
    assert balance(system, payer) == 100_000


def test_multiple_holds_and_close_with_holds_outstanding(system: Any, reverts: Any) -> None:
    t = system.token
    holder = funded_wallet(system, 10_000)
    h1, _ = place(system, holder, 1_000)
    h2, _ = place(system, holder, 2_000)
    assert held(system, holder) == 3_000 and t.functions.totalHeld().call() == 3_000
    with reverts("HoldsOutstanding", wallet=holder.address, held=3_000):
        close(system, holder)
    system.send(t.functions.captureHold(h1, rand32()), op(system))
    with reverts("HoldsOutstanding", wallet=holder.address, held=2_000):
        close(system, holder)
    system.send(t.functions.releaseHold(h2), op(system))
    receipt = close(system, holder)
    assert events(t, "Burned", receipt)[0]["amount"] == 9_000
    assert supply(system) == 0 and net_issued(system, "A") == 0


def test_hold_expiry_beyond_the_packed_width_never_expires(system: Any, reverts: Any) -> None:
    holder = funded_wallet(system, 1_000, holder=system.accounts[0])
    far = 2**256 - 1
    hold_id, receipt = place(system, holder, 100, expires_at=far)
    assert events(system.token, "HoldPlaced", receipt)[0]["expiresAt"] == far  # as signed
    assert hold_of(system, hold_id) == (holder.address, 100, 2**88 - 1, HELD)  # stored clamped
    with reverts("HoldNotExpired", holdId=hold_id, expiresAt=2**88 - 1):
        system.send(system.token.functions.releaseHold(hold_id), holder)

