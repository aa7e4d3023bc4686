"""Payments admitted from the bank's own view of the chain (issue 20): no JSON-RPC call before the answer, no
overspend under concurrency, and the chain as the final arbiter when the wallet moved money on chain itself."""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import pytest
from atm_support import new_atm, new_customer
from flow_network import BankNetwork
from merchant_support import onboard_shop, sign_request
from money_flows_support import chain_now, completed, fresh, fund_wallet, open_customer
from test_flows_transfers import signed_transfer
from web3.providers.rpc import HTTPProvider
from web3.types import RPCEndpoint, RPCResponse

from node.transfers import service as transfer_service
from node.writer import WriterStep
from wallet_sdk.authorizations import Redemption
from wallet_sdk.exceptions import (
    ApiProblemError,
    AuthorizationInvalidError,
    InsufficientBalanceError,
    OrderAlreadyPaidError,
)
from wallet_sdk.payload import encode_payload


@contextmanager
def rpc_calls_by_requests(net: BankNetwork) -> Iterator[Counter[str]]:
    """Count the JSON-RPC calls made outside the banks' node threads (their writers, indexers and jobs), i.e. by
    the APIs while they serve requests, by method and thread. Every call of the SDK and of web3 goes through the
    HTTP provider's ``make_request`` (:func:`wallet_sdk.chain.rpc.raw_request` too)."""
    calls: Counter[str] = Counter()
    node_threads = tuple(bank.code.lower() + "-" for bank in (net.a, net.b))
    original = HTTPProvider.make_request

    def make_request(self: HTTPProvider, method: RPCEndpoint, params: Any) -> RPCResponse:
        thread = threading.current_thread().name
        if not thread.startswith(node_threads):
            calls[f"{method} in {thread}"] += 1
        return original(self, method, params)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(HTTPProvider, "make_request", make_request)
        yield calls


def test_a_payment_is_admitted_without_asking_the_chain(bank_network: BankNetwork) -> None:
    a, b = bank_network.a, bank_network.b
    payer = open_customer(a, self_custody=True, deposit=10_000)
    payee = open_customer(b, deposit=None)
    fund_wallet(payer, 10_000)
    bank_network.wait_idle()  # the indexer has the payer's top-up and the payee's wallet
    app = payer.app()
    signed = signed_transfer(payer, payee.wallet, 2_500)
    with rpc_calls_by_requests(bank_network) as calls:
        op = app.transfer(payer.wallet, payee.wallet, 2_500, authorization=signed)
    assert op.status == "pending"
    assert calls == {}, f"the request asked the chain: {dict(calls)}"
    completed(app, op)


def test_redemptions_cash_outs_and_merchant_payments_are_admitted_without_asking_the_chain(
        bank_network: BankNetwork) -> None:
    """A redemption (bank-signed and customer-signed), an ATM cash-out and a payment of the bank's own merchant's
    request (bank-signed and customer-signed) are answered from the bank's view, and each then completes."""
    a = bank_network.a
    custodial = open_customer(a, deposit=10_000)
    fund_wallet(custodial, 10_000)
    own = open_customer(a, self_custody=True, deposit=10_000)
    fund_wallet(own, 10_000)
    shop = onboard_shop(a)
    first = shop.client.create_payment_request(shop.merchant_id, fresh("ORD"), 1_500)
    second = shop.client.create_payment_request(shop.merchant_id, fresh("ORD"), 1_200)
    admin = a.client("admin")
    atm = new_atm(a, admin, stock=50_000)
    holder = new_customer(a)
    cash_in = atm.client.report_cash_in(fresh("EV"), holder.wallet, {20_000: 1})
    assert atm.client.wait_for_status(cash_in.id, ()).status == "completed"
    bank_network.wait_idle()  # the indexer has the wallets, their money, the merchant and its request signer
    teller, app = a.client("teller"), own.app()
    redemption = own.sign(Redemption(holder=own.wallet, value=3_000, valid_before=chain_now(a) + 600))
    code = holder.code(2_000)
    paid_by_customer = encode_payload(sign_request(own, second.payload))

    with rpc_calls_by_requests(bank_network) as calls:
        redeemed = [teller.redeem(custodial.wallet, 4_000), app.redeem(own.wallet, 3_000, authorization=redemption)]
        cash_out = atm.client.submit_withdrawal(fresh("EV"), code.text)
        paid = [custodial.app().pay_merchant(custodial.wallet, first.payload),
                app.pay_merchant(own.wallet, paid_by_customer)]
    assert calls == {}, f"the requests asked the chain: {dict(calls)}"

    assert [completed(teller, op).status for op in redeemed + paid] == ["completed"] * 4
    atm.client.wait_until_held(cash_out.id)
    atm.client.confirm_dispense(cash_out.id, fresh("EV"))
    assert atm.client.wait_for_status(cash_out.id, ()).status == "completed"
    assert teller.get_balance(custodial.wallet).spendable.amount == 10_000 - 4_000 - 1_500
    assert teller.get_balance(own.wallet).spendable.amount == 10_000 - 3_000 - 1_200
    assert teller.get_balance(holder.wallet).spendable.amount == 20_000 - 2_000
    with pytest.raises(AuthorizationInvalidError):  # its nonce is known to be used without asking the chain
        app.redeem(own.wallet, 3_000, authorization=redemption)
    with pytest.raises(AuthorizationInvalidError):  # so is the withdrawal code's hold
        atm.client.submit_withdrawal(fresh("EV"), code.text)


def test_a_payment_of_another_banks_merchant_is_admitted_from_the_network_directory(
        bank_network: BankNetwork) -> None:
    """The payer's bank finds the other bank's merchant, its request signer and its paid orders in its own index:
    a payment, and a second payment of the paid order (refused), make no JSON-RPC call."""
    a, b = bank_network.a, bank_network.b
    shop = onboard_shop(b)
    payer = open_customer(a, deposit=5_000)
    fund_wallet(payer, 5_000)
    request = shop.client.create_payment_request(shop.merchant_id, fresh("ORD"), 1_000)
    bank_network.wait_idle()  # bank A has indexed bank B's merchant and request signer
    app = payer.app()
    with rpc_calls_by_requests(bank_network) as calls:
        op = app.pay_merchant(payer.wallet, request.payload)
    assert calls == {}, f"the request asked the chain: {dict(calls)}"
    assert completed(app, op).counterparty == shop.wallet
    bank_network.wait_idle()
    with rpc_calls_by_requests(bank_network) as calls, pytest.raises(OrderAlreadyPaidError):
        app.pay_merchant(payer.wallet, request.payload)  # paid, as bank A's directory shows
    assert calls == {}, f"the request asked the chain: {dict(calls)}"
    assert app.get_balance(payer.wallet).spendable.amount == 4_000


def test_bank_signed_transfers_ask_no_chain_and_a_new_process_signs_in_a_word_of_its_own(
        bank_network: BankNetwork, monkeypatch: pytest.MonkeyPatch) -> None:
    """A custodial payer's transfers take relay nonces without asking the chain which are used: bits of one word
    in turn, and a new word in a new process (one restored from an older backup does not know every nonce it
    used, so it must not continue an old word)."""
    a, b = bank_network.a, bank_network.b
    payer = open_customer(a, deposit=5_000)
    fund_wallet(payer, 5_000)
    payee = open_customer(b, deposit=None)
    bank_network.wait_idle()
    teller = a.client("teller")
    with rpc_calls_by_requests(bank_network) as calls:
        ops = [teller.transfer(payer.wallet, payee.wallet, 100) for _ in range(2)]
    assert calls == {}, f"the requests asked the chain: {dict(calls)}"
    monkeypatch.setattr(transfer_service, "_CUSTODIAL_WORDS", OrderedDict())  # as in a new node process
    ops.append(teller.transfer(payer.wallet, payee.wallet, 100))
    nonces = [int(op.details["nonce"]) for op in ops]
    assert nonces[1] == nonces[0] + 1 and nonces[2] >> 8 > nonces[1] >> 8, nonces
    assert [completed(teller, op).status for op in ops] == ["completed"] * 3
    assert teller.get_balance(payer.wallet).spendable.amount == 4_700


def test_two_hundred_concurrent_payments_from_a_wallet_that_covers_one_hundred(bank_network: BankNetwork) -> None:
    a, b = bank_network.a, bank_network.b
    payer = open_customer(a, self_custody=True, deposit=1_000)
    payee = open_customer(b, deposit=None)
    fund_wallet(payer, 1_000)
    bank_network.wait_idle()
    app = payer.app()
    word = 0x5EED
    payments = [signed_transfer(payer, payee.wallet, 10, word=word + i // 256, bit=i % 256) for i in range(200)]

    def pay(signed: object) -> str:
        try:
            app.transfer(payer.wallet, payee.wallet, 10, authorization=signed)  # type: ignore[arg-type]
        except InsufficientBalanceError:
            return "insufficient"
        except ApiProblemError as exc:
            return f"{exc.status} {exc.problem.get('type')}"
        return "accepted"

    with ThreadPoolExecutor(16) as pool:
        outcomes = Counter(pool.map(pay, payments))
    assert outcomes == {"accepted": 100, "insufficient": 100}
    bank_network.wait_idle()
    assert app.get_balance(payer.wallet).spendable.amount == 0
    assert payee.app().get_balance(payee.wallet).spendable.amount == 1_000


def test_a_wallet_that_spends_on_chain_itself_fails_the_relayed_payment_and_the_view_converges(
        bank_network: BankNetwork, monkeypatch: pytest.MonkeyPatch) -> None:
    """A self-custody wallet's payment is admitted from the bank's view; before the bank's writer sends it, the
    customer's other signed transfer spends most of the money on chain (relayed by another bank). The chain
    refuses the first bank's relay item: its operation fails with the chain's reason, nothing moves twice, and
    the bank's view shows the wallet as the chain does once it has indexed the block."""
    a, b = bank_network.a, bank_network.b
    payer = open_customer(a, self_custody=True, deposit=1_000)
    payee = open_customer(b, deposit=None)
    fund_wallet(payer, 1_000)
    bank_network.wait_idle()
    elsewhere = signed_transfer(payer, payee.wallet, 700)
    spent: list[str] = []

    def spend_on_chain_first(point: WriterStep) -> None:  # A signed and stored its relay, not broadcast yet
        if point is WriterStep.SIGNED_COMMITTED and not spent:
            result = b.network.bank_operator(b.operator).relay_transfers([elsewhere])
            assert result.succeeded == 1
            spent.append(result.tx_hash)

    monkeypatch.setattr(a.runner.writer, "_checkpoint", spend_on_chain_first)
    app = payer.app()
    op = app.transfer(payer.wallet, payee.wallet, 600, authorization=signed_transfer(payer, payee.wallet, 600))
    assert op.status == "pending"  # admitted: the bank's view still showed 1,000
    final = app.wait_for_operation(op.id)
    assert spent and final.status == "failed"
    assert final.details is not None and final.details.get("reason") == "ERC20InsufficientBalance", final
    bank_network.wait_idle()
    assert app.get_balance(payer.wallet).spendable.amount == 300  # only the on-chain spend moved money
    with pytest.raises(InsufficientBalanceError):  # the view caught up: 301 is more than the wallet has
        app.transfer(payer.wallet, payee.wallet, 301, authorization=signed_transfer(payer, payee.wallet, 301))
    completed(app, app.transfer(payer.wallet, payee.wallet, 300,
                                authorization=signed_transfer(payer, payee.wallet, 300)))
