"""The order in which the OpenAPI document lists its paths.

FastAPI lists paths in the order their routes were included. Since routes are grouped by URL prefix
(:mod:`api.routes`), that order differs from the one the document was published with, when a prefix's routes
were spread over several routers (``/v1/accounts`` between a wallet's TOTP and its top-ups, ``/v1/transfers``
between its redemptions and its history, ``/v1/merchant-payments`` among the merchants' routes). JSON does not
order an object's members, but people and tools diff the served document as text, so it keeps listing its paths
as published: :data:`PATH_ORDER`. A path that is not listed there (a new one) follows, in router order.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from fastapi import FastAPI

__all__ = ["PATH_ORDER", "in_published_order", "keep_published_order"]

PATH_ORDER: Final = (
    "/v1/health",
    "/v1/health/live",
    "/v1/health/ready",
    "/v1/wallets/{address}",
    "/v1/wallets/{address}/record",
    "/v1/wallets",
    "/v1/wallets/enrolments",
    "/v1/wallets/{address}/tier",
    "/v1/wallets/{address}/freeze",
    "/v1/wallets/{address}/unfreeze",
    "/v1/wallets/{address}/account",
    "/v1/wallets/{address}/close",
    "/v1/wallets/{address}/totp",
    "/v1/wallets/{address}/totp/reset",
    "/v1/accounts",
    "/v1/accounts/{code}",
    "/v1/wallets/{address}/topups",
    "/v1/wallets/{address}/redemptions",
    "/v1/transfers",
    "/v1/wallets/{address}/history",
    "/v1/wallets/{address}/balance",
    "/v1/atms",
    "/v1/atms/{atm_id}",
    "/v1/atms/{atm_id}/disable",
    "/v1/atms/{atm_id}/secret",
    "/v1/atms/{atm_id}/cash",
    "/v1/atms/{atm_id}/replenish",
    "/v1/atms/{atm_id}/unload",
    "/v1/vault",
    "/v1/vault/deliveries",
    "/v1/atm/cash-ins",
    "/v1/atm/cash-outs",
    "/v1/atm/cash-outs/{operation_id}/dispense",
    "/v1/atm/cash-outs/{operation_id}/fault",
    "/v1/merchants",
    "/v1/merchants/{merchant_id}",
    "/v1/merchants/{merchant_id}/payment-requests",
    "/v1/merchants/{merchant_id}/payment-requests/{order_id}",
    "/v1/merchants/{merchant_id}/payment-requests/{order_id}/qr.png",
    "/v1/merchants/{merchant_id}/payment-requests/{order_id}/qr.svg",
    "/v1/merchants/{merchant_id}/orders/{order_id}",
    "/v1/merchant-payments",
    "/v1/merchants/{merchant_id}/pos-payments",
    "/v1/merchants/{merchant_id}/orders/{order_id}/refunds",
    "/v1/merchants/{merchant_id}/orders/{order_id}/void",
    "/v1/merchants/{merchant_id}/settlements",
    "/v1/merchants/{merchant_id}/settlements/{batch_id}",
    "/v1/merchants/{merchant_id}/settlements/{batch_id}/statement.csv",
    "/v1/merchants/{merchant_id}/reports/daily",
    "/v1/merchants/{merchant_id}/webhook-events",
    "/v1/merchants/{merchant_id}/webhook-events/{event_id}/redeliver",
    "/v1/operations/{operation_id}",
    "/v1/api-keys",
    "/v1/customer-sessions",
    "/v1/customer-sessions/current",
    "/v1/customer-sessions/{session_id}/revoke",
    "/v1/customer-sessions/revocations",
)


def in_published_order(paths: Mapping[str, Any]) -> dict[str, Any]:
    """``paths`` in the order of :data:`PATH_ORDER`, the paths it does not list last, in their own order."""
    rank = {path: index for index, path in enumerate(PATH_ORDER)}
    return dict(sorted(paths.items(), key=lambda item: rank.get(item[0], len(rank))))


def keep_published_order(app: FastAPI) -> None:
    """Make ``app``'s OpenAPI document list its paths in the published order (done once, when it is built)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        first = app.openapi_schema is None
        document = build()
        if first:
            document["paths"] = in_published_order(document["paths"])
        return document

    app.openapi = openapi  # type: ignore[method-assign]
