"""`walletnet genesis`: the QBFT extraData names the banks' validator nodes, the genesis holds exactly the
deployed contracts (a chain started from it has them wired and the banks admitted at block 0), and every
Besu, bank node and docker-compose setting points at files the command wrote."""

from __future__ import annotations

import json
import re
import shlex
import stat
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from eth_keys import keys
from typer.testing import CliRunner
from web3 import Web3

from node.settings import Environment, load_settings
from tools.cli import app
from tools.devnet import Devnet
from tools.genesis import (
    GenesisError,
    GenesisOptions,
    GenesisResult,
    decode_qbft_extra_data,
    generate_genesis,
    qbft_extra_data,
)
from wallet_sdk.artifacts import load_artifact
from wallet_sdk.chain.network import Network
from wallet_sdk.deploy import bank_id
from wallet_sdk.keys import WalletKey

ROOT = Path(__file__).resolve().parents[2]
BANKS = ("banka", "bankb", "bankc", "bankd")
IMPLEMENTATION_SLOT = "0x360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc"  # ERC-1967


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> GenesisResult:
    """Four banks; the container root is the output folder itself, so every configured path is checkable."""
    out = tmp_path_factory.mktemp("genesis") / "net"
    return generate_genesis(out, GenesisOptions(banks=4, chain_id=4242, container_root=str(out), scrypt_n=2**4))


@pytest.fixture(scope="module")
def genesis(net: GenesisResult) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((net.out / "genesis.json").read_text())
    return data


class GenesisDevnet(Devnet):
    """anvil initialised from a genesis file: a second, independent reading of the alloc."""

    def __init__(self, genesis_file: Path, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.genesis_file = genesis_file

    def _command(self) -> list[str]:
        return [*super()._command(), "--init", str(self.genesis_file)]


@pytest.fixture(scope="module")
def chain(net: GenesisResult) -> Iterator[Network]:
    with GenesisDevnet(net.out / "genesis.json", chain_id=4242, accounts=1) as devnet:
        yield Network.connect(devnet.rpc_url, net.out / "deployment.json")  # checks code and wiring


def _node_address(key_file: Path) -> str:
    return keys.PrivateKey(bytes.fromhex(key_file.read_text().strip())).public_key.to_checksum_address()


def test_extra_data_is_qbft_rlp_with_the_banks_validator_nodes(net: GenesisResult, genesis: dict[str, Any]) -> None:
    vanity, validators, vote, round_, seals = decode_qbft_extra_data(genesis["extraData"])

    from_keys = {_node_address(net.out / bank / "besu" / "key") for bank in BANKS}
    assert vanity == b"\0" * 32
    assert set(validators) == from_keys and len(validators) == 4
    assert validators == sorted(validators, key=lambda a: bytes.fromhex(a[2:]))
    assert (vote, round_, seals) == ([], 0, [])
    assert genesis["extraData"].startswith("0xf87aa0") and genesis["extraData"].endswith("c080c0")  # 4 validators
    assert {n.validator for n in net.nodes} == from_keys


def test_extra_data_round_trips_and_refuses_a_wrong_shape() -> None:
    validators = [Web3.to_checksum_address(f"0x{i:040x}") for i in (3, 1, 2)]
    assert decode_qbft_extra_data(qbft_extra_data(validators))[1] == validators
    with pytest.raises(GenesisError):
        decode_qbft_extra_data("0xc3010203")  # a list of 3


def test_genesis_config_is_qbft_with_free_gas(genesis: dict[str, Any]) -> None:
    config = genesis["config"]
    assert config["chainId"] == 4242
    assert config["londonBlock"] == 0 and config["berlinBlock"] == 0 and config["zeroBaseFee"] is True
    assert config["qbft"] == {"blockperiodseconds": 2, "epochlength": 30000, "requesttimeoutseconds": 4}
    assert genesis["mixHash"] == "0x63746963616c2062797a616e74696e65206661756c7420746f6c6572616e6365"
    assert genesis["difficulty"] == "0x1"


def test_alloc_holds_exactly_the_contracts_and_the_funded_keys(net: GenesisResult, genesis: dict[str, Any]) -> None:
    alloc = {Web3.to_checksum_address("0x" + k): v for k, v in genesis["alloc"].items()}
    deployment = net.deployment
    contracts = {*deployment.contracts.values(), *deployment.implementations.values()}
    keys_ = {*net.operators.values(), net.network_operator, net.regulator}
    assert set(alloc) == contracts | keys_
    assert {a for a, v in alloc.items() if "code" in v} == contracts
    proxy_code = load_artifact("ERC1967Proxy")["deployedBytecode"]
    for name, proxy in deployment.contracts.items():
        assert alloc[proxy]["code"] == proxy_code
        slot = int(alloc[proxy]["storage"][IMPLEMENTATION_SLOT], 16)
        assert Web3.to_checksum_address(f"0x{slot:040x}") == deployment.implementations[name]
    for name, implementation in deployment.implementations.items():  # same code but for immutables
        assert len(alloc[implementation]["code"]) == len(load_artifact(name)["deployedBytecode"])
    assert all(int(alloc[k]["balance"], 16) >= 10**24 for k in keys_)
    assert int(alloc[net.network_operator]["nonce"], 16) == 12  # 8 creations + 4 wiring calls
    assert deployment.block == 0
    assert json.loads((net.out / "deployment.json").read_text())["contracts"] == deployment.contracts


def test_a_chain_from_the_genesis_has_the_banks_admitted_at_block_0(net: GenesisResult, chain: Network) -> None:
    assert chain.block_number == 0
    banks = chain.banks(block=0)
    assert [b.bank_id for b in banks] == [bank_id(b.upper()) for b in BANKS]
    assert all(b.status.name == "ACTIVE" and b.quota > 0 for b in banks)
    accounts, enodes = chain.consortium.functions.activeMembership().call(block_identifier=0)
    assert accounts == [*(net.operators[b.upper()] for b in BANKS), net.network_operator, net.regulator]
    assert enodes == [n.enode for n in net.nodes]
    assert enodes[0] == f"enode://{net.nodes[0].node_id}@172.28.0.11:30303"
    assert all(chain.consortium.functions.connectionAllowed(n.node_id, "", 0).call() for n in net.nodes)


def test_the_generated_keystores_hold_the_roles_the_contracts_know(net: GenesisResult, chain: Network) -> None:
    password = (net.out / "network" / "network-operator.password").read_text().strip()
    operator = WalletKey.load(net.out / "network" / "network-operator.json", password)
    assert operator.address == chain.consortium.functions.networkOperator().call() == net.network_operator
    sender = chain.sender(operator)
    sender.send(chain.consortium.functions.setQuota(bank_id("BANKB"), 77))  # its nonce continues the deploy's
    assert chain.quota("BANKB") == 77
    assert chain.w3.eth.get_code(chain.addresses["Consortium"]) != b""  # no contract clobbered by nonce reuse


def test_keys_are_private_files_in_besu_format(net: GenesisResult) -> None:
    for bank, node in zip(BANKS, net.nodes, strict=True):
        folder = net.out / bank
        key = (folder / "besu" / "key").read_text()
        assert re.fullmatch(r"[0-9a-f]{64}", key)
        assert (folder / "besu" / "key.pub").read_text().strip() == "0x" + node.node_id
        for secret in ("besu/key", "operator.json", "operator.password", "custody.key", "db.password", "node.toml"):
            mode = (folder / secret).stat().st_mode
            assert not mode & (stat.S_IRWXG | stat.S_IRWXO), f"{bank}/{secret} is readable by others"


def test_besu_config_enables_file_permissioning_and_points_at_generated_files(net: GenesisResult) -> None:
    consortium = net.deployment.contracts["Consortium"]
    for bank, node in zip(BANKS, net.nodes, strict=True):
        text = (net.out / bank / "besu" / "config.toml").read_text()
        config = tomllib.loads(text)
        assert config["permissions-accounts-config-file-enabled"] is True
        assert config["permissions-nodes-config-file-enabled"] is True
        assert config["permissions-accounts-config-file"] == config["permissions-nodes-config-file"]
        assert Path(config["permissions-nodes-config-file"]) == net.out / bank / "besu" / "permissions_config.toml"
        for path_key in ("genesis-file", "node-private-key-file", "permissions-nodes-config-file", "data-path"):
            assert Path(config[path_key]).exists(), path_key
        assert {"QBFT", "PERM"} <= set(config["rpc-http-api"])
        assert config["min-gas-price"] == 0
        assert set(config["bootnodes"]) == {n.enode for n in net.nodes} - {node.enode}
        assert not any(k.startswith("permissions-nodes-contract") for k in config)  # on-chain one only commented
        assert f'# permissions-nodes-contract-address="{consortium}"' in text
        assert "# permissions-accounts-contract-enabled=true" in text
        allow = tomllib.loads((net.out / bank / "besu" / "permissions_config.toml").read_text())
        assert set(allow["accounts-allowlist"]) == {*net.operators.values(), net.network_operator, net.regulator}
        assert set(allow["nodes-allowlist"]) == {n.enode for n in net.nodes}


def test_bank_node_settings_pass_the_production_checks(net: GenesisResult, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in __import__("os").environ if n.upper().startswith("WALLETNET_")]:
        monkeypatch.delenv(name)
    settings = load_settings(net.out / "banka" / "node.toml")
    assert settings.environment is Environment.PRODUCTION  # refuses dev keys, open password files, defaults
    assert settings.bank_id == "BANKA" and settings.rpc_url == "http://besu-banka:8545"
    assert settings.database_url.startswith("postgresql://walletnet:") and "@postgres-banka:5432/" in \
        settings.database_url
    password = (net.out / "banka" / "db.password").read_text().strip()
    assert f":{password}@" in settings.database_url
    assert settings.deployment_path == net.out / "deployment.json"
    key = WalletKey.load(settings.operator_keystore, settings.operator_password().get_secret_value())  # type: ignore[arg-type]
    assert key.address == net.operators["BANKA"]


def test_genesis_refuses_a_folder_with_files_and_bad_options(tmp_path: Path) -> None:
    (tmp_path / "old").write_text("keys of another network")
    with pytest.raises(GenesisError, match="never overwrites"):
        generate_genesis(tmp_path, GenesisOptions(scrypt_n=2**4))
    with pytest.raises(GenesisError, match="banks"):
        generate_genesis(tmp_path / "a", GenesisOptions(banks=0))
    with pytest.raises(GenesisError, match="one --node-host per bank"):
        generate_genesis(tmp_path / "b", GenesisOptions(banks=2, node_hosts=("10.0.0.1",)))
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()
    ran = CliRunner().invoke(app, ["genesis", "--out", str(tmp_path)])
    assert ran.exit_code == 2 and "never overwrites" in ran.output


# ------------------------------------------------------------------ docker-compose.yml


def _compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return data


def _substitute(text: str, env: dict[str, str]) -> str:
    """Compose's ${VAR:-default} interpolation."""
    return re.sub(r"\$\{(\w+):-([^}]*)\}", lambda m: env.get(m.group(1), m.group(2)), text)


def _walletnet_commands(service: dict[str, Any]) -> list[list[str]]:
    """The walletnet command lines a service runs (its arguments, or walletnet calls inside sh -c)."""
    entrypoint, command = service.get("entrypoint"), service.get("command") or []
    if entrypoint is None:
        return [list(command)]
    if entrypoint == ["sh", "-c"]:
        found = []
        for part in re.split(r"&&|\|\||;|\(|\)", command[0]):
            words = shlex.split(part)
            if words and words[0] == "walletnet":
                found.append(words[1:])
        return found
    return []


def _resolve(args: list[str]) -> str | None:
    """The command ``walletnet args`` names (e.g. "node run"), or None if a command or option is unknown:
    with --help appended, click parses every option (refusing unknown ones) and then prints the usage."""
    ran = CliRunner().invoke(app, [*args, "--help"], prog_name="walletnet", terminal_width=200)
    words = [w for w in args if not w.startswith("-")]
    for n in range(len(words), 0, -1):
        if ran.exit_code == 0 and f"Usage: walletnet {' '.join(words[:n])} [OPTIONS]" in " ".join(ran.output.split()):
            return " ".join(words[:n])
    return None


def test_compose_profiles_and_services() -> None:
    services = _compose()["services"]
    profiles = {name: tuple(s.get("profiles", ())) for name, s in services.items()}
    assert {n for n, p in profiles.items() if p == ("dev",)} == {"chain", "dev-init", "bank-node", "bank-api"}
    expected = {f"{kind}-{bank}" for bank in BANKS
                for kind in ("besu", "postgres", "migrate", "node", "replica", "permissions")}
    assert {n for n, p in profiles.items() if p == ("consortium",)} == expected
    assert all(p for p in profiles.values())  # nothing starts without a profile
    for bank, ip in zip(BANKS, ("172.28.0.11", "172.28.0.12", "172.28.0.13", "172.28.0.14"), strict=True):
        besu = services[f"besu-{bank}"]
        assert besu["image"].startswith("${BESU_IMAGE:-hyperledger/besu:")
        assert besu["networks"]["walletnet"]["ipv4_address"] == ip
        assert besu["command"] == [f"--config-file=/walletnet/{bank}/besu/config.toml"]
        for replica in (f"node-{bank}", f"replica-{bank}"):  # two of the bank's node, every role in each
            assert services[replica]["environment"]["WALLETNET_CONFIG"] == f"/walletnet/{bank}/node.toml"
            assert "--roles" not in services[replica]["command"]
    assert _compose()["networks"]["walletnet"]["ipam"]["config"][0]["subnet"] == "172.28.0.0/24"


def test_compose_commands_are_real_walletnet_commands() -> None:
    services = _compose()["services"]
    seen = set()
    for name, service in services.items():
        if service.get("image") == "walletnet:local":
            assert service["build"] == "."
            for args in _walletnet_commands(service):
                command = _resolve(args)
                assert command is not None, f"{name}: walletnet {' '.join(args)} is not a command of ours"
                seen.add(command)
            if service.get("entrypoint") == ["uvicorn"]:
                assert service["command"][:2] == ["--factory", "api.app:app_from_env"]
    assert seen == {"node run", "db upgrade", "node permissions", "deploy"}
    assert _resolve(["node", "permissions", "--no-such-option", "x"]) is None  # the check can fail
    assert _resolve(["node", "start"]) is None


def test_compose_mounts_only_files_genesis_writes(net: GenesisResult) -> None:
    text = _substitute((ROOT / "docker-compose.yml").read_text(), {"WALLETNET_NET": str(net.out)})
    services = yaml.safe_load(text)["services"]
    named = set(_compose()["volumes"])
    for name, service in services.items():
        for volume in service.get("volumes", []):
            source, target = volume.split(":")[:2]
            if source in named:
                continue
            assert Path(source).exists(), f"{name} mounts {source}, which genesis did not write"
            if target.startswith("/walletnet/"):  # the configs' paths: the same layout under the container root
                assert Path(source).relative_to(net.out) == Path(target).relative_to("/walletnet"), volume
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert dockerfile.startswith("#") and "FROM python:3.11-slim" in dockerfile
    assert 'ENTRYPOINT ["walletnet"]' in dockerfile


def test_deploy_writes_dev_keystores_for_the_dev_profile(system: Any, devnet: Any, tmp_path: Path) -> None:
    """The dev profile's bank node starts from a keystore like a production one (the `system` fixture reverts
    this second deployment afterwards)."""
    ran = CliRunner().invoke(app, ["deploy", "--rpc-url", devnet.rpc_url, "--out", str(tmp_path / "d.json"),
                                   "--banks", "1", "--keystores", str(tmp_path)])
    assert ran.exit_code == 0, ran.output
    password = (tmp_path / "banka" / "operator.password").read_text().strip()
    key = WalletKey.load(tmp_path / "banka" / "operator.json", password)
    assert key.address == devnet.accounts[2].address  # bank A's dev operator, as `walletnet deploy` admits it
    assert Network.connect(devnet.rpc_url, tmp_path / "d.json").consortium.functions.bankOfOperator(
        key.address).call() == bank_id("BANKA")
    assert not (tmp_path / "banka" / "operator.password").stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO)
    assert not (tmp_path / "bankb").exists()
