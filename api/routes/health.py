"""``/v1/health`` (no API key needed): is the node's chain and database reachable; ``/v1/health/live``: the
process answers (no I/O, for a liveness probe); ``/v1/health/ready``: can this node serve, and is the bank's
background work being done (for a readiness probe and for people).

Ready checks the database, the chain, that the database is at the newest migration, and each background role
(writer, indexer, jobs): whether some process in the bank holds it (``node_roles``, node/roles) and how far
behind it is (node/vitals.py). A role whose holder has not said it holds it for longer than the setting
``role_grace_seconds``, or that nobody holds, fails the check.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import cache
from weakref import WeakKeyDictionary

from fastapi import APIRouter
from sqlalchemy import Engine, text

from api.deps import AppState, AppStateDep
from api.problems import ProblemKind, ServiceUnavailableError
from api.routing import route
from api.schemas.health import Check, Health, Live, MigrationCheck, Readiness, RoleState
from node.db import current_revision, head_revision, utcnow
from node.roles import Role, RoleHolder
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
    roles = role_states(state, vitals, lag, now=utcnow())
    ready = database.ok and chain.ok and migrations.ok and all(role.ok for role in roles.values())
    return Readiness(status="ready" if ready else "not_ready", database=database, chain=chain,
                     migrations=migrations, roles=roles)


class _LastSeen:
    """When this process last saw each role held (its holder's newest heartbeat): a role whose row is gone (its
    holder let it go) is counted as silent from then, so a takeover within the grace does not fail the check."""

    def __init__(self) -> None:
        self._at: dict[Role, datetime] = {}

    def silent_for(self, role: Role, holder: RoleHolder | None, now: datetime) -> float | None:
        """Seconds since ``role`` was last seen held; None: never seen held by this process."""
        if holder is not None:
            self._at[role] = max(holder.heartbeat_at, self._at.get(role, holder.heartbeat_at))
        seen = self._at.get(role)
        return None if seen is None else max((now - seen).total_seconds(), 0.0)


_LAST_SEEN: WeakKeyDictionary[AppState, _LastSeen] = WeakKeyDictionary()


def role_states(state: AppState, vitals: DatabaseVitals | None, lag: IndexerLag | None, *,
                now: datetime) -> dict[str, RoleState]:
    """Each background role's state: active when its holder said so within ``role_grace_seconds`` (node/roles);
    with how far behind it is: the writer's oldest outbox row not sent and transactions in flight, the indexer's
    lag."""
    if vitals is None:
        return {role.value: RoleState(ok=False, detail="database not reachable") for role in Role}
    grace = state.settings.role_grace_seconds
    seen = _LAST_SEEN.setdefault(state, _LastSeen())
    found: dict[str, RoleState] = {}
    for role in Role:
        holder = vitals.roles.get(role)
        silent = seen.silent_for(role, holder, now)
        active = silent is not None and silent <= grace
        detail = None if active else ("no process has held it" if silent is None else
                                      f"no process has held it for {silent:.0f}s (more than {grace:g}s)")
        found[role.value] = RoleState(ok=active, active=active, holder=holder.holder if holder else None,
                                      heartbeat_age_seconds=silent, detail=detail)
    writer, indexer = found[Role.WRITER.value], found[Role.INDEXER.value]
    writer.outbox_oldest_pending_seconds = vitals.outbox["received"].oldest_age
    writer.transactions_in_flight = vitals.transactions.depth
    if lag is not None:
        indexer.lag_blocks, indexer.lag_seconds = lag.blocks, lag.seconds
    return found
