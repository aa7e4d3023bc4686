"""Opaque cursor pagination: ``?limit=&cursor=``, answered with ``{"items": [...], "next_cursor": ...}``.

A cursor is the URL-safe base64 of ``v1:<last id>`` (clients must treat it as opaque). Items come in
ascending id order; ``next_cursor`` is null on the last page. A cursor that does not decode is a 422
validation problem; ``limit`` is 1..200 (default 50).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Annotated, Any, Final, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel
from sqlalchemy import Select
from sqlalchemy.orm import InstrumentedAttribute, Session

from api.problems import FieldError, ValidationProblemError

__all__ = ["DEFAULT_LIMIT", "MAX_LIMIT", "Page", "PageParams", "PageParamsDep", "decode_cursor", "encode_cursor",
           "paginate"]

DEFAULT_LIMIT: Final = 50
MAX_LIMIT: Final = 200
_VERSION: Final = "v1:"


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"{_VERSION}{int(last_id)}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """The id a cursor points after; ``ValueError`` if it is not one of ours."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ValueError("not a cursor") from None
    if not text.startswith(_VERSION) or not text[len(_VERSION):].isdigit():
        raise ValueError("not a cursor")
    value = int(text[len(_VERSION):])
    if value >= 2**63:
        raise ValueError("not a cursor")
    return value


@dataclass(frozen=True)
class PageParams:
    limit: int
    after_id: int | None


def page_params(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="items per page")] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=64, description="next_cursor of the previous page")] = None,
) -> PageParams:
    if cursor is None or cursor == "":
        return PageParams(limit, None)
    try:
        after = decode_cursor(cursor)
    except ValueError:
        raise ValidationProblemError("the cursor is not valid: pass next_cursor from a previous page unchanged",
                                     errors=[FieldError(loc=["query", "cursor"], msg="invalid cursor",
                                                        type="cursor_invalid")]) from None
    return PageParams(limit, after)


PageParamsDep = Annotated[PageParams, Depends(page_params)]


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


def paginate(session: Session, query: Select[Any], id_column: InstrumentedAttribute[int],
             params: PageParams) -> tuple[list[Any], str | None]:
    """One page of ``query`` (a select of ORM objects with an integer ``id_column``) and the next cursor."""
    if params.after_id is not None:
        query = query.where(id_column > params.after_id)
    rows = list(session.scalars(query.order_by(id_column).limit(params.limit + 1)))
    more = len(rows) > params.limit
    rows = rows[: params.limit]
    next_cursor = encode_cursor(getattr(rows[-1], id_column.key)) if more and rows else None
    return rows, next_cursor
