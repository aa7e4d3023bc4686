"""The local network behind ``walletnet up`` / ``make run``: anvil with its state kept under a
project-local data folder, and the contracts deployed once and reused on the next start."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from eth_account import Account
from web3 import Web3

from tools.devnet import DevAccount, Devnet
from wallet_sdk.deploy import BankConfig, Deployment, NetworkConfig, deploy

DEFAULT_DATA_DIR = Path(".walletnet")
DEFAULT_QUOTA = 100_000_000_000  # minor units per bank (1,000,000,000.00 with 2 decimals)


@dataclass(frozen=True)
class LocalNetwork:
    devnet: Devnet
    deployment: Deployment
    banks: list[BankConfig]
    reused: bool  # True when an earlier deployment was found on the restored chain


def bank_code(index: int) -> str:
    return f"BANK{chr(ord('A') + index)}" if index < 26 else f"BANK{index + 1}"


def local_network_config(accounts: Sequence[DevAccount], banks: int) -> NetworkConfig:
    """The dev network on funded dev accounts: 0 network operator, 1 regulator, 2.. one operator per bank,
    threshold a majority of the banks."""
    if not 1 <= banks <= len(accounts) - 2:
        raise ValueError(f"--banks must be between 1 and {len(accounts) - 2}")
    bank_configs = [
        BankConfig(code=bank_code(i), name=f"Bank {chr(ord('A') + i)}", operators=[accounts[2 + i].address],
                   quota=DEFAULT_QUOTA)
        for i in range(banks)
    ]
    return NetworkConfig(network_operator=accounts[0].address, regulator=accounts[1].address, banks=bank_configs,
                         threshold=max(1, banks // 2 + 1))


def start_local_network(data_dir: Path = DEFAULT_DATA_DIR, banks: int = 2, port: int | None = None,
                        accounts: int = 20) -> LocalNetwork:
    """Start (or resume) the local chain and make sure the contracts are deployed on it."""
    data_dir.mkdir(parents=True, exist_ok=True)
    devnet = Devnet(port=port, accounts=accounts, state_file=data_dir / "chain" / "state.json",
                    log_file=data_dir / "chain" / "anvil.log", own_session=True)
    devnet.start()
    try:
        w3 = Web3(Web3.HTTPProvider(devnet.rpc_url))
        deployment_file = data_dir / "deployment.json"
        config = local_network_config(devnet.accounts, banks)
        if deployment_file.is_file():
            existing = Deployment.load(deployment_file)
            code = w3.eth.get_code(Web3.to_checksum_address(existing.contracts["Consortium"]))
            if existing.chain_id == devnet.chain_id and len(code) > 0:
                return LocalNetwork(devnet, existing, config.banks, reused=True)
        deployment = deploy(w3, Account.from_key(devnet.accounts[0].private_key), config)
        deployment.save(deployment_file)
        return LocalNetwork(devnet, deployment, config.banks, reused=False)
    except BaseException:
        devnet.stop()
        raise
