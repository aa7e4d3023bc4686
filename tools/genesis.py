"""``walletnet genesis``: a Besu QBFT network whose contracts are ready at block 0.

For N member banks it makes each validator's node key (one Besu node per bank), each bank's operator key
(an encrypted keystore and a 0600 password file), the network operator's and regulator's keys, and each
bank's custody key and database password. It deploys the contracts once on a throwaway anvil with those
banks admitted (their nodes registered as enode URLs), takes the deployed contracts' accounts (code,
storage, balance, nonce) from ``anvil_dumpState`` into the genesis ``alloc`` (plus the funded operators, and
the network operator's nonce so its next contract never collides with a genesis one), and writes:

``DIR/genesis.json``                 Besu QBFT genesis; ``extraData`` = RLP([vanity, validators, [], round 0, []])
``DIR/deployment.json``              the contract addresses (block 0) the bank nodes read
``DIR/network/``                     network operator and regulator keystores and passwords
``DIR/<bank>/besu/``                 Besu ``config.toml``, node ``key`` (hex, 0600), ``key.pub``, the first
                                     ``permissions_config.toml`` and the ``data`` folder
``DIR/<bank>/``                      ``node.toml`` (bank node settings), ``operator.json`` and
                                     ``operator.password``, ``custody.key``, ``db.password``, ``pgdata/``

Paths inside the configs are the containers' (``container_root``, ``/walletnet`` in docker-compose.yml, where
``DIR/<bank>`` is mounted at ``/walletnet/<bank>``).
"""

from __future__ import annotations

import gzip
import json
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import rlp  # type: ignore[import-untyped]
from cryptography.fernet import Fernet
from eth_account import Account
from eth_keys.datatypes import PrivateKey
from web3 import Web3

from tools.devnet import Devnet, rpc_call
from tools.localnet import DEFAULT_QUOTA, bank_code
from tools.permissions import Membership, render_permissions
from wallet_sdk.deploy import BankConfig, Deployment, NetworkConfig, deploy
from wallet_sdk.keys import WalletKey

__all__ = [
    "BESU_RPC_APIS",
    "QBFT_MIX_HASH",
    "GenesisError",
    "GenesisOptions",
    "GenesisResult",
    "NodeIdentity",
    "decode_qbft_extra_data",
    "generate_genesis",
    "qbft_extra_data",
    "write_dev_keystores",
]

QBFT_MIX_HASH: Final = "0x63746963616c2062797a616e74696e65206661756c7420746f6c6572616e6365"  # QBFT's marker
BESU_RPC_APIS: Final = ("ETH", "NET", "WEB3", "QBFT", "PERM", "ADMIN", "TXPOOL")
OPERATOR_BALANCE: Final = 10**24  # wei; gas is free (zero base fee, min-gas-price 0), this only covers a
# client that insists on a non-zero price
FORKS: Final = ("homesteadBlock", "eip150Block", "eip155Block", "eip158Block", "byzantiumBlock",
                 "constantinopleBlock", "petersburgBlock", "istanbulBlock", "muirGlacierBlock", "berlinBlock",
                 "londonBlock")  # every fork up to London at block 0; the contracts are compiled for paris
SECP256K1_N: Final = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
GAS_LIMIT: Final = 100_000_000  # as the dev chain: the contracts' heaviest calls fit with room
CONTAINER_ROOT: Final = "/walletnet"


class GenesisError(ValueError):
    """The genesis cannot be generated as asked (bad option, non-empty output folder, failed deployment)."""


@dataclass(frozen=True)
class GenesisOptions:
    banks: int = 4
    chain_id: int = 1337
    block_period: int = 2  # seconds
    request_timeout: int = 4  # seconds before a QBFT round change
    epoch_length: int = 30_000
    p2p_port: int = 30303
    rpc_port: int = 8545
    node_hosts: Sequence[str] = ()  # one per bank; default 172.28.0.11, .12, ... (docker-compose.yml's subnet)
    container_root: str = CONTAINER_ROOT
    scrypt_n: int | None = None  # keystore work factor; None: eth-account's default (2**18), lower only in tests

    def check(self) -> None:
        if not 1 <= self.banks <= 26:
            raise GenesisError("--banks must be between 1 and 26")
        if not 0 < self.chain_id < 2**63:
            raise GenesisError("--chain-id must be a positive 63-bit integer")
        if self.block_period < 1 or self.request_timeout <= self.block_period or self.epoch_length < 1:
            raise GenesisError("QBFT needs block period >= 1 and request timeout > block period")
        if self.node_hosts and len(self.node_hosts) != self.banks:
            raise GenesisError(f"give one --node-host per bank ({self.banks}), not {len(self.node_hosts)}")
        if not self.container_root.startswith("/"):
            raise GenesisError("container root must be an absolute path")

    def host(self, index: int) -> str:
        return self.node_hosts[index] if self.node_hosts else f"172.28.0.{11 + index}"


@dataclass(frozen=True)
class NodeIdentity:
    """One bank's validator node: its id (public key), validator address and enode URL."""

    bank: str  # bank code, e.g. BANKA
    node_id: str  # 128 hex, lower case
    validator: str  # checksummed address of the node key
    enode: str  # enode://<id>@<host>:<port>


@dataclass
class GenesisResult:
    out: Path
    deployment: Deployment
    nodes: list[NodeIdentity]
    operators: dict[str, str]  # bank code -> operator address
    network_operator: str
    regulator: str
    alloc: dict[str, Any] = field(default_factory=dict)


# ------------------------------------------------------------------ QBFT extraData


def qbft_extra_data(validators: Sequence[str]) -> str:
    """QBFT genesis ``extraData``: RLP([32-byte vanity, [validators], no vote [], round 0, no seals []])."""
    addresses = [bytes.fromhex(Web3.to_checksum_address(v)[2:]) for v in validators]
    encoded: bytes = rlp.encode([b"\0" * 32, addresses, [], b"", []])
    return "0x" + encoded.hex()


def decode_qbft_extra_data(extra_data: str) -> tuple[bytes, list[str], list[Any], int, list[bytes]]:
    """(vanity, validators, vote, round, seals) of a QBFT ``extraData``."""
    items = rlp.decode(bytes.fromhex(extra_data.removeprefix("0x")))
    if not isinstance(items, list) or len(items) != 5:
        raise GenesisError("QBFT extraData is an RLP list of 5 items")
    vanity, validators, vote, round_, seals = items
    return (vanity, [Web3.to_checksum_address(v) for v in validators], vote, int.from_bytes(round_, "big"),
            list(seals))


# ------------------------------------------------------------------ files


def _write_secret(path: Path, data: str) -> None:
    """A new file readable by its owner only (mode 0600 whatever the umask)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(data)


def _keystore(folder: Path, name: str, options: GenesisOptions) -> WalletKey:
    """A fresh key saved as ``<name>.json`` (encrypted) with its password in ``<name>.password``."""
    key = WalletKey.create()
    password = secrets.token_urlsafe(24)
    key.save(folder / f"{name}.json", password, scrypt_n=options.scrypt_n)
    _write_secret(folder / f"{name}.password", password + "\n")
    return key


def _toml_str(value: str) -> str:
    return json.dumps(value)  # a TOML basic string is a JSON string for these values


def _toml_list(values: Sequence[str]) -> str:
    return "[" + ", ".join(_toml_str(v) for v in values) + "]"


def besu_config(options: GenesisOptions, bank: str, bootnodes: Sequence[str], consortium: str) -> str:
    """Besu's ``config.toml`` for the validator of ``bank`` (container paths)."""
    here = f"{options.container_root}/{bank.lower()}/besu"
    permissions = f"{here}/permissions_config.toml"
    return f"""# Besu validator of {bank}, generated by `walletnet genesis`.
data-path={_toml_str(here + "/data")}
genesis-file={_toml_str(options.container_root + "/genesis.json")}
node-private-key-file={_toml_str(here + "/key")}
sync-mode="FULL"
min-gas-price=0

p2p-host="0.0.0.0"
p2p-port={options.p2p_port}
bootnodes={_toml_list(bootnodes)}

rpc-http-enabled=true
rpc-http-host="0.0.0.0"
rpc-http-port={options.rpc_port}
rpc-http-api={_toml_list(BESU_RPC_APIS)}
host-allowlist=["*"]

# Local permissioning: allowlists written from Consortium's activeMembership() by
# `walletnet node permissions`, which then calls perm_reloadPermissionsFromFile.
permissions-accounts-config-file-enabled=true
permissions-accounts-config-file={_toml_str(permissions)}
permissions-nodes-config-file-enabled=true
permissions-nodes-config-file={_toml_str(permissions)}

# On-chain permissioning (deprecated in Besu) against Consortium, which implements both rule sets
# (transactionAllowed and connectionAllowed, node rules v2). To use it instead, comment out the four
# lines above and uncomment these:
# permissions-accounts-contract-enabled=true
# permissions-accounts-contract-address={_toml_str(consortium)}
# permissions-nodes-contract-enabled=true
# permissions-nodes-contract-address={_toml_str(consortium)}
# permissions-nodes-contract-version=2
"""


def node_settings(options: GenesisOptions, bank: str) -> str:
    """The bank node's ``node.toml`` (read with ``WALLETNET_CONFIG``); holds the DB password, so 0600."""
    root, here = options.container_root, f"{options.container_root}/{bank.lower()}"
    return f"""# {bank}'s bank node, generated by `walletnet genesis`. Holds the database password: keep it 0600.
environment = "production"
bank_id = {_toml_str(bank)}
rpc_url = {_toml_str(f"http://besu-{bank.lower()}:{options.rpc_port}")}
data_dir = {_toml_str(here)}
deployment_file = {_toml_str(root + "/deployment.json")}
db_url = {_toml_str("postgresql://walletnet:{password}@postgres-" + bank.lower() + ":5432/walletnet")}
operator_keystore = {_toml_str(here + "/operator.json")}
operator_password_file = {_toml_str(here + "/operator.password")}
custody_key_file = {_toml_str(here + "/custody.key")}
"""


# ------------------------------------------------------------------ state from a throwaway anvil


def _dump_accounts(chain: Devnet) -> dict[str, Any]:
    """anvil_dumpState's accounts: the reply is hex of gzipped JSON (older anvils: plain JSON)."""
    raw = rpc_call(chain.rpc_url, "anvil_dumpState", timeout=60.0)
    if isinstance(raw, dict):
        state = raw
    else:
        data = bytes.fromhex(str(raw).removeprefix("0x"))
        state = json.loads(gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data)
    accounts = state.get("accounts")
    if not isinstance(accounts, dict):
        raise GenesisError("anvil_dumpState returned no accounts")
    return {k.lower(): v for k, v in accounts.items()}


def _word(value: str) -> str:
    return "0x" + int(value, 16).to_bytes(32, "big").hex()


def _nonce(value: object) -> int:
    if isinstance(value, str):
        return int(value, 0)
    return int(value) if isinstance(value, int) else 0


def _alloc_entry(account: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = {"balance": hex(int(str(account.get("balance") or "0x0"), 16))}
    nonce = _nonce(account.get("nonce"))
    if nonce:
        entry["nonce"] = hex(nonce)
    code = str(account.get("code") or "0x")
    if code != "0x":
        entry["code"] = code
    storage = {_word(k): _word(v) for k, v in (account.get("storage") or {}).items() if int(v, 16) != 0}
    if storage:
        entry["storage"] = dict(sorted(storage.items()))
    return entry


def _deploy_state(options: GenesisOptions, config: NetworkConfig, network_operator: WalletKey
                  ) -> tuple[Deployment, dict[str, Any], int]:
    """Deploy on a throwaway anvil: (deployment, alloc of exactly the deployed contracts plus the network
    operator's nonce, the last block's timestamp, which becomes the genesis timestamp)."""
    with Devnet(chain_id=options.chain_id, accounts=1, gas_limit=GAS_LIMIT) as chain:
        w3 = Web3(Web3.HTTPProvider(chain.rpc_url, request_kwargs={"timeout": 60}))
        rpc_call(chain.rpc_url, "anvil_setBalance", [network_operator.address, hex(OPERATOR_BALANCE)])
        deployment = deploy(w3, Account.from_key(network_operator.export_private_key()), config)
        timestamp = int(w3.eth.get_block("latest")["timestamp"])
        accounts = _dump_accounts(chain)
    alloc: dict[str, Any] = {}
    for address in [*deployment.contracts.values(), *deployment.implementations.values()]:
        account = accounts.get(address.lower())
        if account is None or str(account.get("code") or "0x") == "0x":
            raise GenesisError(f"the deployment left no code at {address}")
        alloc[Web3.to_checksum_address(address)] = _alloc_entry(account)
    nonce = _nonce(accounts.get(network_operator.address.lower(), {}).get("nonce"))
    alloc[network_operator.address] = {"balance": hex(OPERATOR_BALANCE), "nonce": hex(nonce)}
    deployment.block = 0  # the contracts exist from the genesis block on
    return deployment, alloc, timestamp


# ------------------------------------------------------------------ the whole network


def _node_key(folder: Path, bank: str, options: GenesisOptions, index: int) -> NodeIdentity:
    """A new validator node key in ``folder/key`` (64 hex, no 0x, as Besu reads it) and ``key.pub``."""
    while True:
        raw = secrets.token_bytes(32)
        if 0 < int.from_bytes(raw, "big") < SECP256K1_N:
            break
    private = PrivateKey(raw)
    public = private.public_key
    _write_secret(folder / "key", raw.hex())
    (folder / "key.pub").write_text("0x" + public.to_bytes().hex() + "\n", encoding="utf-8")
    ident = public.to_bytes().hex()
    return NodeIdentity(bank=bank, node_id=ident, validator=public.to_checksum_address(),
                        enode=f"enode://{ident}@{options.host(index)}:{options.p2p_port}")


def _prepare(out: Path) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise GenesisError(f"{out} exists and is not an empty folder: genesis never overwrites keys")
    out.mkdir(parents=True, exist_ok=True)


def generate_genesis(out: Path, options: GenesisOptions | None = None) -> GenesisResult:
    """Generate the whole network into the empty (or new) folder ``out``; see the module docstring."""
    options = options or GenesisOptions()
    options.check()
    _prepare(out)
    network = out / "network"
    network.mkdir()
    network_operator = _keystore(network, "network-operator", options)
    regulator = _keystore(network, "regulator", options)
    nodes: list[NodeIdentity] = []
    operators: dict[str, WalletKey] = {}
    for i in range(options.banks):
        code = bank_code(i)
        folder = out / code.lower()
        (folder / "besu" / "data").mkdir(parents=True)
        (folder / "pgdata").mkdir(mode=0o700)
        nodes.append(_node_key(folder / "besu", code, options, i))
        operators[code] = _keystore(folder, "operator", options)
        _write_secret(folder / "custody.key", Fernet.generate_key().decode("ascii") + "\n")
        _write_secret(folder / "db.password", secrets.token_urlsafe(24) + "\n")
    config = NetworkConfig(
        network_operator=network_operator.address, regulator=regulator.address,
        banks=[BankConfig(code=n.bank, name=f"Bank {n.bank[-1]}", operators=[operators[n.bank].address],
                          enodes=[n.enode], quota=DEFAULT_QUOTA) for n in nodes],
        threshold=options.banks // 2 + 1)
    deployment, alloc, timestamp = _deploy_state(options, config, network_operator)
    for key in [regulator, *operators.values()]:
        alloc[key.address] = {"balance": hex(OPERATOR_BALANCE)}
    validators = sorted((n.validator for n in nodes), key=lambda a: bytes.fromhex(a[2:]))
    genesis = {
        "config": {
            "chainId": options.chain_id,
            **dict.fromkeys(FORKS, 0),
            "zeroBaseFee": True,
            "qbft": {"blockperiodseconds": options.block_period, "epochlength": options.epoch_length,
                     "requesttimeoutseconds": options.request_timeout},
        },
        "nonce": "0x0",
        "timestamp": hex(timestamp),
        "gasLimit": hex(GAS_LIMIT),
        "difficulty": "0x1",
        "mixHash": QBFT_MIX_HASH,
        "coinbase": "0x" + "00" * 20,
        "extraData": qbft_extra_data(validators),
        "alloc": {address.lower().removeprefix("0x"): entry for address, entry in sorted(alloc.items())},
    }
    (out / "genesis.json").write_text(json.dumps(genesis, indent=2) + "\n", encoding="utf-8")
    deployment.save(out / "deployment.json")
    consortium = deployment.contracts["Consortium"]
    membership = Membership(accounts=[*(k.address for k in operators.values()), network_operator.address,
                                      regulator.address], enodes=[n.enode for n in nodes])
    permissions = render_permissions(membership)
    for node in nodes:
        besu = out / node.bank.lower() / "besu"
        others = [n.enode for n in nodes if n is not node]
        (besu / "config.toml").write_text(besu_config(options, node.bank, others, consortium), encoding="utf-8")
        (besu / "permissions_config.toml").write_text(permissions, encoding="utf-8")
        password = (out / node.bank.lower() / "db.password").read_text(encoding="utf-8").strip()
        _write_secret(out / node.bank.lower() / "node.toml",
                      node_settings(options, node.bank).replace("{password}", password))
    return GenesisResult(out=out, deployment=deployment, nodes=nodes,
                         operators={code: key.address for code, key in operators.items()},
                         network_operator=network_operator.address, regulator=regulator.address, alloc=alloc)


def write_dev_keystores(out: Path, banks: Sequence[BankConfig], private_keys: Sequence[str],
                        scrypt_n: int | None = None) -> list[Path]:
    """Keystores of dev operator keys (``walletnet deploy --keystores``): ``out/<bank>/operator.json`` and
    ``operator.password``, so a dev bank node starts from the same settings as a production one."""
    written = []
    for bank, private_key in zip(banks, private_keys, strict=True):
        folder = out / bank.code.lower()
        folder.mkdir(parents=True, exist_ok=True)
        key = WalletKey.from_private_key(private_key)
        if key.address != Web3.to_checksum_address(bank.operators[0]):
            raise GenesisError(f"key of {bank.code} is not its operator's")
        password = secrets.token_urlsafe(24)
        written.append(key.save(folder / "operator.json", password, scrypt_n=scrypt_n, overwrite=True))
        target = folder / "operator.password"
        target.unlink(missing_ok=True)
        _write_secret(target, password + "\n")
    return written
