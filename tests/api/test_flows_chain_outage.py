"""When a bank's chain node does not answer, its API says so (503 chain-unavailable) and writes nothing."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import uvicorn
from flow_network import TEST_DESK, BankNetwork, BankNode
from money_flows_support import holds_on, open_customer, operations_of

from api.app import create_app
from tools.devnet import free_port
from wallet_sdk.chain.network import Network
from wallet_sdk.client import Client
from wallet_sdk.exceptions import ChainUnavailableError

DEAD_RPC = "http://127.0.0.1:9"  # the discard port: nothing answers JSON-RPC there


class _Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:
        pass


@pytest.fixture
def cut_off(bank_network: BankNetwork) -> Iterator[tuple[BankNode, Client]]:
    """Bank A's database behind a second API whose chain connection is dead, and a teller client of it."""
    bank = bank_network.a
    settings = bank.settings.model_copy(update={"rpc_url": DEAD_RPC})
    app = create_app(settings, engine=bank.engine,
                     network_factory=lambda: Network.connect(DEAD_RPC, settings.deployment_path, timeout=2.0))
    server = _Server(uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        assert thread.is_alive()
        threading.Event().wait(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    with Client(f"http://127.0.0.1:{port}", bank.key("teller"), retries=1, backoff=0.0, teller=TEST_DESK) as client:
        yield bank, client
    server.should_exit = True
    thread.join(10)


def test_reads_answer_503_chain_unavailable(cut_off: tuple[BankNode, Client]) -> None:
    bank, client = cut_off
    customer = open_customer(bank, deposit=5_000)
    with pytest.raises(ChainUnavailableError) as raised:
        client.get_balance(customer.wallet)
    assert raised.value.status == 503 and raised.value.type.endswith("/chain-unavailable")


def test_a_refused_top_up_leaves_no_trace(cut_off: tuple[BankNode, Client]) -> None:
    bank, client = cut_off
    customer = open_customer(bank, deposit=5_000)
    assert customer.account is not None
    operations = operations_of(bank, customer.wallet)
    with pytest.raises(ChainUnavailableError):
        client.top_up(customer.wallet, 1_000)
    assert operations_of(bank, customer.wallet) == operations  # no operation, no outbox row
    assert holds_on(bank, customer.account) == 0  # and no hold left on the bank account
    assert bank.client("teller").get_account(customer.account).available.amount == 5_000
