"""``/metrics`` and ``/v1/health/ready`` over HTTP on the two-bank network: their values move with the work. The
request counters grow by the requests sent (the lanes' fast routes too), the outbox and the writer's transactions in
flight rise while the chain mines nothing and drain once it does, the indexer's lag returns to 0, and the newest
reconciliation's result shows."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from flow_network import BankNetwork, BankNode
from money_flows_support import fresh, fund_wallet, open_customer, wait_for
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine, update
from test_flows_transfers import signed_transfer

from api.app import create_app
from node.db import session_factory, transaction, utcnow
from node.outbox import OutboxRow, enqueue
from node.reconcile.service import reconcile_node
from node.roles import NodeRole, Role
from node.settings import NodeSettings
from wallet_sdk.chain.network import Network

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
REQUESTS = "walletnet_http_request_duration_seconds_count"


def scrape(bank: BankNode) -> Samples:
    """Every sample of the bank's ``/metrics``, by name and labels."""
    response = httpx.get(f"{bank.url}/metrics", timeout=30.0)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(response.text) for sample in family.samples}


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def ready(bank: BankNode) -> dict[str, object]:
    response = httpx.get(f"{bank.url}/v1/health/ready", timeout=30.0)
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def test_request_counters_grow_by_the_requests_sent(bank_network: BankNetwork) -> None:
    a = bank_network.a
    payer = open_customer(a, self_custody=True, deposit=3_000)
    payee = open_customer(a, deposit=None)
    fund_wallet(payer, 3_000)
    app = payer.app()
    before = scrape(a)
    for _ in range(5):
        assert httpx.get(f"{a.url}/v1/health/live", timeout=10.0).json() == {"status": "live"}
    for amount in (100, 200, 300):  # the P2P lane's fast route (api.routing.bound_fast)
        app.transfer(payer.wallet, payee.wallet, amount, authorization=signed_transfer(payer, payee.wallet, amount))
    refused = httpx.get(f"{a.url}/v1/wallets/{payer.wallet}", headers={"X-API-Key": "wn_" + "x" * 43}, timeout=10.0)
    assert refused.status_code == 401  # by the admission middleware, before routing
    after = scrape(a)

    def grew(route: str, method: str, status: str) -> float:
        labels = {"route": route, "method": method, "status": status}
        return value(after, REQUESTS, **labels) - value(before, REQUESTS, **labels)

    assert grew("/v1/health/live", "GET", "200") == 5
    assert grew("/v1/transfers", "POST", "202") == 3
    assert grew("/v1/wallets/{address}", "GET", "401") == 1
    assert not [labels for name, labels in after if name == REQUESTS and ("route", payer.wallet) in labels]


@contextmanager
def chain_paused(net: BankNetwork) -> Iterator[None]:
    """The chain mines nothing (anvil's automine off) inside the block; afterwards it mines what waits."""
    net.rpc("evm_setAutomine", False)
    try:
        yield
    finally:
        net.rpc("evm_setAutomine", True)
        net.rpc("evm_mine")


def test_the_outbox_and_transactions_in_flight_rise_then_drain(bank_network: BankNetwork) -> None:
    a = bank_network.a
    bank_network.wait_idle()
    teller = a.client("teller")
    with chain_paused(bank_network):
        openings = [teller.open_wallet(fresh("CUST"), "in_person") for _ in range(3)]
        assert all(o.operation.status == "pending" for o in openings)

        def waiting() -> bool:
            samples = scrape(a)
            return (value(samples, "walletnet_writer_transactions_in_flight") >= 1
                    and value(samples, "walletnet_outbox_depth", state="submitted") >= 3
                    and value(samples, "walletnet_operations_open", kind="wallet_open", state="pending") >= 3)

        wait_for(waiting, "the three openings sent and waiting for the chain")
        writer = ready(a)["roles"]["writer"]  # type: ignore[index]
        assert writer["ok"] and writer["transactions_in_flight"] >= 1
    bank_network.wait_idle()
    samples = scrape(a)
    assert value(samples, "walletnet_outbox_depth", state="received") == 0
    assert value(samples, "walletnet_outbox_depth", state="submitted") == 0
    assert value(samples, "walletnet_writer_transactions_in_flight") == 0
    assert value(samples, "walletnet_operations_open", kind="wallet_open", state="pending") == 0
    assert all(teller.get_operation(o.operation.id).status == "completed" for o in openings)


def test_the_indexer_lag_returns_to_zero_on_both_databases(bank_network: BankNetwork) -> None:
    bank_network.rpc("anvil_mine", 5)
    bank_network.wait_idle()
    head = bank_network.w3.eth.block_number
    for bank in bank_network.banks:  # BANKA on SQLite, BANKB on PostgreSQL
        samples = scrape(bank)
        assert value(samples, "walletnet_indexer_lag_blocks") == 0
        assert value(samples, "walletnet_indexer_lag_seconds") == 0
        assert value(samples, "walletnet_indexer_checkpoint_block") >= head  # confirmations = 1: the head itself
        assert value(samples, "walletnet_database_up") == 1 and value(samples, "walletnet_chain_up") == 1
        assert value(samples, "walletnet_role_held", role="api") == 1
        body = ready(bank)
        assert body["status"] == "ready" and body["migrations"]["ok"]  # type: ignore[index]
        assert body["roles"]["indexer"]["lag_blocks"] == 0  # type: ignore[index]


def test_ready_and_metrics_name_the_holder_of_each_role(bank_network: BankNetwork) -> None:
    for bank in bank_network.banks:
        roles = ready(bank)["roles"]
        samples = scrape(bank)
        for role in ("writer", "indexer", "jobs"):
            state = roles[role]  # type: ignore[index]
            assert state["ok"] and state["active"] and state["holder"], (bank.code, role, state)
            assert state["heartbeat_age_seconds"] <= bank.settings.role_grace_seconds
            assert value(samples, "walletnet_role_holder_info", role=role, holder=state["holder"]) == 1
            assert value(samples, "walletnet_role_heartbeat_age_seconds", role=role) <= 5  # refreshed every second
            assert value(samples, "walletnet_role_held", role=role) == 1  # the test's node runs in this process


def test_the_newest_reconciliation_shows_its_differences(bank_network: BankNetwork) -> None:
    b = bank_network.b
    bank_network.wait_idle()
    report = reconcile_node(b.settings)
    assert report.ok
    samples = scrape(b)
    assert value(samples, "walletnet_reconciliation_chain_block") == report.chain_block
    assert value(samples, "walletnet_reconciliation_differences", kind="ledger_issuance") == 0
    assert abs(value(samples, "walletnet_reconciliation_last_run_timestamp_seconds") - time.time()) < 300


@pytest.fixture
def strict_app(settings: NodeSettings, api_engine: Engine, network: Network) -> TestClient:
    """The API of a bank whose writer, indexer and jobs run nowhere (no node process)."""
    app = create_app(settings, engine=api_engine, network_factory=lambda: network)
    return TestClient(app)


def test_ready_fails_when_no_process_holds_the_roles_but_live_answers(strict_app: TestClient,
                                                                     api_engine: Engine) -> None:
    with transaction(session_factory(api_engine)) as session:
        enqueue(session, "OBS-STALE-1", "freeze", {"wallet": "0x" + "11" * 20, "reason": 1})
        session.execute(update(OutboxRow).where(OutboxRow.idempotency_key == "OBS-STALE-1")
                        .values(created_at=utcnow() - timedelta(seconds=60)))  # the writer is down for a minute
    assert strict_app.get("/v1/health/live").status_code == 200
    response = strict_app.get("/v1/health/ready")
    assert response.status_code == 503
    problem = response.json()
    assert problem["type"] == "https://walletnet.dev/problems/service-unavailable"
    assert problem["detail"] == "not ready: writer, indexer, jobs"
    writer = problem["checks"]["roles"]["writer"]
    assert writer["ok"] is False and writer["holder"] is None and writer["detail"] == "no process has held it"
    assert writer["outbox_oldest_pending_seconds"] >= 55  # how far behind: the row waits since a minute ago

    now = utcnow()  # the indexer and the jobs are held; the writer's holder went silent a minute ago
    with transaction(session_factory(api_engine)) as session:
        for role, heartbeat in ((Role.WRITER, now - timedelta(seconds=60)), (Role.INDEXER, now), (Role.JOBS, now)):
            session.add(NodeRole(role=role, holder=f"host-{role}:1", acquired_at=heartbeat, heartbeat_at=heartbeat))
    problem = strict_app.get("/v1/health/ready").json()
    assert problem["detail"] == "not ready: writer"
    writer = problem["checks"]["roles"]["writer"]
    assert writer["holder"] == "host-writer:1" and writer["heartbeat_age_seconds"] >= 55
    assert problem["checks"]["roles"]["jobs"]["ok"] and problem["checks"]["roles"]["jobs"]["holder"] == "host-jobs:1"
    assert problem["checks"]["database"]["ok"] and problem["checks"]["chain"]["ok"]
