"""Deploy and wire walletnet's contracts behind UUPS proxies, and read/write the deployment file.

Order (see contracts/interfaces): Consortium, WalletRegistry, DigitalCash, MerchantSettlement, each
an implementation plus an ERC1967Proxy initialised in the same transaction; then the network operator
wires them: consortium.setIssuer(token), registry.setToken(token), token.setSettlement(settlement),
registry.openSystemWallet(settlement).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract

from wallet_sdk._tx import deploy_bytecode, send_call
from wallet_sdk.artifacts import load_artifact
from wallet_sdk.authorizations import _text_id

CONTRACTS = ("Consortium", "WalletRegistry", "DigitalCash", "MerchantSettlement")

__all__ = ["CONTRACTS", "BankConfig", "Deployment", "NetworkConfig", "bank_id", "deploy", "deploy_proxy"]


def bank_id(text: str) -> bytes:
    """A bank's bytes32 id from its short code: the same rule as order and merchant ids (1-32 bytes of
    UTF-8, right-padded with zeros); a bad code raises InvalidAuthorizationError, a ValueError."""
    return _text_id("bank code", text)


@dataclass(frozen=True)
class BankConfig:
    code: str  # short code, e.g. "BANKA"; the on-chain id is bank_id(code)
    name: str
    operators: list[str]
    enodes: list[str] = field(default_factory=list)
    quota: int = 0  # minor units

    @property
    def id(self) -> bytes:
        return bank_id(self.code)


@dataclass(frozen=True)
class NetworkConfig:
    network_operator: str
    regulator: str
    banks: list[BankConfig]
    threshold: int = 1
    token_name: str = "Digital Cash"
    token_symbol: str = "DCASH"
    decimals: int = 2


@dataclass
class Deployment:
    """What the deploy step writes: enough for any client to find the contracts."""

    chain_id: int
    contracts: dict[str, str]  # name -> proxy address
    implementations: dict[str, str]  # name -> implementation address
    block: int  # block of the first deployment transaction (indexers start here)
    token: dict[str, Any]

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=2, sort_keys=True) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Deployment:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(**data)

    def contract(self, w3: Web3, name: str) -> Contract:
        """A web3 contract for ``name`` at its proxy address, with the implementation's ABI."""
        return w3.eth.contract(address=Web3.to_checksum_address(self.contracts[name]),
                               abi=load_artifact(name)["abi"])


def deploy_proxy(w3: Web3, deployer: LocalAccount, name: str, init_args: list[Any],
                 *, test: bool = False) -> tuple[str, str]:
    """Deploy implementation ``name`` and an ERC1967Proxy calling ``initialize(*init_args)``.

    Returns (proxy address, implementation address).
    """
    artifact = load_artifact(name, test=test)
    implementation = deploy_bytecode(w3, deployer, artifact["abi"], artifact["bytecode"])
    impl = w3.eth.contract(address=Web3.to_checksum_address(implementation), abi=artifact["abi"])
    init_data = impl.encode_abi("initialize", args=init_args)
    proxy_artifact = load_artifact("ERC1967Proxy")
    proxy = deploy_bytecode(w3, deployer, proxy_artifact["abi"], proxy_artifact["bytecode"], implementation,
                            init_data)
    return proxy, implementation


def deploy(w3: Web3, network_operator: LocalAccount, config: NetworkConfig) -> Deployment:
    """Deploy the four contracts, wire them, and return the deployment (not yet saved)."""
    if network_operator.address != Web3.to_checksum_address(config.network_operator):
        raise ValueError("the deploying account must be the network operator (it wires the contracts)")
    start_block = w3.eth.block_number + 1
    banks = [(b.id, b.name, [Web3.to_checksum_address(a) for a in b.operators], list(b.enodes), b.quota)
             for b in config.banks]
    proxies: dict[str, str] = {}
    impls: dict[str, str] = {}
    proxies["Consortium"], impls["Consortium"] = deploy_proxy(
        w3, network_operator, "Consortium",
        [config.network_operator, config.regulator, config.threshold, banks])
    proxies["WalletRegistry"], impls["WalletRegistry"] = deploy_proxy(
        w3, network_operator, "WalletRegistry", [proxies["Consortium"]])
    proxies["DigitalCash"], impls["DigitalCash"] = deploy_proxy(
        w3, network_operator, "DigitalCash",
        [config.token_name, config.token_symbol, config.decimals, proxies["Consortium"], proxies["WalletRegistry"]])
    proxies["MerchantSettlement"], impls["MerchantSettlement"] = deploy_proxy(
        w3, network_operator, "MerchantSettlement",
        [proxies["Consortium"], proxies["WalletRegistry"], proxies["DigitalCash"]])
    deployment = Deployment(
        chain_id=w3.eth.chain_id, contracts=proxies, implementations=impls, block=start_block,
        token={"name": config.token_name, "symbol": config.token_symbol, "decimals": config.decimals},
    )
    consortium = deployment.contract(w3, "Consortium")
    registry = deployment.contract(w3, "WalletRegistry")
    token = deployment.contract(w3, "DigitalCash")
    send_call(w3, network_operator, consortium.functions.setIssuer(proxies["DigitalCash"]))
    send_call(w3, network_operator, registry.functions.setToken(proxies["DigitalCash"]))
    send_call(w3, network_operator, token.functions.setSettlement(proxies["MerchantSettlement"]))
    send_call(w3, network_operator, registry.functions.openSystemWallet(proxies["MerchantSettlement"]))
    return deployment
