"""A lane's answer is written by pydantic-core (api.routing.respond): byte for byte what Starlette's JSONResponse
writes for the same plain data."""

from __future__ import annotations

from fastapi.responses import JSONResponse

from api.routing import respond
from node.lanes import Answer


def test_a_lane_answer_is_written_as_starlette_writes_it() -> None:
    body = {"id": "op_1", "kind": "p2p", "final": False, "amount": {"amount": 5, "currency": "EUR"},
            "details": {"nonce": str(2**200), "valid_before": 2**63 - 1, "note": "café ☕", "none": None,
                        "list": [1, "a", {"b": []}]}, "error": None}
    response = respond(Answer(202, body))
    assert response.status_code == 202 and response.headers["content-type"] == "application/json"
    assert response.body == JSONResponse(body).body
