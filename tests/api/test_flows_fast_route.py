"""The lane routes' fast binding (api.routing.bound_fast): the common payment (P2P, at a merchant's POS) is bound
without FastAPI's dependency machinery, and every other request is FastAPI's to bind and answer, as before."""

from __future__ import annotations

import json
from typing import Any

import fastapi.routing
import httpx
import pytest
from flow_network import BankNetwork
from merchant_support import onboard_shop, sign_payment
from money_flows_support import completed, fund_wallet, open_customer
from test_flows_transfers import signed_transfer

from wallet_sdk.client import merchants as merchant_requests
from wallet_sdk.client import transfers as transfer_requests


@pytest.fixture
def bindings(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths of the requests FastAPI solved dependencies for, while the test runs."""
    solved: list[str] = []
    original = fastapi.routing.solve_dependencies

    async def solve(*args: Any, **kwargs: Any) -> Any:
        solved.append(kwargs["request"].url.path)
        return await original(*args, **kwargs)

    monkeypatch.setattr(fastapi.routing, "solve_dependencies", solve)
    return solved


def test_the_common_payment_skips_fastapis_dependencies_and_the_rest_take_them(
        bank_network: BankNetwork, bindings: list[str]) -> None:
    a, b = bank_network.a, bank_network.b
    payer = open_customer(a, self_custody=True, deposit=5_000)
    fund_wallet(payer, 5_000)
    payee = open_customer(b, deposit=None)
    bank_network.wait_idle()
    app = payer.app()
    bindings.clear()

    op = app.transfer(payer.wallet, payee.wallet, 1_000, authorization=signed_transfer(payer, payee.wallet, 1_000))
    assert op.status == "pending" and "/v1/transfers" not in bindings  # bound by the fast route
    teller = a.client("teller")  # names its desk (X-Teller-Branch, X-Teller-Operator): FastAPI binds them
    by_teller = teller.transfer(payer.wallet, payee.wallet, 500,
                                authorization=signed_transfer(payer, payee.wallet, 500))
    assert bindings.count("/v1/transfers") == 1
    assert [completed(app, o).status for o in (op, by_teller)] == ["completed", "completed"]

    # requests the fast route declines are answered by FastAPI's route, problems included
    prepared = app.prepare(transfer_requests.transfer(payer.wallet, payee.wallet, 100,
                                                      authorization=signed_transfer(payer, payee.wallet, 100)))
    url = a.url + prepared.path
    too_long = httpx.post(url, headers={**prepared.headers, "Idempotency-Key": "k" * 300}, content=prepared.body)
    assert too_long.status_code == 422, too_long.text
    assert too_long.headers["content-type"].startswith("application/problem+json")
    assert "Idempotency-Key" in too_long.text
    not_json = httpx.post(url, headers={**prepared.headers, "Content-Type": "text/plain"}, content=prepared.body)
    assert not_json.status_code == 422, not_json.text
    assert prepared.body is not None
    bad_amount = httpx.post(url, headers=prepared.headers,
                            content=json.dumps({**json.loads(prepared.body), "amount": "x"}))
    assert bad_amount.status_code == 422 and "amount" in bad_amount.text, bad_amount.text
    assert bindings.count("/v1/transfers") == 4
    assert app.get_balance(payer.wallet).spendable.amount == 5_000 - 1_500  # none of the refused ones moved money


def test_a_pos_payment_skips_fastapis_dependencies_and_a_bad_merchant_id_is_fastapis_422(
        bank_network: BankNetwork, bindings: list[str]) -> None:
    a = bank_network.a
    shop = onboard_shop(a)
    payer = open_customer(a, self_custody=True, deposit=5_000)
    fund_wallet(payer, 5_000)
    bank_network.wait_idle()
    bindings.clear()
    path = f"/v1/merchants/{shop.merchant_id}/pos-payments"
    op = shop.client.submit_pos_payment(shop.merchant_id, sign_payment(payer, shop, "FAST-1", 700), amount=700)
    assert op.status == "pending" and path not in bindings
    assert completed(shop.client, op).status == "completed"
    prepared = shop.client.prepare(merchant_requests.submit_pos_payment(
        shop.merchant_id, sign_payment(payer, shop, "FAST-2", 300), amount=300))
    bad = httpx.post(a.url + prepared.path.replace(shop.merchant_id, "not%20an%20id"), headers=prepared.headers,
                     content=prepared.body)
    assert bad.status_code == 422 and "merchant_id" in bad.text, bad.text
    assert [p for p in bindings if p.endswith("/pos-payments")] == ["/v1/merchants/not an id/pos-payments"]
    assert payer.app().get_balance(payer.wallet).spendable.amount == 5_000 - 700
