"""``/v1/api-keys``: the admin's view of the node's API keys (create and revoke them with the CLI)."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select

from api.auth import Admin
from api.common import Page, PageParamsDep, paginate
from api.deps import ReadSessionDep
from api.problems import ProblemKind
from api.routing import route
from api.schemas.api_keys import ApiKeyOut
from node.api_keys import ApiKey

router = APIRouter(prefix="/v1/api-keys", tags=["api-keys"])


@route(router, "GET", "", "List API keys", ProblemKind.UNAUTHORIZED, ProblemKind.FORBIDDEN,
       response_model=Page[ApiKeyOut])
def list_api_keys(_key: Admin, session: ReadSessionDep, page: PageParamsDep) -> Page[ApiKeyOut]:
    """Every API key, revoked ones included, oldest first."""
    rows, next_cursor = paginate(session, select(ApiKey), ApiKey.id, page)
    return Page[ApiKeyOut](items=[ApiKeyOut.model_validate(r) for r in rows], next_cursor=next_cursor)
