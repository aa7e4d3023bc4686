"""Money reaches MerchantSettlement only as an order payment: a direct transfer, a relayed transfer or
an EIP-3009 transfer addressed to it would credit no merchant and strand the funds, so each is refused."""

from __future__ import annotations

from typing import Any

from token_support import auth_args, balance, events, funded_wallet, op, relayed, supply


def test_direct_transfer_to_settlement_is_refused(system: Any, reverts: Any) -> None:
    payer = funded_wallet(system, 50_000, holder=system.accounts[0])
    settlement = system.settlement.address
    with reverts("DirectTransferToSettlement", **{"from": payer.address}):
        system.send(system.token.functions.transfer(settlement, 1_000), payer)
    # transferFrom with an allowance is the same movement
    spender = system.accounts[1]
    system.send(system.token.functions.approve(spender.address, 1_000), payer)
    with reverts("DirectTransferToSettlement", **{"from": payer.address}):
        system.send(system.token.functions.transferFrom(payer.address, settlement, 1_000), spender)
    assert balance(system, payer) == 50_000
    assert balance(system, settlement) == 0
    assert system.settlement.functions.totalPending().call() == 0


def test_signed_transfers_to_settlement_are_refused(system: Any, reverts: Any) -> None:
    payer = funded_wallet(system, 50_000)
    settlement = system.settlement
    args = auth_args(system, payer, settlement.address, 1_000)
    with reverts("DirectTransferToSettlement", **{"from": payer.address}):
        system.send(system.token.functions.transferWithAuthorization(*args), system.accounts[0])
    # In a relay batch the item fails alone and is reported; the good item beside it goes through.
    other = funded_wallet(system, 0, bank="B")
    receipt = system.send(system.token.functions.relayTransfers([
        relayed(system, payer, settlement.address, 1_000, nonce=1),
        relayed(system, payer, other, 2_000, nonce=2),
    ]), op(system))
    failures = events(system.token, "RelayFailed", receipt)
    assert [f["index"] for f in failures] == [0]
    assert bytes(failures[0]["reason"])[:4] == system.w3.keccak(text="DirectTransferToSettlement(address)")[:4]
    assert balance(system, payer) == 48_000 and balance(system, other) == 2_000
    assert balance(system, settlement.address) == 0
    assert supply(system) == 50_000
