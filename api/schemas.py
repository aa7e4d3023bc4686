"""What every request of the API shares: the base of request bodies and its integer type.

- :class:`RequestModel` refuses unknown fields (422), so a field the client thinks it set (``{"tier": 2}``
  when opening a wallet) is never silently dropped. Every request body derives from it.
- :data:`StrictInt` is an integer as JSON writes it: ``true``, ``"100"`` and ``100.0`` are refused (pydantic
  would take them as 1, 100 and 100 otherwise). Every integer of a request body is one; the OpenAPI document
  marks it ``"x-strict": true``, which tests/api/test_api_openapi.py looks for.
- :data:`MAX_DB_INT` is the largest integer a database column holds (SQLite INTEGER, PostgreSQL BIGINT): the
  bound of every integer parameter that reaches a query.
"""

from __future__ import annotations

from typing import Annotated, Any, Final

from pydantic import BaseModel, ConfigDict, GetJsonSchemaHandler, Strict
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

__all__ = ["MAX_DB_INT", "STRICT_MARK", "RequestModel", "StrictInt"]

MAX_DB_INT: Final = 2**63 - 1
STRICT_MARK: Final = "x-strict"


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
