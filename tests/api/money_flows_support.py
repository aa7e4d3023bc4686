"""Helpers of the money-flow tests (funding, transfers, history) on the two-bank network: fresh customers,
deposit accounts and wallets, TOTP codes, and looks into a bank's database for what must NOT have been written."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pyotp
import pytest
from flow_network import BankNetwork, BankNode
from sqlalchemy import func, select

from node.db import session_factory, transaction
from node.ledger.models import LedgerHold
from node.operations.models import Operation
from node.outbox import OutboxRow
from wallet_sdk.authorizations import Domain
from wallet_sdk.client import Client
from wallet_sdk.client import Operation as OperationDoc
from wallet_sdk.client.wallets import EnrolmentRow
from wallet_sdk.keys import WalletKey


def fresh(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(6)}"


@dataclass(frozen=True)
class Customer:
    """A customer of ``bank`` with a wallet (and, if asked, a bound deposit account)."""

    bank: BankNode
    ref: str
    wallet: str
    account: str | None
    key: WalletKey | None  # self-custody only: the key the customer's app holds

    def sign(self, authorization: Any) -> Any:
        assert self.key is not None, "a custodial wallet's key is the bank's"
        return authorization.sign(self.key, domain(self.bank))

    def app(self) -> Client:
        """The customer's app: a client acting with a customer session of this customer (api/customers.py)."""
        return self.bank.app(self.ref)


def domain(bank: BankNode) -> Domain:
    return bank.network.domain()


def chain_now(bank: BankNode) -> int:
    return bank.network.now()


def open_customer(bank: BankNode, *, tier: int = 1, self_custody: bool = False, deposit: int | None = 0,
                  account_via_api: Client | None = None) -> Customer:
    """A new customer: a deposit account holding ``deposit`` (None: no account) and a wallet of ``tier`` bound to
    it, enrolled through the API (``POST /v1/wallets/enrolments``) and active on chain."""
    ref = fresh("CUST")
    account = None
    if deposit is not None:
        account = fresh("DEP")
        if account_via_api is not None:
            account_via_api.open_account(account, ref, opening_balance=deposit)
        else:
            bank.fund_account(account, deposit, customer_ref=ref)
    key = WalletKey.create() if self_custody else None
    row = EnrolmentRow(customer_ref=ref, verification="in_person", tier=tier,
                       custody="self" if self_custody else "custodial",
                       address=str(key.address) if key else None, account=account)
    teller = bank.client("teller")
    (result,) = teller.enrol_wallets([row]).results
    assert result.ok and result.wallet and result.operation_id, result
    done = teller.wait_for_operation(result.operation_id)
    assert done.status == "completed", done
    return Customer(bank, ref, result.wallet, account, key)


def refused(kind: str, error: type[Exception], attempt: Callable[[], object]) -> Any:
    """Run ``attempt``; it must raise ``error`` whose problem type ends with ``/kind``. The error, for more checks."""
    with pytest.raises(error) as caught:
        attempt()
    problem = getattr(caught.value, "problem", None)
    assert problem is not None and str(problem["type"]).endswith(f"/{kind}"), problem
    return caught.value


def completed(client: Client, op: OperationDoc) -> OperationDoc:
    final = client.wait_for_operation(op.id)
    assert final.status == "completed", final
    return final


def fund_wallet(customer: Customer, amount: int) -> None:
    """Top the wallet up by ``amount`` from its account (which must hold it) and wait until it is done."""
    client = customer.bank.client("teller")
    completed(client, client.top_up(customer.wallet, amount))


def totp_code(secret: str, *, ahead: int = 0) -> str:
    """The code of ``secret`` for now (``ahead`` steps later: a fresh code when one was used this step)."""
    return pyotp.TOTP(secret).at(time.time() + 30 * ahead)


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not seen within {timeout:g}s: {what}"
        time.sleep(0.05)


def freeze_by_regulator(net: BankNetwork, wallet: str, reason: int = 7) -> None:
    """The regulator freezes ``wallet`` on chain (its own key: no bank's writer is involved)."""
    net.a.network.regulator(net.regulator).freeze(wallet, reason)


def count_rows(bank: BankNode, model: Any, *where: Any) -> int:
    with transaction(session_factory(bank.engine, read_only=True)) as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def operations_of(bank: BankNode, wallet: str) -> int:
    return count_rows(bank, Operation, Operation.wallet == wallet)


def outbox_rows_naming(bank: BankNode, wallet: str) -> int:
    """Outbox rows whose payload mentions ``wallet`` (mints, burns, relays)."""
    with transaction(session_factory(bank.engine, read_only=True)) as session:
        return sum(1 for row in session.scalars(select(OutboxRow)) if wallet in str(row.payload))


def holds_on(bank: BankNode, account: str) -> int:
    from node.ledger.models import LedgerAccount

    return count_rows(bank, LedgerHold, LedgerHold.account_id.in_(
        select(LedgerAccount.id).where(LedgerAccount.code == account)))


class CoreBankingStub:
    """Stands for a bank's core-banking adapter (``ledger_adapter = "money_flows_support:CoreBankingStub"``): only
    the CoreBankingLedger protocol's methods, over the built-in tables, and not a SqlLedger, so the node treats it
    as an external system (it does not open customer accounts in it)."""

    _METHODS = frozenset({"account_info", "open_account", "debit", "credit", "transfer", "hold", "release",
                          "capture", "reverse", "balance", "available"})

    def __init__(self, session: Any) -> None:
        from node.ledger import SqlLedger

        self._ledger = SqlLedger(session)

    def __getattr__(self, name: str) -> Any:
        if name in self._METHODS:
            return getattr(self._ledger, name)
        raise AttributeError(name)
