"""node.db.durable on both databases: a unit of work that fails keeps exactly the writes given to ``keep``;
one that succeeds commits them with the rest; SQLite refuses a durable write it could lose."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from node.db import session_factory
from node.db.durable import keep, unit_of_work, work_sessions
from node.second_factor.models import SecondFactorAction, SecondFactorAudit

WORK, KEPT = "0x" + "01" * 20, "0x" + "02" * 20


def _row(session: Session, wallet: str) -> None:
    session.add(SecondFactorAudit(wallet=wallet, action=SecondFactorAction.LOCKED))
    session.flush()


def _wallets(engine: Engine) -> list[str]:
    with session_factory(engine)() as session:
        return list(session.scalars(select(SecondFactorAudit.wallet).order_by(SecondFactorAudit.id)))


def test_a_failed_unit_of_work_keeps_only_its_durable_writes(engine: Engine) -> None:
    work: sessionmaker[Session] = work_sessions(engine)
    with pytest.raises(LookupError), unit_of_work(work) as session:
        _row(session, WORK)
        keep(session, lambda own: _row(own, KEPT))
        _row(session, WORK)
        raise LookupError("the request fails")
    assert _wallets(engine) == [KEPT]


def test_a_unit_of_work_that_succeeds_commits_its_durable_writes_too(engine: Engine) -> None:
    with unit_of_work(work_sessions(engine)) as session:
        _row(session, WORK)
        keep(session, lambda own: _row(own, KEPT))
    assert sorted(_wallets(engine)) == sorted([WORK, KEPT])


def test_sqlite_refuses_a_durable_write_it_could_lose(engine: Engine, backend: str) -> None:
    with session_factory(engine).begin() as session:
        _row(session, WORK)
        if backend == "sqlite":  # nothing could commit it beside this session's write lock
            with pytest.raises(RuntimeError, match="work_sessions"):
                keep(session, lambda own: _row(own, KEPT))
        else:
            keep(session, lambda own: _row(own, KEPT))
        session.rollback()
    assert _wallets(engine) == ([] if backend == "sqlite" else [KEPT])
