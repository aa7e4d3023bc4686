"""Node settings: precedence (arguments > WALLETNET_* env > config file > defaults), secrets kept out of
sight, and refusal of laptop-only settings outside ``local``. No database involved."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_typing import HexStr
from pydantic import SecretStr, ValidationError

from node.settings import (
    ConfigFileError,
    Environment,
    NodeSettings,
    OperatorPasswordError,
    load_settings,
)
from tools.devnet import dev_accounts

PASSWORD = "correct horse battery staple"
OPERATOR_KEY = "0x" + "5a" * 32  # not one of anvil's


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.upper().startswith("WALLETNET_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def _keystore(path: Path, private_key: str, password: str = PASSWORD) -> Path:
    path.write_text(json.dumps(Account.encrypt(HexStr(private_key), password, kdf="pbkdf2", iterations=2)))
    return path


def _password_file(path: Path, mode: int = 0o600) -> Path:
    path.write_text(PASSWORD + "\n")
    path.chmod(mode)
    return path


def _production(tmp_path: Path, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "environment": "production",
        "bank_id": "BANKB",
        "rpc_url": "http://10.0.0.5:8545",
        "deployment_file": str(tmp_path / "deployment.json"),
        "db_url": "postgresql://node:db-secret@db.internal/bankb",
        "operator_keystore": str(_keystore(tmp_path / "operator.json", OPERATOR_KEY)),
        "operator_password_file": str(_password_file(tmp_path / "operator.pw")),
    }
    values.update(overrides)
    return values


# ------------------------------------------------------------------ sources and precedence


def test_defaults_suit_a_local_network() -> None:
    settings = NodeSettings()
    assert settings.environment is Environment.LOCAL
    assert settings.bank_id == "BANKA"
    assert settings.database_url == "sqlite:///.walletnet/banka/node.sqlite3"
    assert settings.deployment_path == Path(".walletnet/deployment.json")
    assert settings.confirmations == 1
    assert settings.ledger_adapter == "builtin"


def test_arguments_beat_environment_beat_config_file_beat_defaults(monkeypatch: pytest.MonkeyPatch,
                                                                   tmp_path: Path) -> None:
    config = tmp_path / "node.toml"
    config.write_text('bank_id = "BANKB"\nconfirmations = 3\nrpc_url = "http://file:8545"\ncurrency = "EUR"\n')
    monkeypatch.setenv("WALLETNET_CONFIG", str(config))
    monkeypatch.setenv("WALLETNET_CONFIRMATIONS", "5")
    monkeypatch.setenv("WALLETNET_RPC_URL", "http://env:8545")

    from_sources = NodeSettings()
    assert from_sources.bank_id == "BANKB"  # file over default
    assert from_sources.currency == "EUR"
    assert from_sources.confirmations == 5  # env over file
    assert from_sources.rpc_url == "http://env:8545"
    assert from_sources.data_dir == Path(".walletnet")  # default where nobody says otherwise

    overridden = NodeSettings(confirmations=7)
    assert overridden.confirmations == 7  # argument over env
    assert overridden.bank_id == "BANKB"


def test_a_json_config_file_named_by_argument(tmp_path: Path) -> None:
    config = tmp_path / "node.json"
    config.write_text(json.dumps({"bank_id": "BANKC", "db_url": "sqlite:////var/lib/walletnet/c.sqlite3"}))
    settings = load_settings(config)
    assert settings.bank_id == "BANKC"
    assert settings.database_url == "sqlite:////var/lib/walletnet/c.sqlite3"


def test_config_file_problems_are_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigFileError, match="No such file"):
        load_settings(tmp_path / "missing.toml")
    odd = tmp_path / "node.yaml"
    odd.write_text("bank_id: BANKB\n")
    with pytest.raises(ConfigFileError, match=r"\.toml or \.json"):
        load_settings(odd)
    broken = tmp_path / "broken.toml"
    broken.write_text("bank_id = \n")
    monkeypatch.setenv("WALLETNET_CONFIG", str(broken))
    with pytest.raises(ConfigFileError, match="cannot parse"):
        NodeSettings()
    unknown = tmp_path / "unknown.toml"
    unknown.write_text('bank_id = "BANKB"\nbank_idd = "typo"\n')
    with pytest.raises(ValidationError, match="bank_idd"):
        load_settings(unknown)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [("bank_id", "bank a", "bank_id is 2-16 characters"), ("rpc_url", "localhost:8545", "http"),
     ("db_url", "sqlite://", "in-memory"), ("db_url", "mysql://x/y", "sqlite:// or postgresql://"),
     ("confirmations", -1, "greater than or equal"), ("environment", "staging", "local")],
)
def test_invalid_values_are_refused(field: str, value: Any, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        NodeSettings(**{field: value})


# ------------------------------------------------------------------ secrets


def test_the_password_comes_from_the_named_env_var_and_never_shows(monkeypatch: pytest.MonkeyPatch,
                                                                    tmp_path: Path) -> None:
    keystore = _keystore(tmp_path / "operator.json", OPERATOR_KEY)
    monkeypatch.setenv("BANK_OPERATOR_PW", PASSWORD)
    settings = NodeSettings(operator_keystore=keystore, operator_password_env="BANK_OPERATOR_PW",
                            db_url="postgresql://node:db-secret@db/bank")
    secret = settings.operator_password()
    assert isinstance(secret, SecretStr)
    assert secret.get_secret_value() == PASSWORD
    for shown in (repr(settings), str(settings), repr(secret), str(secret), settings.model_dump_json()):
        assert PASSWORD not in shown
        assert "db-secret" not in shown
    assert "postgresql://node:***@db/bank" in repr(settings)
    assert settings.database_url == "postgresql://node:db-secret@db/bank"
    assert settings.database_url_for_display() == "postgresql://node:***@db/bank"

    monkeypatch.delenv("BANK_OPERATOR_PW")
    with pytest.raises(OperatorPasswordError, match="BANK_OPERATOR_PW is not set"):
        settings.operator_password()


def test_the_password_file_is_read_without_its_newline(tmp_path: Path) -> None:
    settings = NodeSettings(operator_keystore=_keystore(tmp_path / "k.json", OPERATOR_KEY),
                            operator_password_file=_password_file(tmp_path / "pw"))
    assert settings.operator_password().get_secret_value() == PASSWORD


def test_password_sources_are_names_not_passwords(tmp_path: Path) -> None:
    keystore = _keystore(tmp_path / "k.json", OPERATOR_KEY)
    with pytest.raises(ValidationError) as pasted:  # someone pasted the password itself
        NodeSettings(operator_keystore=keystore, operator_password_env=PASSWORD)
    assert "NAME of an environment variable" in str(pasted.value)
    assert PASSWORD not in str(pasted.value)
    with pytest.raises(ValidationError, match="one password source"):
        NodeSettings(operator_keystore=keystore, operator_password_env="PW",
                     operator_password_file=_password_file(tmp_path / "pw"))
    with pytest.raises(ValidationError, match="needs a password source"):
        NodeSettings(operator_keystore=keystore)


# ------------------------------------------------------------------ outside local


def test_production_with_proper_settings_starts(tmp_path: Path) -> None:
    settings = NodeSettings(**_production(tmp_path))
    assert settings.environment is Environment.PRODUCTION
    assert settings.operator_password().get_secret_value() == PASSWORD


def test_production_refuses_local_defaults(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="set bank_id, rpc_url, deployment_file, db_url, operator_keystore"):
        NodeSettings(environment="production")
    values = _production(tmp_path)
    del values["db_url"]
    with pytest.raises(ValidationError, match="set db_url explicitly"):
        NodeSettings(**values)


def test_production_refuses_a_development_key(tmp_path: Path) -> None:
    anvil_key = dev_accounts(3)[2].private_key  # a bank operator of the local network
    keystore = _keystore(tmp_path / "dev.json", anvil_key)
    with pytest.raises(ValidationError, match="public development key"):
        NodeSettings(**_production(tmp_path, operator_keystore=str(keystore)))
    # the same key is fine on a laptop
    assert NodeSettings(operator_keystore=keystore, operator_password_file=_password_file(tmp_path / "pw"))


def test_production_refuses_a_development_key_even_without_a_stated_address(tmp_path: Path) -> None:
    keystore = _keystore(tmp_path / "dev.json", dev_accounts(1)[0].private_key)
    data = json.loads(keystore.read_text())
    del data["address"]
    keystore.write_text(json.dumps(data))
    with pytest.raises(ValidationError, match="public development key"):
        NodeSettings(**_production(tmp_path, operator_keystore=str(keystore)))


def test_production_refuses_a_password_file_others_can_read(tmp_path: Path) -> None:
    loose = _password_file(tmp_path / "loose.pw", mode=0o644)
    with pytest.raises(ValidationError, match="readable by others"):
        NodeSettings(**_production(tmp_path, operator_password_file=str(loose)))


def test_production_refuses_a_missing_keystore(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="does not exist"):
        NodeSettings(**_production(tmp_path, operator_keystore=str(tmp_path / "nope.json")))


def test_production_comes_from_the_environment_too(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name, value in _production(tmp_path).items():
        monkeypatch.setenv(f"WALLETNET_{name.upper()}", str(value))
    assert NodeSettings().bank_id == "BANKB"
    monkeypatch.delenv("WALLETNET_OPERATOR_KEYSTORE")
    with pytest.raises(ValidationError, match="operator_keystore"):
        NodeSettings()
