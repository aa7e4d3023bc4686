"""Shared fixtures: a real local chain (anvil from npm) on a free loopback port, the whole network
deployed on it once per session (``system``), reverted to a clean snapshot after every test, and a
throwaway PostgreSQL cluster (``pg_server``).

WALLETNET_TEST_CHAIN=ganache runs the session chain on ganache instead (the second test leg of
`make test`, over tests/contracts and tests/sdk), so that nothing relies on anvil-only behaviour."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.exceptions import ContractCustomError, ContractLogicError, ContractPanicError
from web3.types import TxReceipt

from node.db import upgrade
from tools.devnet import IMPLEMENTATIONS, Devnet
from tools.postgres import PgServer, start_postgres, stop_postgres
from wallet_sdk._tx import send_call
from wallet_sdk.chain.network import cache_chain_id
from wallet_sdk.deploy import BankConfig, Deployment, NetworkConfig, deploy
from wallet_sdk.exceptions import ContractRevertError
from wallet_sdk.revert_decoding import decode_revert

CHAIN_ENV = "WALLETNET_TEST_CHAIN"


def chain_implementation() -> str:
    """The node implementation the session chain runs: $WALLETNET_TEST_CHAIN, anvil when unset."""
    return os.environ.get(CHAIN_ENV) or IMPLEMENTATIONS[0]


def pytest_configure(config: pytest.Config) -> None:
    chain = chain_implementation()
    if chain not in IMPLEMENTATIONS:
        raise pytest.UsageError(f"{CHAIN_ENV}={chain!r}: expected one of {', '.join(IMPLEMENTATIONS)}")
    config.addinivalue_line(
        "markers", "anvil_only(reason): relies on node behaviour ganache gets wrong (the reason names its bug)")


def _runs_on(item: pytest.Item, chain: str) -> bool:
    if "devnet" not in getattr(item, "fixturenames", ()):
        return False  # touches no node: it ran on the main leg already
    return chain == "anvil" or item.get_closest_marker("anvil_only") is None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On a chain other than anvil run only the tests that use it (the others touch no node and ran on the main
    leg already: CI's time is short), less those marked anvil_only. They are deselected, and pytest says how
    many."""
    chain = chain_implementation()
    if chain == IMPLEMENTATIONS[0]:
        return
    kept = [item for item in items if _runs_on(item, chain)]
    if len(kept) < len(items):
        config.hook.pytest_deselected(items=[item for item in items if not _runs_on(item, chain)])
        items[:] = kept


@pytest.fixture(scope="session")
def devnet() -> Iterator[Devnet]:
    """One anvil (or ganache: $WALLETNET_TEST_CHAIN) for the whole session, stopped at the end even when
    tests fail."""
    with Devnet(accounts=20, implementation=chain_implementation()) as chain:
        yield chain


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """A throwaway PostgreSQL cluster for the session (never skipped: if it cannot start, its tests fail),
    with ``walletnet_template``, a database migrated to head, to copy from."""
    try:
        server, _ = start_postgres()
    except Exception as exc:  # never skip the PostgreSQL leg: fail and say why
        pytest.fail(f"the PostgreSQL test leg could not start a throwaway cluster: {exc}", pytrace=False)
    try:
        server.admin("CREATE DATABASE walletnet_template")
        upgrade(server.url("walletnet_template"))
        yield server
    finally:
        stop_postgres(server)


@pytest.fixture(scope="session")
def w3(devnet: Devnet) -> Web3:
    web3 = Web3(Web3.HTTPProvider(devnet.rpc_url, request_kwargs={"timeout": 60}))
    assert web3.is_connected()
    cache_chain_id(web3)  # as a Network does
    return web3


# ------------------------------------------------------------------ the deployed network

QUOTA = 10**13  # minor units per bank: large enough that only quota tests hit it
# One node id per bank: "enode://" + 128 hex digits (a node's public key), as Besu prints them.
ENODE_OF = {k: "enode://" + c * 128 for k, c in (("A", "a"), ("B", "b"), ("C", "c"))}


@dataclass
class Bank:
    code: str
    id: bytes
    operators: list[LocalAccount]


@dataclass
class System:
    w3: Web3
    deployment: Deployment
    consortium: Contract
    registry: Contract
    token: Contract
    settlement: Contract
    operator: LocalAccount  # the network operator
    regulator: LocalAccount
    banks: dict[str, Bank]
    accounts: list[LocalAccount] = field(default_factory=list)  # spare funded accounts
    chain: str = "anvil"  # the node implementation (WALLETNET_TEST_CHAIN): its test-only RPC methods differ

    def send(self, call: ContractFunction, sender: LocalAccount, **kw: Any) -> TxReceipt:
        """Send ``call`` from ``sender``; a revert raises ContractRevertError (see ``reverts``)."""
        try:
            return send_call(self.w3, sender, call, **kw)
        except (ContractCustomError, ContractLogicError, ContractPanicError) as exc:
            raise decode_revert(getattr(exc, "data", None)) from exc

    def rpc(self, method: str, *params: Any) -> Any:
        return self.w3.provider.make_request(method, list(params)).get("result")  # type: ignore[arg-type]

    def set_balance(self, address: str, wei: int) -> None:
        """Give ``address`` exactly ``wei`` of ether (anvil and ganache name this method differently)."""
        method = "evm_setAccountBalance" if self.chain == "ganache" else "anvil_setBalance"
        reply = self.w3.provider.make_request(method, [address, hex(wei)])  # type: ignore[arg-type]
        assert "error" not in reply, f"{method}: {reply['error']}"

    def set_automine(self, on: bool) -> None:
        """Mine each transaction as it comes (on), or only on ``evm_mine`` (off), on anvil and ganache alike."""
        if self.chain == "ganache":
            method, params = ("miner_start" if on else "miner_stop"), []
        else:
            method, params = "evm_setAutomine", [on]
        reply = self.w3.provider.make_request(method, params)  # type: ignore[arg-type]
        assert "error" not in reply, f"{method}: {reply['error']}"

    def increase_time(self, seconds: int) -> None:
        self.rpc("evm_increaseTime", seconds)
        self.rpc("evm_mine")

    def new_wallet(self) -> LocalAccount:
        """A fresh key for a wallet holder (holders never need gas)."""
        return Account.create()


@pytest.fixture(scope="session")
def _deployed(devnet: Devnet, w3: Web3) -> System:
    keys = [Account.from_key(a.private_key) for a in devnet.accounts]
    operator, regulator = keys[0], keys[1]
    banks = {
        "A": Bank("BANKA", b"", [keys[2], keys[3]]),
        "B": Bank("BANKB", b"", [keys[4], keys[5]]),
        "C": Bank("BANKC", b"", [keys[6]]),
    }
    config = NetworkConfig(
        network_operator=operator.address,
        regulator=regulator.address,
        threshold=2,
        banks=[
            BankConfig(code=b.code, name=f"Bank {k}", operators=[o.address for o in b.operators],
                       enodes=[ENODE_OF[k]],
                       quota=QUOTA)
            for i, (k, b) in enumerate(banks.items())
        ],
    )
    deployment = deploy(w3, operator, config)
    for b in banks.values():
        b.id = b.code.encode().ljust(32, b"\0")
    return System(
        w3=w3, deployment=deployment,
        consortium=deployment.contract(w3, "Consortium"),
        registry=deployment.contract(w3, "WalletRegistry"),
        token=deployment.contract(w3, "DigitalCash"),
        settlement=deployment.contract(w3, "MerchantSettlement"),
        operator=operator, regulator=regulator, banks=banks, accounts=keys[7:], chain=devnet.implementation,
    )


@pytest.fixture
def system(_deployed: System) -> Iterator[System]:
    """The deployed network, reverted to the same clean state after each test."""
    snapshot = _deployed.rpc("evm_snapshot")
    try:
        yield _deployed
    finally:
        assert _deployed.rpc("evm_revert", snapshot) is True


@contextlib.contextmanager
def _reverts(name: str, **expected: Any) -> Iterator[dict[str, ContractRevertError]]:
    box: dict[str, ContractRevertError] = {}
    try:
        yield box
    except ContractRevertError as exc:
        box["error"] = exc
        assert exc.name == name, f"expected {name}, got {exc}"
        for key, value in expected.items():
            assert key in exc.arguments, f"{name} has no argument {key!r}: {exc}"
            assert exc.arguments[key] == value, f"{name}.{key}: expected {value!r}, got {exc.arguments[key]!r}"
    except (ContractCustomError, ContractLogicError, ContractPanicError) as exc:  # direct .call()
        decoded = decode_revert(getattr(exc, "data", None))
        box["error"] = decoded
        assert decoded.name == name, f"expected {name}, got {decoded}"
        for key, value in expected.items():
            assert decoded.arguments.get(key) == value, f"{name}.{key}: expected {value!r}, got {decoded}"
    else:
        raise AssertionError(f"expected revert {name}, but nothing reverted")


@pytest.fixture
def reverts() -> Any:
    """``with reverts("WalletFrozen", wallet=addr): system.send(...)`` asserts the custom error."""
    return _reverts
