"""Customers' secrets at rest (node.custody): where the key comes from, and that it is needed."""

from __future__ import annotations

from pathlib import Path

import pytest

from node.custody import Custody, CustodyKeyError, custody_for
from node.errors import InvalidStateError
from node.settings import load_settings
from node.wallets.models import CustodyMode, WalletRecord, custodial_key, seal_key
from wallet_sdk.keys import WalletKey


def test_a_local_node_makes_its_key_once_with_mode_0600(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, bank_id="BANKQ")
    token = custody_for(settings).encrypt(b"secret")
    path = tmp_path / "bankq" / "custody.key"
    assert path.stat().st_mode & 0o777 == 0o600
    assert b"secret" not in path.read_bytes() and "secret" not in token
    assert Custody(path.read_bytes().strip()).decrypt(token) == b"secret"


def test_the_key_can_come_from_an_environment_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key = Custody.generate_key()
    monkeypatch.setenv("TEST_CUSTODY_KEY", key.decode())
    settings = load_settings(data_dir=tmp_path, bank_id="BANKR", custody_key_env="TEST_CUSTODY_KEY")
    assert Custody(key).decrypt(custody_for(settings).encrypt(b"x")) == b"x"
    assert not (tmp_path / "bankr" / "custody.key").exists()


def test_a_missing_named_key_file_is_an_error(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, bank_id="BANKS", custody_key_file=tmp_path / "missing.key")
    with pytest.raises(CustodyKeyError, match="does not exist"):
        custody_for(settings)


def test_another_key_cannot_read_the_secrets(tmp_path: Path) -> None:
    token = Custody(Custody.generate_key()).encrypt(b"secret")
    with pytest.raises(CustodyKeyError, match="does not decrypt"):
        Custody(Custody.generate_key()).decrypt(token)
    with pytest.raises(CustodyKeyError, match="not a Fernet key"):
        Custody(b"short")
    assert "key" in repr(Custody(Custody.generate_key())) and "hidden" in repr(Custody(Custody.generate_key()))


def test_custodial_keys_round_trip_and_self_custody_has_none(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, bank_id="BANKT")
    key = WalletKey.create()
    record = WalletRecord(address=key.address, custody=CustodyMode.CUSTODIAL, key_ciphertext=seal_key(settings, key))
    assert key.export_private_key()[2:] not in (record.key_ciphertext or "")
    assert custodial_key(settings, record) == key
    with pytest.raises(InvalidStateError, match="self-custody"):
        custodial_key(settings, WalletRecord(address=key.address, custody=CustodyMode.SELF))
