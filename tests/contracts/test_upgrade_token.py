"""DigitalCash upgraded through governance keeps balances, holds, limits and nonces."""

from __future__ import annotations

from typing import Any

from token_support import (
    HELD,
    auth_args,
    balance,
    funded_wallet,
    held,
    hold_args,
    op,
    open_wallet,
    relayed,
    set_limits,
    supply,
    wallet_state,
)
from web3 import Web3

from wallet_sdk._tx import deploy_bytecode
from wallet_sdk.artifacts import load_artifact


def _propose_and_execute(system: Any, target: str, data: bytes) -> Any:
    c = system.consortium
    receipt = system.send(c.functions.propose(target, data, "upgrade DigitalCash"), system.operator)
    pid = c.events.ProposalCreated().process_receipt(receipt)[0]["args"]["proposalId"]
    for code in ("A", "B"):  # threshold 2 of the fixture's 3 banks
        system.send(c.functions.approve(pid), system.banks[code].operators[0])
    return system.send(c.functions.execute(pid), system.accounts[0])


def test_upgrade_keeps_state_and_adds_behaviour(system: Any, reverts: Any) -> None:
    token = system.token
    # State worth keeping: balances, a spent daily allowance, a hold, used nonces of both kinds, custom limits.
    alice = funded_wallet(system, 400_000, tier=2)
    bob = open_wallet(system, "B", tier=2)
    set_limits(system, 2, 1_000_000, 300_000, 700_000)
    used = auth_args(system, alice, bob, 10_000)
    system.send(token.functions.transferWithAuthorization(*used), system.accounts[0])
    system.send(token.functions.relayTransfers([relayed(system, alice, bob, 5_000, nonce=77)]), op(system))
    hold = hold_args(system, alice, 20_000)
    system.send(token.functions.placeHold(*hold), op(system))
    hold_id = hold[2]

    before = {
        "alice": balance(system, alice), "bob": balance(system, bob), "held": held(system, alice),
        "supply": supply(system), "state": wallet_state(system, alice),
        "bitmap": token.functions.nonceBitmap(alice.address, 0).call(),
        "allowance": token.functions.remainingDailyAllowance(alice.address).call(),
    }
    assert before["alice"] == 365_000 and before["bob"] == 15_000 and before["held"] == 20_000
    assert before["allowance"] == 700_000 - 35_000

    impl_artifact = load_artifact("DigitalCashV2", test=True)
    v2 = deploy_bytecode(system.w3, system.operator, impl_artifact["abi"], impl_artifact["bytecode"])
    data = \
        Web3.to_bytes(hexstr=token.encode_abi("upgradeToAndCall", args=[v2, b""]))

    # Nobody but governance may upgrade: not the network operator, not a bank.
    for who in (system.operator, op(system)):
        with reverts("NotGovernance", caller=who.address):
            system.send(token.functions.upgradeToAndCall(v2, b""), who)

    receipt = _propose_and_execute(system, token.address, data)
    upgraded = token.events.Upgraded().process_receipt(receipt)
    assert [e["args"]["implementation"] for e in upgraded] == [v2]

    upgraded_token = system.w3.eth.contract(address=token.address, abi=impl_artifact["abi"])
    assert upgraded_token.functions.implementationVersion().call() == 2
    # Every piece of state is where it was.
    assert balance(system, alice) == before["alice"]
    assert balance(system, bob) == before["bob"]
    assert held(system, alice) == before["held"]
    assert supply(system) == before["supply"]
    assert wallet_state(system, alice) == before["state"]
    assert token.functions.nonceBitmap(alice.address, 0).call() == before["bitmap"] == 1 << 77
    assert token.functions.authorizationState(alice.address, used[5]).call() is True
    assert token.functions.holdOf(hold_id).call()[3] == HELD
    assert token.functions.remainingDailyAllowance(alice.address).call() == before["allowance"]
    # ... and still enforced: replays are refused, the custom single-payment limit holds.
    with reverts("AuthorizationAlreadyUsed", authorizer=alice.address, nonce=used[5]):
        system.send(token.functions.transferWithAuthorization(*used), system.accounts[0])
    with reverts("SinglePaymentLimitExceeded", wallet=alice.address, amount=300_001, limit=300_000):
        system.send(token.functions.transferWithAuthorization(*auth_args(system, alice, bob, 300_001)),
                     system.accounts[0])
    # The hold is still capturable, and the new state works beside the old.
    system.send(token.functions.captureHold(hold_id, b"\x01" * 32), op(system))
    assert held(system, alice) == 0 and supply(system) == before["supply"] - 20_000
    assert upgraded_token.functions.marker().call() == 0
    system.send(upgraded_token.functions.setMarker(5), system.operator)
    assert upgraded_token.functions.marker().call() == 5
    assert balance(system, alice) == before["alice"]
