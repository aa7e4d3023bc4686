"""The app factory: ``create_app(settings)`` builds the HTTP API of one bank node.

Run it with uvicorn's factory mode, e.g. ``uvicorn --factory api.app:app_from_env``. OpenAPI is served at
``/openapi.json`` and ``/docs``; every operation has a stable ``operation_id``, its security schemes and its
required scopes (``x-required-scopes``).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, Final

from fastapi import FastAPI
from fastapi.routing import APIRoute
from sqlalchemy import Engine
from starlette.routing import NoMatchFound

from api.admission import InFlightLimit, ensure_worker_threads
from api.auth import document_scopes, keyed_routes
from api.deps import AppState
from api.metrics import install_metrics
from api.openapi import keep_published_order
from api.problems import PROBLEM_MEDIA_TYPE, install_problem_handlers
from api.routes import (
    accounts,
    api_keys,
    atm,
    atms,
    customer_sessions,
    customers,
    health,
    merchant_payments,
    merchants,
    notification_subscriptions,
    operations,
    risk,
    transfers,
    vault,
    wallets,
)
from api.routing import install_fast_routes, lane_routes, stream_routes
from node.db import create_engine
from node.logs import configure_logging
from node.risk.state import check_settings_rules
from node.roles import held_roles
from node.runner import freeze_startup_objects
from node.settings import NodeSettings, load_settings
from wallet_sdk.chain.network import Network

__all__ = ["API_VERSION", "app_from_env", "create_app"]

API_VERSION = "1.0.0"
API_ROLES: Final = frozenset({"api"})  # /metrics says it (walletnet_role_held), beside the roles held (node/roles)

ROUTES = (transfers, merchant_payments, atm, merchants, health, wallets, accounts, atms, vault, operations, api_keys,
          customer_sessions, customers, notification_subscriptions, risk)
"""The route modules (one per URL prefix, :mod:`api.routes`), in the order their routers are included: a request
is matched against them in turn, so the payment routes come first (P2P, merchant payments, ATM cash, POS payments;
the OpenAPI document keeps its own order, api/openapi.py)."""


def _operation_id(route: APIRoute) -> str:
    return route.name  # used only where a route sets no operation_id of its own


def create_app(settings: NodeSettings, *, engine: Engine | None = None,
               network_factory: Callable[[], Network] | None = None, max_in_flight: int | None = None,
               queue_timeout: float | None = None, freeze_gc: bool = False) -> FastAPI:
    """The API of the bank ``settings.bank_id``; at most ``max_in_flight`` requests run at once, the rest wait up
    to ``queue_timeout`` seconds for their turn (api/admission.py; by default the settings' ``api_max_in_flight``
    and ``api_queue_timeout``), each authenticated and its body read first (``api_max_body``,
    ``api_body_timeout``).

    ``freeze_gc``: the app is its process's server (:func:`app_from_env`): see
    :func:`node.runner.freeze_startup_objects`.

    ``engine`` defaults to one on ``settings.database_url`` (disposed when the app shuts down);
    ``network_factory`` defaults to connecting to ``settings.rpc_url`` with ``settings.deployment_path``
    on first use, so the API starts (and reports 503 problems) while the chain is down.
    """
    owned = engine is None
    in_flight = settings.api_max_in_flight if max_in_flight is None else max_in_flight
    db = engine if engine is not None else create_engine(settings.database_url)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        ensure_worker_threads(in_flight)
        if freeze_gc:
            freeze_startup_objects()
        try:
            yield
        finally:
            app.state.walletnet.close()
            if owned:
                db.dispose()

    app = FastAPI(
        title=f"walletnet bank node API ({settings.bank_id})",
        version=API_VERSION,
        description="Wallets, bank accounts, ATM cash and transfers of one walletnet member bank. Errors are "
                    "RFC 9457 problem documents (application/problem+json) with a stable `type` URI.",
        generate_unique_id_function=_operation_id,
        lifespan=lifespan,
    )
    check_settings_rules(settings)
    app.state.walletnet = AppState(settings, db, network_factory)
    install_problem_handlers(app)
    routers = tuple(module.router for module in ROUTES)
    app.add_middleware(InFlightLimit, limit=in_flight,
                       queue_timeout=settings.api_queue_timeout if queue_timeout is None else queue_timeout,
                       max_body=settings.api_max_body, body_timeout=settings.api_body_timeout,
                       keyed_routes=keyed_routes(routers), lane_routes=lane_routes(routers),
                       stream_routes=stream_routes(routers))
    # outermost (added last): it times the admission middleware's refusals too
    install_metrics(app, app.state.walletnet, routers, held_roles=lambda: API_ROLES | held_roles())
    for router in routers:
        document_scopes(router)
        app.include_router(router)
    install_fast_routes(app, routers)
    _problems_only_as_problem_json(app)
    keep_published_order(app)
    _prepare_routing(app)
    return app


def _prepare_routing(app: FastAPI) -> None:
    """Have FastAPI prepare how each included route is matched now: it does so lazily, one router at a time, and
    the first request to a router paid for all its routes (about 0.4 s for the whole API), in the middle of
    serving. Looking up a name that no route has prepares every route on the way."""
    with contextlib.suppress(NoMatchFound):
        app.url_path_for("walletnet: no route has this name")


def _problems_only_as_problem_json(app: FastAPI) -> None:
    """FastAPI documents a response ``model`` as application/json too; errors are only problem+json."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            for item in build()["paths"].values():
                for operation in item.values():
                    for response in operation.get("responses", {}).values():
                        content = response.get("content", {})
                        if PROBLEM_MEDIA_TYPE in content:
                            content.pop("application/json", None)
        assert app.openapi_schema is not None
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def app_from_env() -> FastAPI:
    """``create_app`` with the settings from the environment / ``$WALLETNET_CONFIG``, as its process's server: it
    logs in the settings' ``log_format`` (JSON lines by default, uvicorn's own lines included)."""
    settings = load_settings()
    configure_logging(settings.log_format)
    return create_app(settings, freeze_gc=True)

