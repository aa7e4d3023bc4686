"""Wallet keys: import, mnemonics, keystores, signing, and that the key never leaks."""

from __future__ import annotations

import copy
import json
import logging
import os
import pickle
import stat
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data

import wallet_sdk.keys
from wallet_sdk.exceptions import (
    InvalidMnemonicError,
    InvalidPrivateKeyError,
    KeystoreError,
    KeystoreExistsError,
    MalformedKeystoreError,
    WalletnetError,
    WrongPasswordError,
)
from wallet_sdk.keys import WalletKey, derivation_path

# Well-known test vectors: the mnemonic and first accounts of Hardhat/anvil, and eth-account's doc key.
MNEMONIC = "test test test test test test test test test test test junk"
ANVIL_0 = ("0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
           "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266")
ANVIL_1 = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
ANVIL_7 = "0x14dC79964da2C08b23698B3D3cc7Ca32193d9955"
DOC_KEY = ("0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318",
           "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23")
FAST = 2**4  # scrypt work factor for tests only


def secret_forms(private_key: str) -> list[str]:
    """Every way a leaked key could be spelled in text."""
    bare = private_key.removeprefix("0x")
    return [bare, bare.upper(), repr(bytes.fromhex(bare))[2:-1]]


def assert_no_secret(text: str, *secrets: str) -> None:
    for secret in secrets:
        for form in secret_forms(secret) if len(secret.removeprefix("0x")) == 64 else [secret]:
            assert form not in text


def full_report(exc: BaseException) -> str:
    """What a traceback printer or an error tracker would show: message, chain and all."""
    return "".join(traceback.format_exception(exc)) + repr(exc) + repr(exc.__context__) + repr(exc.__cause__)


# --- import and identity ---


def test_from_private_key_forms() -> None:
    key, address = DOC_KEY
    bare = key.removeprefix("0x")
    for form in (key, bare, bare.upper(), "0X" + bare, bytes.fromhex(bare), bytearray.fromhex(bare)):
        assert WalletKey.from_private_key(form).address == address  # type: ignore[arg-type]
    assert WalletKey(key).export_private_key() == key


def test_create_gives_distinct_checksummed_keys() -> None:
    a, b = WalletKey.create(), WalletKey.create()
    assert a != b
    assert Account.from_key(a.export_private_key()).address == a.address
    assert a.address == Account.from_key(a.export_private_key()).address


def test_equality_and_hash_follow_the_address() -> None:
    a, b = WalletKey(ANVIL_0[0]), WalletKey(bytes.fromhex(ANVIL_0[0][2:]))
    assert a == b
    assert hash(a) == hash(b)
    assert a != WalletKey(DOC_KEY[0])
    assert a != ANVIL_0[1]


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ("0x" + "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f3623",
         "expected 64 hex digits (optionally 0x-prefixed), got a 64-character string"),
        ("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f36231800",
         "expected 64 hex digits (optionally 0x-prefixed), got a 66-character string"),
        ("0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f36231z",
         "expected 64 hex digits (optionally 0x-prefixed), got a 66-character string"),
        ("0x4c08 83a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f3623",
         "expected 64 hex digits (optionally 0x-prefixed), got a 65-character string"),
        (bytes.fromhex("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f3623"), "expected 32 bytes, got 31"),
        ("0x" + "00" * 32, "not in the secp256k1 range 1..n-1"),
        ("0x" + "ff" * 32, "not in the secp256k1 range 1..n-1"),
        (12345, "expected a hex str or 32 bytes, not int"),
    ],
)
def test_malformed_private_key_is_refused_without_echoing_it(bad: Any, reason: str) -> None:
    with pytest.raises(InvalidPrivateKeyError) as info:
        WalletKey.from_private_key(bad)
    assert str(info.value) == f"invalid private key: {reason}"
    assert info.value.reason == reason
    assert isinstance(info.value, ValueError)
    assert info.value.__context__ is None
    assert info.value.__cause__ is None
    report = full_report(info.value)
    if isinstance(bad, str):
        assert bad.removeprefix("0x")[:40] not in report
    if isinstance(bad, bytes):
        assert bad.hex()[:40] not in report


# --- mnemonics ---


def test_from_mnemonic_follows_bip44() -> None:
    assert derivation_path(0) == "m/44'/60'/0'/0/0"
    assert WalletKey.from_mnemonic(MNEMONIC).address == ANVIL_0[1]
    assert WalletKey.from_mnemonic(MNEMONIC, 1).address == ANVIL_1
    assert WalletKey.from_mnemonic(MNEMONIC, index=7).address == ANVIL_7
    assert WalletKey.from_mnemonic(MNEMONIC).export_private_key() == ANVIL_0[0]
    assert WalletKey.from_mnemonic(f"  {MNEMONIC.replace(' ', '  ')}\n").address == ANVIL_0[1]  # spacing


def test_from_mnemonic_with_passphrase() -> None:
    # Cross-checked with eth_account's own HD wallet: Account.from_mnemonic(MNEMONIC, passphrase="TREZOR").
    expected = "0x9313778B3753108128B9c476EBDd42FbD566F4Ed"
    assert WalletKey.from_mnemonic(MNEMONIC, passphrase="TREZOR").address == expected


@pytest.mark.parametrize(
    ("phrase", "reason"),
    [
        (" ".join(["test"] * 11), "expected 12, 15, 18, 21 or 24 words, got 11"),
        ("", "expected 12, 15, 18, 21 or 24 words, got 0"),
        (" ".join(["test"] * 12), "a word is not in the BIP-39 English list, or the checksum is wrong"),
        (MNEMONIC.replace("junk", "zzzzq"), "a word is not in the BIP-39 English list, or the checksum is wrong"),
    ],
)
def test_invalid_mnemonic_is_refused_without_echoing_it(phrase: str, reason: str) -> None:
    with pytest.raises(InvalidMnemonicError) as info:
        WalletKey.from_mnemonic(phrase)
    assert str(info.value) == f"invalid mnemonic: {reason}"
    assert info.value.__context__ is None  # eth_account's own error repeats the phrase
    report = full_report(info.value)
    assert "test test" not in report
    assert "zzzzq" not in report


@pytest.mark.parametrize("index", [-1, 2**31, True, "0"])
def test_mnemonic_index_must_be_a_non_hardened_index(index: Any) -> None:
    with pytest.raises(InvalidMnemonicError) as info:
        WalletKey.from_mnemonic(MNEMONIC, index)
    assert str(info.value) == f"invalid mnemonic: account index must be an int from 0 to 2**31 - 1, got {index!r}"


def test_generate_with_mnemonic() -> None:
    key, phrase = WalletKey.generate_with_mnemonic()
    assert len(phrase.split()) == 12
    assert WalletKey.from_mnemonic(phrase) == key
    key24, phrase24 = WalletKey.generate_with_mnemonic(num_words=24, index=3, passphrase="x")
    assert len(phrase24.split()) == 24
    assert WalletKey.from_mnemonic(phrase24, 3, "x") == key24
    assert WalletKey.from_mnemonic(phrase24, 3) != key24
    with pytest.raises(InvalidMnemonicError) as info:
        WalletKey.generate_with_mnemonic(num_words=13)
    assert str(info.value) == "invalid mnemonic: num_words must be one of (12, 15, 18, 21, 24), got 13"


# --- keystores ---


def test_keystore_round_trip() -> None:
    key = WalletKey(DOC_KEY[0])
    keystore = key.to_keystore("correct horse", scrypt_n=FAST)
    assert keystore["version"] == 3
    assert keystore["address"] == DOC_KEY[1].removeprefix("0x")
    assert keystore["crypto"]["kdf"] == "scrypt"
    assert keystore["crypto"]["kdfparams"]["n"] == FAST
    assert_no_secret(json.dumps(keystore), DOC_KEY[0])
    assert WalletKey.from_keystore(keystore, "correct horse") == key
    assert WalletKey.from_keystore(json.dumps(keystore), "correct horse") == key


def test_keystore_default_work_factor_is_scrypts_standard() -> None:
    keystore = WalletKey(DOC_KEY[0]).to_keystore("pw")
    assert keystore["crypto"]["kdfparams"] == {"dklen": 32, "n": 2**18, "r": 8, "p": 1,
                                               "salt": keystore["crypto"]["kdfparams"]["salt"]}


def test_reads_keystores_written_by_other_tools() -> None:
    pbkdf2 = Account.encrypt(DOC_KEY[0], "pw", kdf="pbkdf2", iterations=2)  # geth's other kdf
    assert WalletKey.from_keystore(pbkdf2, "pw").address == DOC_KEY[1]


def test_wrong_password() -> None:
    key = WalletKey(DOC_KEY[0])
    right, wrong = "hunter2-right", "hunter2-wrong"  # variables: traceback source lines must not show them
    keystore = key.to_keystore(right, scrypt_n=FAST)
    with pytest.raises(WrongPasswordError) as info:
        WalletKey.from_keystore(keystore, wrong)
    assert str(info.value) == f"wrong password for the keystore of {DOC_KEY[1]}"
    assert info.value.address == DOC_KEY[1]
    assert isinstance(info.value, KeystoreError)
    assert isinstance(info.value, WalletnetError)
    assert info.value.__context__ is None
    report = full_report(info.value)
    assert_no_secret(report, DOC_KEY[0], right, wrong)
    del keystore["address"]
    with pytest.raises(WrongPasswordError) as anonymous:
        WalletKey.from_keystore(keystore, wrong)
    assert str(anonymous.value) == "wrong password for the keystore"


@pytest.mark.parametrize(
    ("keystore", "reason"),
    [
        ("{not json", "not JSON"),
        ("[1, 2]", "expected a JSON object, not list"),
        ({"version": 3, "address": "00" * 20}, "no 'crypto' section"),
    ],
)
def test_malformed_keystore(keystore: Any, reason: str) -> None:
    with pytest.raises(MalformedKeystoreError) as info:
        WalletKey.from_keystore(keystore, "pw")
    assert str(info.value) == f"malformed keystore: {reason}"


def test_keystore_with_a_wrong_address_field_is_malformed() -> None:
    keystore = WalletKey(DOC_KEY[0]).to_keystore("pw", scrypt_n=FAST)
    keystore["address"] = ANVIL_1.removeprefix("0x").lower()
    with pytest.raises(MalformedKeystoreError) as info:
        WalletKey.from_keystore(keystore, "pw")
    assert str(info.value) == (
        f"malformed keystore: the key decrypts to {DOC_KEY[1]}, not the stated address {ANVIL_1}")


def test_keystore_with_an_unknown_kdf_is_malformed() -> None:
    keystore = WalletKey(DOC_KEY[0]).to_keystore("pw", scrypt_n=FAST)
    keystore["crypto"]["kdf"] = "argon9"
    with pytest.raises(MalformedKeystoreError) as info:
        WalletKey.from_keystore(keystore, "pw")
    assert str(info.value) == "malformed keystore: TypeError: Unsupported key derivation function: argon9"


@pytest.fixture
def open_umask() -> Iterator[None]:
    """A umask that would leave new files world-readable: the keystore must be 0600 anyway."""
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


def test_save_and_load(tmp_path: Path, open_umask: None) -> None:
    key = WalletKey(DOC_KEY[0])
    path = key.save(tmp_path / "alice.json", "pw", scrypt_n=FAST)
    assert path == tmp_path / "alice.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text())["address"] == DOC_KEY[1].removeprefix("0x")
    assert WalletKey.load(path, "pw") == key
    assert WalletKey.load(str(path), "pw") == key


def test_save_refuses_to_overwrite(tmp_path: Path) -> None:
    path = WalletKey(DOC_KEY[0]).save(tmp_path / "k.json", "pw", scrypt_n=FAST)
    before = path.read_bytes()
    with pytest.raises(KeystoreExistsError) as info:
        WalletKey(ANVIL_0[0]).save(path, "pw", scrypt_n=FAST)
    assert str(info.value) == f"keystore file {path} already exists (pass overwrite=True to replace it)"
    assert info.value.path == str(path)
    assert isinstance(info.value, FileExistsError)
    assert path.read_bytes() == before


def test_save_overwrite_replaces_atomically(tmp_path: Path, open_umask: None) -> None:
    path = WalletKey(DOC_KEY[0]).save(tmp_path / "k.json", "pw", scrypt_n=FAST)
    WalletKey(ANVIL_0[0]).save(path, "pw2", overwrite=True, scrypt_n=FAST)
    assert WalletKey.load(path, "pw2").address == ANVIL_0[1]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k.json"]  # no temporary file left behind


def test_load_wrong_password(tmp_path: Path) -> None:
    path = WalletKey(DOC_KEY[0]).save(tmp_path / "k.json", "pw", scrypt_n=FAST)
    with pytest.raises(WrongPasswordError) as info:
        WalletKey.load(path, "nope")
    assert str(info.value) == f"wrong password for the keystore of {DOC_KEY[1]}"


# --- the key never leaks ---


def test_repr_and_str_show_only_the_address() -> None:
    key = WalletKey(DOC_KEY[0])
    assert repr(key) == f"WalletKey(address='{DOC_KEY[1]}')"
    assert str(key) == repr(key)
    assert f"{key}" == repr(key)
    assert "%s %r" % (key, key) == f"{key!r} {key!r}"  # noqa: UP031 - the old formatting path too
    assert repr([key, (key,), {"k": key}]) == f"[{key!r}, ({key!r},), {{'k': {key!r}}}]"
    assert not hasattr(key, "__dict__")


def test_logging_a_key_logs_only_the_address(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        key = WalletKey.from_mnemonic(MNEMONIC)
        logging.getLogger("walletnet.test").info("using %s", key)
        logging.getLogger("walletnet.test").info("key object: %r", key)
        key.to_keystore("pw", scrypt_n=FAST)
        key.sign_typed_data(_typed_data())
    # only this test's logger: other threads of the session (the flow tests' bank nodes) log too
    ours = [r.getMessage() for r in caplog.records if r.name == "walletnet.test"]
    assert ours == [f"using {key!r}", f"key object: {key!r}"]
    assert_no_secret(caplog.text, ANVIL_0[0], MNEMONIC)


def test_key_cannot_be_pickled_or_mutated() -> None:
    key = WalletKey(DOC_KEY[0])
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        with pytest.raises(TypeError, match=r"^a WalletKey cannot be pickled"):
            pickle.dumps(key, protocol)
    assert copy.copy(key) is key
    assert copy.deepcopy(key) is key
    with pytest.raises(AttributeError, match=r"^WalletKey is immutable$"):
        key._account = None  # type: ignore[misc]
    assert key.export_private_key() == DOC_KEY[0]


# --- signing ---


def _typed_data() -> dict[str, Any]:
    return {
        "types": {"EIP712Domain": [{"name": "name", "type": "string"}],
                  "Ping": [{"name": "n", "type": "uint256"}]},
        "primaryType": "Ping", "domain": {"name": "test"}, "message": {"n": 1},
    }


def test_sign_typed_data_recovers_to_the_address() -> None:
    key = WalletKey(DOC_KEY[0])
    signed = key.sign_typed_data(_typed_data())
    assert Account.recover_message(encode_typed_data(full_message=_typed_data()),
                                   signature=signed.signature) == DOC_KEY[1]


def test_sign_transaction_recovers_to_the_address() -> None:
    key = WalletKey(ANVIL_0[0])
    tx = {"to": ANVIL_1, "value": 5, "gas": 21000, "gasPrice": 10**9, "nonce": 0, "chainId": 31337}
    signed = key.sign_transaction(tx)
    assert Account.recover_transaction(signed.raw_transaction) == ANVIL_0[1]


def test_module_examples_run() -> None:
    import doctest

    result = doctest.testmod(wallet_sdk.keys)
    assert (result.failed, result.attempted) == (0, 2)


def test_sign_digest_is_the_signature_eth_account_makes_of_the_typed_data() -> None:
    from wallet_sdk.authorizations import (
        Domain,
        PaymentRequestTerms,
        RelayedTransfer,
        recover_signer,
        settlement_domain,
    )

    key = WalletKey.create()
    domain = Domain.for_token("Digital Cash", 31337, "0x" + "11" * 20)
    for i in range(20):  # a fifth of signatures have a high s before normalising: both must give the low one
        transfer = RelayedTransfer(from_=key.address, to="0x" + "22" * 20, value=1 + i, valid_before=2**40, nonce=i)
        signed = transfer.sign(key, domain)
        reference = key.sign_typed_data(transfer.typed_data(domain))
        assert (signed.v, signed.r, signed.s) == (reference.v, reference.r.to_bytes(32, "big"),
                                                  reference.s.to_bytes(32, "big"))
        assert recover_signer(signed, domain) == key.address
    terms = PaymentRequestTerms(acquirer=b"B" * 32, merchant_id=b"M" * 32, order_id=b"O" * 32, amount=500,
                                expires_at=2**40)
    settlement = settlement_domain(31337, "0x" + "33" * 20)
    reference = key.sign_typed_data(terms.typed_data(settlement))
    assert terms.sign(key, settlement) == reference.signature
    assert terms.recover(terms.sign(key, settlement), settlement) == key.address
    with pytest.raises(ValueError, match="32 bytes"):
        key.sign_digest(b"short")
