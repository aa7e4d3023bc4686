"""What the routes of every URL prefix share: the base of request bodies, the types of their fields and
parameters, the currency check, and cursor pagination.

- :class:`RequestModel` refuses unknown fields (422), so a field the client thinks it set (``{"tier": 2}``
  when opening a wallet) is never silently dropped. Every request body derives from it.
- :data:`StrictInt` is an integer as JSON writes it: ``true``, ``"100"`` and ``100.0`` are refused (pydantic
  would take them as 1, 100 and 100 otherwise). Every integer of a request body is one; the OpenAPI document
  marks it ``"x-strict": true``, which tests/api/test_api_openapi.py looks for.
- :data:`MAX_DB_INT` is the largest integer a database column holds (SQLite INTEGER, PostgreSQL BIGINT): the
  bound of every integer parameter that reaches a query.
- :class:`Money` is how every answer shows an amount (integer minor units beside the currency); :data:`Amount`
  is how every request names one. :func:`check_currency` refuses a currency other than the node's.
- Pagination is by opaque cursor: ``?limit=&cursor=``, answered with ``{"items": [...], "next_cursor": ...}``.
  A cursor is the URL-safe base64 of ``v1:<last id>`` (clients must treat it as opaque). Items come in
  ascending id order; ``next_cursor`` is null on the last page. A cursor that does not decode is a 422
  validation problem; ``limit`` is 1..200 (default 50).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Final, Generic, Self, TypeVar

from fastapi import Depends, Header, Path, Query
from pydantic import BaseModel, ConfigDict, Field, GetJsonSchemaHandler, Strict, model_validator
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema
from sqlalchemy import Select
from sqlalchemy.orm import InstrumentedAttribute, Session

from api.problems import FieldError, ProblemKind, ValidationProblemError
from node.funding.service import MAX_AMOUNT
from node.settings import NodeSettings

__all__ = [
    "ADDRESS_PATTERN",
    "DEFAULT_LIMIT",
    "MAX_DB_INT",
    "MAX_LIMIT",
    "MAX_PAYLOAD",
    "PAYING_WALLET_PROBLEMS",
    "PAYMENT_REQUEST_PROBLEMS",
    "SECOND_FACTOR_PROBLEMS",
    "SPENDING_PROBLEMS",
    "STRICT_MARK",
    "TOTP_HEADER",
    "AddressPath",
    "Amount",
    "Hex32",
    "Money",
    "NodeCurrency",
    "Page",
    "PageParams",
    "PageParamsDep",
    "RequestModel",
    "SignedFormsModel",
    "StrictInt",
    "TotpCode",
    "check_currency",
    "decode_cursor",
    "encode_cursor",
    "paginate",
    "qr_text",
]

MAX_DB_INT: Final = 2**63 - 1
STRICT_MARK: Final = "x-strict"
ADDRESS_PATTERN: Final = r"^0x[0-9a-fA-F]{40}$"
MAX_PAYLOAD: Final = 4296  # the most characters a QR code holds


# ------------------------------------------------------------------ request bodies and their fields


class _MarkStrict:
    """Adds ``"x-strict": true`` to the field's JSON schema (strictness does not show there otherwise)."""

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        json_schema: dict[str, Any] = handler(schema)
        json_schema[STRICT_MARK] = True
        return json_schema


StrictInt = Annotated[int, Strict(), _MarkStrict()]


class RequestModel(BaseModel):
    """Base of every request body: an unknown field is a 422, not ignored."""

    model_config = ConfigDict(extra="forbid")


def qr_text(description: str, default: Any = ...) -> Any:
    """A body field that carries the text of a QR code (a signed payload, a merchant's request, a withdrawal
    code): 1 to :data:`MAX_PAYLOAD` characters; required unless given a ``default``."""
    return Field(default, min_length=1, max_length=MAX_PAYLOAD, description=description)


class SignedFormsModel(RequestModel):
    """Base of a body that carries a customer's signed authorization in either form, as fields (``authorization``)
    or as the app's QR text (``payload``), but not both (a 422 naming :attr:`signed`)."""

    signed: ClassVar[str] = "signed authorization"

    @model_validator(mode="after")
    def _one_form(self) -> Self:
        if getattr(self, "authorization", None) is not None and getattr(self, "payload", None) is not None:
            raise ValueError(f"send the {self.signed} once: as authorization or as payload, not both")
        return self


Amount = Annotated[StrictInt, Field(gt=0, le=MAX_AMOUNT, description="integer amount in minor units", examples=[5_000])]
Hex32 = Annotated[str, Field(pattern=r"^0x[0-9a-fA-F]{64}$", description="32 bytes as 0x + 64 hex digits")]
NodeCurrency = Annotated[str | None, Field(description="the node's currency (the default); another one is refused")]
"""A request's optional ``currency`` (give it the default None): :func:`check_currency` checks it."""


class Money(BaseModel):
    amount: int = Field(description="integer amount in minor units of `currency`")
    currency: str


def check_currency(currency: str | None, settings: NodeSettings) -> None:
    """A request may name the currency; it must be the node's (amounts are minor units of it)."""
    if currency is not None and currency != settings.currency:
        raise ValidationProblemError(f"this node moves {settings.currency} only", errors=[
            FieldError(loc=["body", "currency"], msg=f"expected {settings.currency}", type="currency")])


# ------------------------------------------------------------------ parameters and headers

AddressPath = Annotated[str, Path(pattern=ADDRESS_PATTERN, description="the wallet's 0x address",
                                  examples=["0x" + "ab" * 20])]

TOTP_HEADER: Final = "X-TOTP-Code"

TotpCode = Annotated[str | None, Header(
    alias=TOTP_HEADER, pattern=r"^[0-9]{6}$",
    description="the customer's current 6-digit TOTP code; required when the amount is above the bank's "
                "second-factor threshold")]
"""The header a money-moving endpoint reads; pass it to ``node.second_factor.service.require``."""

SECOND_FACTOR_PROBLEMS: Final = (ProblemKind.SECOND_FACTOR_REQUIRED, ProblemKind.SECOND_FACTOR_INVALID,
                                 ProblemKind.SECOND_FACTOR_LOCKED, ProblemKind.SECOND_FACTOR_COOLING_OFF)
"""What an endpoint that checks the customer's second factor may answer for it (its ``responses=``)."""

PAYING_WALLET_PROBLEMS: Final = (ProblemKind.WALLET_NOT_CUSTODIED_HERE, ProblemKind.WALLET_FROZEN,
                                 ProblemKind.WALLET_NOT_ACTIVE)
"""What an endpoint that moves money of a wallet this bank keeps may answer for the wallet."""

SPENDING_PROBLEMS: Final = (ProblemKind.AUTHORIZATION_INVALID, ProblemKind.INSUFFICIENT_BALANCE,
                            ProblemKind.LIMIT_EXCEEDED, ProblemKind.RISK_DECLINED)
"""What spending from a wallet may answer: the customer's signed authorization, the balance, the tier's limits, the
bank's risk rules (docs/risk.md)."""

PAYMENT_REQUEST_PROBLEMS: Final = (ProblemKind.PAYMENT_REQUEST_EXPIRED, ProblemKind.ORDER_ALREADY_PAID,
                                   ProblemKind.MERCHANT_NOT_ACTIVE)
"""What paying a merchant's payment request may answer for the request and its merchant."""


# ------------------------------------------------------------------ pagination

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


async def page_params(
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
