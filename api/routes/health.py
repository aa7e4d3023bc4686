"""``/v1/health`` (no API key needed): is the node's chain and database reachable."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter
from sqlalchemy import Engine, text

from api.deps import AppStateDep
from api.problems import ProblemKind, ServiceUnavailableError
from api.routing import route
from api.schemas.health import Check, Health
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
