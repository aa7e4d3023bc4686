"""WalletRegistry: opening (one, bulk, system), tier, account binding, freeze rules, closure, limits,
the state pushed into the token, wiring and upgrade."""

from __future__ import annotations

from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract
from web3.logs import DISCARD
from web3.types import TxReceipt

from wallet_sdk._tx import deploy_bytecode
from wallet_sdk.artifacts import load_artifact
from wallet_sdk.deploy import deploy_proxy

ZERO = "0x" + "00" * 20
ZERO_ID = b"\0" * 32
PERSONAL, MERCHANT, SYSTEM = 0, 1, 2  # IWalletRegistry.WalletKind
NONE, ACTIVE, FROZEN, CLOSED = 0, 1, 2, 3  # IWalletRegistry.WalletStatus (shared with the token)
WALLET_CLOSURE = 2  # IDigitalCash.BurnReason
UNLIMITED = 2**256 - 1
DEFAULT_LIMITS = {
    1: (50_000_000, 5_000_000, 10_000_000),
    2: (1_000_000, 500_000, 1_000_000),
    3: (200_000, 200_000, 200_000),
    4: (100_000, 50_000, 100_000),
    5: (UNLIMITED, UNLIMITED, UNLIMITED),
    6: (UNLIMITED, UNLIMITED, UNLIMITED),
}
IMPLEMENTATION_SLOT = int("360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc", 16)
ACCOUNT_HASH = Web3.keccak(text="salt|BANKA|6222-0000-1234")
REF = Web3.keccak(text="closure-1")


def events(contract: Contract, name: str, receipt: TxReceipt) -> list[dict[str, Any]]:
    """Decoded `name` events that `contract` itself emitted in the receipt."""
    return [dict(e["args"]) for e in contract.events[name]().process_receipt(receipt, errors=DISCARD)
            if e["address"] == contract.address]


def record(registry: Contract, wallet: str) -> dict[str, Any]:
    keys = ("bankId", "tier", "kind", "status", "frozenByRegulator", "freezeReason", "accountHash")
    return dict(zip(keys, registry.functions.wallet(wallet).call(), strict=True))


def token_state(system: Any, wallet: str) -> tuple[int, int]:
    """(status, limitClass) as the token holds them."""
    status, limit_class, _day, _spent = system.token.functions.walletState(wallet).call()
    return status, limit_class


def op(system: Any, code: str = "A", i: int = 0) -> LocalAccount:
    return system.banks[code].operators[i]


def open_wallet(system: Any, code: str = "A", tier: int = 2, kind: int = PERSONAL,
                account_hash: bytes = ZERO_ID) -> str:
    wallet = Account.create().address
    system.send(system.registry.functions.openWallet(wallet, system.banks[code].id, tier, kind, account_hash),
                op(system, code))
    return wallet


def govern(system: Any, target: Contract, fn: str, *args: Any) -> TxReceipt:
    """Pass a proposal calling target.fn(*args), approved by every bank of the fixture."""
    c = system.consortium
    data = bytes.fromhex(target.encode_abi(fn, args=list(args))[2:])
    receipt = system.send(c.functions.propose(target.address, data, fn), system.operator)
    pid = events(c, "ProposalCreated", receipt)[0]["proposalId"]
    for code in system.banks:
        if c.functions.bankStatus(system.banks[code].id).call() == 1:
            system.send(c.functions.approve(pid), op(system, code))
    return system.send(c.functions.execute(pid), system.accounts[0])


def fresh_registry(system: Any) -> Contract:
    proxy, _ = deploy_proxy(system.w3, system.operator, "WalletRegistry", [system.consortium.address])
    return system.w3.eth.contract(address=proxy, abi=load_artifact("WalletRegistry")["abi"])


# ---------------------------------------------------------------------------------------------- wiring


def test_initial_state(system: Any, reverts: Any) -> None:
    r = system.registry
    assert r.functions.consortium().call() == system.consortium.address
    assert r.functions.token().call() == system.token.address
    for c, limits in DEFAULT_LIMITS.items():
        assert r.functions.limits(c).call() == limits
    for bad in (0, 7):
        with reverts("InvalidLimitClass", limitClass=bad):
            r.functions.limits(bad).call()
    # the settlement contract is a system wallet without custodian bank
    settlement = system.settlement.address
    assert record(r, settlement) == {"bankId": ZERO_ID, "tier": 1, "kind": SYSTEM, "status": ACTIVE,
                                     "frozenByRegulator": False, "freezeReason": 0, "accountHash": ZERO_ID}
    assert r.functions.limitClassOf(settlement).call() == 6
    assert token_state(system, settlement) == (ACTIVE, 6)
    # an unknown wallet
    stranger = Account.create().address
    assert record(r, stranger)["status"] == NONE
    assert r.functions.limitClassOf(stranger).call() == 0
    assert r.functions.custodianOf(stranger).call() == ZERO_ID
    assert r.functions.isActive(stranger).call() is False


def test_initialize(system: Any, reverts: Any) -> None:
    with reverts("InvalidInitialization"):
        system.send(system.registry.functions.initialize(system.consortium.address), system.operator)
    impl = system.w3.eth.contract(address=system.deployment.implementations["WalletRegistry"],
                                  abi=system.registry.abi)
    with reverts("InvalidInitialization"):
        system.send(impl.functions.initialize(system.consortium.address), system.operator)
    with reverts("ZeroAddress"):
        deploy_proxy(system.w3, system.operator, "WalletRegistry", [ZERO])
    fresh = fresh_registry(system)
    logs = fresh.events.LimitsSet().get_logs(from_block=system.w3.eth.block_number)
    assert {e["args"]["limitClass"]: (e["args"]["balanceCap"], e["args"]["singlePaymentLimit"],
                                      e["args"]["dailyOutflowLimit"]) for e in logs} == DEFAULT_LIMITS
    assert fresh.functions.token().call() == ZERO


def test_set_token(system: Any, reverts: Any) -> None:
    with reverts("TokenAlreadySet", token=system.token.address):
        system.send(system.registry.functions.setToken(system.accounts[0].address), system.operator)
    with reverts("NotNetworkOperator", caller=op(system).address):
        system.send(system.registry.functions.setToken(system.accounts[0].address), op(system))

    fresh = fresh_registry(system)
    wallet = Account.create().address
    # nothing can be opened before the token is wired
    with reverts("TokenNotSet"):
        system.send(fresh.functions.openWallet(wallet, system.banks["A"].id, 1, PERSONAL, ZERO_ID), op(system))
    with reverts("TokenNotSet"):
        system.send(fresh.functions.openWallets(system.banks["A"].id, [(wallet, 1, PERSONAL, ZERO_ID)]),
                    op(system))
    with reverts("TokenNotSet"):
        system.send(fresh.functions.openSystemWallet(wallet), system.operator)
    # limits are kept (and pushed later) while no token is wired
    system.send(fresh.functions.setLimits(3, (300_000, 100_000, 250_000)), system.operator)
    with reverts("ZeroAddress"):
        system.send(fresh.functions.setToken(ZERO), system.operator)

    token_proxy, _ = deploy_proxy(system.w3, system.operator, "DigitalCash",
                                  ["Digital Cash", "DCASH", 2, system.consortium.address, fresh.address])
    token = system.w3.eth.contract(address=token_proxy, abi=system.token.abi)
    receipt = system.send(fresh.functions.setToken(token_proxy), system.operator)
    assert events(fresh, "TokenSet", receipt) == [{"token": token_proxy}]
    assert fresh.functions.token().call() == token_proxy
    pushed = {e["limitClass"]: (e["balanceCap"], e["singlePaymentLimit"], e["dailyOutflowLimit"])
              for e in events(token, "LimitsSet", receipt)}
    assert pushed == {**DEFAULT_LIMITS, 3: (300_000, 100_000, 250_000)}
    # wallets now open and their state reaches the new token
    system.send(fresh.functions.openWallet(wallet, system.banks["A"].id, 3, PERSONAL, ZERO_ID), op(system))
    assert tuple(token.functions.walletState(wallet).call()[:2]) == (ACTIVE, 3)


# ---------------------------------------------------------------------------------------------- opening


@pytest.mark.parametrize(("tier", "kind", "limit_class", "recorded_tier"),
                         [(1, PERSONAL, 1, 1), (2, PERSONAL, 2, 2), (3, PERSONAL, 3, 3), (4, PERSONAL, 4, 4),
                          (3, MERCHANT, 5, 1), (0, SYSTEM, 6, 1)])
def test_open_wallet(system: Any, tier: int, kind: int, limit_class: int, recorded_tier: int) -> None:
    r = system.registry
    a = system.banks["A"]
    wallet = Account.create().address
    receipt = system.send(r.functions.openWallet(wallet, a.id, tier, kind, ACCOUNT_HASH), op(system, "A", 1))
    assert events(r, "WalletOpened", receipt) == [
        {"wallet": wallet, "bankId": a.id, "tier": recorded_tier, "kind": kind, "accountHash": ACCOUNT_HASH}]
    assert events(system.token, "WalletStateSet", receipt) == [
        {"wallet": wallet, "status": ACTIVE, "limitClass": limit_class}]
    assert record(r, wallet) == {"bankId": a.id, "tier": recorded_tier, "kind": kind, "status": ACTIVE,
                                 "frozenByRegulator": False, "freezeReason": 0, "accountHash": ACCOUNT_HASH}
    assert r.functions.custodianOf(wallet).call() == a.id
    assert r.functions.isActive(wallet).call() is True
    assert r.functions.limitClassOf(wallet).call() == limit_class
    assert token_state(system, wallet) == (ACTIVE, limit_class)


def test_open_wallet_errors(system: Any, reverts: Any) -> None:
    r = system.registry
    a, b = system.banks["A"], system.banks["B"]
    wallet = Account.create().address
    outsider = system.accounts[0]
    with reverts("NotBankOperator", caller=outsider.address):
        system.send(r.functions.openWallet(wallet, a.id, 1, PERSONAL, ZERO_ID), outsider)
    with reverts("NotBankOperator", caller=system.operator.address):
        system.send(r.functions.openWallet(wallet, a.id, 1, PERSONAL, ZERO_ID), system.operator)
    with reverts("NotCustodian", caller=op(system, "B").address, wallet=wallet, bankId=a.id):
        system.send(r.functions.openWallet(wallet, a.id, 1, PERSONAL, ZERO_ID), op(system, "B"))
    for tier in (0, 5):
        with reverts("InvalidTier", wallet=wallet, tier=tier):
            system.send(r.functions.openWallet(wallet, a.id, tier, PERSONAL, ZERO_ID), op(system))
    with reverts("ZeroAddress"):
        system.send(r.functions.openWallet(ZERO, a.id, 1, PERSONAL, ZERO_ID), op(system))
    system.send(r.functions.openWallet(wallet, a.id, 1, PERSONAL, ZERO_ID), op(system))
    # once registered, with any bank
    with reverts("WalletAlreadyRegistered", wallet=wallet):
        system.send(r.functions.openWallet(wallet, a.id, 2, PERSONAL, ZERO_ID), op(system))
    with reverts("WalletAlreadyRegistered", wallet=wallet):
        system.send(r.functions.openWallet(wallet, b.id, 2, PERSONAL, ZERO_ID), op(system, "B"))
    with reverts("WalletAlreadyRegistered", wallet=system.settlement.address):
        system.send(r.functions.openWallet(system.settlement.address, a.id, 1, MERCHANT, ZERO_ID), op(system))
    # a suspended bank opens nothing
    govern(system, system.consortium, "suspendBank", b.id)
    with reverts("BankNotActive", bankId=b.id, status=2):
        system.send(r.functions.openWallet(Account.create().address, b.id, 1, PERSONAL, ZERO_ID), op(system, "B"))


def test_open_wallets_in_bulk(system: Any, reverts: Any) -> None:
    r = system.registry
    a = system.banks["A"]
    openings = [(Account.create().address, 1 + i % 4, PERSONAL, Web3.keccak(i)) for i in range(20)]
    openings.append((Account.create().address, 0, MERCHANT, ZERO_ID))
    receipt = system.send(r.functions.openWallets(a.id, openings), op(system))
    opened = events(r, "WalletOpened", receipt)
    assert [(e["wallet"], e["bankId"], e["tier"], e["kind"], e["accountHash"]) for e in opened] == [
        (w, a.id, t if k == PERSONAL else 1, k, h) for w, t, k, h in openings]
    for w, t, k, _h in openings:
        expected_class = t if k == PERSONAL else 5
        assert r.functions.limitClassOf(w).call() == expected_class
        assert token_state(system, w) == (ACTIVE, expected_class)
    # an empty batch is a no-op
    receipt = system.send(r.functions.openWallets(a.id, []), op(system))
    assert events(r, "WalletOpened", receipt) == []


def test_open_wallets_reverts_as_a_whole(system: Any, reverts: Any) -> None:
    r = system.registry
    a = system.banks["A"]
    existing = open_wallet(system)
    first, bad, dup = (Account.create().address for _ in range(3))
    with reverts("InvalidTier", wallet=bad, tier=9):
        system.send(r.functions.openWallets(a.id, [(first, 1, PERSONAL, ZERO_ID), (bad, 9, PERSONAL, ZERO_ID)]),
                    op(system))
    with reverts("WalletAlreadyRegistered", wallet=existing):
        system.send(r.functions.openWallets(a.id, [(first, 1, PERSONAL, ZERO_ID), (existing, 1, PERSONAL, ZERO_ID)]),
                    op(system))
    with reverts("WalletAlreadyRegistered", wallet=dup):
        system.send(r.functions.openWallets(a.id, [(dup, 1, PERSONAL, ZERO_ID), (dup, 2, PERSONAL, ZERO_ID)]),
                    op(system))
    with reverts("ZeroAddress"):
        system.send(r.functions.openWallets(a.id, [(first, 1, PERSONAL, ZERO_ID), (ZERO, 1, PERSONAL, ZERO_ID)]),
                    op(system))
    with reverts("NotCustodian", caller=op(system, "B").address, wallet=first, bankId=a.id):
        system.send(r.functions.openWallets(a.id, [(first, 1, PERSONAL, ZERO_ID)]), op(system, "B"))
    with reverts("NotBankOperator", caller=system.regulator.address):
        system.send(r.functions.openWallets(a.id, [(first, 1, PERSONAL, ZERO_ID)]), system.regulator)
    # nothing of the failed batches stuck
    assert record(r, first)["status"] == NONE
    assert token_state(system, first) == (NONE, 0)


def test_open_system_wallet(system: Any, reverts: Any) -> None:
    r = system.registry
    wallet = system.accounts[3].address
    receipt = system.send(r.functions.openSystemWallet(wallet), system.operator)
    assert events(r, "WalletOpened", receipt) == [
        {"wallet": wallet, "bankId": ZERO_ID, "tier": 1, "kind": SYSTEM, "accountHash": ZERO_ID}]
    assert record(r, wallet)["kind"] == SYSTEM
    assert token_state(system, wallet) == (ACTIVE, 6)
    with reverts("WalletAlreadyRegistered", wallet=wallet):
        system.send(r.functions.openSystemWallet(wallet), system.operator)
    with reverts("ZeroAddress"):
        system.send(r.functions.openSystemWallet(ZERO), system.operator)
    with reverts("NotNetworkOperator", caller=op(system).address):
        system.send(r.functions.openSystemWallet(Account.create().address), op(system))
    # no bank is its custodian: no bank operator can change it
    with reverts("NotCustodian", caller=op(system).address, wallet=wallet, bankId=ZERO_ID):
        system.send(r.functions.bindAccount(wallet, ACCOUNT_HASH), op(system))


# ---------------------------------------------------------------------------------------------- changes


def test_set_tier(system: Any, reverts: Any) -> None:
    r = system.registry
    a = system.banks["A"]
    wallet = open_wallet(system, tier=4)
    receipt = system.send(r.functions.setTier(wallet, 1), op(system, "A", 1))
    assert events(r, "WalletTierChanged", receipt) == [
        {"wallet": wallet, "bankId": a.id, "previousTier": 4, "tier": 1}]
    assert events(system.token, "WalletStateSet", receipt) == [{"wallet": wallet, "status": ACTIVE, "limitClass": 1}]
    assert record(r, wallet)["tier"] == 1
    assert token_state(system, wallet) == (ACTIVE, 1)
    # a frozen wallet changes class and stays frozen
    system.send(r.functions.freeze(wallet, 7), op(system))
    system.send(r.functions.setTier(wallet, 3), op(system))
    assert token_state(system, wallet) == (FROZEN, 3)

    for caller in (op(system, "B"), system.regulator, system.operator, system.accounts[0]):
        with reverts("NotCustodian", caller=caller.address, wallet=wallet, bankId=a.id):
            system.send(r.functions.setTier(wallet, 2), caller)
    for tier in (0, 5):
        with reverts("InvalidTier", wallet=wallet, tier=tier):
            system.send(r.functions.setTier(wallet, tier), op(system))
    merchant = open_wallet(system, kind=MERCHANT)
    with reverts("NotPersonalWallet", wallet=merchant, kind=MERCHANT):
        system.send(r.functions.setTier(merchant, 2), op(system))
    stranger = Account.create().address
    with reverts("WalletNotRegistered", wallet=stranger):
        system.send(r.functions.setTier(stranger, 2), op(system))


def test_bind_account(system: Any, reverts: Any) -> None:
    r = system.registry
    a = system.banks["A"]
    wallet = open_wallet(system)
    receipt = system.send(r.functions.bindAccount(wallet, ACCOUNT_HASH), op(system))
    assert events(r, "AccountBound", receipt) == [{"wallet": wallet, "bankId": a.id, "accountHash": ACCOUNT_HASH}]
    assert record(r, wallet)["accountHash"] == ACCOUNT_HASH
    system.send(r.functions.bindAccount(wallet, ZERO_ID), op(system))  # unbind
    assert record(r, wallet)["accountHash"] == ZERO_ID
    with reverts("NotCustodian", caller=op(system, "B").address, wallet=wallet, bankId=a.id):
        system.send(r.functions.bindAccount(wallet, ACCOUNT_HASH), op(system, "B"))
    stranger = Account.create().address
    with reverts("WalletNotRegistered", wallet=stranger):
        system.send(r.functions.bindAccount(stranger, ACCOUNT_HASH), op(system))


def test_suspended_bank_cannot_change_its_wallets(system: Any, reverts: Any) -> None:
    r = system.registry
    b = system.banks["B"]
    wallet = open_wallet(system, "B")
    govern(system, system.consortium, "suspendBank", b.id)
    caller = op(system, "B")
    with reverts("NotCustodian", caller=caller.address, wallet=wallet, bankId=b.id):
        system.send(r.functions.setTier(wallet, 1), caller)
    with reverts("NotCustodianOrRegulator", caller=caller.address, wallet=wallet):
        system.send(r.functions.freeze(wallet, 1), caller)
    # the regulator still can
    system.send(r.functions.freeze(wallet, 1), system.regulator)
    assert token_state(system, wallet) == (FROZEN, 2)


# ---------------------------------------------------------------------------------------------- freeze


def test_freeze_and_unfreeze_by_the_bank(system: Any, reverts: Any) -> None:
    r = system.registry
    a = system.banks["A"]
    wallet = open_wallet(system, tier=3)
    bank_op = op(system, "A", 1)
    receipt = system.send(r.functions.freeze(wallet, 42), bank_op)
    assert events(r, "WalletFrozen", receipt) == [
        {"wallet": wallet, "bankId": a.id, "by": bank_op.address, "reason": 42, "byRegulator": False}]
    assert events(system.token, "WalletStateSet", receipt) == [{"wallet": wallet, "status": FROZEN, "limitClass": 3}]
    assert record(r, wallet)["status"] == FROZEN
    assert record(r, wallet)["freezeReason"] == 42
    assert r.functions.isActive(wallet).call() is False
    assert token_state(system, wallet) == (FROZEN, 3)
    with reverts("WalletNotActive", wallet=wallet, status=FROZEN):
        system.send(r.functions.freeze(wallet, 43), op(system))
    # a bank's freeze is lifted by the bank, not by the regulator or another bank
    with reverts("NotCustodian", caller=system.regulator.address, wallet=wallet, bankId=a.id):
        system.send(r.functions.unfreeze(wallet), system.regulator)
    with reverts("NotCustodian", caller=op(system, "B").address, wallet=wallet, bankId=a.id):
        system.send(r.functions.unfreeze(wallet), op(system, "B"))
    receipt = system.send(r.functions.unfreeze(wallet), op(system))
    assert events(r, "WalletUnfrozen", receipt) == [{"wallet": wallet, "bankId": a.id, "by": op(system).address}]
    assert events(system.token, "WalletStateSet", receipt) == [{"wallet": wallet, "status": ACTIVE, "limitClass": 3}]
    assert record(r, wallet)["status"] == ACTIVE
    assert record(r, wallet)["freezeReason"] == 0
    assert token_state(system, wallet) == (ACTIVE, 3)
    with reverts("WalletNotFrozen", wallet=wallet):
        system.send(r.functions.unfreeze(wallet), op(system))


def test_freeze_errors(system: Any, reverts: Any) -> None:
    r = system.registry
    wallet = open_wallet(system)
    for caller in (op(system, "B"), system.operator, system.accounts[0]):
        with reverts("NotCustodianOrRegulator", caller=caller.address, wallet=wallet):
            system.send(r.functions.freeze(wallet, 1), caller)
    stranger = Account.create().address
    with reverts("WalletNotRegistered", wallet=stranger):
        system.send(r.functions.freeze(stranger, 1), system.regulator)
    with reverts("WalletNotRegistered", wallet=stranger):
        system.send(r.functions.unfreeze(stranger), system.regulator)


def test_regulator_freeze(system: Any, reverts: Any) -> None:
    r = system.registry
    a = system.banks["A"]
    wallet = open_wallet(system, tier=1)
    receipt = system.send(r.functions.freeze(wallet, 900), system.regulator)
    assert events(r, "WalletFrozen", receipt) == [
        {"wallet": wallet, "bankId": a.id, "by": system.regulator.address, "reason": 900, "byRegulator": True}]
    assert record(r, wallet)["frozenByRegulator"] is True
    assert token_state(system, wallet) == (FROZEN, 1)
    # only the regulator lifts it; the bank can neither unfreeze nor close the wallet
    with reverts("RegulatorFreeze", wallet=wallet):
        system.send(r.functions.unfreeze(wallet), op(system))
    with reverts("RegulatorFreeze", wallet=wallet):
        system.send(r.functions.closeWallet(wallet, REF), op(system))
    with reverts("WalletNotActive", wallet=wallet, status=FROZEN):
        system.send(r.functions.freeze(wallet, 901), system.regulator)
    with reverts("WalletNotActive", wallet=wallet, status=FROZEN):
        system.send(r.functions.freeze(wallet, 1), op(system))
    receipt = system.send(r.functions.unfreeze(wallet), system.regulator)
    assert events(r, "WalletUnfrozen", receipt) == [{"wallet": wallet, "bankId": a.id, "by": system.regulator.address}]
    assert record(r, wallet)["frozenByRegulator"] is False
    assert token_state(system, wallet) == (ACTIVE, 1)


def test_regulator_takes_over_a_bank_freeze(system: Any, reverts: Any) -> None:
    r = system.registry
    wallet = open_wallet(system)
    system.send(r.functions.freeze(wallet, 5), op(system))
    receipt = system.send(r.functions.freeze(wallet, 800), system.regulator)
    assert events(r, "WalletFrozen", receipt)[0]["byRegulator"] is True
    assert record(r, wallet)["frozenByRegulator"] is True
    assert record(r, wallet)["freezeReason"] == 800
    with reverts("RegulatorFreeze", wallet=wallet):
        system.send(r.functions.unfreeze(wallet), op(system))
    system.send(r.functions.unfreeze(wallet), system.regulator)
    assert token_state(system, wallet) == (ACTIVE, 2)


def test_regulator_can_freeze_a_system_wallet(system: Any) -> None:
    r = system.registry
    settlement = system.settlement.address
    system.send(r.functions.freeze(settlement, 3), system.regulator)
    assert token_state(system, settlement) == (FROZEN, 6)
    system.send(r.functions.unfreeze(settlement), system.regulator)
    assert token_state(system, settlement) == (ACTIVE, 6)


# ---------------------------------------------------------------------------------------------- closure


def test_close_wallet(system: Any, reverts: Any) -> None:
    r, token = system.registry, system.token
    a = system.banks["A"]
    wallet = open_wallet(system, tier=2, account_hash=ACCOUNT_HASH)
    system.send(token.functions.mint(wallet, 12_345, Web3.keccak(text="topup-1")), op(system))
    assert token.functions.balanceOf(wallet).call() == 12_345
    assert system.consortium.functions.netIssued(a.id).call() == 12_345
    receipt = system.send(r.functions.closeWallet(wallet, REF), op(system, "A", 1))
    assert events(r, "WalletClosed", receipt) == [{"wallet": wallet, "bankId": a.id, "redeemed": 12_345, "ref": REF}]
    assert events(token, "Burned", receipt) == [
        {"wallet": wallet, "bankId": a.id, "amount": 12_345, "ref": REF, "reason": WALLET_CLOSURE}]
    assert events(token, "WalletStateSet", receipt) == [{"wallet": wallet, "status": CLOSED, "limitClass": 2}]
    assert token.functions.balanceOf(wallet).call() == 0
    assert system.consortium.functions.netIssued(a.id).call() == 0  # redeemed for the bound account
    assert record(r, wallet)["status"] == CLOSED
    assert r.functions.isActive(wallet).call() is False
    assert token_state(system, wallet) == (CLOSED, 2)

    # a closed wallet is never changed or reopened
    for fn, args, caller in (("setTier", (wallet, 1), op(system)), ("bindAccount", (wallet, ZERO_ID), op(system)),
                             ("freeze", (wallet, 1), system.regulator), ("unfreeze", (wallet,), system.regulator),
                             ("closeWallet", (wallet, REF), op(system))):
        with reverts("WalletIsClosed", wallet=wallet):
            system.send(r.functions[fn](*args), caller)
    with reverts("WalletAlreadyRegistered", wallet=wallet):
        system.send(r.functions.openWallet(wallet, a.id, 1, PERSONAL, ZERO_ID), op(system))


def test_close_empty_and_bank_frozen_wallets(system: Any, reverts: Any) -> None:
    r = system.registry
    a = system.banks["A"]
    empty = open_wallet(system)
    receipt = system.send(r.functions.closeWallet(empty, REF), op(system))
    assert events(r, "WalletClosed", receipt) == [{"wallet": empty, "bankId": a.id, "redeemed": 0, "ref": REF}]
    # a bank's own freeze does not prevent closure
    frozen = open_wallet(system)
    system.send(system.token.functions.mint(frozen, 500, Web3.keccak(text="topup-2")), op(system))
    system.send(r.functions.freeze(frozen, 9), op(system))
    receipt = system.send(r.functions.closeWallet(frozen, REF), op(system))
    assert events(r, "WalletClosed", receipt)[0]["redeemed"] == 500
    assert record(r, frozen)["status"] == CLOSED
    assert record(r, frozen)["freezeReason"] == 0


def sign_hold(system: Any, holder: LocalAccount, value: int, hold_id: bytes, expires_at: int) -> tuple[Any, ...]:
    """The holder's EIP-712 Hold signature, as IDigitalCash documents the type."""
    signed = holder.sign_typed_data(
        domain_data={"name": system.token.functions.name().call(), "version": "1",
                     "chainId": system.w3.eth.chain_id, "verifyingContract": system.token.address},
        message_types={"Hold": [{"name": "holder", "type": "address"}, {"name": "value", "type": "uint256"},
                                {"name": "holdId", "type": "bytes32"}, {"name": "expiresAt", "type": "uint256"}]},
        message_data={"holder": holder.address, "value": value, "holdId": hold_id, "expiresAt": expires_at},
    )
    return signed.v, signed.r.to_bytes(32, "big"), signed.s.to_bytes(32, "big")


def test_close_wallet_fails_while_holds_are_outstanding(system: Any, reverts: Any) -> None:
    r, token = system.registry, system.token
    holder = Account.create()
    system.send(r.functions.openWallet(holder.address, system.banks["A"].id, 2, PERSONAL, ZERO_ID), op(system))
    system.send(token.functions.mint(holder.address, 1_000, Web3.keccak(text="topup-3")), op(system))
    hold_id = Web3.keccak(text="atm-hold-1")
    expires_at = system.w3.eth.get_block("latest")["timestamp"] + 600
    system.send(token.functions.placeHold(holder.address, 300, hold_id, expires_at,
                                          *sign_hold(system, holder, 300, hold_id, expires_at)), op(system))
    with reverts("HoldsOutstanding", wallet=holder.address, held=300):
        system.send(r.functions.closeWallet(holder.address, REF), op(system))
    assert record(r, holder.address)["status"] == ACTIVE
    system.send(token.functions.releaseHold(hold_id), op(system))
    receipt = system.send(r.functions.closeWallet(holder.address, REF), op(system))
    assert events(r, "WalletClosed", receipt)[0]["redeemed"] == 1_000


def test_close_wallet_errors(system: Any, reverts: Any) -> None:
    r = system.registry
    a = system.banks["A"]
    wallet = open_wallet(system)
    for caller in (op(system, "B"), system.regulator, system.operator):
        with reverts("NotCustodian", caller=caller.address, wallet=wallet, bankId=a.id):
            system.send(r.functions.closeWallet(wallet, REF), caller)
    stranger = Account.create().address
    with reverts("WalletNotRegistered", wallet=stranger):
        system.send(r.functions.closeWallet(stranger, REF), op(system))


# ---------------------------------------------------------------------------------------------- limits


def test_set_limits(system: Any, reverts: Any) -> None:
    r = system.registry
    receipt = system.send(r.functions.setLimits(4, (150_000, 60_000, 120_000)), system.operator)
    expected = {"limitClass": 4, "balanceCap": 150_000, "singlePaymentLimit": 60_000, "dailyOutflowLimit": 120_000}
    assert events(r, "LimitsSet", receipt) == [expected]
    assert events(system.token, "LimitsSet", receipt) == [expected]
    assert r.functions.limits(4).call() == (150_000, 60_000, 120_000)
    receipt = system.send(r.functions.setLimits(5, (UNLIMITED, 1_000_000, UNLIMITED)), system.operator)
    assert events(system.token, "LimitsSet", receipt)[0]["singlePaymentLimit"] == 1_000_000
    with reverts("NotNetworkOperator", caller=system.regulator.address):
        system.send(r.functions.setLimits(4, (1, 1, 1)), system.regulator)
    with reverts("NotNetworkOperator", caller=op(system).address):
        system.send(r.functions.setLimits(4, (1, 1, 1)), op(system))
    for bad in (0, 7, 255):
        with reverts("InvalidLimitClass", limitClass=bad):
            system.send(r.functions.setLimits(bad, (1, 1, 1)), system.operator)


def test_tier_limits_reach_the_token(system: Any, reverts: Any) -> None:
    """A tier-4 wallet takes at most its balance cap; after moving it to tier 3 it takes that tier's cap."""
    token = system.token
    wallet = open_wallet(system, tier=4)
    system.send(token.functions.mint(wallet, 100_000, Web3.keccak(text="t-1")), op(system))
    with reverts("BalanceCapExceeded", wallet=wallet, balanceAfter=100_001, cap=100_000):
        system.send(token.functions.mint(wallet, 1, Web3.keccak(text="t-2")), op(system))
    system.send(system.registry.functions.setTier(wallet, 3), op(system))
    system.send(token.functions.mint(wallet, 100_000, Web3.keccak(text="t-3")), op(system))
    assert token.functions.balanceOf(wallet).call() == 200_000
    with reverts("BalanceCapExceeded", wallet=wallet, balanceAfter=200_001, cap=200_000):
        system.send(token.functions.mint(wallet, 1, Web3.keccak(text="t-4")), op(system))


# ---------------------------------------------------------------------------------------------- upgrade


def test_upgrade_only_through_governance(system: Any, reverts: Any) -> None:
    w3: Web3 = system.w3
    r = system.registry
    wallet = open_wallet(system, tier=3, account_hash=ACCOUNT_HASH)
    system.send(r.functions.setLimits(2, (2_000_000, 600_000, 1_500_000)), system.operator)
    before = record(r, wallet)
    artifact = load_artifact("WalletRegistry")
    new_impl = deploy_bytecode(w3, system.operator, artifact["abi"], artifact["bytecode"])
    for caller in (system.operator, op(system), system.regulator):
        with reverts("NotConsortium", caller=caller.address):
            system.send(r.functions.upgradeToAndCall(new_impl, b""), caller)
    govern(system, r, "upgradeToAndCall", new_impl, b"")
    assert Web3.to_checksum_address(w3.eth.get_storage_at(r.address, IMPLEMENTATION_SLOT)[-20:]) == new_impl
    assert record(r, wallet) == before
    assert r.functions.limits(2).call() == (2_000_000, 600_000, 1_500_000)
    assert r.functions.token().call() == system.token.address
    assert r.functions.consortium().call() == system.consortium.address
    # still working after the upgrade
    system.send(r.functions.setTier(wallet, 1), op(system))
    assert token_state(system, wallet) == (ACTIVE, 1)
