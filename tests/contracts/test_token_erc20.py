"""DigitalCash as an ERC-20: deployment state, mint, transfer and transferFrom through the one hook
(registry status, tier limits, pause), approvals, EIP-2612 permit, pause and the registry hooks."""

from __future__ import annotations

from typing import Any

from eth_utils import keccak
from token_support import (
    ACTIVE,
    CLOSED,
    DAY,
    FROZEN,
    MAX_BALANCE,
    MERCHANT,
    NONE,
    PACKED_UNLIMITED,
    TIER_LIMITS,
    UNLIMITED,
    ZERO_ADDRESS,
    auth_args,
    balance,
    close,
    domain,
    events,
    freeze,
    funded_wallet,
    mint,
    net_issued,
    now,
    op,
    open_wallet,
    pause,
    permit_args,
    rand32,
    set_limits,
    start_of_next_day,
    supply,
    today,
    unfreeze,
    wallet_state,
)
from web3 import Web3

from wallet_sdk._tx import deploy_bytecode
from wallet_sdk.artifacts import load_artifact

# ---------------------------------------------------------------- deployment and views


def test_deployment_state(system: Any) -> None:
    t = system.token
    assert t.functions.name().call() == "Digital Cash"
    assert t.functions.symbol().call() == "DCASH"
    assert t.functions.decimals().call() == 2
    assert t.functions.totalSupply().call() == 0
    assert t.functions.totalHeld().call() == 0
    assert t.functions.consortium().call() == system.consortium.address
    assert t.functions.registry().call() == system.registry.address
    assert t.functions.settlement().call() == system.settlement.address
    assert t.functions.paused().call() is False
    for limit_class, expected in TIER_LIMITS.items():
        assert tuple(t.functions.limits(limit_class).call()) == expected
    assert tuple(t.functions.limits(0).call()) == (0, 0, 0)
    # the settlement contract is an active system wallet (class 6)
    assert wallet_state(system, system.settlement.address)[:2] == (ACTIVE, 6)
    assert t.functions.MAX_BALANCE().call() == MAX_BALANCE


def test_eip712_domain(system: Any) -> None:
    t = system.token
    fields, name, version, chain_id, verifying, salt, extensions = t.functions.eip712Domain().call()
    assert (fields, name, version, chain_id, verifying, salt, extensions) == (
        b"\x0f", "Digital Cash", "1", system.w3.eth.chain_id, t.address, b"\0" * 32, [])
    d = domain(system)
    expected = keccak(
        keccak(text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")
        + keccak(text=d["name"]) + keccak(text="1") + d["chainId"].to_bytes(32, "big")
        + bytes(12) + bytes.fromhex(t.address[2:]))
    assert t.functions.DOMAIN_SEPARATOR().call() == expected
    assert t.functions.TRANSFER_WITH_AUTHORIZATION_TYPEHASH().call() == keccak(
        text="TransferWithAuthorization(address from,address to,uint256 value,uint256 validAfter,"
             "uint256 validBefore,bytes32 nonce)")
    assert t.functions.RELAYED_TRANSFER_TYPEHASH().call() == keccak(
        text="RelayedTransfer(address from,address to,uint256 value,uint256 validBefore,uint256 nonce)")


def test_initialize_only_once_and_implementation_locked(system: Any, reverts: Any) -> None:
    t = system.token
    args = ["X", "X", 2, system.consortium.address, system.registry.address]
    with reverts("InvalidInitialization"):
        system.send(t.functions.initialize(*args), system.operator)
    impl = system.w3.eth.contract(address=system.deployment.implementations["DigitalCash"], abi=t.abi)
    with reverts("InvalidInitialization"):
        system.send(impl.functions.initialize(*args), system.operator)


def test_initialize_rejects_zero_addresses(system: Any, reverts: Any) -> None:
    artifact = load_artifact("DigitalCash")
    implementation = deploy_bytecode(system.w3, system.operator, artifact["abi"], artifact["bytecode"])
    proxy = load_artifact("ERC1967Proxy")
    factory = system.w3.eth.contract(abi=artifact["abi"])
    for consortium, registry in ((ZERO_ADDRESS, system.registry.address), (system.consortium.address, ZERO_ADDRESS)):
        data = factory.encode_abi("initialize", args=["X", "X", 2, consortium, registry])
        with reverts("ZeroAddress"):
            deploy_bytecode(system.w3, system.operator, proxy["abi"], proxy["bytecode"], implementation, data)


# ---------------------------------------------------------------- mint


def test_mint(system: Any) -> None:
    w = open_wallet(system, "A")
    ref = rand32()
    receipt = mint(system, w, 12_345, "A", ref)
    bank = system.banks["A"].id
    assert balance(system, w) == 12_345
    assert supply(system) == 12_345
    assert net_issued(system, "A") == 12_345
    assert events(system.token, "Transfer", receipt) == [{"from": ZERO_ADDRESS, "to": w.address, "value": 12_345}]
    assert events(system.token, "Minted", receipt) == [
        {"wallet": w.address, "bankId": bank, "amount": 12_345, "ref": ref}]
    assert events(system.consortium, "IssuanceRecorded", receipt) == [
        {"bankId": bank, "delta": 12_345, "netIssued": 12_345}]
    # minting is not an outflow of the wallet
    assert wallet_state(system, w) == (ACTIVE, 1, 0, 0)


def test_a_banks_mint_ref_is_minted_once(system: Any, reverts: Any) -> None:
    """A node restored from an older backup sends its mint again: the token refuses the ref it minted."""
    t = system.token
    w, other_bank_wallet = open_wallet(system, "A"), open_wallet(system, "B")
    a, b = system.banks["A"].id, system.banks["B"].id
    ref = rand32()
    assert t.functions.refMinted(a, ref).call() is False
    mint(system, w, 500, "A", ref)
    assert t.functions.refMinted(a, ref).call() is True
    for amount, caller in ((500, op(system, "A")), (1, op(system, "A", 1))):  # any operator, any amount
        with reverts("RefAlreadyMinted", bankId=a, ref=ref):
            system.send(t.functions.mint(w.address, amount, ref), caller)
    assert (balance(system, w), supply(system), net_issued(system, "A")) == (500, 500, 500)
    mint(system, other_bank_wallet, 70, "B", ref)  # refs are per bank
    assert t.functions.refMinted(b, ref).call() is True
    assert supply(system) == 570


def test_mint_batch_mints_every_item_or_none(system: Any, reverts: Any) -> None:
    """A writer round's cash-ins in one transaction: every item as `mint` would, or nothing at all."""
    t = system.token
    w1, w2 = open_wallet(system, "A"), open_wallet(system, "A")
    refs = [rand32(), rand32(), rand32()]
    receipt = system.send(t.functions.mintBatch([(w1.address, 100, refs[0]), (w2.address, 250, refs[1]),
                                                 (w1.address, 7, refs[2])]), op(system, "A"))
    bank = system.banks["A"].id
    assert events(t, "Minted", receipt) == [{"wallet": w1.address, "bankId": bank, "amount": 100, "ref": refs[0]},
                                            {"wallet": w2.address, "bankId": bank, "amount": 250, "ref": refs[1]},
                                            {"wallet": w1.address, "bankId": bank, "amount": 7, "ref": refs[2]}]
    assert (balance(system, w1), balance(system, w2), net_issued(system, "A")) == (107, 250, 357)
    assert all(t.functions.refMinted(bank, ref).call() for ref in refs)
    other_bank = open_wallet(system, "B")
    fresh = rand32()
    with reverts("RefAlreadyMinted", bankId=bank, ref=refs[1]):  # one item refused: the batch does nothing
        system.send(t.functions.mintBatch([(w2.address, 1, fresh), (w2.address, 1, refs[1])]), op(system, "A"))
    with reverts("NotCustodianOperator", caller=op(system, "A").address, wallet=other_bank.address):
        system.send(t.functions.mintBatch([(w1.address, 1, fresh), (other_bank.address, 1, rand32())]),
                    op(system, "A"))
    assert t.functions.refMinted(bank, fresh).call() is False
    assert (balance(system, w1), balance(system, w2), supply(system)) == (107, 250, 357)
    system.send(t.functions.mintBatch([]), op(system, "A"))  # an empty batch does nothing
    assert supply(system) == 357


def test_mint_only_by_the_custodian_banks_active_operators(system: Any, reverts: Any) -> None:
    w = open_wallet(system, "A")
    stranger = system.accounts[0]
    for caller in (op(system, "B"), stranger, system.operator, system.regulator):
        with reverts("NotCustodianOperator", caller=caller.address, wallet=w.address):
            system.send(system.token.functions.mint(w.address, 100, rand32()), caller)
    # the second operator of bank A may mint
    system.send(system.token.functions.mint(w.address, 100, rand32()), op(system, "A", 1))
    assert balance(system, w) == 100


def test_mint_to_unregistered_or_system_wallet(system: Any, reverts: Any) -> None:
    nobody = system.new_wallet()
    with reverts("NotCustodianOperator", caller=op(system).address, wallet=nobody.address):
        mint(system, nobody, 100)
    with reverts("NotCustodianOperator", caller=op(system).address, wallet=system.settlement.address):
        mint(system, system.settlement.address, 100)


def test_mint_amount_errors(system: Any, reverts: Any) -> None:
    w = open_wallet(system, "A", kind=MERCHANT)
    with reverts("ZeroAmount"):
        mint(system, w, 0)
    with reverts("AmountTooLarge", amount=MAX_BALANCE + 1, max=MAX_BALANCE):
        mint(system, w, MAX_BALANCE + 1)


def test_mint_over_quota(system: Any, reverts: Any) -> None:
    w = open_wallet(system, "A", kind=MERCHANT)
    bank = system.banks["A"].id
    system.send(system.consortium.functions.setQuota(bank, 1_000), system.operator)
    mint(system, w, 600)
    with reverts("QuotaExceeded", bankId=bank, quota=1_000, netIssued=600, amount=401):
        mint(system, w, 401)
    mint(system, w, 400)
    assert net_issued(system, "A") == 1_000 and balance(system, w) == 1_000


def test_mint_checks_receiver_status_cap_and_pause(system: Any, reverts: Any) -> None:
    w = open_wallet(system, "A", tier=4)  # cap 1,000.00
    mint(system, w, 99_000)
    with reverts("BalanceCapExceeded", wallet=w.address, balanceAfter=100_001, cap=100_000):
        mint(system, w, 1_001)
    mint(system, w, 1_000)
    freeze(system, w)
    with reverts("WalletNotActive", wallet=w.address, status=FROZEN):
        mint(system, w, 1)
    unfreeze(system, w)
    pause(system)
    with reverts("EnforcedPause"):
        mint(system, w, 1)


def test_mint_to_closed_wallet(system: Any, reverts: Any) -> None:
    w = open_wallet(system, "A")
    close(system, w)
    with reverts("WalletNotActive", wallet=w.address, status=CLOSED):
        mint(system, w, 1)


def test_balance_overflow_of_the_packed_word(system: Any, reverts: Any) -> None:
    """A merchant wallet (unlimited cap) holds at most 2^104-1; the next credit reverts, not wraps."""
    w = open_wallet(system, "A", kind=MERCHANT)
    system.send(system.consortium.functions.setQuota(system.banks["A"].id, 2**200), system.operator)
    mint(system, w, MAX_BALANCE)
    assert balance(system, w) == MAX_BALANCE and supply(system) == MAX_BALANCE
    with reverts("BalanceOverflow", wallet=w.address, balanceAfter=MAX_BALANCE + 1, max=MAX_BALANCE):
        mint(system, w, 1)


# ---------------------------------------------------------------- transfer


def test_transfer(system: Any) -> None:
    start_of_next_day(system)
    sender = funded_wallet(system, 10_000, holder=system.accounts[0])
    receiver = open_wallet(system, "B")
    receipt = system.send(system.token.functions.transfer(receiver.address, 2_500), sender)
    assert events(system.token, "Transfer", receipt) == [
        {"from": sender.address, "to": receiver.address, "value": 2_500}]
    assert balance(system, sender) == 7_500 and balance(system, receiver) == 2_500
    assert supply(system) == 10_000
    assert wallet_state(system, sender) == (ACTIVE, 1, today(system), 2_500)
    assert wallet_state(system, receiver) == (ACTIVE, 1, 0, 0)  # receiving is not outflow
    assert system.token.functions.transfer(receiver.address, 1).call({"from": sender.address}) is True


def test_transfer_to_self_and_zero_value(system: Any) -> None:
    start_of_next_day(system)
    w = funded_wallet(system, 1_000, holder=system.accounts[0])
    system.send(system.token.functions.transfer(w.address, 400), w)
    assert balance(system, w) == 1_000
    assert wallet_state(system, w)[3] == 400  # a self-transfer still counts as outflow
    other = open_wallet(system)
    receipt = system.send(system.token.functions.transfer(other.address, 0), w)
    assert events(system.token, "Transfer", receipt) == [{"from": w.address, "to": other.address, "value": 0}]


def test_transfer_insufficient_balance(system: Any, reverts: Any) -> None:
    w = funded_wallet(system, 1_000, holder=system.accounts[0])
    other = open_wallet(system)
    with reverts("ERC20InsufficientBalance", sender=w.address, balance=1_000, needed=1_001):
        system.send(system.token.functions.transfer(other.address, 1_001), w)


def test_transfer_requires_both_sides_registered_and_active(system: Any, reverts: Any) -> None:
    w = funded_wallet(system, 1_000, holder=system.accounts[0])
    other = open_wallet(system, "B")
    t = system.token
    stranger = system.new_wallet()
    with reverts("WalletNotActive", wallet=stranger.address, status=NONE):
        system.send(t.functions.transfer(stranger.address, 1), w)
    with reverts("WalletNotActive", wallet=t.address, status=NONE):  # the token is not a wallet
        system.send(t.functions.transfer(t.address, 1), w)
    with reverts("ERC20InvalidReceiver", receiver=ZERO_ADDRESS):
        system.send(t.functions.transfer(ZERO_ADDRESS, 1), w)
    unregistered = system.accounts[1]
    with reverts("WalletNotActive", wallet=unregistered.address, status=NONE):
        system.send(t.functions.transfer(other.address, 0), unregistered)

    freeze(system, other, "B")
    with reverts("WalletNotActive", wallet=other.address, status=FROZEN):
        system.send(t.functions.transfer(other.address, 1), w)
    unfreeze(system, other, "B")
    system.send(t.functions.transfer(other.address, 1), w)

    freeze(system, w)
    with reverts("WalletNotActive", wallet=w.address, status=FROZEN):
        system.send(t.functions.transfer(other.address, 1), w)
    unfreeze(system, w)

    close(system, other, "B")
    assert balance(system, other) == 0  # burned for payout at closure
    with reverts("WalletNotActive", wallet=other.address, status=CLOSED):
        system.send(t.functions.transfer(other.address, 1), w)


def test_regulator_freeze_blocks_transfers(system: Any, reverts: Any) -> None:
    w = funded_wallet(system, 1_000, holder=system.accounts[0])
    other = open_wallet(system, "B")
    system.send(system.registry.functions.freeze(w.address, 42), system.regulator)
    with reverts("WalletNotActive", wallet=w.address, status=FROZEN):
        system.send(system.token.functions.transfer(other.address, 1), w)


def test_single_payment_limit(system: Any, reverts: Any) -> None:
    w = funded_wallet(system, 1_000_000, tier=2, holder=system.accounts[0])  # single 5,000.00
    other = open_wallet(system, "B")
    with reverts("SinglePaymentLimitExceeded", wallet=w.address, amount=500_001, limit=500_000):
        system.send(system.token.functions.transfer(other.address, 500_001), w)
    system.send(system.token.functions.transfer(other.address, 500_000), w)
    assert balance(system, other) == 500_000


def test_daily_outflow_limit_and_day_rollover(system: Any, reverts: Any) -> None:
    start_of_next_day(system)
    w = funded_wallet(system, 100_000, tier=4, holder=system.accounts[0])  # single 500.00, daily 1,000.00
    other = open_wallet(system, "B")
    t = system.token
    system.send(t.functions.transfer(other.address, 50_000), w)
    system.send(t.functions.transfer(other.address, 40_000), w)
    assert t.functions.remainingDailyAllowance(w.address).call() == 10_000
    mint(system, w, 90_000)  # balance 1,000.00 again: the daily limit, not the balance, binds
    with reverts("DailyOutflowLimitExceeded", wallet=w.address, spentToday=90_000, amount=10_001, limit=100_000):
        system.send(t.functions.transfer(other.address, 10_001), w)
    system.send(t.functions.transfer(other.address, 10_000), w)
    assert t.functions.remainingDailyAllowance(w.address).call() == 0
    with reverts("DailyOutflowLimitExceeded", wallet=w.address, spentToday=100_000, amount=1, limit=100_000):
        system.send(t.functions.transfer(other.address, 1), w)
    # 23 hours later it is still the same UTC day
    system.increase_time(DAY - 2 * 3_600)
    with reverts("DailyOutflowLimitExceeded", wallet=w.address, spentToday=100_000, amount=1, limit=100_000):
        system.send(t.functions.transfer(other.address, 1), w)
    # past midnight UTC the allowance is back
    system.increase_time(2 * 3_600)
    assert t.functions.remainingDailyAllowance(w.address).call() == 100_000
    system.send(t.functions.transfer(other.address, 30_000), w)
    assert wallet_state(system, w) == (ACTIVE, 4, today(system), 30_000)


def test_receiver_balance_cap(system: Any, reverts: Any) -> None:
    w = funded_wallet(system, 1_000_000, holder=system.accounts[0])
    small = funded_wallet(system, 60_000, tier=4)  # cap 1,000.00
    with reverts("BalanceCapExceeded", wallet=small.address, balanceAfter=100_001, cap=100_000):
        system.send(system.token.functions.transfer(small.address, 40_001), w)
    system.send(system.token.functions.transfer(small.address, 40_000), w)
    assert balance(system, small) == 100_000


def test_tier_change_applies_new_limits_to_todays_outflow(system: Any, reverts: Any) -> None:
    start_of_next_day(system)
    w = funded_wallet(system, 1_000_000, tier=1, holder=system.accounts[0])
    other = open_wallet(system, "B")
    system.send(system.token.functions.transfer(other.address, 90_000), w)
    system.send(system.registry.functions.setTier(w.address, 4), op(system))
    assert wallet_state(system, w) == (ACTIVE, 4, today(system), 90_000)
    with reverts("DailyOutflowLimitExceeded", wallet=w.address, spentToday=90_000, amount=10_001, limit=100_000):
        system.send(system.token.functions.transfer(other.address, 10_001), w)
    # the cap now binds the wallet as a receiver too (balance 9,100.00 > 1,000.00): it may only pay out
    assert system.token.functions.remainingDailyAllowance(w.address).call() == 10_000
    with reverts("BalanceCapExceeded", wallet=w.address, balanceAfter=910_001, cap=100_000):
        mint(system, w, 1)


def test_limits_can_be_changed_and_unlimited_is_clamped(system: Any) -> None:
    t = system.token
    receipt = set_limits(system, 3, 7, 5, 6)
    assert events(t, "LimitsSet", receipt) == [
        {"limitClass": 3, "balanceCap": 7, "singlePaymentLimit": 5, "dailyOutflowLimit": 6}]
    assert tuple(t.functions.limits(3).call()) == (7, 5, 6)
    # anything >= 2^80-1 is stored as unlimited and reported as type(uint256).max
    receipt = set_limits(system, 3, PACKED_UNLIMITED - 1, PACKED_UNLIMITED, 2**200)
    assert tuple(t.functions.limits(3).call()) == (PACKED_UNLIMITED - 1, UNLIMITED, UNLIMITED)
    assert events(t, "LimitsSet", receipt) == [
        {"limitClass": 3, "balanceCap": PACKED_UNLIMITED - 1, "singlePaymentLimit": UNLIMITED,
         "dailyOutflowLimit": UNLIMITED}]
    w = funded_wallet(system, 150_000, tier=3, holder=system.accounts[0])
    assert t.functions.remainingDailyAllowance(w.address).call() == UNLIMITED
    system.send(t.functions.transfer(open_wallet(system).address, 150_000), w)


def test_merchant_and_system_wallets_are_unlimited(system: Any) -> None:
    merchant = funded_wallet(system, 80_000_000, kind=MERCHANT, holder=system.accounts[0])
    other_merchant = open_wallet(system, "B", kind=MERCHANT)
    system.send(system.token.functions.transfer(other_merchant.address, 80_000_000), merchant)
    assert balance(system, other_merchant) == 80_000_000


# ---------------------------------------------------------------- approve / transferFrom


def test_approve_and_transfer_from(system: Any, reverts: Any) -> None:
    t = system.token
    owner = funded_wallet(system, 10_000, holder=system.accounts[0])
    spender = system.accounts[1]  # the spender need not be a wallet
    receiver = open_wallet(system, "B")
    receipt = system.send(t.functions.approve(spender.address, 3_000), owner)
    assert events(t, "Approval", receipt) == [{"owner": owner.address, "spender": spender.address, "value": 3_000}]
    assert t.functions.allowance(owner.address, spender.address).call() == 3_000
    receipt = system.send(t.functions.transferFrom(owner.address, receiver.address, 1_000), spender)
    assert events(t, "Transfer", receipt) == [{"from": owner.address, "to": receiver.address, "value": 1_000}]
    assert t.functions.allowance(owner.address, spender.address).call() == 2_000
    assert balance(system, owner) == 9_000 and balance(system, receiver) == 1_000
    with reverts("ERC20InsufficientAllowance", spender=spender.address, allowance=2_000, needed=2_001):
        system.send(t.functions.transferFrom(owner.address, receiver.address, 2_001), spender)
    # the hook still applies: a frozen owner cannot be debited through an allowance
    freeze(system, owner)
    with reverts("WalletNotActive", wallet=owner.address, status=FROZEN):
        system.send(t.functions.transferFrom(owner.address, receiver.address, 1), spender)
    unfreeze(system, owner)
    # an infinite allowance is never decreased
    system.send(t.functions.approve(spender.address, UNLIMITED), owner)
    system.send(t.functions.transferFrom(owner.address, receiver.address, 5_000), spender)
    assert t.functions.allowance(owner.address, spender.address).call() == UNLIMITED


def test_approve_zero_spender(system: Any, reverts: Any) -> None:
    owner = system.accounts[0]
    with reverts("ERC20InvalidSpender", spender=ZERO_ADDRESS):
        system.send(system.token.functions.approve(ZERO_ADDRESS, 1), owner)


# ---------------------------------------------------------------- permit (EIP-2612)


def test_permit(system: Any, reverts: Any) -> None:
    t = system.token
    owner = funded_wallet(system, 5_000)  # a holder without gas: its bank relays the permit
    spender = system.accounts[0]
    relayer = op(system)
    args = permit_args(system, owner, spender, 4_000)
    receipt = system.send(t.functions.permit(*args), relayer)
    assert events(t, "Approval", receipt) == [{"owner": owner.address, "spender": spender.address, "value": 4_000}]
    assert t.functions.allowance(owner.address, spender.address).call() == 4_000
    assert t.functions.nonces(owner.address).call() == 1
    system.send(t.functions.transferFrom(owner.address, open_wallet(system).address, 4_000), spender)
    # replay: the nonce moved on, so the same signature recovers another address
    with reverts("ERC2612InvalidSigner", owner=owner.address):
        system.send(t.functions.permit(*args), relayer)


def test_permit_errors(system: Any, reverts: Any) -> None:
    t = system.token
    owner = system.new_wallet()
    spender = system.accounts[0]
    relayer = op(system)
    deadline = now(system) - 1
    with reverts("ERC2612ExpiredSignature", deadline=deadline):
        system.send(t.functions.permit(*permit_args(system, owner, spender, 1, deadline=deadline)), relayer)
    forger = system.new_wallet()
    args = permit_args(system, forger, spender, 1)
    args[0] = owner.address
    with reverts("ERC2612InvalidSigner", owner=owner.address) as box:
        system.send(t.functions.permit(*args), relayer)
    assert box["error"].arguments["signer"].lower() != owner.address.lower()
    # a wrong nonce is a wrong signature too
    with reverts("ERC2612InvalidSigner", owner=owner.address):
        system.send(t.functions.permit(*permit_args(system, owner, spender, 1, nonce=5)), relayer)


# ---------------------------------------------------------------- pause


def test_pause_and_unpause(system: Any, reverts: Any) -> None:
    t = system.token
    w = funded_wallet(system, 1_000, holder=system.accounts[0])
    other = open_wallet(system, "B")
    for caller in (op(system), system.regulator, w):
        with reverts("NotNetworkOperator", caller=caller.address):
            system.send(t.functions.pause(), caller)
    with reverts("ExpectedPause"):
        system.send(t.functions.unpause(), system.operator)
    receipt = system.send(t.functions.pause(), system.operator)
    assert events(t, "Paused", receipt) == [{"account": system.operator.address}]
    assert t.functions.paused().call() is True
    with reverts("EnforcedPause"):
        system.send(t.functions.pause(), system.operator)
    with reverts("EnforcedPause"):
        system.send(t.functions.transfer(other.address, 1), w)
    with reverts("EnforcedPause"):  # even towards an unregistered address: the pause is checked first
        system.send(t.functions.transfer(system.new_wallet().address, 1), w)
    system.send(t.functions.approve(other.address, 1), w)  # approvals move no value
    # limits set while paused keep the pause
    set_limits(system, 1, 10**9, 10**9, 10**9)
    assert t.functions.paused().call() is True
    with reverts("EnforcedPause"):
        system.send(t.functions.transfer(other.address, 1), w)
    for caller in (op(system), system.regulator):
        with reverts("NotNetworkOperator", caller=caller.address):
            system.send(t.functions.unpause(), caller)
    receipt = system.send(t.functions.unpause(), system.operator)
    assert events(t, "Unpaused", receipt) == [{"account": system.operator.address}]
    system.send(t.functions.transfer(other.address, 1), w)
    assert balance(system, other) == 1


# ---------------------------------------------------------------- registry and settlement hooks


def test_registry_hooks_only_from_the_registry(system: Any, reverts: Any) -> None:
    t = system.token
    w = system.new_wallet()
    for caller in (system.operator, op(system)):
        with reverts("NotRegistry", caller=caller.address):
            system.send(t.functions.setWalletState(w.address, ACTIVE, 1), caller)
        with reverts("NotRegistry", caller=caller.address):
            system.send(t.functions.setLimits(1, 1, 1, 1), caller)
        with reverts("NotRegistry", caller=caller.address):
            system.send(t.functions.burnForClosure(w.address, system.banks["A"].id, rand32()), caller)


def test_set_wallet_state_and_limits_validation(system: Any, reverts: Any) -> None:
    """A token wired to a stand-in registry (an EOA) to reach the token's own input checks."""
    fake_registry = system.accounts[2]
    proxy_address, _ = _fresh_token(system, fake_registry.address)
    t = system.w3.eth.contract(address=proxy_address, abi=system.token.abi)
    w = system.new_wallet().address
    with reverts("InvalidWalletStatus", status=4):
        system.send(t.functions.setWalletState(w, 4, 1), fake_registry)
    with reverts("InvalidLimitClass", limitClass=7):
        system.send(t.functions.setWalletState(w, ACTIVE, 7), fake_registry)
    with reverts("InvalidLimitClass", limitClass=0):
        system.send(t.functions.setWalletState(w, ACTIVE, 0), fake_registry)
    for limit_class in (0, 7):
        with reverts("InvalidLimitClass", limitClass=limit_class):
            system.send(t.functions.setLimits(limit_class, 1, 1, 1), fake_registry)
    receipt = system.send(t.functions.setWalletState(w, FROZEN, 5), fake_registry)
    assert events(t, "WalletStateSet", receipt) == [{"wallet": w, "status": FROZEN, "limitClass": 5}]
    assert t.functions.walletState(w).call() == [FROZEN, 5, 0, 0]
    system.send(t.functions.setWalletState(w, NONE, 0), fake_registry)  # "unregistered" is allowed
    assert t.functions.walletState(w).call() == [NONE, 0, 0, 0]
    # until limits are pushed every limit is zero: nothing can move
    assert tuple(t.functions.limits(1).call()) == (0, 0, 0)


def _fresh_token(system: Any, registry: str) -> tuple[str, str]:
    from wallet_sdk.deploy import deploy_proxy

    return deploy_proxy(system.w3, system.operator, "DigitalCash",
                        ["Other Cash", "OCASH", 2, system.consortium.address, registry])


def test_set_settlement_once_by_the_network_operator(system: Any, reverts: Any) -> None:
    t = system.token
    with reverts("SettlementAlreadySet", settlement=system.settlement.address):
        system.send(t.functions.setSettlement(system.accounts[0].address), system.operator)
    proxy_address, _ = _fresh_token(system, system.registry.address)
    fresh = system.w3.eth.contract(address=proxy_address, abi=t.abi)
    with reverts("NotNetworkOperator", caller=op(system).address):
        system.send(fresh.functions.setSettlement(system.accounts[0].address), op(system))
    with reverts("ZeroAddress"):
        system.send(fresh.functions.setSettlement(ZERO_ADDRESS), system.operator)
    receipt = system.send(fresh.functions.setSettlement(system.accounts[0].address), system.operator)
    assert events(fresh, "SettlementSet", receipt) == [{"settlement": system.accounts[0].address}]
    assert fresh.functions.settlement().call() == system.accounts[0].address


def test_burn_for_payout_only_by_settlement(system: Any, reverts: Any) -> None:
    caller = op(system)
    with reverts("NotSettlement", caller=caller.address):
        system.send(system.token.functions.burnForPayout(1, system.banks["A"].id, rand32()), caller)


def test_upgrade_only_by_governance_keeps_state(system: Any, reverts: Any) -> None:
    t = system.token
    start_of_next_day(system)
    w = funded_wallet(system, 10_000, tier=2, holder=system.accounts[0])
    other = open_wallet(system, "B")
    system.send(t.functions.transfer(other.address, 1_000), w)
    artifact = load_artifact("DigitalCash")
    new_impl = deploy_bytecode(system.w3, system.operator, artifact["abi"], artifact["bytecode"])
    upgrade = t.functions.upgradeToAndCall(new_impl, b"")
    for caller in (system.operator, op(system), w):
        with reverts("NotGovernance", caller=caller.address):
            system.send(upgrade, caller)
    before = (balance(system, w), balance(system, other), supply(system), wallet_state(system, w))
    consortium = system.consortium
    data = bytes.fromhex(t.encode_abi("upgradeToAndCall", args=[new_impl, b""])[2:])
    propose = consortium.functions.propose(t.address, data, "upgrade DigitalCash")
    pid = propose.call({"from": system.operator.address})
    system.send(propose, system.operator)
    for code in ("A", "B"):
        system.send(consortium.functions.approve(pid), op(system, code))
    system.send(consortium.functions.execute(pid), system.accounts[1])
    slot = int.from_bytes(keccak(b"eip1967.proxy.implementation"), "big") - 1
    stored = system.w3.eth.get_storage_at(t.address, slot)
    assert Web3.to_checksum_address(stored[-20:]) == Web3.to_checksum_address(new_impl)
    assert (balance(system, w), balance(system, other), supply(system), wallet_state(system, w)) == before
    system.send(t.functions.transfer(other.address, 1_000), w)
    assert wallet_state(system, w)[3] == 2_000


def test_transfer_from_the_zero_address(system: Any, reverts: Any) -> None:
    spender = system.accounts[0]
    receiver = open_wallet(system)
    with reverts("ERC20InvalidSender", sender=ZERO_ADDRESS):
        system.send(system.token.functions.transferFrom(ZERO_ADDRESS, receiver.address, 0), spender)


def test_suspended_bank_can_neither_mint_nor_relay(system: Any, reverts: Any) -> None:
    t = system.token
    w = funded_wallet(system, 1_000)
    bank = system.banks["A"].id
    consortium = system.consortium
    data = bytes.fromhex(consortium.encode_abi("suspendBank", args=[bank])[2:])
    propose = consortium.functions.propose(consortium.address, data, "suspend A")
    pid = propose.call({"from": system.operator.address})
    system.send(propose, system.operator)
    for code in ("B", "C"):
        system.send(consortium.functions.approve(pid), op(system, code))
    system.send(consortium.functions.execute(pid), system.accounts[1])
    with reverts("NotCustodianOperator", caller=op(system).address, wallet=w.address):
        mint(system, w, 1)
    with reverts("BankNotActive", bankId=bank):
        system.send(t.functions.relayTransfers([]), op(system))
    # its customers' money still moves (relayed by another bank): the suspension stops the bank only
    other = open_wallet(system, "B")
    system.send(t.functions.transferWithAuthorization(*auth_args(system, w, other, 100)), op(system, "B"))
    assert balance(system, w) == 900 and balance(system, other) == 100
