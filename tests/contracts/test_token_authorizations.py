"""DigitalCash signed authorizations: EIP-3009 transfer/receive/cancel, redemption, and the
settlement contract's use of receiveWithAuthorization / transfer / burnForPayout."""

from __future__ import annotations

from typing import Any

from test_settlement import sign_request
from token_support import (
    ACTIVE,
    CLOSED,
    FROZEN,
    MERCHANT,
    REDEMPTION,
    SETTLEMENT_PAYOUT,
    ZERO_ADDRESS,
    auth_args,
    balance,
    cancel_args,
    close,
    events,
    freeze,
    funded_wallet,
    log_names,
    mint,
    net_issued,
    now,
    op,
    open_wallet,
    pause,
    rand32,
    redemption_args,
    start_of_next_day,
    supply,
    wallet_state,
)

# ---------------------------------------------------------------- transferWithAuthorization


def test_transfer_with_authorization(system: Any) -> None:
    t = system.token
    payer = funded_wallet(system, 10_000)  # a holder without gas: anyone may submit its authorization
    payee = open_wallet(system, "B")
    args = auth_args(system, payer, payee, 2_500)
    nonce = args[5]
    assert t.functions.authorizationState(payer.address, nonce).call() is False
    receipt = system.send(t.functions.transferWithAuthorization(*args), op(system, "B"))
    assert log_names(system, receipt) == ["AuthorizationUsed", "Transfer"]
    assert events(t, "AuthorizationUsed", receipt) == [{"authorizer": payer.address, "nonce": nonce}]
    assert events(t, "Transfer", receipt) == [{"from": payer.address, "to": payee.address, "value": 2_500}]
    assert t.functions.authorizationState(payer.address, nonce).call() is True
    assert balance(system, payer) == 7_500 and balance(system, payee) == 2_500
    assert wallet_state(system, payer)[3] == 2_500  # counts as outflow


def test_transfer_with_authorization_replay_and_window(system: Any, reverts: Any) -> None:
    t = system.token
    payer = funded_wallet(system, 10_000)
    payee = open_wallet(system, "B")
    relayer = op(system)
    args = auth_args(system, payer, payee, 100)
    system.send(t.functions.transferWithAuthorization(*args), relayer)
    with reverts("AuthorizationAlreadyUsed", authorizer=payer.address, nonce=args[5]):
        system.send(t.functions.transferWithAuthorization(*args), relayer)

    t0 = now(system)
    later = auth_args(system, payer, payee, 100, valid_after=t0 + 1_000)
    with reverts("AuthorizationNotYetValid", validAfter=t0 + 1_000):
        system.send(t.functions.transferWithAuthorization(*later), relayer)
    expired = auth_args(system, payer, payee, 100, valid_before=t0 - 1)
    with reverts("AuthorizationExpired", validBefore=t0 - 1):
        system.send(t.functions.transferWithAuthorization(*expired), relayer)
    # the not-yet-valid one becomes valid once its time has come
    system.increase_time(1_001)
    system.send(t.functions.transferWithAuthorization(*later), relayer)
    assert balance(system, payee) == 200


def test_transfer_with_authorization_wrong_signer(system: Any, reverts: Any) -> None:
    t = system.token
    payer = funded_wallet(system, 10_000)
    payee = open_wallet(system, "B")
    thief = system.new_wallet()
    relayer = op(system)
    forged = auth_args(system, thief, payee, 100, from_=payer.address)
    with reverts("InvalidSignature", expectedSigner=payer.address):
        system.send(t.functions.transferWithAuthorization(*forged), relayer)
    # a tampered amount, recipient or a receive-typed signature do not verify either
    args = auth_args(system, payer, payee, 100)
    for index, value in ((2, 101), (1, thief.address)):
        tampered = list(args)
        tampered[index] = value
        with reverts("InvalidSignature", expectedSigner=payer.address):
            system.send(t.functions.transferWithAuthorization(*tampered), relayer)
    receive_typed = auth_args(system, payer, payee, 100, kind="ReceiveWithAuthorization")
    with reverts("InvalidSignature", expectedSigner=payer.address):
        system.send(t.functions.transferWithAuthorization(*receive_typed), relayer)
    # malleable (high-s) signatures are rejected
    n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
    flipped = list(args)
    flipped[6] = 55 - args[6]
    flipped[8] = (n - int.from_bytes(args[8], "big")).to_bytes(32, "big")
    with reverts("InvalidSignature", expectedSigner=payer.address):
        system.send(t.functions.transferWithAuthorization(*flipped), relayer)
    assert balance(system, payee) == 0


def test_transfer_with_authorization_obeys_the_hook(system: Any, reverts: Any) -> None:
    t = system.token
    payer = funded_wallet(system, 1_000_000, tier=2)  # single 5,000.00
    payee = open_wallet(system, "B")
    relayer = op(system)
    big = auth_args(system, payer, payee, 500_001)
    with reverts("SinglePaymentLimitExceeded", wallet=payer.address, amount=500_001, limit=500_000):
        system.send(t.functions.transferWithAuthorization(*big), relayer)
    assert t.functions.authorizationState(payer.address, big[5]).call() is False  # nothing changed
    freeze(system, payer)
    args = auth_args(system, payer, payee, 1)
    with reverts("WalletNotActive", wallet=payer.address, status=FROZEN):
        system.send(t.functions.transferWithAuthorization(*args), relayer)
    pause(system)
    with reverts("EnforcedPause"):
        system.send(t.functions.transferWithAuthorization(*args), relayer)


# ---------------------------------------------------------------- receiveWithAuthorization


def test_receive_with_authorization(system: Any, reverts: Any) -> None:
    t = system.token
    payer = funded_wallet(system, 10_000)
    payee = open_wallet(system, "B", holder=system.accounts[0])  # the payee submits itself
    args = auth_args(system, payer, payee, 3_000, kind="ReceiveWithAuthorization")
    for caller in (op(system), system.accounts[1]):
        with reverts("CallerMustBePayee", caller=caller.address, payee=payee.address):
            system.send(t.functions.receiveWithAuthorization(*args), caller)
    # a transfer-typed signature is not a receive authorization
    transfer_typed = auth_args(system, payer, payee, 3_000)
    with reverts("InvalidSignature", expectedSigner=payer.address):
        system.send(t.functions.receiveWithAuthorization(*transfer_typed), payee)
    receipt = system.send(t.functions.receiveWithAuthorization(*args), payee)
    assert events(t, "AuthorizationUsed", receipt) == [{"authorizer": payer.address, "nonce": args[5]}]
    assert balance(system, payee) == 3_000 and balance(system, payer) == 7_000
    with reverts("AuthorizationAlreadyUsed", authorizer=payer.address, nonce=args[5]):
        system.send(t.functions.receiveWithAuthorization(*args), payee)
    expired = auth_args(system, payer, payee, 1, kind="ReceiveWithAuthorization", valid_before=now(system) - 1)
    with reverts("AuthorizationExpired"):
        system.send(t.functions.receiveWithAuthorization(*expired), payee)


# ---------------------------------------------------------------- cancelAuthorization


def test_cancel_authorization(system: Any, reverts: Any) -> None:
    t = system.token
    payer = funded_wallet(system, 10_000)
    payee = open_wallet(system, "B")
    relayer = op(system)
    args = auth_args(system, payer, payee, 100)
    nonce = args[5]
    forged = cancel_args(system, system.new_wallet(), nonce, authorizer=payer.address)
    with reverts("InvalidSignature", expectedSigner=payer.address):
        system.send(t.functions.cancelAuthorization(*forged), relayer)
    receipt = system.send(t.functions.cancelAuthorization(*cancel_args(system, payer, nonce)), relayer)
    assert events(t, "AuthorizationCanceled", receipt) == [{"authorizer": payer.address, "nonce": nonce}]
    assert t.functions.authorizationState(payer.address, nonce).call() is True
    with reverts("AuthorizationAlreadyUsed", authorizer=payer.address, nonce=nonce):
        system.send(t.functions.transferWithAuthorization(*args), relayer)
    with reverts("AuthorizationAlreadyUsed", authorizer=payer.address, nonce=nonce):
        system.send(t.functions.cancelAuthorization(*cancel_args(system, payer, nonce)), relayer)
    # a used authorization cannot be cancelled
    used = auth_args(system, payer, payee, 100)
    system.send(t.functions.transferWithAuthorization(*used), relayer)
    with reverts("AuthorizationAlreadyUsed", authorizer=payer.address, nonce=used[5]):
        system.send(t.functions.cancelAuthorization(*cancel_args(system, payer, used[5])), relayer)
    # cancelling moves no value, so it works while paused
    pause(system)
    system.send(t.functions.cancelAuthorization(*cancel_args(system, payer, rand32())), relayer)
    assert balance(system, payee) == 100


# ---------------------------------------------------------------- redemption


def test_redeem_with_authorization(system: Any) -> None:
    t = system.token
    start_of_next_day(system)
    holder = funded_wallet(system, 10_000, bank="B")
    args = redemption_args(system, holder, 4_000)
    nonce, ref = args[3], args[4]
    receipt = system.send(t.functions.redeemWithAuthorization(*args), op(system, "B"))
    bank = system.banks["B"].id
    assert log_names(system, receipt) == ["AuthorizationUsed", "Transfer", "Burned"]
    assert events(t, "Transfer", receipt) == [{"from": holder.address, "to": ZERO_ADDRESS, "value": 4_000}]
    assert events(t, "Burned", receipt) == [
        {"wallet": holder.address, "bankId": bank, "amount": 4_000, "ref": ref, "reason": REDEMPTION}]
    assert events(system.consortium, "IssuanceRecorded", receipt) == [
        {"bankId": bank, "delta": -4_000, "netIssued": 6_000}]
    assert balance(system, holder) == 6_000 and supply(system) == 6_000 and net_issued(system, "B") == 6_000
    assert t.functions.authorizationState(holder.address, nonce).call() is True
    assert wallet_state(system, holder)[3] == 4_000  # a redemption is outflow


def test_redeem_errors(system: Any, reverts: Any) -> None:
    t = system.token
    holder = funded_wallet(system, 100_000, bank="B", tier=4)  # single 500.00, daily 1,000.00
    custodian = op(system, "B")
    for caller in (op(system, "A"), system.operator, system.accounts[0]):
        with reverts("NotCustodianOperator", caller=caller.address, wallet=holder.address):
            system.send(t.functions.redeemWithAuthorization(*redemption_args(system, holder, 1)), caller)
    with reverts("ZeroAmount"):
        system.send(t.functions.redeemWithAuthorization(*redemption_args(system, holder, 0)), custodian)
    past = now(system) - 1
    with reverts("AuthorizationExpired", validBefore=past):
        system.send(t.functions.redeemWithAuthorization(*redemption_args(system, holder, 1, valid_before=past)),
                    custodian)
    forged = redemption_args(system, system.new_wallet(), 1, holder=holder.address)
    with reverts("InvalidSignature", expectedSigner=holder.address):
        system.send(t.functions.redeemWithAuthorization(*forged), custodian)
    with reverts("SinglePaymentLimitExceeded", wallet=holder.address, amount=50_001, limit=50_000):
        system.send(t.functions.redeemWithAuthorization(*redemption_args(system, holder, 50_001)), custodian)
    args = redemption_args(system, holder, 50_000)
    system.send(t.functions.redeemWithAuthorization(*args), custodian)
    replay = redemption_args(system, holder, 50_000, nonce=args[3])  # the same signed nonce under a new ref
    with reverts("AuthorizationAlreadyUsed", authorizer=holder.address, nonce=args[3]):
        system.send(t.functions.redeemWithAuthorization(*replay), custodian)
    freeze(system, holder, "B")
    with reverts("WalletNotActive", wallet=holder.address, status=FROZEN):
        system.send(t.functions.redeemWithAuthorization(*redemption_args(system, holder, 1)), custodian)
    assert balance(system, holder) == 50_000


def test_a_banks_redemption_ref_is_burned_once(system: Any, reverts: Any) -> None:
    """A restored node sends its redemption again, even after the signature expired: the ref says it."""
    t = system.token
    holder = funded_wallet(system, 10_000, bank="B")
    custodian = op(system, "B")
    bank = system.banks["B"].id
    args = redemption_args(system, holder, 1_000)
    ref = args[4]
    assert t.functions.refBurned(bank, ref).call() is False
    system.send(t.functions.redeemWithAuthorization(*args), custodian)
    assert t.functions.refBurned(bank, ref).call() is True
    again = redemption_args(system, holder, 1_000, ref=ref)  # a fresh signature, the same ref
    expired = redemption_args(system, holder, 1_000, ref=ref, valid_before=now(system) - 1)
    for replay in (args, again, expired):
        with reverts("RefAlreadyBurned", bankId=bank, ref=ref):
            system.send(t.functions.redeemWithAuthorization(*replay), custodian)
    assert balance(system, holder) == 9_000 and net_issued(system, "B") == 9_000
    assert t.functions.authorizationState(holder.address, again[3]).call() is False  # nothing was used


def test_redeem_insufficient_balance_and_daily_limit(system: Any, reverts: Any) -> None:
    t = system.token
    start_of_next_day(system)
    holder = funded_wallet(system, 100_000, tier=4)
    custodian = op(system)
    for _ in range(2):
        system.send(t.functions.redeemWithAuthorization(*redemption_args(system, holder, 40_000)), custodian)
    with reverts("ERC20InsufficientBalance", sender=holder.address, balance=20_000, needed=20_001):
        system.send(t.functions.redeemWithAuthorization(*redemption_args(system, holder, 20_001)), custodian)
    mint(system, holder, 80_000)
    with reverts("DailyOutflowLimitExceeded", wallet=holder.address, spentToday=80_000, amount=20_001,
                 limit=100_000):
        system.send(t.functions.redeemWithAuthorization(*redemption_args(system, holder, 20_001)), custodian)


# ---------------------------------------------------------------- closure burn (through the registry)


def test_close_wallet_burns_its_balance(system: Any) -> None:
    t = system.token
    holder = funded_wallet(system, 7_777, bank="B", tier=4)
    freeze(system, holder, "B")  # a bank's own freeze does not prevent closure; limits do not apply
    ref = rand32()
    receipt = close(system, holder, "B", ref)
    bank = system.banks["B"].id
    assert events(t, "Burned", receipt) == [
        {"wallet": holder.address, "bankId": bank, "amount": 7_777, "ref": ref, "reason": 2}]
    assert events(t, "Transfer", receipt) == [{"from": holder.address, "to": ZERO_ADDRESS, "value": 7_777}]
    assert balance(system, holder) == 0 and supply(system) == 0 and net_issued(system, "B") == 0
    assert wallet_state(system, holder)[:2] == (CLOSED, 4)
    # an empty wallet closes without a burn
    empty = open_wallet(system, "B")
    receipt = close(system, empty, "B")
    assert events(t, "Burned", receipt) == [] and events(t, "Transfer", receipt) == []


def test_close_wallet_while_paused(system: Any, reverts: Any) -> None:
    holder = funded_wallet(system, 100)
    pause(system)
    with reverts("EnforcedPause"):
        close(system, holder)


# ---------------------------------------------------------------- the settlement contract as a wallet


def test_settlement_contract_receives_pays_out_and_burns(system: Any) -> None:
    """A merchant payment reaches the settlement contract by receiveWithAuthorization; settlement pays
    the fee by transfer and burns the merchant's net for bank payout (burnForPayout)."""
    t, s = system.token, system.settlement
    payer = funded_wallet(system, 100_000)
    merchant_wallet = open_wallet(system, "B", kind=MERCHANT)
    fee_wallet = open_wallet(system, "B")
    acquirer = op(system, "B")
    merchant_id, order_id = b"M-1".ljust(32, b"\0"), b"O-1".ljust(32, b"\0")
    system.send(s.functions.registerMerchant(merchant_id, merchant_wallet.address, 100, 5411, rand32(), 1),
                acquirer)
    system.send(s.functions.setFeeWallet(fee_wallet.address), acquirer)
    bank_b = system.banks["B"].id
    nonce = s.functions.paymentNonce(bank_b, merchant_id, order_id).call()
    args = auth_args(system, payer, s.address, 20_000, kind="ReceiveWithAuthorization", nonce=nonce)
    request = sign_request(system, acquirer, bank_b, merchant_id, order_id, 20_000, args[4])
    payment = (bank_b, merchant_id, order_id, payer.address, 20_000, args[3], args[4], args[6], args[7], args[8],
               *request)
    receipt = system.send(s.functions.pay(payment), op(system))
    assert events(t, "Transfer", receipt) == [{"from": payer.address, "to": s.address, "value": 20_000}]
    assert balance(system, s.address) == 20_000
    assert wallet_state(system, s.address) == (ACTIVE, 6, wallet_state(system, s.address)[2], 0)

    ref = rand32()
    receipt = system.send(s.functions.settle(merchant_id, ref), acquirer)
    bank = system.banks["B"].id
    assert events(t, "Burned", receipt) == [
        {"wallet": s.address, "bankId": bank, "amount": 19_800, "ref": ref, "reason": SETTLEMENT_PAYOUT}]
    assert balance(system, fee_wallet) == 200 and balance(system, s.address) == 0
    assert supply(system) == 80_200
    assert net_issued(system, "A") == 100_000 and net_issued(system, "B") == -19_800


def test_nothing_moves_to_or_from_a_closed_wallet_by_authorization(system: Any, reverts: Any) -> None:
    t = system.token
    payer = funded_wallet(system, 1_000)
    payee = open_wallet(system, "B")
    close(system, payee, "B")
    with reverts("WalletNotActive", wallet=payee.address, status=CLOSED):
        system.send(t.functions.transferWithAuthorization(*auth_args(system, payer, payee, 1)), op(system))
