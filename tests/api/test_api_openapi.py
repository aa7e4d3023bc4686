"""The OpenAPI document describes every route: a stable operation id, security schemes, scopes and problems."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from api.app import create_app
from api.openapi import PATH_ORDER, in_published_order

EXPECTED = {
    ("get", "/v1/health"): ("get_health", None),
    ("get", "/v1/health/live"): ("get_health_live", None),
    ("get", "/v1/health/ready"): ("get_health_ready", None),
    ("get", "/v1/wallets/{address}"): ("get_wallet", ["teller", "app", "admin", "regulator"]),
    ("get", "/v1/wallets/{address}/record"): ("get_wallet_record", ["teller", "app", "admin", "regulator"]),
    ("post", "/v1/wallets"): ("open_wallet", ["teller", "app"]),
    ("post", "/v1/wallets/enrolments"): ("enrol_wallets", ["admin", "teller"]),
    ("post", "/v1/wallets/{address}/tier"): ("change_wallet_tier", ["teller", "admin"]),
    ("post", "/v1/wallets/{address}/freeze"): ("freeze_wallet", ["teller", "admin"]),
    ("post", "/v1/wallets/{address}/unfreeze"): ("unfreeze_wallet", ["teller", "admin"]),
    ("post", "/v1/wallets/{address}/account"): ("bind_wallet_account", ["teller", "app"]),
    ("post", "/v1/wallets/{address}/close"): ("close_wallet", ["teller", "app"]),
    ("post", "/v1/wallets/{address}/totp"): ("enrol_totp", ["teller", "app"]),
    ("post", "/v1/wallets/{address}/totp/reset"): ("reset_totp", ["teller"]),
    ("post", "/v1/accounts"): ("open_account", ["admin"]),
    ("get", "/v1/accounts/{code}"): ("get_account", ["teller", "app", "admin"]),
    ("post", "/v1/wallets/{address}/topups"): ("top_up", ["app", "teller"]),
    ("post", "/v1/wallets/{address}/redemptions"): ("redeem", ["app", "teller"]),
    ("post", "/v1/transfers"): ("transfer", ["app", "teller"]),
    ("get", "/v1/wallets/{address}/history"): ("get_history", ["teller", "app", "admin", "regulator"]),
    ("get", "/v1/wallets/{address}/balance"): ("get_balance", ["teller", "app", "admin", "regulator"]),
    ("post", "/v1/atms"): ("register_atm", ["admin"]),
    ("get", "/v1/atms"): ("list_atms", ["admin", "regulator"]),
    ("get", "/v1/atms/{atm_id}"): ("get_atm", ["admin", "regulator"]),
    ("post", "/v1/atms/{atm_id}/disable"): ("disable_atm", ["admin"]),
    ("post", "/v1/atms/{atm_id}/secret"): ("rotate_atm_secret", ["admin"]),
    ("get", "/v1/atms/{atm_id}/cash"): ("get_atm_cash", ["admin", "regulator"]),
    ("post", "/v1/atms/{atm_id}/replenish"): ("replenish_atm", ["admin"]),
    ("post", "/v1/atms/{atm_id}/unload"): ("unload_atm", ["admin"]),
    ("get", "/v1/vault"): ("get_vault_cash", ["admin", "regulator"]),
    ("post", "/v1/vault/deliveries"): ("deliver_vault_cash", ["admin"]),
    ("post", "/v1/atm/cash-ins"): ("atm_report_cash_in", ["atm"]),
    ("post", "/v1/atm/cash-outs"): ("atm_submit_withdrawal", ["atm"]),
    ("post", "/v1/atm/cash-outs/{operation_id}/dispense"): ("atm_confirm_dispense", ["atm"]),
    ("post", "/v1/atm/cash-outs/{operation_id}/fault"): ("atm_report_dispense_fault", ["atm"]),
    ("get", "/v1/operations/{operation_id}"): ("get_operation",
                                               ["teller", "app", "atm", "admin", "regulator", "merchant"]),
    ("post", "/v1/merchants"): ("onboard_merchant", ["admin"]),
    ("get", "/v1/merchants"): ("list_merchants", ["admin", "regulator"]),
    ("get", "/v1/merchants/{merchant_id}"): ("get_merchant", ["merchant", "admin"]),
    ("post", "/v1/merchants/{merchant_id}/payment-requests"): ("create_payment_request", ["merchant", "admin"]),
    ("get", "/v1/merchants/{merchant_id}/payment-requests/{order_id}"): ("get_payment_request",
                                                                        ["merchant", "admin"]),
    ("get", "/v1/merchants/{merchant_id}/payment-requests/{order_id}/qr.png"): ("get_payment_request_png",
                                                                               ["merchant", "admin"]),
    ("get", "/v1/merchants/{merchant_id}/payment-requests/{order_id}/qr.svg"): ("get_payment_request_svg",
                                                                               ["merchant", "admin"]),
    ("get", "/v1/merchants/{merchant_id}/orders/{order_id}"): ("get_order", ["merchant", "admin"]),
    ("post", "/v1/merchant-payments"): ("pay_merchant", ["app", "teller"]),
    ("post", "/v1/merchants/{merchant_id}/pos-payments"): ("submit_pos_payment", ["merchant"]),
    ("post", "/v1/merchants/{merchant_id}/orders/{order_id}/refunds"): ("refund_order", ["merchant", "admin"]),
    ("post", "/v1/merchants/{merchant_id}/orders/{order_id}/void"): ("void_order", ["merchant", "admin"]),
    ("post", "/v1/merchants/{merchant_id}/settlements"): ("settle_merchant", ["merchant", "admin"]),
    ("get", "/v1/merchants/{merchant_id}/settlements"): ("list_settlements", ["merchant", "admin"]),
    ("get", "/v1/merchants/{merchant_id}/settlements/{batch_id}"): ("get_settlement_statement",
                                                                   ["merchant", "admin"]),
    ("get", "/v1/merchants/{merchant_id}/settlements/{batch_id}/statement.csv"): ("get_settlement_statement_csv",
                                                                                 ["merchant", "admin"]),
    ("get", "/v1/merchants/{merchant_id}/reports/daily"): ("get_daily_report", ["merchant", "admin"]),
    ("get", "/v1/merchants/{merchant_id}/webhook-events"): ("list_webhook_events", ["merchant", "admin"]),
    ("post", "/v1/merchants/{merchant_id}/webhook-events/{event_id}/redeliver"): ("redeliver_webhook_event",
                                                                                  ["merchant", "admin"]),
    ("get", "/v1/api-keys"): ("list_api_keys", ["admin"]),
    ("post", "/v1/customer-sessions"): ("mint_customer_session", ["auth", "admin"]),
    ("get", "/v1/customer-sessions/current"): ("get_current_customer_session", ["app"]),
    ("delete", "/v1/customer-sessions/current"): ("end_customer_session", ["app"]),
    ("post", "/v1/customer-sessions/{session_id}/revoke"): ("revoke_customer_session", ["auth", "admin"]),
    ("post", "/v1/customer-sessions/revocations"): ("revoke_customer_sessions", ["auth", "admin"]),
    ("get", "/v1/wallets/{address}/notifications"): ("list_notifications", ["teller", "app", "admin", "regulator"]),
    ("post", "/v1/wallets/{address}/notifications/read"): ("mark_notifications_read", ["teller", "app"]),
    ("get", "/v1/wallets/{address}/notifications/stream"): ("stream_notifications",
                                                            ["teller", "app", "admin", "regulator"]),
    ("get", "/v1/customers/{customer_ref}/notification-settings"): ("get_notification_settings",
                                                                    ["app", "teller", "admin"]),
    ("put", "/v1/customers/{customer_ref}/notification-settings"): ("set_notification_settings",
                                                                    ["app", "teller", "admin"]),
    ("post", "/v1/notification-subscriptions"): ("create_notification_subscription", ["admin"]),
    ("get", "/v1/notification-subscriptions"): ("list_notification_subscriptions", ["admin"]),
    ("get", "/v1/notification-subscriptions/{name}"): ("get_notification_subscription", ["admin"]),
    ("get", "/v1/risk/reviews"): ("list_risk_reviews", ["risk"]),
    ("post", "/v1/risk/reviews/{decision_id}/approve"): ("approve_risk_review", ["risk"]),
    ("post", "/v1/risk/reviews/{decision_id}/decline"): ("decline_risk_review", ["risk"]),
    ("get", "/v1/risk/decisions"): ("list_risk_decisions", ["risk", "regulator"]),
    ("get", "/v1/risk/decisions/{decision_id}"): ("get_risk_decision", ["risk", "regulator"]),
    ("get", "/v1/risk/rules"): ("get_risk_rules", ["risk", "admin", "regulator"]),
    ("put", "/v1/risk/rules"): ("set_risk_rules", ["admin", "risk"]),
    ("get", "/v1/risk/rules/changes"): ("list_risk_rule_changes", ["risk", "admin", "regulator"]),
    ("get", "/v1/risk/export"): ("export_risk_activity", ["risk", "regulator"]),
}
PUBLIC = {"/v1/health", "/v1/health/live", "/v1/health/ready"}


def operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(method, path): op for path, item in document["paths"].items() for method, op in item.items()}


def test_every_route_is_documented(client: TestClient) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    document = response.json()
    ops = operations(document)
    assert set(ops) == set(EXPECTED)
    for (method, path), (operation_id, scopes) in EXPECTED.items():
        op = ops[(method, path)]
        assert op["operationId"] == operation_id
        assert op.get("x-required-scopes") == scopes
        if path in PUBLIC:
            assert "security" not in op
        else:
            assert op["security"] == [{"BearerKey": []}, {"ApiKeyHeader": []}]
            assert f"Scopes: {', '.join(scopes or [])}." in op["description"]
            for status in ("401", "403", "422"):
                assert set(op["responses"][status]["content"]) == {"application/problem+json"}, (path, status)
    schemes = document["components"]["securitySchemes"]
    assert schemes["BearerKey"] == {"type": "http", "scheme": "bearer",
                                    "description": "An API key (`Authorization: Bearer wn_...`) or a customer "
                                                   "session token (`Authorization: Bearer wnc_...`)"}
    assert schemes["ApiKeyHeader"]["in"] == "header" and schemes["ApiKeyHeader"]["name"] == "X-API-Key"
    assert {"type", "title", "status"} <= set(document["components"]["schemas"]["Problem"]["properties"])


def test_operation_ids_are_unique_and_stable_across_apps(app: FastAPI, client: TestClient) -> None:
    first = client.get("/openapi.json").json()
    again = create_app(app.state.walletnet.settings, engine=app.state.walletnet.engine).openapi()
    assert first == again  # building a second app does not change (or repeat) anything
    ids = [op["operationId"] for op in operations(first).values()]
    assert len(ids) == len(set(ids))


def test_docs_page_is_served(client: TestClient) -> None:
    response = client.get("/docs")
    assert response.status_code == 200
    assert "/openapi.json" in response.text


def test_every_api_route_sets_its_operation_id(app: FastAPI) -> None:
    document = app.openapi()
    for path, item in document["paths"].items():
        for op in item.values():
            assert op["operationId"].replace("_", "").isalnum(), path
    assert not [r for r in app.routes if isinstance(r, APIRoute) and r.operation_id is None]


# ------------------------------------------------------------------ input bounds, strictness, no unknown fields


def _schemas(document: dict[str, Any], schema: dict[str, Any], seen: frozenset[str] = frozenset()
             ) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every (sub)schema of ``schema`` with where it is: $refs followed (each once per branch), properties,
    array items and anyOf/oneOf/allOf alternatives."""
    ref = schema.get("$ref")
    if ref is not None:
        if ref in seen:
            return
        target = document
        for part in ref.removeprefix("#/").split("/"):
            target = target[part]
        yield from ((f"{ref}{where}", s) for where, s in _schemas(document, target, seen | {ref}))
        return
    yield "", schema
    for name, sub in schema.get("properties", {}).items():
        yield from ((f".{name}{where}", s) for where, s in _schemas(document, sub, seen))
    if isinstance(schema.get("items"), dict):
        yield from ((f"[]{where}", s) for where, s in _schemas(document, schema["items"], seen))
    for key in ("anyOf", "oneOf", "allOf"):
        for sub in schema.get(key, []):
            yield from _schemas(document, sub, seen)


def input_problems(document: dict[str, Any]) -> list[str]:
    """What the document lets through that it should not: an integer parameter (path, query, header) without a
    maximum; in a request body, an object that allows unknown properties or an integer that is not strict
    (``x-strict``: ``true``, ``"100"`` and ``100.0`` refused) or has no maximum."""
    found = []
    for (method, path), op in operations(document).items():
        for parameter in op.get("parameters", []):
            for _, s in _schemas(document, parameter["schema"]):
                if s.get("type") == "integer" and "maximum" not in s and "exclusiveMaximum" not in s:
                    found.append(f"{method} {path}: {parameter['in']} parameter {parameter['name']} has no maximum")
        for media, content in op.get("requestBody", {}).get("content", {}).items():
            for where, s in _schemas(document, content["schema"]):
                at = f"{method} {path} {media} body{where}"
                if (s.get("type") == "object" or "properties" in s) and s.get("additionalProperties") is not False:
                    found.append(f"{at}: allows unknown properties")
                if s.get("type") == "integer" and s.get("x-strict") is not True:
                    found.append(f"{at}: an integer that is not strict")
                if s.get("type") == "integer" and "maximum" not in s and "exclusiveMaximum" not in s:
                    found.append(f"{at}: an integer without a maximum")
    return found


def test_every_integer_input_is_bounded_and_every_body_strict(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    assert input_problems(document) == []
    bodies = [op for op in operations(document).values() if "requestBody" in op]
    assert len(bodies) > 20  # the walk saw the request bodies


def test_the_walk_finds_each_kind_of_problem() -> None:
    document = {
        "paths": {"/v1/things/{n}": {"post": {
            "parameters": [{"in": "path", "name": "n", "schema": {"type": "integer", "minimum": 1}},
                           {"in": "query", "name": "before", "schema": {"anyOf": [{"type": "integer"},
                                                                                  {"type": "null"}]}},
                           {"in": "query", "name": "limit", "schema": {"type": "integer", "maximum": 5}}],
            "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ThingIn"}}}},
        }}},
        "components": {"schemas": {
            "ThingIn": {"type": "object", "additionalProperties": False, "properties": {
                "amount": {"type": "integer", "maximum": 10},
                "count": {"type": "integer", "x-strict": True},
                "ok": {"type": "integer", "x-strict": True, "maximum": 3},
                "rows": {"type": "array", "items": {"$ref": "#/components/schemas/Row"}}}},
            "Row": {"type": "object", "properties": {"next": {"anyOf": [{"$ref": "#/components/schemas/Row"},
                                                                        {"type": "null"}]}}},
        }},
    }
    at = "post /v1/things/{n}"
    body = f"{at} application/json body#/components/schemas/ThingIn"
    assert input_problems(document) == [
        f"{at}: path parameter n has no maximum",
        f"{at}: query parameter before has no maximum",
        f"{body}.amount: an integer that is not strict",
        f"{body}.count: an integer without a maximum",
        f"{body}.rows[]#/components/schemas/Row: allows unknown properties",
    ]


SNAPSHOT = Path(__file__).with_name("openapi.snapshot.json")


def test_the_document_is_the_committed_snapshot(client: TestClient) -> None:
    """The API's contract changes only on purpose: moving code (issue 19's reorganisation) left the document as it
    was; a deliberate change regenerates the snapshot (`python scripts/openapi_snapshot.py`) in the same commit."""
    served = client.get("/openapi.json").json()
    assert served == json.loads(SNAPSHOT.read_text(encoding="utf-8")), \
        "the OpenAPI document changed: run `python scripts/openapi_snapshot.py` if that was meant"


def test_the_paths_are_listed_in_the_published_order(client: TestClient) -> None:
    """Grouping the routes by URL prefix changed the order FastAPI lists paths in; the served document keeps the
    order it was published with (api/openapi.py), so a text diff of it shows only real changes. A new path
    follows the published ones."""
    served = list(client.get("/openapi.json").json()["paths"])
    assert served[:len(PATH_ORDER)] == list(PATH_ORDER)
    assert in_published_order(dict.fromkeys(["/v1/new", *reversed(PATH_ORDER)])) == dict.fromkeys(
        [*PATH_ORDER, "/v1/new"])
