"""Session-wide fixtures: a real local chain (anvil from npm) on a free loopback port."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from web3 import Web3

from node.devnet import Devnet


@pytest.fixture(scope="session")
def devnet() -> Iterator[Devnet]:
    """One anvil for the whole session, stopped at the end even when tests fail."""
    with Devnet(accounts=20) as chain:
        yield chain


@pytest.fixture(scope="session")
def w3(devnet: Devnet) -> Web3:
    web3 = Web3(Web3.HTTPProvider(devnet.rpc_url, request_kwargs={"timeout": 60}))
    assert web3.is_connected()
    return web3
