"""``/v1/health`` (no API key needed): is the node's chain and database reachable; ``/v1/health/live``: the
process answers (no I/O, for a liveness probe); ``/v1/health/ready``: can this node serve, and is the bank's
background work being done (for a readiness probe and for people).

Ready checks the database, the chain, that the database is at the newest migration, and each role (writer,
indexer, jobs): whether some process in the bank does it and how far behind it is (node/vitals.py). A role with
no active process for longer than the setting ``role_grace_seconds`` fails the check.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import cache

from fastapi import APIRouter
from sqlalchemy import Engine, text

from api.deps import AppState, AppStateDep
from api.problems import ProblemKind, ServiceUnavailableError
from api.routing import route
from api.schemas.health import Check, Health, Live, MigrationCheck, Readiness, RoleState
from node.db import current_revision, head_revision, utcnow
from node.vitals import DatabaseVitals, IndexerLag, indexer_lag, read_database
from wallet_sdk.chain.network import Network

router = APIRouter(prefix="/v1", tags=["health"])


@route(router, "GET", "/health", "Is the chain and the database reachable", ProblemKind.SERVICE_UNAVAILABLE,
       response_model=Health)
def get_health(state: AppStateDep) -> Health:
    """200 when both the chain node and the database answer; a 503 problem naming what is down otherwise."""
    health = check_health(state.network, state.engine)
    if health.status != "ok":
        down = [name for name, check in (("chain", health.chain), ("database", health.database)) if not check.ok]
        raise ServiceUnavailableError(f"not reachable: {', '.join(down)}", checks=health.model_dump())
    return health


@route(router, "GET", "/health/live", "Is the process up (no I/O)", response_model=Live)
async def get_health_live() -> Live:
    """Always 200 while the process serves: a liveness probe restarts the process only when this does not answer."""
    return Live(status="live")


@route(router, "GET", "/health/ready", "Can the node serve, and are the writer, indexer and jobs being done",
       ProblemKind.SERVICE_UNAVAILABLE, response_model=Readiness)
def get_health_ready(state: AppStateDep) -> Readiness:
    """200 when the database and the chain answer, the database is at the newest migration, and every role is
    done somewhere in the bank; a 503 problem naming what fails otherwise, with the same checks in ``checks``."""
    readiness = check_ready(state)
    if readiness.status != "ready":
        failing = [name for name, ok in (("database", readiness.database.ok), ("chain", readiness.chain.ok),
                                         ("migrations", readiness.migrations.ok)) if not ok]
        failing += [name for name, role in readiness.roles.items() if not role.ok]
        raise ServiceUnavailableError(f"not ready: {', '.join(failing)}", checks=readiness.model_dump())
    return readiness


def _chain(network: Callable[[], Network]) -> Check:
    try:
        return Check(ok=True, block=network().block_number)
    except Exception as exc:  # any failure means "not reachable"; the kind is enough detail
        return Check(ok=False, detail=type(exc).__name__)


def _database(engine: Engine) -> Check:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return Check(ok=True)
    except Exception as exc:  # any failure means "not reachable"
        return Check(ok=False, detail=type(exc).__name__)


def check_health(network: Callable[[], Network], engine: Engine) -> Health:
    """Both probes; ``status`` is "ok" only when both answer."""
    chain, database = _chain(network), _database(engine)
    return Health(status="ok" if chain.ok and database.ok else "unavailable", chain=chain, database=database)


@cache
def _head() -> str:
    return head_revision()  # reads the migration scripts: once per process


def _migrations(engine: Engine) -> MigrationCheck:
    try:
        current = current_revision(engine)
    except Exception as exc:  # the database is down: said by its own check
        return MigrationCheck(ok=False, head=_head(), detail=type(exc).__name__)
    ok = current == _head()
    return MigrationCheck(ok=ok, current=current, head=_head(),
                          detail=None if ok else "run `walletnet db upgrade`")


def check_ready(state: AppState) -> Readiness:
    """Every readiness check (see the module docstring); ``status`` is "ready" only when all pass."""
    database, chain = _database(state.engine), _chain(state.network)
    migrations = _migrations(state.engine) if database.ok else MigrationCheck(ok=False, head=_head(),
                                                                               detail="database not reachable")
    vitals = lag = None
    if database.ok:
        with state.read_sessions() as session:
            vitals = read_database(session)
        if chain.ok:
            try:
                lag = indexer_lag(vitals.checkpoint, state.network, state.settings.confirmations)
            except Exception as exc:  # the chain went away between the two looks
                chain = Check(ok=False, detail=type(exc).__name__)
    roles = role_states(vitals, lag, grace=state.settings.role_grace_seconds, now=utcnow())
    ready = database.ok and chain.ok and migrations.ok and all(role.ok for role in roles.values())
    return Readiness(status="ready" if ready else "not_ready", database=database, chain=chain,
                     migrations=migrations, roles=roles)


def role_states(vitals: DatabaseVitals | None, lag: IndexerLag | None, *, grace: float,
                now: datetime) -> dict[str, RoleState]:
    """Each role's state, judged from its progress: the writer is active unless an outbox row has waited to be
    sent longer than ``grace``; the indexer unless it is behind and its checkpoint has not moved for ``grace``;
    the jobs leave no trace to judge by (active unknown, not failing)."""
    if vitals is None:
        unknown = RoleState(ok=False, detail="database not reachable")
        return {"writer": unknown, "indexer": unknown, "jobs": unknown}
    waiting = vitals.outbox["received"].oldest_age
    writer_active = waiting is None or waiting <= grace
    writer = RoleState(ok=writer_active, active=writer_active, outbox_oldest_pending_seconds=waiting,
                       transactions_in_flight=vitals.transactions.depth,
                       detail=None if writer_active else f"an outbox row has waited {waiting:.0f}s to be sent")
    if lag is None:
        indexer = RoleState(ok=False, detail="chain not reachable")
    else:
        checkpoint = vitals.checkpoint
        idle_for = None if checkpoint is None else (now - checkpoint.updated_at).total_seconds()
        indexer_active = lag.blocks == 0 or (idle_for is not None and idle_for <= grace)
        indexer = RoleState(ok=indexer_active, active=indexer_active, lag_blocks=lag.blocks, lag_seconds=lag.seconds,
                            detail=None if indexer_active else f"{lag.blocks} blocks behind and its checkpoint "
                                                               f"has not moved for {grace:g}s")
    return {"writer": writer, "indexer": indexer, "jobs": RoleState(ok=True, active=None)}
