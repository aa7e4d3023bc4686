"""Typed reverts: one generated class per Solidity custom error, checked against every shipped artifact so the module
cannot drift, and decode_revert returning those classes (unit level; reverts from the real chain are in
test_network*.py and test_sender.py)."""

from __future__ import annotations

import dataclasses
import inspect
import pickle
from collections import defaultdict
from enum import IntEnum
from typing import Any, get_type_hints

import pytest
from eth_abi.abi import encode as abi_encode
from eth_typing import ChecksumAddress, HexAddress, HexStr
from eth_utils.abi import function_signature_to_4byte_selector

from wallet_sdk import reverts
from wallet_sdk._abi_words import abi_type
from wallet_sdk.artifacts import artifact_names, load_artifact
from wallet_sdk.chain.types import BankStatus, HoldStatus, MerchantStatus, ProposalStatus, WalletKind, WalletStatus
from wallet_sdk.exceptions import ContractRevertError, Panic, RevertReason, TypedRevert, UnknownRevert
from wallet_sdk.revert_decoding import decode_revert, error_class, error_classes
from wallet_sdk.reverts import DirectTransferToSettlement, QuotaExceeded, SinglePaymentLimitExceeded, WalletNotActive

WALLET = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
ENUMS = {
    "enum IConsortium.BankStatus": BankStatus,
    "enum IConsortium.ProposalStatus": ProposalStatus,
    "enum IWalletRegistry.WalletStatus": WalletStatus,
    "enum IWalletRegistry.WalletKind": WalletKind,
    "enum IDigitalCash.HoldStatus": HoldStatus,
    "enum IMerchantSettlement.MerchantStatus": MerchantStatus,
}
RESERVED = {"name", "arguments", "data", "tx_hash", "receipt", "args", "SIGNATURE", "ERROR_NAME"}


def shipped_errors() -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """error name -> [(contract, ABI item)] over every shipped (non-test) artifact."""
    found: dict[str, list[tuple[str, dict[str, Any]]]] = defaultdict(list)
    for contract in artifact_names():
        for item in load_artifact(contract)["abi"]:
            if item["type"] == "error":
                found[item["name"]].append((contract, item))
    return found


def signature(item: dict[str, Any]) -> str:
    return f"{item['name']}({','.join(abi_type(p) for p in item['inputs'])})"


def python_type(param: dict[str, Any], hint: Any) -> bool:
    """Does the class's annotation fit the ABI parameter?"""
    while hasattr(hint, "__supertype__"):  # ChecksumAddress -> HexAddress -> str
        hint = hint.__supertype__
    typ = param["type"]
    enum = ENUMS.get(param.get("internalType", ""))
    if enum is not None:
        return hint is enum
    if typ == "address":
        return hint is str
    if typ in ("bytes32", "bytes"):
        return hint is bytes
    if typ == "string":
        return hint is str
    if typ == "bool":
        return hint is bool
    if typ.startswith(("uint", "int")):
        return hint is int or (isinstance(hint, type) and issubclass(hint, IntEnum))
    return False


def sample(param: dict[str, Any]) -> Any:
    typ = param["type"]
    return {"address": WALLET, "bytes32": b"\x07" * 32, "bytes": b"\x01\x02", "string": "enode://x",
            "bool": True}.get(typ, 1 if typ.startswith(("uint", "int")) else None)


# --- the module matches the artifacts ---


def test_every_shipped_error_has_a_class_with_its_arguments() -> None:
    errors = shipped_errors()
    assert len(errors) > 90
    for name, declarations in errors.items():
        cls = error_class(name)
        assert cls is not None, f"no class for {name} (declared in {[c for c, _ in declarations]})"
        assert cls.__name__ == name
        assert getattr(reverts, name) is cls
        assert issubclass(cls, ContractRevertError)
        for contract, item in declarations:
            assert signature(item) == cls.SIGNATURE, f"{name} in {contract}"
            assert cls.argument_names() == tuple(p["name"] for p in item["inputs"]), f"{name} in {contract}"
            hints = get_type_hints(cls)
            attrs = [f.name for f in dataclasses.fields(cls) if f.name != "data"]
            for attr, param in zip(attrs, item["inputs"], strict=True):
                assert attr.rstrip("_") == param["name"]
                if name == "WalletNotActive" and param["name"] == "status":
                    assert hints[attr] is WalletStatus  # see the next test
                else:
                    assert python_type(param, hints[attr]), f"{name}.{attr}: {hints[attr]} vs {param}"
        assert cls.selector() == function_signature_to_4byte_selector(cls.SIGNATURE)


def test_no_class_without_a_shipped_error() -> None:
    errors = shipped_errors()
    extra = set(error_classes()) - set(errors) - {"Error", "Panic"}
    assert extra == set()
    declared = {name for name, obj in vars(reverts).items()
                if inspect.isclass(obj) and issubclass(obj, TypedRevert) and obj is not TypedRevert}
    assert declared == {cls.__name__ for cls in error_classes().values()}


def test_errors_shared_by_contracts_agree() -> None:
    """Same name in two contracts: same selector and argument names; only WalletNotActive differs (in the
    internal type of ``status``: the registry's enum vs the token's uint8 with the same values)."""
    differing = []
    for name, declarations in shipped_errors().items():
        assert len({signature(item) for _, item in declarations}) == 1, name
        assert len({tuple(p["name"] for p in item["inputs"]) for _, item in declarations}) == 1, name
        if len({tuple(p.get("internalType") for p in item["inputs"]) for _, item in declarations}) > 1:
            differing.append(name)
    assert differing == ["WalletNotActive"]
    assert {c for c, _ in shipped_errors()["WalletNotActive"]} == {"DigitalCash", "WalletRegistry"}


def test_no_argument_shadows_the_base_attributes() -> None:
    for cls in error_classes().values():
        assert not RESERVED & set(cls.argument_names()), cls.__name__


# --- decoding ---


@pytest.mark.parametrize("name", sorted(shipped_errors()))
def test_decode_revert_returns_the_typed_class(name: str) -> None:
    _, item = shipped_errors()[name][0]
    values = [sample(p) for p in item["inputs"]]
    data = function_signature_to_4byte_selector(signature(item)) + abi_encode(
        [abi_type(p) for p in item["inputs"]], values)
    error = decode_revert(data)
    assert type(error) is error_class(name)
    assert isinstance(error, ContractRevertError)
    assert error.name == name
    assert error.data == data
    assert error.tx_hash is None
    assert list(error.arguments) == [p["name"] for p in item["inputs"]]
    assert list(error.arguments.values()) == values
    assert decode_revert("0x" + data.hex()).arguments == error.arguments


def test_arguments_become_attributes_and_enums() -> None:
    data = WalletNotActive.selector() + abi_encode(["address", "uint8"], [WALLET.lower(), 2])
    error = decode_revert(data)
    assert isinstance(error, WalletNotActive)
    assert error.wallet == WALLET  # checksummed
    assert error.status is WalletStatus.FROZEN
    assert error.arguments == {"wallet": WALLET, "status": WalletStatus.FROZEN}
    assert str(error) == f"WalletNotActive(wallet='{WALLET}', status=2 (FROZEN))"
    assert repr(error) == f"WalletNotActive(wallet='{WALLET}', status=<WalletStatus.FROZEN: 2>)"
    # a value outside the enum (a newer contract) stays an int instead of failing to decode
    odd = decode_revert(WalletNotActive.selector() + abi_encode(["address", "uint8"], [WALLET, 9]))
    assert isinstance(odd, WalletNotActive)
    assert odd.status == 9
    assert type(odd.status) is int


def test_keyword_argument_names_get_an_underscore() -> None:
    error = decode_revert(DirectTransferToSettlement.selector() + abi_encode(["address"], [WALLET]))
    assert isinstance(error, DirectTransferToSettlement)
    assert error.from_ == WALLET
    assert error.arguments == {"from": WALLET}
    assert DirectTransferToSettlement.argument_names() == ("from",)


def test_signed_arguments_and_construction_by_keyword() -> None:
    bank = b"BANKA".ljust(32, b"\0")
    error = QuotaExceeded(bankId=bank, quota=100, netIssued=-5, amount=200)
    assert error.arguments == {"bankId": bank, "quota": 100, "netIssued": -5, "amount": 200}
    assert error.name == "QuotaExceeded"
    assert error.data == b""
    encoded = QuotaExceeded.selector() + abi_encode(["bytes32", "uint256", "int256", "uint256"], [bank, 100, -5, 200])
    assert decode_revert(encoded).arguments == error.arguments
    with pytest.raises(SinglePaymentLimitExceeded) as caught:
        raise SinglePaymentLimitExceeded(ChecksumAddress(HexAddress(HexStr(WALLET))), 600, 500)
    assert (caught.value.wallet, caught.value.amount, caught.value.limit) == (WALLET, 600, 500)


def test_builtin_error_and_panic() -> None:
    reason = decode_revert(bytes.fromhex("08c379a0") + abi_encode(["string"], ["not allowed"]))
    assert isinstance(reason, RevertReason)
    assert reason.name == "Error"
    assert reason.message == "not allowed"
    panic = decode_revert(bytes.fromhex("4e487b71") + abi_encode(["uint256"], [0x11]))
    assert isinstance(panic, Panic)
    assert panic.code == 0x11
    assert panic.reason == "arithmetic overflow or underflow"
    assert Panic(code=0x99).reason == "panic code 0x99"


def test_unknown_and_malformed_revert_data() -> None:
    none = decode_revert(None)
    assert isinstance(none, UnknownRevert)
    assert (none.name, none.arguments, none.data) == ("Unknown", {}, b"")
    empty = decode_revert("0x")
    assert isinstance(empty, UnknownRevert)
    assert empty.arguments == {}
    stranger = decode_revert(bytes.fromhex("deadbeef") + bytes(32))
    assert isinstance(stranger, UnknownRevert)
    assert stranger.arguments == {"data": "0xdeadbeef" + "00" * 32}
    truncated = decode_revert(WalletNotActive.selector() + bytes(10))  # known selector, broken arguments
    assert isinstance(truncated, UnknownRevert)
    assert truncated.data == WalletNotActive.selector() + bytes(10)


def test_errors_of_test_only_contracts_keep_their_name_untyped() -> None:
    assert "ECDSAInvalidSignature" not in shipped_errors()
    error = decode_revert(function_signature_to_4byte_selector("ECDSAInvalidSignatureLength(uint256)")
                          + abi_encode(["uint256"], [64]))
    assert type(error) is ContractRevertError
    assert (error.name, error.arguments) == ("ECDSAInvalidSignatureLength", {"length": 64})


def test_typed_reverts_pickle() -> None:
    error = decode_revert(WalletNotActive.selector() + abi_encode(["address", "uint8"], [WALLET, 3]))
    error.tx_hash = "0x" + "ab" * 32
    copy = pickle.loads(pickle.dumps(error))
    assert isinstance(copy, WalletNotActive)
    assert isinstance(error, WalletNotActive)
    assert (copy.wallet, copy.status, copy.tx_hash, copy.arguments, str(copy)) == (
        error.wallet, WalletStatus.CLOSED, error.tx_hash, error.arguments, str(error))


def test_a_class_must_name_its_signature() -> None:
    with pytest.raises(TypeError, match="does not name"):
        type("Mismatch", (TypedRevert,), {"SIGNATURE": "Other()", "__annotations__": {}})
