"""``calldata``: a built call's transaction data straight from eth_abi, byte for byte what web3 encodes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from web3 import Web3

import wallet_sdk
from wallet_sdk._sender import calldata

ARTIFACTS = Path(wallet_sdk.__file__).parent / "artifacts"
ALICE = Web3.to_checksum_address("0x" + "ab" * 20)
BOB = Web3.to_checksum_address("0x" + "cd" * 20)


def _contract(name: str) -> Any:
    artifact = json.loads((ARTIFACTS / f"{name}.json").read_text())
    return Web3().eth.contract(address=Web3.to_checksum_address("0x" + "11" * 20), abi=artifact["abi"])


@pytest.mark.parametrize("build", [
    lambda token: token.functions.relayTransfers([(ALICE, BOB, 5, 10**10, 2**200 + n, 27, bytes([n]) * 32,
                                                   b"\x02" * 32) for n in range(100)]),
    lambda token: token.functions.mintBatch([(ALICE, 7, b"\x03" * 32), (BOB, 2**96, b"\x04" * 32)]),
    lambda token: token.functions.mint(ALICE, 1, b"\x05" * 32),
    lambda token: token.functions.relayTransfers([]),
], ids=["relay-100", "mint-batch", "mint", "relay-empty"])
def test_the_same_bytes_as_web3(build: Any) -> None:
    call = build(_contract("DigitalCash"))
    assert calldata(call) == call._encode_transaction_data()


def test_what_eth_abi_will_not_take_goes_the_web3_way() -> None:
    """A hex string for a bytes32 is web3's to convert (eth_abi refuses it): the result is still web3's."""
    call = _contract("DigitalCash").functions.mint(ALICE, 1, "0x" + "05" * 32)
    assert calldata(call) == call._encode_transaction_data()
    assert calldata(call).endswith("05" * 32)
