"""Every problem type and status, through HTTP; no 500 for bad input, no details in a 500."""

from __future__ import annotations

import importlib
import os
import pkgutil
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from eth_typing import ChecksumAddress, HexAddress, HexStr
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel

import api
import node
from api.auth import CurrentKey
from api.problems import KINDS, ConflictError, ProblemKind
from node.api_keys import Scope
from node.custody import CustodyKeyError
from node.errors import NodeError
from node.idempotency import IdempotencyKeyInFlightError
from node.ledger.errors import AccountNotFoundError
from wallet_sdk.chain.types import WalletStatus
from wallet_sdk.exceptions import ContractRevertError
from wallet_sdk.reverts import (
    BalanceCapExceeded,
    DailyOutflowLimitExceeded,
    EnforcedPause,
    ERC20InsufficientBalance,
    SinglePaymentLimitExceeded,
    WalletNotActive,
    WalletNotRegistered,
)

WALLET = ChecksumAddress(HexAddress(HexStr("0x52908400098527886E0F7030069857D2E4169EE7")))


class Payment(BaseModel):
    amount: int
    to: str


@pytest.fixture
def raising(app: FastAPI, system: Any) -> dict[str, Exception]:
    """Mount test-only routes: GET /test/raise/{name} raises ``errors[name]``; POST /test/pay validates a body;
    POST /test/mint-to-frozen makes a real contract call that reverts."""
    errors: dict[str, Exception] = {
        "insufficient": ERC20InsufficientBalance(sender=WALLET, balance=5, needed=7),
        "daily": DailyOutflowLimitExceeded(WALLET, 10, 5, 12),
        "frozen": WalletNotActive(wallet=WALLET, status=WalletStatus.FROZEN),
        "closed": WalletNotActive(wallet=WALLET, status=WalletStatus.CLOSED),
        "paused": EnforcedPause(),
        "other": WalletNotRegistered(wallet=WALLET),
        "conflict": ConflictError("the order is already settled"),
        "bug": RuntimeError("secret internals: password=hunter2"),
        "rpc": ConnectionError("connection refused by 10.0.0.7"),
        "account": AccountNotFoundError("cust:42"),
        "in-flight": IdempotencyKeyInFlightError("topup", "k-1", "started"),
        "custody": CustodyKeyError("custody_key_file /etc/walletnet/custody.key is readable by others"),
    }
    router = APIRouter(prefix="/test", tags=["test"])

    @router.get("/raise/{name}", operation_id="test_raise")
    def raise_it(name: str, _key: CurrentKey) -> None:
        raise errors[name]

    @router.post("/pay", operation_id="test_pay")
    def pay(payment: Payment, _key: CurrentKey) -> dict[str, int]:
        return {"amount": payment.amount}

    @router.post("/mint-to-frozen", operation_id="test_mint_to_frozen")
    def mint_to_frozen(_key: CurrentKey) -> None:
        bank = system.banks["A"]
        address = system.new_wallet().address
        system.send(system.registry.functions.openWallet(address, bank.id, 1, 0, os.urandom(32)), bank.operators[0])
        system.send(system.registry.functions.freeze(address, 1), bank.operators[0])
        system.send(system.token.functions.mint(address, 100, os.urandom(32)), bank.operators[0])

    app.include_router(router)
    return errors


@pytest.mark.parametrize(("name", "status", "kind"), [
    ("insufficient", 422, "insufficient-balance"),
    ("daily", 422, "limit-exceeded"),
    ("frozen", 409, "wallet-frozen"),
    ("closed", 409, "wallet-not-active"),
    ("paused", 503, "network-paused"),
    ("other", 422, "contract-rejected"),
    ("conflict", 409, "conflict"),
    ("rpc", 503, "chain-unavailable"),
    ("account", 404, "not-found"),
    ("in-flight", 409, "idempotency-key-in-flight"),
])
def test_domain_and_contract_errors(client: TestClient, raising: dict[str, Exception], name: str, status: int,
                                    kind: str, make_key: Callable[..., str], auth: Callable[[str], dict[str, str]],
                                    problem: Callable[..., dict[str, Any]]) -> None:
    body = problem(client.get(f"/test/raise/{name}", headers=auth(make_key(Scope.TELLER))), status, kind)
    error = raising[name]
    if isinstance(error, ContractRevertError):
        assert body["error"] == error.name
    if name == "insufficient":
        assert body["arguments"] == {"sender": WALLET, "balance": 5, "needed": 7}
    if name == "rpc":
        assert "10.0.0.7" not in str(body)
    if name == "account":  # a node error surfaces with the status it declares (it was a 500)
        assert body["detail"] == "no ledger account 'cust:42'"


def test_a_node_error_says_when_to_retry(client: TestClient, raising: dict[str, Exception],
                                         make_key: Callable[..., str], auth: Callable[[str], dict[str, str]]) -> None:
    response = client.get("/test/raise/in-flight", headers=auth(make_key(Scope.TELLER)))
    assert response.status_code == 409 and response.headers["Retry-After"] == "1"


def test_an_internal_node_error_is_500_without_details(client: TestClient, raising: dict[str, Exception],
                                                       make_key: Callable[..., str],
                                                       auth: Callable[[str], dict[str, str]],
                                                       problem: Callable[..., dict[str, Any]]) -> None:
    body = problem(client.get("/test/raise/custody", headers=auth(make_key(Scope.TELLER))), 500, "internal")
    assert set(body) == {"type", "title", "status", "instance"}


def _node_errors() -> Iterator[type[NodeError]]:
    """Every NodeError class of the node and the API (their modules imported first)."""
    for package in (node, api):
        for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if ".migrations" not in module.name:
                importlib.import_module(module.name)
    pending = [NodeError]
    while pending:
        cls = pending.pop()
        yield cls
        pending.extend(cls.__subclasses__())


def test_every_node_error_declares_a_known_problem_with_its_status() -> None:
    """The API maps node errors by what they carry: each slug must be a kind, with the kind's status (the
    status the OpenAPI document gives it)."""
    errors = list(_node_errors())
    assert len(errors) > 60
    for cls in errors:
        kind = ProblemKind(cls.problem)
        assert KINDS[kind].status == cls.status, f"{cls.__module__}.{cls.__name__}: {cls.problem} {cls.status}"


def test_limit_reverts_share_one_kind() -> None:
    from api.problems import REVERT_KINDS, ProblemKind

    for error in (DailyOutflowLimitExceeded, SinglePaymentLimitExceeded, BalanceCapExceeded):
        assert REVERT_KINDS[error.__name__] is ProblemKind.LIMIT_EXCEEDED


def test_real_revert_from_the_chain_maps_to_wallet_frozen(client: TestClient, raising: dict[str, Exception],
                                                           make_key: Callable[..., str],
                                                           auth: Callable[[str], dict[str, str]],
                                                           problem: Callable[..., dict[str, Any]]) -> None:
    body = problem(client.post("/test/mint-to-frozen", headers=auth(make_key(Scope.TELLER))), 409, "wallet-frozen")
    assert body["error"] == "WalletNotActive"
    assert body["arguments"]["status"] == int(WalletStatus.FROZEN)


def test_unexpected_error_is_500_without_details(client: TestClient, raising: dict[str, Exception],
                                                 make_key: Callable[..., str], auth: Callable[[str], dict[str, str]],
                                                 problem: Callable[..., dict[str, Any]]) -> None:
    body = problem(client.get("/test/raise/bug", headers=auth(make_key(Scope.TELLER))), 500, "internal")
    assert "hunter2" not in str(body) and "RuntimeError" not in str(body)
    assert set(body) == {"type", "title", "status", "instance"}


@pytest.mark.parametrize(("content", "ctype", "loc"), [
    (b'{"amount": "lots", "to": "x"}', "application/json", ["body", "amount"]),
    (b'{"to": "x"}', "application/json", ["body", "amount"]),
    (b'{"amount": 1, "to": ', "application/json", ["body"]),
    (b"amount=1", "application/x-www-form-urlencoded", ["body"]),
    (b"\xff\xfe", "application/json", ["body"]),
    (b"\x04\xefl\x06", "application/json", ["body"]),  # no JSON encoding decodes it: FastAPI's 400
    (b"[1, 2]", "application/json", ["body"]),
], ids=["wrong-type", "missing-field", "truncated-json", "form", "not-utf8", "undecodable", "array"])
def test_bad_bodies_are_422_with_field_errors(client: TestClient, raising: dict[str, Exception], content: bytes,
                                              ctype: str, loc: list[Any], make_key: Callable[..., str],
                                              problem: Callable[..., dict[str, Any]]) -> None:
    headers = {"Authorization": f"Bearer {make_key(Scope.TELLER)}", "Content-Type": ctype}
    body = problem(client.post("/test/pay", content=content, headers=headers), 422, "validation")
    assert body["errors"], body
    assert body["errors"][0]["loc"][: len(loc)] == loc, body["errors"]
    assert all({"loc", "msg", "type"} <= set(e) for e in body["errors"])


def test_unknown_route_and_wrong_method(client: TestClient, problem: Callable[..., dict[str, Any]]) -> None:
    problem(client.get("/v1/nothing-here"), 404, "not-found")
    problem(client.delete("/v1/health"), 405, "method-not-allowed")


def test_every_kind_has_a_status_and_a_stable_uri() -> None:
    from api.problems import KINDS, ProblemKind

    assert set(KINDS) == set(ProblemKind)
    for kind in ProblemKind:
        assert kind.uri == f"https://walletnet.dev/problems/{kind.value}"
        assert 400 <= KINDS[kind].status < 600
