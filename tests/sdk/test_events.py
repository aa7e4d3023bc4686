"""Events: decoded, in chain order, over block ranges in chunks; follow() from checkpoints with no duplicate and
no gap across restarts (also mid-block), confirmations, live polling, and a node that limits log ranges."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from hexbytes import HexBytes
from web3 import HTTPProvider, Web3
from web3.exceptions import Web3RPCError

from wallet_sdk.authorizations import TransferAuthorization, new_nonce
from wallet_sdk.chain.events import (
    Event,
    EventPosition,
    UnknownEventError,
    decode_receipt,
    event_names,
    follow,
    iter_events,
)
from wallet_sdk.chain.network import Network
from wallet_sdk.chain.operators import BankOperator
from wallet_sdk.chain.types import BurnReason, WalletKind
from wallet_sdk.keys import WalletKey

BANK_A = b"BANKA".ljust(32, b"\0")


@pytest.fixture
def network(system: Any) -> Network:
    return Network.from_web3(system.w3, system.deployment)


@pytest.fixture
def bank(network: Network, system: Any) -> BankOperator:
    return network.bank_operator(system.banks["A"].operators[0])


def rpc(w3: Web3, method: str, *params: Any) -> Any:
    return w3.provider.make_request(method, list(params)).get("result")  # type: ignore[arg-type]


def activity(network: Network, bank: BankOperator, rounds: int = 2) -> list[WalletKey]:
    """Some wallets opened, funded and paying each other (several events per transaction)."""
    keys = []
    for _ in range(rounds):
        a, b = WalletKey.create(), WalletKey.create()
        bank.open_wallet(a)
        bank.open_wallet(b)
        bank.mint(a, 10_000, new_nonce())
        deadline = int(network.w3.eth.get_block("latest")["timestamp"]) + 600
        bank.transfer_with_authorization(
            TransferAuthorization(from_=a.address, to=b.address, value=2_500, valid_before=deadline)
            .sign(a, network.domain()))
        keys += [a, b]
    return keys


def keys_of(events: list[Event]) -> list[tuple[int, int]]:
    return [e.position for e in events]


def test_decoded_events_in_chain_order(network: Network, bank: BankOperator, system: Any) -> None:
    start = network.block_number + 1
    alice, bob = activity(network, bank, rounds=1)
    events = list(iter_events(network, start))
    assert [(e.contract, e.name) for e in events] == [
        ("WalletRegistry", "WalletOpened"), ("DigitalCash", "WalletStateSet"),
        ("WalletRegistry", "WalletOpened"), ("DigitalCash", "WalletStateSet"),
        ("DigitalCash", "Transfer"), ("Consortium", "IssuanceRecorded"), ("DigitalCash", "Minted"),
        ("DigitalCash", "AuthorizationUsed"), ("DigitalCash", "Transfer"),
    ]
    assert keys_of(events) == sorted(keys_of(events))
    assert len(set(keys_of(events))) == len(events)
    opened = events[0]
    assert opened.args == {"wallet": alice.address, "bankId": BANK_A, "tier": 1, "kind": WalletKind.PERSONAL,
                           "accountHash": bytes(32)}
    assert opened["kind"] is WalletKind.PERSONAL
    assert opened.address == system.registry.address
    receipt = network.w3.eth.get_transaction_receipt(HexBytes(opened.tx_hash))
    assert receipt["blockNumber"] == opened.block_number
    assert opened.block_hash == receipt["blockHash"].to_0x_hex()
    assert events[5].args == {"bankId": BANK_A, "delta": 10_000, "netIssued": 10_000}
    assert events[-1].args == {"from": alice.address, "to": bob.address, "value": 2_500}
    assert "Transfer(from=" in repr(events[-1])


def test_raw_logs_and_web3_receipts_decode_alike(network: Network, bank: BankOperator) -> None:
    """iter_events decodes the node's raw JSON logs; decode_receipt decodes web3's formatted ones: same events,
    same value types."""
    start = network.block_number + 1
    activity(network, bank, rounds=1)
    events = list(iter_events(network, start))
    hashes = sorted({e.tx_hash for e in events})
    from_receipts = sorted((e for h in hashes
                            for e in decode_receipt(network, network.w3.eth.get_transaction_receipt(HexBytes(h)))),
                           key=lambda e: e.position)
    assert from_receipts == events
    for raw, formatted in zip(events, from_receipts, strict=True):
        assert raw.block_hash == formatted.block_hash != ""
        assert [type(v) for v in raw.args.values()] == [type(v) for v in formatted.args.values()]
    transfer = events[-1]
    assert transfer.name == "Transfer" and transfer.tx_hash == transfer.tx_hash.lower()
    assert transfer.address == network.token.address  # checksummed, as web3 gives it


def test_everything_since_deployment_by_default(network: Network, system: Any) -> None:
    events = list(iter_events(network))
    assert events[0].block_number >= system.deployment.block
    names = {e.name for e in events}
    assert {"BankAdded", "OperatorAdded", "IssuerSet", "TokenSet", "SettlementSet", "LimitsSet"} <= names
    limits = [e for e in events if e.name == "LimitsSet"]
    assert {e.contract for e in limits} == {"WalletRegistry", "DigitalCash"}


def test_filters(network: Network, bank: BankOperator, system: Any) -> None:
    start = network.block_number + 1
    alice, bob, carol, dave = activity(network, bank)
    everything = list(iter_events(network, start))
    transfers = list(iter_events(network, start, None, ["Transfer"]))
    assert transfers == [e for e in everything if e.name == "Transfer"]
    only_registry = list(iter_events(network, start, contracts=["WalletRegistry"]))
    assert only_registry == [e for e in everything if e.contract == "WalletRegistry"]
    to_bob = list(iter_events(network, start, names=["Transfer"], indexed={"to": bob}))
    assert [e.args for e in to_bob] == [{"from": alice.address, "to": bob.address, "value": 2_500}]
    minted = list(iter_events(network, start, names=["Minted"], indexed={"wallet": [alice.address, carol.address]}))
    assert [e["wallet"] for e in minted] == [alice.address, carol.address]
    by_bank = list(iter_events(network, start, names=["WalletOpened"], indexed={"bankId": BANK_A}))
    assert [e["wallet"] for e in by_bank] == [alice.address, bob.address, carol.address, dave.address]
    assert list(iter_events(network, start, names=["Burned"])) == []
    assert list(iter_events(network, 0, system.deployment.block - 1)) == []  # before the deployment
    assert list(iter_events(network, start, start - 1)) == []


def test_chunking_gives_the_same_events(network: Network, bank: BankOperator) -> None:
    start = network.block_number + 1
    activity(network, bank, rounds=3)
    whole = list(iter_events(network, start))
    assert list(iter_events(network, start, chunk_size=1)) == whole
    assert list(iter_events(network, start, chunk_size=4)) == whole
    middle = whole[len(whole) // 2].block_number
    assert list(iter_events(network, start, middle - 1)) + list(iter_events(network, middle)) == whole


class RefusingProvider(HTTPProvider):
    """A node that refuses every eth_getLogs for a reason other than the range's size (anvil so refuses a range
    beyond its head, where ganache answers with no logs: a real refusal common to both is not at hand)."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.log_requests = 0

    def make_request(self, method: Any, params: Any) -> Any:
        if method == "eth_getLogs":
            self.log_requests += 1
            return {"jsonrpc": "2.0", "id": 1,
                    "error": {"code": -32602, "message": "BlockOutOfRangeError: block height is 7 but requested was 9"}}
        return super().make_request(method, params)


def test_bad_selections(network: Network, devnet: Any) -> None:
    with pytest.raises(UnknownEventError) as caught:
        list(iter_events(network, 0, 1, ["Transferred"]))
    assert caught.value.name == "Transferred"
    with pytest.raises(UnknownEventError):
        list(iter_events(network, 0, 1, "Transfer"))  # one name, not a list of names
    with pytest.raises(UnknownEventError):
        list(iter_events(network, 0, 1, ["Minted"], contracts=["WalletRegistry"]))
    with pytest.raises(UnknownEventError):
        list(iter_events(network, 0, 1, contracts=["Token"]))
    with pytest.raises(UnknownEventError):  # value is not indexed
        list(iter_events(network, 0, 1, ["Transfer"], indexed={"value": 5}))
    with pytest.raises(UnknownEventError):  # indexed at different positions in the selected events
        list(iter_events(network, 0, 1, ["Minted", "HoldPlaced"], indexed={"holder": "0x" + "11" * 20}))
    if devnet.implementation == "anvil":  # anvil refuses a range beyond its head; ganache answers with no logs
        with pytest.raises(Web3RPCError):
            list(iter_events(network, network.block_number + 100, network.block_number + 200))
    refusing = RefusingProvider(devnet.rpc_url)
    with pytest.raises(Web3RPCError, match="BlockOutOfRangeError"):  # the node's own refusals pass through...
        list(iter_events(Network.from_web3(Web3(refusing), network.deployment), 0, 50, chunk_size=100))
    assert refusing.log_requests == 1  # ...as they are: not split like a range the node finds too large
    with pytest.raises(ValueError):
        list(iter_events(network, 0, 1, chunk_size=0))
    with pytest.raises(ValueError):
        list(iter_events(network, -5, 1))
    with pytest.raises(ValueError):
        next(follow(network, "12"))  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        next(follow(network, 1, confirmations=-1))
    with pytest.raises(UnknownEventError):
        next(follow(network, 1, names=["Nope"]))
    assert "Minted" in event_names("DigitalCash")
    assert "Minted" not in event_names("Consortium")
    assert set(event_names()) >= {"Minted", "BankAdded", "WalletOpened", "OrderPaid"}


def test_follow_resumes_without_duplicates_or_gaps(network: Network, bank: BankOperator) -> None:
    checkpoint = network.block_number
    activity(network, bank)
    first_head = network.block_number
    seen = list(follow(network, checkpoint, until=first_head, poll_interval=0.01))
    assert seen and seen[-1].block_number <= first_head

    activity(network, bank)  # more events while "the indexer is down"
    resumed = list(follow(network, seen[-1].position, until=network.block_number, poll_interval=0.01))
    assert resumed[0].position > seen[-1].position
    assert seen + resumed == list(iter_events(network, checkpoint + 1))

    # a restart from a block-number checkpoint: every event after that block, none before
    by_block = list(follow(network, first_head, until=network.block_number, poll_interval=0.01))
    assert by_block == [e for e in seen + resumed if e.block_number > first_head]


def test_follow_resumes_in_the_middle_of_a_block(network: Network, bank: BankOperator) -> None:
    checkpoint = network.block_number
    activity(network, bank)
    expected = list(iter_events(network, checkpoint + 1))
    mint_block = next(e for e in expected if e.name == "Minted").block_number
    in_block = [e for e in expected if e.block_number == mint_block]
    assert len(in_block) == 3  # Transfer, IssuanceRecorded, Minted

    collected: list[Event] = []
    for event in follow(network, checkpoint, until=network.block_number, poll_interval=0.01):
        collected.append(event)
        if event == in_block[0]:
            break  # "crash" after the first of the three events of that block
    resumed = list(follow(network, collected[-1], until=network.block_number, poll_interval=0.01))
    assert resumed[:2] == in_block[1:]
    assert collected + resumed == expected


def test_follow_waits_for_confirmations(network: Network, bank: BankOperator) -> None:
    checkpoint = network.block_number
    activity(network, bank, rounds=1)
    head = network.block_number
    scanned: list[int] = []
    early = list(follow(network, checkpoint, confirmations=3, until=head - 3, poll_interval=0.01,
                        on_scanned=scanned.append))
    assert all(e.block_number <= head - 3 for e in early)
    assert scanned == [head - 3]
    for _ in range(3):
        rpc(network.w3, "evm_mine")
    late = list(follow(network, head - 3, confirmations=3, until=head, poll_interval=0.01))
    assert early + late == list(iter_events(network, checkpoint + 1, head))


def test_follow_polls_live_until_stopped(network: Network, bank: BankOperator, system: Any) -> None:
    checkpoint = network.block_number
    stop = threading.Event()
    collected: list[Event] = []
    scanned: list[int] = []
    errors: list[BaseException] = []

    def indexer() -> None:
        try:
            for event in follow(network, checkpoint, poll_interval=0.02, stop=stop, on_scanned=scanned.append):
                collected.append(event)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=indexer)
    thread.start()
    try:
        activity(network, bank)
        head = network.block_number
        for _ in range(500):  # bounded wait for the poller to catch up (wall time, not chain time)
            if scanned and scanned[-1] >= head:
                break
            stop.wait(0.02)
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()
    assert errors == []
    assert collected == list(iter_events(network, checkpoint + 1, head))
    assert scanned == sorted(scanned)


class RangeLimitedProvider(HTTPProvider):
    """A node that refuses eth_getLogs over more than ``limit`` blocks, as public RPC nodes do."""

    def __init__(self, url: str, limit: int) -> None:
        super().__init__(url)
        self.limit = limit
        self.log_requests: list[tuple[int, int]] = []

    def make_request(self, method: Any, params: Any) -> Any:
        if method == "eth_getLogs":
            first, last = int(params[0]["fromBlock"], 16), int(params[0]["toBlock"], 16)
            self.log_requests.append((first, last))
            if last - first + 1 > self.limit:
                return {"jsonrpc": "2.0", "id": 1,
                        "error": {"code": -32005, "message": f"query exceeds max block range {self.limit}"}}
        return super().make_request(method, params)


def test_ranges_the_node_refuses_are_split(network: Network, bank: BankOperator, devnet: Any,
                                           system: Any) -> None:
    start = network.block_number + 1
    activity(network, bank, rounds=2)
    expected = list(iter_events(network, start))
    provider = RangeLimitedProvider(devnet.rpc_url, limit=3)
    limited = Network.from_web3(Web3(provider), system.deployment)
    assert list(iter_events(limited, start, chunk_size=100)) == expected
    sizes = [last - first + 1 for first, last in provider.log_requests]
    assert sizes[0] > 3  # asked for the whole range, refused...
    assert min(sizes) <= 3  # ...and split until the node answered


def test_burn_reason_is_an_enum(network: Network, bank: BankOperator) -> None:
    start = network.block_number + 1
    key = WalletKey.create()
    bank.open_wallet(key)
    bank.mint(key, 100, new_nonce())
    bank.close_wallet(key, "close")
    burned = list(iter_events(network, start, names=["Burned"]))
    assert [(e["amount"], e["reason"]) for e in burned] == [(100, BurnReason.WALLET_CLOSURE)]
    assert [e["redeemed"] for e in iter_events(network, start, names=["WalletClosed"])] == [100]
    assert isinstance(burned[0].position, EventPosition)
