"""DigitalCash bank relay batch: signed RelayedTransfers with Permit2-style bitmap nonces; a failing item
is reported in RelayFailed (with the custom error's revert data) and the others go through."""

from __future__ import annotations

from typing import Any

from token_support import (
    FROZEN,
    NONE,
    balance,
    events,
    freeze,
    funded_wallet,
    mint,
    now,
    op,
    open_wallet,
    pause,
    reason_of,
    relayed,
    set_limits,
    wallet_state,
)


def bitmap(system: Any, who: Any, word: int) -> int:
    return int(system.token.functions.nonceBitmap(who.address, word).call())


def test_relay_batch_with_good_and_bad_items(system: Any) -> None:
    t = system.token
    alice = funded_wallet(system, 100_000)
    bob = funded_wallet(system, 1_000_000, tier=2)  # single 5,000.00
    carol = funded_wallet(system, 5_000, bank="B")
    frozen = funded_wallet(system, 5_000)
    freeze(system, frozen)
    shop = open_wallet(system, "B")
    stranger = system.new_wallet()
    nonce_big = 2**200 + 7  # any uint256 is a valid nonce

    items = [
        relayed(system, alice, shop, 1_000, 0),  # 0 ok
        relayed(system, alice, shop, 2_000, 0),  # 1 same nonce again: UnorderedNonceUsed
        relayed(system, bob, shop, 500_001, 1),  # 2 over bob's single-payment limit
        relayed(system, stranger, shop, 10, 5, from_=carol.address),  # 3 not carol's signature
        relayed(system, carol, shop, 4_000, nonce_big),  # 4 ok
        relayed(system, carol, shop, 1_001, 9),  # 5 carol has 1,000 left
        relayed(system, frozen, shop, 1, 3),  # 6 frozen sender
        relayed(system, alice, stranger, 1, 1),  # 7 unregistered receiver
        relayed(system, alice, shop, 1, 2, valid_before=now(system) - 1),  # 8 expired
        relayed(system, bob, alice, 500_000, 256),  # 9 ok (second bitmap word)
    ]
    relayer = op(system, "B")  # any active bank may relay
    assert t.functions.relayTransfers(items).call({"from": relayer.address}) == 3
    receipt = system.send(t.functions.relayTransfers(items), relayer)

    assert balance(system, shop) == 5_000
    assert balance(system, alice) == 100_000 - 1_000 + 500_000
    assert balance(system, bob) == 500_000
    assert balance(system, carol) == 1_000
    assert balance(system, frozen) == 5_000
    assert events(t, "Transfer", receipt) == [
        {"from": alice.address, "to": shop.address, "value": 1_000},
        {"from": carol.address, "to": shop.address, "value": 4_000},
        {"from": bob.address, "to": alice.address, "value": 500_000},
    ]
    failed = events(t, "RelayFailed", receipt)
    assert [(f["index"], f["from"], f["nonce"]) for f in failed] == [
        (1, alice.address, 0), (2, bob.address, 1), (3, carol.address, 5), (5, carol.address, 9),
        (6, frozen.address, 3), (7, alice.address, 1), (8, alice.address, 2)]
    assert [reason_of(f) for f in failed] == [
        ("UnorderedNonceUsed", {"owner": alice.address, "nonce": 0}),
        ("SinglePaymentLimitExceeded", {"wallet": bob.address, "amount": 500_001, "limit": 500_000}),
        ("InvalidSignature", {"expectedSigner": carol.address}),
        ("ERC20InsufficientBalance", {"sender": carol.address, "balance": 1_000, "needed": 1_001}),
        ("WalletNotActive", {"wallet": frozen.address, "status": FROZEN}),
        ("WalletNotActive", {"wallet": stranger.address, "status": NONE}),
        ("AuthorizationExpired", {"validBefore": items[8][3]}),
    ]
    # only successful items used their nonces
    assert bitmap(system, alice, 0) == 0b1
    assert bitmap(system, carol, nonce_big >> 8) == 1 << (nonce_big & 0xFF)
    assert bitmap(system, carol, 0) == 0
    assert bitmap(system, bob, 0) == 0 and bitmap(system, bob, 1) == 0b1
    assert bitmap(system, frozen, 0) == 0
    # a failed item's nonce stays usable: the same signed transfer goes through once it can
    mint(system, carol, 1, "B")
    receipt = system.send(t.functions.relayTransfers([items[5]]), relayer)
    assert events(t, "RelayFailed", receipt) == []
    assert balance(system, carol) == 0 and balance(system, shop) == 6_001


def test_relay_counts_outflow_and_limits_across_items(system: Any) -> None:
    t = system.token
    set_limits(system, 4, 1_000_000, 50_000, 100_000)  # a roomier cap: only the daily limit binds
    payer = funded_wallet(system, 200_000, tier=4)
    shop = open_wallet(system, "B")
    items = [relayed(system, payer, shop, 40_000, n) for n in range(3)]
    receipt = system.send(t.functions.relayTransfers(items), op(system))
    failed = events(t, "RelayFailed", receipt)
    assert [f["index"] for f in failed] == [2]
    assert reason_of(failed[0]) == ("DailyOutflowLimitExceeded", {
        "wallet": payer.address, "spentToday": 80_000, "amount": 40_000, "limit": 100_000})
    assert wallet_state(system, payer)[3] == 80_000
    assert balance(system, shop) == 80_000


def test_relay_only_by_active_bank_operators(system: Any, reverts: Any) -> None:
    t = system.token
    payer = funded_wallet(system, 1_000)
    items = [relayed(system, payer, open_wallet(system), 1, 0)]
    for caller in (system.operator, system.regulator, system.accounts[0]):
        with reverts("NotBankOperator", caller=caller.address):
            system.send(t.functions.relayTransfers(items), caller)


def test_relay_paused_reverts_the_whole_batch(system: Any, reverts: Any) -> None:
    t = system.token
    payer = funded_wallet(system, 1_000)
    items = [relayed(system, payer, open_wallet(system), 1, 0)]
    pause(system)
    with reverts("EnforcedPause"):
        system.send(t.functions.relayTransfers(items), op(system))


def test_relay_empty_batch(system: Any) -> None:
    t = system.token
    assert t.functions.relayTransfers([]).call({"from": op(system).address}) == 0
    receipt = system.send(t.functions.relayTransfers([]), op(system))
    assert receipt["status"] == 1
