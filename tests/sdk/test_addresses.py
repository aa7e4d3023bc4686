"""EIP-55 checksums (wallet_sdk.addresses): the SDK's own checksum agrees with the EIP's examples and with
eth_utils, and ``checksummed`` refuses mixed case with a wrong checksum."""

from __future__ import annotations

import secrets

import pytest
from eth_utils.address import to_checksum_address

from wallet_sdk.addresses import checksummed, eip55

EIP_EXAMPLES = ["0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
                "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB", "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb"]


@pytest.mark.parametrize("proper", EIP_EXAMPLES)
def test_the_eips_examples(proper: str) -> None:
    assert eip55(proper.lower()) == eip55("0x" + proper[2:].upper()) == proper
    assert checksummed(proper) == checksummed(proper.lower()) == proper


def test_random_addresses_agree_with_eth_utils() -> None:
    for _ in range(500):
        text = "0x" + secrets.token_hex(20)
        assert eip55(text) == to_checksum_address(text)


def test_a_wrong_checksum_and_what_is_no_address_are_refused() -> None:
    proper = EIP_EXAMPLES[0]
    wrong = proper[:3] + proper[3].swapcase() + proper[4:]  # "a" of "5aAe" made upper case
    assert checksummed(wrong) is None
    for text in ("", "0x", proper[:-1], proper + "0", "5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed00",
                 "0x" + "g" * 40):
        assert checksummed(text) is None
