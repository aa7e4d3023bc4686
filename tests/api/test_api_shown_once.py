"""``redacted``: an answer without secrets is dumped by pydantic directly, the same JSON jsonable_encoder gives;
one with a secret anywhere inside (a nested model, a list, a dict of Any) still has it replaced."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi.encoders import jsonable_encoder
from pydantic import BaseModel, Field

from api.common import Money
from api.routing import recorded_operation
from api.schemas.operations import OperationOut, operation_out
from api.shown_once import REDACTED, is_secret, redacted, shown_once
from node.operations.models import Operation, OperationKind, OperationStatus


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


def test_an_operation_holds_no_secret_so_a_lane_dumps_it_without_looking() -> None:
    """api.routing.recorded_operation skips the walk for secrets: no field of an operation's answer, or of a model
    inside it, may be shown once (its details are JSON from the database)."""
    for model in (OperationOut, Money):
        assert not any(is_secret(field) for field in model.model_fields.values()), model
    now = datetime(2026, 12, 7, 11, 0, 0, 123456, tzinfo=UTC)
    op = Operation(public_id="op_1", kind=OperationKind.P2P, status=OperationStatus.PENDING, channel="app",
                   wallet="0x" + "ab" * 20, amount_minor=5, currency="EUR", details={"nonce": "12"},
                   created_at=now, updated_at=now)
    assert recorded_operation(op) == redacted(operation_out(op))[0]
