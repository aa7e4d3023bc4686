"""Indexer catch-up: a fresh chain pre-filled with at least ``events`` events, then indexed from scratch by the
node's indexer (node.indexer.service, network scope, as a new bank node or a rebuilt database would) into a fresh
SQLite database; reports events per second.

The chain is filled the quick way, straight through the contracts with a bank operator's key: wallets opened
in batches of 50 (WalletOpened), one mint each (Transfer + Minted), then batches of 100 relayed transfers
(Transfer each) sent without waiting for each receipt.
"""

from __future__ import annotations

import secrets
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3

from bench import ratio
from bench.signing import Signer
from node.db import create_engine, session_factory, upgrade
from node.indexer.service import Indexer, IndexerConfig, IndexerRound, IndexScope
from tools.devnet import Devnet
from wallet_sdk._tx import send_call
from wallet_sdk.authorizations import relay_nonce
from wallet_sdk.chain.network import Network
from wallet_sdk.deploy import BankConfig, NetworkConfig, bank_id, deploy
from wallet_sdk.keys import WalletKey

__all__ = ["CatchUpResult", "deploy_one_bank", "fill_chain", "run_catchup", "send_many"]

OPEN_BATCH = 50
RELAY_BATCH = 100
RELAY_GAS = 12_000_000  # a batch of 100 uses ~4.5M; a fixed limit skips the estimate of every batch
MINT = 1_000_000


@dataclass
class CatchUpResult:
    target_events: int
    events: int  # the events the indexer applied
    blocks: int
    fill_seconds: float
    index_seconds: float
    rounds: int

    @property
    def events_per_s(self) -> float:
        return ratio(self.events, self.index_seconds)


def send_many(w3: Web3, sender: LocalAccount, calls: list[Any], gas: int) -> list[str]:
    """Sign and broadcast every call with consecutive nonces (automine mines each on arrival), then check every
    receipt's status from the raw JSON-RPC answer (web3's formatting of 100 logs a receipt would cost more than
    the fill itself)."""
    nonce = w3.eth.get_transaction_count(sender.address, "pending")
    price = w3.eth.gas_price * 2
    chain_id = w3.eth.chain_id
    hashes = []
    for i, call in enumerate(calls):  # encoded and signed here: web3's build_transaction formats far more
        tx = {"to": call.address, "data": call._encode_transaction_data(), "value": 0, "nonce": nonce + i,
              "gas": gas, "gasPrice": price, "chainId": chain_id}
        hashes.append(w3.eth.send_raw_transaction(sender.sign_transaction(tx).raw_transaction))
    if hashes:
        w3.eth.wait_for_transaction_receipt(hashes[-1], timeout=120)
    for h in hashes:
        receipt = w3.provider.make_request("eth_getTransactionReceipt", ["0x" + h.hex()])  # type: ignore[arg-type]
        if (receipt.get("result") or {}).get("status") != "0x1":
            raise RuntimeError(f"fill transaction 0x{h.hex()} failed: {receipt}")
    return ["0x" + h.hex() for h in hashes]


def deploy_one_bank(devnet: Devnet) -> tuple[Web3, LocalAccount, Network]:
    """The contracts on ``devnet`` with one bank, BANKA, whose operator (returned) fills the chain."""
    w3 = Web3(Web3.HTTPProvider(devnet.rpc_url, request_kwargs={"timeout": 120}))
    keys = [Account.from_key(a.private_key) for a in devnet.accounts]
    operator, regulator, bank = keys[0], keys[1], keys[2]
    deployment = deploy(w3, operator, NetworkConfig(
        network_operator=operator.address, regulator=regulator.address, threshold=1,
        banks=[BankConfig("BANKA", "Bank A", [bank.address], quota=10**15)]))
    return w3, bank, Network.connect(devnet.rpc_url, deployment, timeout=120.0)


def fill_chain(devnet: Devnet, events: int, payers: int = 200) -> tuple[Network, int]:
    """Deploy on ``devnet`` and fill it with at least ``events`` indexable events; the network and how many
    events were made."""
    w3, bank, network = deploy_one_bank(devnet)
    registry, token = network.contract("WalletRegistry"), network.token
    wallets = [WalletKey.create() for _ in range(max(2, min(payers, events // 4)))]
    made = 0
    openings = [(str(k.address), 1, 0, secrets.token_bytes(32)) for k in wallets]
    send_many(w3, bank, [registry.functions.openWallets(bank_id("BANKA"), openings[i:i + OPEN_BATCH])
                          for i in range(0, len(openings), OPEN_BATCH)], 15_000_000)
    made += len(wallets)
    send_many(w3, bank, [token.functions.mint(str(k.address), MINT, secrets.token_bytes(32)) for k in wallets],
               500_000)
    made += 2 * len(wallets)
    signer = Signer(network.domain())
    valid_before = network.now() + 86_400
    words = [secrets.randbits(64) for _ in wallets]
    count, batches = 0, []
    relays = max(0, events - made)
    for start in range(0, relays, RELAY_BATCH):
        items = []
        for _ in range(min(RELAY_BATCH, relays - start)):
            n = count % len(wallets)
            payer, payee = wallets[n], wallets[(n + 1) % len(wallets)]
            bit = count // len(wallets)
            items.append(signer.relay_item(payer, str(payee.address), 1, valid_before,
                                           relay_nonce(words[n] + bit // 256, bit % 256)))
            count += 1
        batches.append(token.functions.relayTransfers(items))
    if batches:
        send_call(w3, bank, batches[0])  # the first alone, estimated: fails loudly if a batch cannot go
        send_many(w3, bank, batches[1:], RELAY_GAS)
    return network, made + count


def run_catchup(events: int = 50_000, progress: Any = lambda _: None) -> CatchUpResult:
    """Fill a fresh chain with ``events`` events and index it from block 0 of the deployment into a fresh DB."""
    with Devnet(accounts=4) as devnet, tempfile.TemporaryDirectory(prefix="walletnet-index-") as tmp:
        start = time.perf_counter()
        network, made = fill_chain(devnet, events)
        fill_seconds = time.perf_counter() - start
        progress(f"filled the chain with {made:,} events in {fill_seconds:.1f} s")
        engine = create_engine(f"sqlite:///{Path(tmp) / 'index.sqlite3'}")
        try:
            upgrade(engine)
            indexer = Indexer(network, session_factory(engine), IndexerConfig(scope=IndexScope.NETWORK,
                                                                              confirmations=1))
            rounds: list[IndexerRound] = []
            start = time.perf_counter()
            indexer.run_once(after_round=rounds.append)
            index_seconds = time.perf_counter() - start
        finally:
            engine.dispose()
        blocks = network.block_number - network.deployment.block
        return CatchUpResult(events, sum(r.events for r in rounds), blocks, fill_seconds, index_seconds, len(rounds))
