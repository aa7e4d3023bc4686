"""``/v1/health`` (no API key needed)."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import AppStateDep
from api.health.service import Health, check_health
from api.problems import ProblemKind, ServiceUnavailableError, problem_responses

router = APIRouter(prefix="/v1", tags=["health"])


@router.get(
    "/health",
    operation_id="get_health",
    summary="Is the chain and the database reachable",
    response_model=Health,
    responses=problem_responses(ProblemKind.SERVICE_UNAVAILABLE),
)
def get_health(state: AppStateDep) -> Health:
    """200 when both the chain node and the database answer; a 503 problem naming what is down otherwise."""
    health = check_health(state.network, state.engine)
    if health.status != "ok":
        down = [name for name, check in (("chain", health.chain), ("database", health.database)) if not check.ok]
        raise ServiceUnavailableError(f"not reachable: {', '.join(down)}", checks=health.model_dump())
    return health
