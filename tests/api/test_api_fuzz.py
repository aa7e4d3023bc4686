"""Property-based fuzzing of a bank node's API against its own OpenAPI document (schemathesis).

Every operation of the document that bank A serves is called, on a two-bank network of the fuzzing's own (real
anvil, uvicorn, writer and indexer, as flow_network.py starts them), with generated requests, valid and invalid
(path, query, headers, body), sent with a key of every scope, a key with all of them, a customer session (what
an app acts with) and no key. Every answer
must be one the document promises: never a 5xx (the chain is up, so not even a 503), a documented status code,
content type and body, and every error a problem document whose ``type`` is ``https://walletnet.dev/problems/``
and a kind. Both banks must reconcile at the end: whatever the fuzzing gets accepted, the node books.

So that requests get past "not found", the second test swaps generated identifiers for real ones of the bank
(an active, funded wallet with a bound account, a wallet of the other bank, an account, ATMs, operations, valid
withdrawal codes, a merchant with a paid and settled order and an open request), makes amounts plausible and
signs the ATM messages with a registered ATM's secret. The merchant is real and active, and the merchant key
(alone, and in the key with every scope) is that merchant's: a merchant operation on it is called with a key
that may call it, so it gets past 403 into the flows.

Bounded for CI: a few examples per operation, derandomized (the same requests every run); set
``WALLETNET_FUZZ_EXAMPLES`` for a deeper run. The last test pins a bug found while fuzzing (another, an
undecodable body answered 400, is pinned in test_api_errors.py).
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
import schemathesis
from atm_support import Customer as AtmCustomer
from atm_support import new_atm, new_customer
from fastapi.testclient import TestClient
from flow_network import BankNetwork, BankNode, network_session
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from merchant_support import onboard_shop
from money_flows_support import completed, fresh, fund_wallet, open_customer
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.generation.meta import TestPhase
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import select

from api.app import create_app
from api.problems import PROBLEM_BASE, PROBLEM_MEDIA_TYPE
from node.api_keys import Scope
from node.db import create_engine, session_factory
from node.ledger.builtin import MAX_AMOUNT_MINOR
from node.operations.models import Operation
from node.settings import load_settings
from tools.postgres import PgServer
from wallet_sdk.client.atm import atm_headers
from wallet_sdk.keys import WalletKey

MAX_EXAMPLES = int(os.environ.get("WALLETNET_FUZZ_EXAMPLES", "8"))  # per operation (more: a deeper run)
AUTH_HEADERS = ("authorization", "x-api-key")
CUSTOMER_SESSION = "customer session"  # minted afresh for each request: the fuzzing may revoke or end one


@dataclass
class Targets:
    """What the fuzzing talks to: bank A, a key per scope, and real identifiers to draw from."""

    bank: BankNode
    keys: dict[str, str | None]  # name -> secret (None: no key at all; CUSTOMER_SESSION: minted per request)
    customer_ref: str = ""  # whose customer session the app acts in
    known: dict[str, list[Any]] = field(default_factory=dict)  # parameter/field name -> real values
    atm_id: str = ""  # the ATM whose secret signs messages (never offered to the admin's fuzzing)
    atm_secret: str = ""
    session: requests.Session = field(default_factory=requests.Session)
    turns: Counter[str] = field(default_factory=Counter)  # per operation: coverage cases sent so far
    admitted: set[tuple[str, str]] = field(default_factory=set)  # (operation, key name) answered past 401/403


@pytest.fixture(scope="module")
def fuzz_network(tmp_path_factory: pytest.TempPathFactory, pg_server: PgServer) -> Iterator[BankNetwork]:
    """A two-bank network like the session's ``bank_network`` (flow_network.py), but the fuzzing's own: its
    generated amounts fill the vault and accounts up to what the ledger counts, which the flow tests sharing the
    session's network must not find. Both banks must reconcile at its end all the same."""
    pg_server.admin("CREATE DATABASE fuzzb TEMPLATE walletnet_template")
    yield from network_session(tmp_path_factory.mktemp("fuzz-network"), pg_server.url("fuzzb"))


@pytest.fixture(scope="module")
def targets(fuzz_network: BankNetwork) -> Iterator[Targets]:
    bank, other = fuzz_network.a, fuzz_network.b
    shop = onboard_shop(bank)  # active on chain: its key's operations get past 403
    keys: dict[str, str | None] = {"no key": None}
    for scope in Scope:
        keys[scope.value] = bank.key(scope, merchant_id=shop.merchant_id if scope is Scope.MERCHANT else None,
                                     name=f"fuzz {scope.value}")
    keys["every scope"] = bank.key(*Scope, merchant_id=shop.merchant_id, name="fuzz every scope")

    admin = bank.client("admin")
    customer = open_customer(bank, tier=2, deposit=500_000)  # custodial, with a bound, funded account
    fund_wallet(customer, 20_000)
    paid = shop.client.create_payment_request(shop.merchant_id, "FUZZ-PAID", 1_000)
    completed(admin, customer.app().pay_merchant(customer.wallet, paid.payload))
    completed(admin, shop.client.settle_merchant(shop.merchant_id))  # batch 1
    shop.client.create_payment_request(shop.merchant_id, "FUZZ-OPEN", 2_000)
    elsewhere = open_customer(other, deposit=None)
    signer = new_atm(bank, admin, stock=100_000)
    holder = new_customer(bank)  # self custody: its app signs withdrawal codes
    op = signer.client.report_cash_in(fresh("EV"), holder.wallet, {5_000: 1})
    assert signer.client.wait_for_status(op.id, ()).status == "completed"
    stranger = AtmCustomer(bank, WalletKey.create())  # a wallet nobody opened
    closable = open_customer(bank, deposit=None)  # the wallet the close endpoint is pointed at
    known = {
        "address": [customer.wallet, holder.wallet, elsewhere.wallet, stranger.wallet],
        "code": [str(customer.account), "cash:vault"],
        "account": [str(customer.account)],
        "atm_id": [new_atm(bank, admin).atm_id],
        "operation_id": [op.id, _operation_of(bank, customer.wallet)],
        "withdrawal": [holder.code(1_000).text, stranger.code(1_000).text],
        "closable": [closable.wallet, holder.wallet, elsewhere.wallet, stranger.wallet],
        "merchant_id": [shop.merchant_id],
        "order_id": ["FUZZ-PAID", "FUZZ-OPEN"],
        "batch_id": [1],
        "customer_ref": [customer.ref],  # the customer session's own: its openings get into the flows
    }
    for name in ("wallet", "payer", "payee", "holder"):
        known[name] = known["address"]
    keys[CUSTOMER_SESSION] = None
    found = Targets(bank=bank, keys=keys, customer_ref=customer.ref, known=known, atm_id=signer.atm_id,
                    atm_secret=signer.secret)
    yield found
    found.session.close()


def _operation_of(bank: BankNode, wallet: str) -> str:
    with session_factory(bank.engine, read_only=True).begin() as session:
        found = session.scalars(select(Operation.public_id).where(Operation.wallet == wallet)).first()
    assert found is not None
    return found


def _document() -> dict[str, Any]:
    """The OpenAPI document of a bank A node (built here: the pytest integration needs it at collection)."""
    engine = create_engine("sqlite://")  # never connected: the document needs no database
    try:
        settings = load_settings(bank_id="BANKA", db_url=f"sqlite:///{tempfile.gettempdir()}/unused.sqlite3")
        return create_app(settings, engine=engine).openapi()
    finally:
        engine.dispose()


DOCUMENT = _document()
schema = schemathesis.openapi.from_dict(DOCUMENT)
on_real_resources = schemathesis.openapi.from_dict(DOCUMENT)
on_real_resources.config.phases.update(phases=["fuzzing"])  # drawn values: no examples or coverage cases
on_real_resources.config.generation.update(modes=[GenerationMode.POSITIVE])  # past validation, into the flows


def test_the_fuzzed_document_is_the_one_bank_a_serves(targets: Targets) -> None:
    served = targets.session.get(f"{targets.bank.url}/openapi.json", timeout=30)
    assert served.status_code == 200
    assert served.json() == DOCUMENT


class _AtmSignature(requests.auth.AuthBase):
    """Signs the request as sent (method, path, exact body bytes) with an ATM's device secret."""

    def __init__(self, atm_id: str, secret: str) -> None:
        self.atm_id, self.secret = atm_id, secret

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        body = request.body.encode() if isinstance(request.body, str) else request.body
        path = urlsplit(request.url or "").path
        request.headers.update(atm_headers(self.atm_id, self.secret, method=request.method or "", path=path,
                                           body=body or b""))
        return request


def _problem_type(ctx: Any, response: Any, case: Any) -> bool | None:
    """Errors are problem documents whose type is one of ours."""
    if response.status_code < 400:
        return None
    media = response.headers.get("content-type", [""])
    media = media[0] if isinstance(media, list) else media
    assert media.startswith(PROBLEM_MEDIA_TYPE), f"{response.status_code} answered as {media!r}"
    body = response.json()
    assert isinstance(body, dict) and str(body.get("type", "")).startswith(PROBLEM_BASE), body
    assert body.get("status") == response.status_code, body
    return None


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance, schemathesis.check(_problem_type)]


def _swap(data: st.DataObject, container: object, known: dict[str, list[Any]], names: Iterable[str]) -> None:
    """Maybe replace each of ``names`` in ``container`` by one of its real values."""
    if not isinstance(container, dict):
        return
    for name in names:
        if name in container and known.get(name):
            choice = data.draw(st.none() | st.sampled_from(known[name]), label=name)
            if choice is not None:
                container[name] = choice


def _aim(case: schemathesis.Case, data: st.DataObject, targets: Targets) -> None:
    """Point a generated request at the bank's real things, and sometimes make its amounts plausible, so that
    it gets past "not found" and the checks of the fields against each other, into the flows."""
    known = targets.known
    paths = dict(known, address=known["closable"]) if case.path.endswith("/close") else known
    _swap(data, case.path_parameters, paths,
          ("address", "code", "atm_id", "operation_id", "merchant_id", "order_id", "batch_id", "customer_ref"))
    body = case.body
    _swap(data, body, known, ("wallet", "payer", "payee", "holder", "account", "customer_ref"))
    if not isinstance(body, dict):
        return
    if "code" in body and case.path.startswith("/v1/atm/"):
        body["code"] = data.draw(st.sampled_from([body["code"], *known["withdrawal"]]), label="withdrawal code")
    if ("authorization" in body or "payload" in body) and data.draw(st.booleans(), label="the bank signs"):
        body.pop("authorization", None)  # a custodial wallet's bank signs for it
        body.pop("payload", None)
    if "currency" in body:
        body["currency"] = data.draw(st.sampled_from([body["currency"], targets.bank.settings.currency]))
    if isinstance(body.get("amount"), int) and data.draw(st.booleans(), label="small amount"):
        body["amount"] = data.draw(st.integers(1, 20_000), label="amount")
        if isinstance(body.get("notes"), list):
            body["notes"] = [{"denomination": body["amount"], "count": 1}]


def _send(case: schemathesis.Case, targets: Targets, keys: Iterable[str], *, sign: bool = False,
          fresh_idempotency_keys: bool = False, record: bool = False) -> None:
    """Send ``case`` once with each of ``keys`` (by name) and check every answer; ``sign``: sign ATM messages;
    ``fresh_idempotency_keys``: a new Idempotency-Key each time (instead of generated ones, which repeat);
    ``record``: note in ``targets.admitted`` each key that was answered past 401/403."""
    generated = {k: v for k, v in (case.headers or {}).items() if k.lower() not in AUTH_HEADERS}
    for name in keys:
        secret = targets.bank.mint_session(targets.customer_ref).token if name == CUSTOMER_SESSION \
            else targets.keys[name]
        case.headers = {**generated, **({"Authorization": f"Bearer {secret}"} if secret else {})}
        if fresh_idempotency_keys and "Idempotency-Key" in case.headers:
            case.headers["Idempotency-Key"] = uuid.uuid4().hex
        auth = _AtmSignature(targets.atm_id, targets.atm_secret) if sign and name == "atm" else None
        response = case.call(base_url=targets.bank.url, session=targets.session, auth=auth)
        if record and response.status_code not in (401, 403):
            targets.admitted.add((case.operation.label, name))
        try:
            case.validate_response(response, checks=CHECKS)
        except Exception as exc:
            exc.add_note(f"sent with the key: {name}")
            raise


def _admitted_key(case: schemathesis.Case, targets: Targets) -> str:
    """One key the operation admits, each in turn (none for a public operation)."""
    operation = DOCUMENT["paths"][case.operation.path][case.operation.method.lower()]
    scopes = [CUSTOMER_SESSION if s == Scope.APP else s for s in operation.get("x-required-scopes") or ["no key"]]
    turn = targets.turns[case.operation.label]
    targets.turns[case.operation.label] += 1
    return str(scopes[turn % len(scopes)])


FUZZ = settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck))


@FUZZ
@schema.parametrize()
def test_every_answer_is_documented(case: schemathesis.Case, targets: Targets) -> None:
    """The document's examples, its coverage cases (each boundary, each constraint broken: one admitted key
    each, they are many) and generated requests (every key)."""
    if case.meta is not None and case.meta.phase.name is TestPhase.COVERAGE:
        _send(case, targets, [_admitted_key(case, targets)])
    else:
        _send(case, targets, targets.keys)


@FUZZ
@on_real_resources.parametrize()
@on_real_resources.given(data=st.data())
def test_every_answer_on_real_resources_is_documented(case: schemathesis.Case, data: st.DataObject,
                                                      targets: Targets) -> None:
    """Generated requests about the bank's real wallets, accounts, ATMs and operations; ATM messages signed."""
    _aim(case, data, targets)
    sign = case.path.startswith("/v1/atm/") and data.draw(st.booleans(), label="signed")
    _send(case, targets, targets.keys, sign=sign, fresh_idempotency_keys=True, record=True)


def test_each_scope_of_each_operation_got_past_authorization(targets: Targets) -> None:
    """What the test above sent (run the module whole): every operation, called with valid requests about the
    bank's real things, was answered past 401/403 with the key of each scope it admits, so each was fuzzed in
    its flows and not only at the door (merchant operations with the key of a real merchant, ATM messages
    signed)."""
    missing = []
    for path, item in DOCUMENT["paths"].items():
        for method, operation in item.items():
            label = f"{method.upper()} {path}"
            for scope in operation.get("x-required-scopes") or ["no key"]:
                # the app scope acts for a customer through a customer session (a bare app key: 403 by design)
                names = (scope, CUSTOMER_SESSION) if scope == Scope.APP else (scope,)
                if not any((label, name) in targets.admitted for name in names):
                    missing.append(f"{label} with the {scope} key")
    assert not missing, "never answered past 401/403:\n" + "\n".join(missing)


# ------------------------------------------------------------------ what the fuzzing found


def test_the_vault_cannot_hold_more_than_the_ledger_counts(client: TestClient, make_key: Callable[..., str],
                                                           auth: Callable[[str], dict[str, str]],
                                                           problem: Callable[..., dict[str, Any]]) -> None:
    """Each delivery fits 64 bits, their sum did not: SQLite failed the second one and every later reading of
    the vault with a 500. Now the ledger refuses the posting: 409 conflict, and the vault is still readable."""
    admin = auth(make_key(Scope.ADMIN))

    def deliver(key: str) -> Any:
        return client.post("/v1/vault/deliveries", json={"amount": MAX_AMOUNT_MINOR},
                           headers={**admin, "Idempotency-Key": key})

    assert deliver("d-1").status_code == 200
    body = problem(deliver("d-2"), 409, "conflict")
    assert body["account"] == "cash:vault"
    opening = {"code": "DEP-1", "customer_ref": "CUST-1", "opening_balance": 1}  # paid in: into the vault too
    problem(client.post("/v1/accounts", json=opening, headers={**admin, "Idempotency-Key": "a-1"}), 409, "conflict")
    vault = client.get("/v1/vault", headers=admin)
    assert vault.status_code == 200 and vault.json()["cash"]["amount"] == MAX_AMOUNT_MINOR
