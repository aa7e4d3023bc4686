"""Failover (issue 21): a bank of two node processes with every background role (writer, indexer, jobs: each
active in one process, the other standing by) and its API as `walletnet node run --roles api` with two
workers, on one PostgreSQL database. 1,000 mixed operations run through the API while the process that holds
the writer's role is SIGKILLed five times, each time started again as the new standby. Each takeover (the
standby holding writer, indexer and jobs, as node_roles shows) is timed and printed, and must take at most 5 s;
the API's /v1/health/ready and /metrics then name the new holder;
afterwards every accepted operation is on chain exactly once, nothing refused left a trace, and reconciliation
finds no difference (the checks of tests/api/load_support.py).

Before the load, one wallet's payments go to two API processes at once, more than its balance covers: each is
admitted against the payer's row lock in PostgreSQL, so exactly the ones the balance covers are accepted.
"""

from __future__ import annotations

import os
import random
import secrets
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from crash_support import BankProcesses, _Proc
from load_support import DESK, WAIT, Bank, check_after_load, deployed_bank, run_load, wait_done
from sqlalchemy import func, select

from node.db import session_factory
from node.operations.models import Operation
from node.outbox import OutboxRow, OutboxState
from node.roles import Role, role_holders
from tools.devnet import free_port
from tools.postgres import PgServer
from wallet_sdk.client import Client
from wallet_sdk.client.wallets import EnrolmentRow
from wallet_sdk.exceptions import ApiProblemError, InsufficientBalanceError

pytestmark = pytest.mark.slow

KILLS = 5
TAKEOVER_LIMIT = 5.0  # seconds, the bound
PAYMENT = 10_000
COVERED = 20  # the payer's balance covers this many payments; twice as many are sent


@pytest.fixture
def bank(tmp_path: Path, pg_server: PgServer) -> Iterator[Bank]:
    with deployed_bank(tmp_path, pg_server, nodes=2, api_workers=2) as bank:
        yield bank


def _holder_pids(procs: BankProcesses) -> dict[Role, int | None]:
    """Each role's holder as node_roles shows it: the process id of its host:pid."""
    with session_factory(procs.engine, read_only=True)() as session:
        holders = role_holders(session)
    return {role: None if h is None else int(h.holder.rsplit(":", 1)[1]) for role, h in holders.items()}


class HolderKiller:
    """SIGKILLs the node process that holds the writer's role at a random moment of its work (after it finished
    a random number of outbox rows), times how long the other takes to hold every role, then starts the killed
    one again as the standby."""

    def __init__(self, bank: Bank, rng: random.Random, asked: Callable[[], int]) -> None:
        self.bank, self.rng, self.asked = bank, rng, asked
        self.sessions = session_factory(bank.procs.engine, read_only=True)
        self.kills: list[tuple[str, int, float]] = []  # (node killed, its exit code, seconds until taken over)
        self.shown = 0  # takeovers the API's /v1/health/ready and /metrics named
        self.done = threading.Event()
        self.error: BaseException | None = None

    def describe(self) -> str:
        return f"holder kills {self.kills}"

    def finished_rows(self) -> int:
        with self.sessions() as session:
            return int(session.scalar(select(func.count()).select_from(OutboxRow).where(
                OutboxRow.state.in_([OutboxState.CONFIRMED, OutboxState.FAILED]))) or 0)

    def writer_holder(self) -> _Proc | None:
        """The node process that holds the writer's role, once every role is held by a running node process."""
        pids = _holder_pids(self.bank.procs)
        running = {node.pid: node for node in self.bank.procs.nodes if node.pid is not None}
        return running.get(pids[Role.WRITER]) if set(pids.values()) <= running.keys() else None

    def check_shown(self, holder: _Proc) -> None:
        """The API's readiness and metrics name the new holder of the writer's role (what operations watch)."""
        url = self.bank.procs.url
        ready = httpx.get(f"{url}/v1/health/ready", timeout=30.0).json()
        roles = ready["roles"] if "roles" in ready else ready["checks"]["roles"]  # 503: the checks in the problem
        assert str(roles["writer"]["holder"]).endswith(f":{holder.pid}"), roles["writer"]
        metrics = httpx.get(f"{url}/metrics", timeout=30.0).text
        shown = [line for line in metrics.splitlines()
                 if line.startswith("walletnet_role_holder_info{") and 'role="writer"' in line]
        assert len(shown) == 1 and f':{holder.pid}"' in shown[0] and shown[0].endswith(" 1.0"), shown
        self.shown += 1

    def run(self) -> None:
        try:
            while len(self.kills) < KILLS and not self.done.is_set():
                deadline = time.monotonic() + 60
                while (self.writer_holder() is None
                       or not all(n.is_up("bank node BANKA:") for n in self.bank.procs.nodes)) \
                        and time.monotonic() < deadline:
                    time.sleep(0.05)
                victim = self.writer_holder()
                assert victim is not None, f"roles not held by running nodes: {_holder_pids(self.bank.procs)}"
                start, target = self.finished_rows(), self.rng.randint(1, 40)
                deadline = time.monotonic() + 10
                while self.finished_rows() < start + target and time.monotonic() < deadline:
                    time.sleep(0.02)
                killed_at = time.monotonic()
                code = self.bank.procs.kill_node(victim)
                standby = next(node for node in self.bank.procs.nodes if node is not victim)
                while set(_holder_pids(self.bank.procs).values()) != {standby.pid}:
                    assert time.monotonic() - killed_at < 60, f"no takeover: {_holder_pids(self.bank.procs)}"
                    time.sleep(0.02)
                self.kills.append((victim.name, code, round(time.monotonic() - killed_at, 2)))
                self.check_shown(standby)
                time.sleep(self.rng.uniform(0.1, 1.0))
                self.bank.procs.start_node(victim)  # back as the standby
        except BaseException as exc:
            self.error = exc


def _payments_at_two_api_processes(bank: Bank) -> None:
    """One wallet's payments at two API processes at once: exactly the covered ones accepted, no overspend."""
    procs = bank.procs
    port = free_port()
    second = _Proc("api-second", [*procs.api.argv[:3], "--roles", "api", "--api-port", str(port)], procs.root)
    second.start(procs.env)
    try:
        teller = Client(procs.url, procs.key("teller"), timeout=60.0, teller=DESK)
        admin = Client(procs.url, procs.key("admin"), timeout=60.0)
        rows = []
        for _ in range(2):
            ref = f"CUST-{secrets.token_hex(5)}"
            account = admin.open_account(f"DEP-{secrets.token_hex(5)}", ref, opening_balance=COVERED * PAYMENT).code
            rows.append(EnrolmentRow(customer_ref=ref, verification="in_person", tier=1, account=account))
        results = teller.enrol_wallets(rows).results
        for result in results:
            wait_done(teller, result.operation_id)
        payer, payee = (str(r.wallet) for r in results)
        wait_done(teller, teller.top_up(payer, COVERED * PAYMENT).id)
        tellers = [teller, Client(f"http://127.0.0.1:{port}", procs.key("teller"), timeout=60.0, teller=DESK)]
        deadline = time.monotonic() + 60
        while not _answers(f"http://127.0.0.1:{port}"):
            second.check_alive()
            assert time.monotonic() < deadline, second.tail()
            time.sleep(0.1)

        def pay(i: int) -> str:
            try:
                tellers[i % 2].transfer(payer, payee, PAYMENT)
            except InsufficientBalanceError:
                return "insufficient"
            except ApiProblemError as exc:
                return f"{exc.status} {exc.problem.get('type')}"
            return f"accepted at {i % 2}"

        with ThreadPoolExecutor(16) as pool:
            outcomes = Counter(pool.map(pay, range(2 * COVERED)))
        assert outcomes["insufficient"] == COVERED, outcomes
        assert outcomes["accepted at 0"] + outcomes["accepted at 1"] == COVERED, outcomes
        assert outcomes["accepted at 0"] and outcomes["accepted at 1"], outcomes  # both processes admitted some
        deadline = time.monotonic() + WAIT
        while bank.network.balance(payee) != COVERED * PAYMENT:
            assert time.monotonic() < deadline, "the accepted payments did not complete"
            time.sleep(0.2)
        assert bank.network.balance(payer) == 0
        for client in [*tellers, admin]:
            client.close()
    finally:
        if second.popen is not None:
            second.signal(signal.SIGTERM)
    # the load's checks look at what happens from here on
    bank.start_block = bank.network.block_number + 1
    with session_factory(procs.engine, read_only=True)() as session:
        bank.first_operation = int(session.scalar(select(func.max(Operation.id))) or 0)


def _answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/v1/health", timeout=2.0).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.mark.timeout(1200)
def test_failover_under_load_takeovers_within_5s_accepted_once_reconciled(bank: Bank) -> None:
    _payments_at_two_api_processes(bank)
    seed = int(os.environ.get("CRASH_SEED") or random.randrange(2**32))
    print(f"failover seed: {seed} (CRASH_SEED={seed} replays the plan)")
    ops, workers, killer = run_load(bank, seed, lambda rng, asked: HolderKiller(bank, rng, asked))
    assert isinstance(killer, HolderKiller)
    context = f"seed {seed}, {killer.describe()}"
    print(f"takeover times (s): {[seconds for *_, seconds in killer.kills]}")
    assert len(killer.kills) == KILLS, context
    assert all(code == -signal.SIGKILL for _, code, _ in killer.kills), context
    assert max(seconds for *_, seconds in killer.kills) <= TAKEOVER_LIMIT, context
    assert killer.shown == KILLS, context
    check_after_load(bank, ops, workers, context)
