"""Secrets shown once: a response field declared with :func:`shown_once` is never stored or replayed.

An answer that carries a secret (a merchant's API key, a webhook signing secret, a TOTP secret, an ATM's
device secret) is the only time the node shows it. The idempotency record of such a request keeps the answer
with every such field replaced by :data:`REDACTED`, so neither the database nor a replay of the
``Idempotency-Key`` hands the secret out again. The schema says which fields are secret (``x-secret: true``
in the OpenAPI document), and :func:`redacted` finds them from the model, nested models and lists included:
an endpoint cannot record its answer without going through it (``IdempotentRequest.complete`` takes a model),
and tests/api/test_security_secrets.py fails on any response field named like a secret that is not marked.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any, Final

from fastapi.encoders import jsonable_encoder
from pydantic import BaseModel, Field
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

__all__ = ["REDACTED", "SECRET_MARK", "is_secret", "redacted", "redacted_paths", "shown_once"]

SECRET_MARK: Final = "x-secret"
"""The OpenAPI extension on a property that is a secret shown once."""

REDACTED: Final = "[redacted: shown once]"
"""What a replayed answer carries in place of a secret (the first answer had the secret itself)."""


def shown_once(default: Any = PydanticUndefined, *, description: str) -> Any:
    """A response field holding a secret that is shown once: ``secret: str = shown_once(description=...)``."""
    return Field(default, description=description, json_schema_extra={SECRET_MARK: True})


def is_secret(field: FieldInfo) -> bool:
    extra = field.json_schema_extra
    return isinstance(extra, dict) and extra.get(SECRET_MARK) is True


def redacted(model: BaseModel) -> tuple[Any, list[str]]:
    """``model`` made JSON-able with each secret that has a value replaced by :data:`REDACTED`, and the dotted
    paths of the fields replaced (``["api_key", "webhook_secret"]``)."""
    if not _holds_secret_fields(model):  # most answers (an operation ...): pydantic's own dump, 25x cheaper
        return model.model_dump(mode="json", by_alias=True), []  # what jsonable_encoder gives for a model
    encoded = jsonable_encoder(model)
    paths: list[str] = []
    _redact(model, encoded, "", paths)
    return encoded, paths


def _holds_secret_fields(value: Any) -> bool:
    """Whether ``value`` is, or holds anywhere inside it, a model with a field declared :func:`shown_once`."""
    if isinstance(value, BaseModel):
        return _declares_secrets(type(value)) or any(_holds_secret_fields(getattr(value, name))
                                                     for name in type(value).model_fields)
    if isinstance(value, (list, tuple)):
        return any(_holds_secret_fields(item) for item in value)
    if isinstance(value, dict):
        return any(_holds_secret_fields(item) for item in value.values())
    return False


@functools.cache
def _declares_secrets(model: type[BaseModel]) -> bool:
    return any(is_secret(field) for field in model.model_fields.values())


def _redact(value: Any, encoded: Any, path: str, paths: list[str]) -> None:
    if isinstance(value, BaseModel) and isinstance(encoded, dict):
        for name, field in type(value).model_fields.items():
            key = field.alias or name
            if key not in encoded:
                continue
            where = f"{path}.{key}" if path else key
            if is_secret(field):
                if encoded[key] is not None:
                    encoded[key] = REDACTED
                    paths.append(where)
            else:
                _redact(getattr(value, name), encoded[key], where, paths)
    elif isinstance(value, (list, tuple)) and isinstance(encoded, list):
        for index, (item, item_encoded) in enumerate(zip(value, encoded, strict=False)):
            _redact(item, item_encoded, f"{path}[{index}]", paths)
    elif isinstance(value, dict) and isinstance(encoded, dict):
        for key, item in value.items():
            if str(key) in encoded:
                _redact(item, encoded[str(key)], f"{path}.{key}" if path else str(key), paths)


def redacted_paths(body: Any, path: str = "") -> Iterator[str]:
    """The dotted paths in a recorded answer that hold :data:`REDACTED` (said in a replay's header)."""
    if body == REDACTED:
        yield path
    elif isinstance(body, dict):
        for key, item in body.items():
            yield from redacted_paths(item, f"{path}.{key}" if path else str(key))
    elif isinstance(body, list):
        for index, item in enumerate(body):
            yield from redacted_paths(item, f"{path}[{index}]")
