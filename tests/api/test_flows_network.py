"""The flow tests' network itself: two banks, each API answering, each node writing and indexing."""

from __future__ import annotations

import pytest
from flow_network import BankNetwork

from wallet_sdk.exceptions import ForbiddenError, NotFoundError, UnauthorizedError


def test_both_banks_serve_their_api_on_one_chain(bank_network: BankNetwork) -> None:
    for bank in bank_network.banks:
        health = bank.client("teller").get_health()
        assert health.status == "ok" and health.chain.ok and health.database.ok
    assert bank_network.a.engine.dialect.name == "sqlite"
    assert bank_network.b.engine.dialect.name == "postgresql"
    assert bank_network.a.network.chain_id == bank_network.b.network.chain_id


def test_the_client_raises_typed_problems(bank_network: BankNetwork) -> None:
    teller = bank_network.a.client("teller")
    with pytest.raises(NotFoundError) as missing:
        teller.get_operation("op_" + "0" * 32)
    assert missing.value.status == 404 and missing.value.type.endswith("/not-found")
    with pytest.raises(ForbiddenError):
        teller.list_api_keys()
    from wallet_sdk.client import Client

    with Client(bank_network.a.url, "wn_not-a-key") as stranger, pytest.raises(UnauthorizedError):
        stranger.get_operation("op_" + "0" * 32)


def test_nodes_become_idle(bank_network: BankNetwork) -> None:
    bank_network.wait_idle()
    for bank in bank_network.banks:
        assert bank.runner.is_idle()
        assert bank.reconcile().ok
