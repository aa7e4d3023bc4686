"""``/v1/accounts``: customer deposit accounts of the node's built-in ledger (a wallet's top-ups and redemptions
are under ``/v1/wallets``: :mod:`api.routes.wallets`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from api import customers
from api.auth import Admin, require_scope
from api.common import check_currency
from api.deps import ReadSessionDep, SessionDep, SettingsDep
from api.idempotency import IdempotencyDep
from api.problems import ProblemKind
from api.routing import route
from api.schemas.funding import ACCOUNT_CODE, AccountOpenIn, AccountOut, account_out
from node.api_keys import Principal, Scope
from node.funding import service as funding

router = APIRouter(prefix="/v1/accounts", tags=["funding"])

AccountReader = Annotated[Principal, require_scope(Scope.TELLER, Scope.APP, Scope.ADMIN)]
AccountCode = Annotated[str, Path(pattern=ACCOUNT_CODE, description="the account number", examples=["DEP-0001"])]


@route(router, "POST", "", "Open a customer deposit account (built-in ledger)", ProblemKind.UNAUTHORIZED,
       ProblemKind.FORBIDDEN, ProblemKind.CONFLICT, ProblemKind.IDEMPOTENCY_KEY_REUSED, status_code=201,
       response_model=AccountOut)
def open_account(body: AccountOpenIn, _key: Admin, idem: IdempotencyDep, session: SessionDep,
                 settings: SettingsDep) -> AccountOut:
    """Open a customer's deposit account in the node's built-in ledger, with the cash the customer paid in at
    the branch as its opening balance (booked debit `cash:vault`, credit the account). For local networks and
    tests: a node on a core-banking system (`ledger_adapter` other than `builtin`) answers 409, since its
    accounts live there."""
    check_currency(body.currency, settings)
    account = funding.open_deposit_account(session, settings, code=body.code, customer_ref=body.customer_ref,
                                           opening_balance_minor=body.opening_balance, name=body.name)
    out = account_out(account)
    idem.complete(session, out, status=201)
    return out


@route(router, "GET", "/{code}", "A customer deposit account's balance", ProblemKind.UNAUTHORIZED,
       ProblemKind.FORBIDDEN, ProblemKind.CUSTOMER_SESSION_REQUIRED, ProblemKind.NOT_FOUND, response_model=AccountOut)
def get_account(code: AccountCode, key: AccountReader, session: ReadSessionDep, settings: SettingsDep) -> AccountOut:
    """Booked and available balance (available = booked less holds, such as top-ups in flight). A customer
    session sees its own customer's accounts only."""
    account = funding.deposit_account(session, settings, code)
    customers.own_account(settings, key, account)
    return account_out(account)
