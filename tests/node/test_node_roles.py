"""One active holder per role (issue 21): the writer, the indexer and the jobs run in one process of a bank at a
time, chosen by a lock (PostgreSQL: an advisory lock on a connection of its own; SQLite: a file lock); a second
node on the same database stands by and takes a role over when its holder lets it go or loses its lock. The
``node_roles`` rows show who holds what. (The test with processes SIGKILLed under load is
tests/api/test_failover.py.)"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from node.db import create_engine, transaction
from node.roles import AdvisoryLease, FileLease, Role, advisory_key, lease_for, process_name, role_holders
from node.runner import NodeRunner
from node.settings import load_settings
from tools.postgres import PgServer
from wallet_sdk.chain.network import Network


def _until(condition: Callable[[], bool], timeout: float = 20.0) -> float:
    """Seconds until ``condition`` held (fails the test after ``timeout``)."""
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < timeout, "not within the timeout"
        time.sleep(0.05)
    return time.monotonic() - start


@pytest.fixture
def pg_engine(pg_server: PgServer) -> Iterator[Engine]:
    engine = create_engine(pg_server.url("postgres"))  # advisory locks need no table
    yield engine
    engine.dispose()


def test_an_advisory_lease_is_exclusive_lost_with_its_connection_and_free_after_release(pg_engine: Engine) -> None:
    engine = pg_engine
    first, second = (AdvisoryLease(engine, "BANKA", Role.WRITER) for _ in range(2))
    other_bank = AdvisoryLease(engine, "BANKB", Role.WRITER)
    try:
        assert first.try_acquire() and first.still_held()
        assert not second.try_acquire()  # one holder per role and bank
        assert other_bank.try_acquire()  # another bank's writer is another lock
        bank_key, role_key = advisory_key("BANKA", Role.WRITER)
        with engine.connect() as admin:  # the holder's server session ends (a cut connection, a killed server)
            admin.execute(text("SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' "
                               "AND classid = :bank AND objid = :role"), {"bank": bank_key, "role": role_key})
            admin.commit()
        assert not first.still_held()  # the holder notices, and gives the role up
        first.release()
        assert second.try_acquire() and second.still_held()
    finally:
        for lease in (first, second, other_bank):
            lease.close()


def test_a_file_lease_is_exclusive_until_released(tmp_path: Path) -> None:
    database = tmp_path / "node.sqlite3"
    first, second = FileLease(database, Role.INDEXER), FileLease(database, Role.INDEXER)
    jobs = FileLease(database, Role.JOBS)
    assert first.try_acquire() and jobs.try_acquire()
    assert not second.try_acquire()
    first.release()
    assert second.try_acquire()
    second.close()
    jobs.close()
    assert first.path == tmp_path / "node.sqlite3.indexer.lock"


def test_a_second_node_stands_by_and_takes_every_role_over_when_the_first_stops(
        engine: Engine, sessions: sessionmaker[Session], db_url: str, system: Any, devnet: Any,
        tmp_path: Path) -> None:
    operator: LocalAccount = system.banks["A"].operators[0]
    settings = load_settings(bank_id="BANKA", rpc_url=devnet.rpc_url, db_url=db_url, data_dir=tmp_path,
                             confirmations=0, settlement_cutoff=None)

    def node() -> NodeRunner:
        return NodeRunner(settings, engine, lambda: Network.connect(devnet.rpc_url, system.deployment), operator,
                          poll_interval=0.1, role_poll=0.1, heartbeat=0.2)

    first, second = node(), node()
    first.start()
    try:
        _until(lambda: all(first.holds(role) for role in Role))
        second.start()
        time.sleep(0.5)  # several of the standby's tries
        assert not any(second.holds(role) for role in Role)
        with transaction(sessions) as session:
            holders = role_holders(session)
        assert {role: h and h.holder for role, h in holders.items()} == {role: process_name() for role in Role}
        beat = holders[Role.WRITER]
        assert beat is not None
        _until(lambda: _holder(sessions, Role.WRITER).heartbeat_at > beat.heartbeat_at)  # the holder refreshes it

        first.stop()
        took = _until(lambda: all(second.holds(role) for role in Role))
        assert took < 5.0
        assert second.tenures == {role: 1 for role in Role} and first.tenures == {role: 1 for role in Role}
        _until(lambda: _acquired_after(sessions, Role.WRITER, beat.acquired_at))  # its row follows the lock
    finally:
        first.stop()
        second.stop()
    with transaction(sessions) as session:  # stopped cleanly: nobody holds a role, and the table says so
        assert role_holders(session) == {role: None for role in Role}


def _acquired_after(sessions: sessionmaker[Session], role: Role, when: Any) -> bool:
    with transaction(sessions) as session:
        found = role_holders(session)[role]
    return found is not None and found.acquired_at > when


def _holder(sessions: sessionmaker[Session], role: Role) -> Any:
    with transaction(sessions) as session:
        found = role_holders(session)[role]
    assert found is not None
    return found


def test_the_lease_follows_the_database(engine: Engine, backend: str, tmp_path: Path) -> None:
    lease = lease_for(engine, "BANKA", Role.JOBS)
    try:
        assert isinstance(lease, AdvisoryLease if backend == "postgresql" else FileLease)
    finally:
        lease.close()
