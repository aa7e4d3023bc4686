"""``redacted``: an answer without secrets is dumped by pydantic directly, the same JSON jsonable_encoder gives;
one with a secret anywhere inside (a nested model, a list, a dict of Any) still has it replaced."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi.encoders import jsonable_encoder
from pydantic import BaseModel, Field

from api.common import Money
from api.schemas.operations import OperationOut
from api.shown_once import REDACTED, redacted, shown_once


class _Secretive(BaseModel):
    name: str
    token: str | None = shown_once(None, description="a secret")


class _Outer(BaseModel):
    label: str = Field(alias="Label")
    extra: dict[str, Any] = Field(default_factory=dict)
    items: list[Any] = Field(default_factory=list)


def _operation() -> OperationOut:
    now = datetime(2026, 12, 7, 11, 0, 0, 123456, tzinfo=UTC)
    return OperationOut(id="op_1", kind="p2p", status="pending", final=False, channel="app", api_key_id=3,
                        customer_session=9, wallet="0x" + "ab" * 20, counterparty="0x" + "cd" * 20,
                        amount=Money(amount=5, currency="EUR"), details={"nonce": "12", "valid_before": 7},
                        created_at=now, updated_at=now)


def test_an_answer_without_secrets_is_what_jsonable_encoder_makes() -> None:
    operation = _operation()
    body, paths = redacted(operation)
    assert body == jsonable_encoder(operation) and paths == []
    assert body["created_at"] == "2026-12-07T11:00:00.123456Z" and body["amount"] == {"amount": 5, "currency": "EUR"}
    outer = _Outer(Label="x", extra={"n": 1}, items=[1, "a"])
    assert redacted(outer) == (jsonable_encoder(outer), [])
    assert redacted(outer)[0]["Label"] == "x"  # by alias, as jsonable_encoder


def test_a_secret_anywhere_inside_is_replaced() -> None:
    inside = _Outer(Label="x", extra={"who": _Secretive(name="a", token="s3cret")},
                    items=[_Secretive(name="b", token="t0ken")])
    body, paths = redacted(inside)
    assert body["extra"]["who"] == {"name": "a", "token": REDACTED}
    assert body["items"][0] == {"name": "b", "token": REDACTED}
    assert paths == ["extra.who.token", "items[0].token"]
    assert "s3cret" not in str(body) and "t0ken" not in str(body)
