"""``/v1/accounts`` (customer deposit accounts of the built-in ledger) and a wallet's ``topups`` and
``redemptions``: money between the bank's books and the chain."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from api import customers
from api.attribution import DeskDep
from api.auth import require_scope
from api.deps import NetworkDep, ReadSessionDep, SessionDep, SettingsDep
from api.funding.schemas import (
    ACCOUNT_CODE,
    AccountOpenIn,
    AccountOut,
    RedemptionIn,
    TopUpIn,
    account_out,
)
from api.idempotency import IdempotencyDep
from api.keys import Principal, Scope
from api.operations.schemas import OperationOut, operation_out
from api.problems import FieldError, ProblemKind, ValidationProblemError, problem_responses
from api.second_factor import SECOND_FACTOR_PROBLEMS, TotpCode
from api.wallets.endpoints import AddressPath
from node.funding import service as funding
from node.settings import NodeSettings

router = APIRouter(tags=["funding"])

Admin = Annotated[Principal, require_scope(Scope.ADMIN)]
AccountReader = Annotated[Principal, require_scope(Scope.TELLER, Scope.APP, Scope.ADMIN)]
CustomerChannel = Annotated[Principal, require_scope(Scope.APP, Scope.TELLER)]
AccountCode = Annotated[str, Path(pattern=ACCOUNT_CODE, description="the account number", examples=["DEP-0001"])]

_WALLET_PROBLEMS = (ProblemKind.UNAUTHORIZED, ProblemKind.FORBIDDEN, ProblemKind.CUSTOMER_SESSION_REQUIRED,
                    ProblemKind.NOT_FOUND, ProblemKind.WALLET_NOT_CUSTODIED_HERE, ProblemKind.WALLET_FROZEN,
                    ProblemKind.WALLET_NOT_ACTIVE, ProblemKind.ACCOUNT_NOT_BOUND, *SECOND_FACTOR_PROBLEMS,
                    ProblemKind.IDEMPOTENCY_KEY_REUSED,
                    ProblemKind.CHAIN_UNAVAILABLE)


def check_currency(currency: str | None, settings: NodeSettings) -> None:
    """A request may name the currency; it must be the node's (amounts are minor units of it)."""
    if currency is not None and currency != settings.currency:
        raise ValidationProblemError(f"this node moves {settings.currency} only", errors=[
            FieldError(loc=["body", "currency"], msg=f"expected {settings.currency}", type="currency")])


@router.post(
    "/v1/accounts",
    operation_id="open_account",
    summary="Open a customer deposit account (built-in ledger)",
    status_code=201,
    response_model=AccountOut,
    responses=problem_responses(ProblemKind.UNAUTHORIZED, ProblemKind.FORBIDDEN, ProblemKind.CONFLICT,
                                ProblemKind.IDEMPOTENCY_KEY_REUSED),
)
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


@router.get(
    "/v1/accounts/{code}",
    operation_id="get_account",
    summary="A customer deposit account's balance",
    response_model=AccountOut,
    responses=problem_responses(ProblemKind.UNAUTHORIZED, ProblemKind.FORBIDDEN, ProblemKind.CUSTOMER_SESSION_REQUIRED,
                                ProblemKind.NOT_FOUND),
)
def get_account(code: AccountCode, key: AccountReader, session: ReadSessionDep, settings: SettingsDep) -> AccountOut:
    """Booked and available balance (available = booked less holds, such as top-ups in flight). A customer
    session sees its own customer's accounts only."""
    account = funding.deposit_account(session, settings, code)
    customers.own_account(settings, key, account)
    return account_out(account)


@router.post(
    "/v1/wallets/{address}/topups",
    operation_id="top_up",
    summary="Top up a wallet from its bound deposit account",
    status_code=202,
    response_model=OperationOut,
    responses=problem_responses(*_WALLET_PROBLEMS, ProblemKind.INSUFFICIENT_FUNDS),
)
def top_up(address: AddressPath, body: TopUpIn, key: CustomerChannel, desk: DeskDep, idem: IdempotencyDep,
           session: SessionDep, settings: SettingsDep, network: NetworkDep, totp: TotpCode = None) -> OperationOut:
    """Hold `amount` on the wallet's bound deposit account and mint it into the wallet. The answer is the
    `topup` operation, `pending`; once the mint is confirmed the hold is captured and the operation is
    `completed`. If the chain refuses the mint (e.g. the tier's balance cap), the hold is released and the
    operation is `failed` with the contract's reason (`details.reason`). Above the bank's second-factor
    threshold the customer's TOTP code goes in `X-TOTP-Code`."""
    check_currency(body.currency, settings)
    channel = customers.money_move(session, settings, key, desk, address)
    op = funding.top_up(session, settings, network, wallet=address, amount_minor=body.amount, channel=channel,
                        api_key_id=key.id, totp_code=totp)
    out = operation_out(op)
    idem.complete(session, out, status=202)
    return out


@router.post(
    "/v1/wallets/{address}/redemptions",
    operation_id="redeem",
    summary="Redeem wallet money to the bound deposit account",
    status_code=202,
    response_model=OperationOut,
    responses=problem_responses(*_WALLET_PROBLEMS, ProblemKind.AUTHORIZATION_INVALID,
                                ProblemKind.INSUFFICIENT_BALANCE, ProblemKind.LIMIT_EXCEEDED),
)
def redeem(address: AddressPath, body: RedemptionIn, key: CustomerChannel, desk: DeskDep, idem: IdempotencyDep,
           session: SessionDep, settings: SettingsDep, network: NetworkDep, totp: TotpCode = None) -> OperationOut:
    """Burn `amount` from the wallet and credit the bound deposit account once the burn is confirmed.

    A self-custody wallet's app sends the customer's signed Redemption (`authorization` as fields, or
    `payload` as its QR text); the bank checks it first (the wallet's signature, this chain and token, not
    expired, value = amount, nonce unused) and answers `authorization-invalid` otherwise. For a custodial
    wallet the bank signs. The wallet's spendable balance and tier limits are checked at once
    (`insufficient-balance`, `limit-exceeded`)."""
    check_currency(body.currency, settings)
    channel = customers.money_move(session, settings, key, desk, address)
    signed = None
    if body.authorization is not None:
        a = body.authorization
        signed = funding.signed_redemption(network, holder=a.holder, value=a.value, valid_before=a.valid_before,
                                           nonce=bytes.fromhex(a.nonce[2:]), v=a.v, r=bytes.fromhex(a.r[2:]),
                                           s=bytes.fromhex(a.s[2:]))
    elif body.payload is not None:
        signed = funding.decode_redemption(network, body.payload)
    op = funding.redeem(session, settings, network, wallet=address, amount_minor=body.amount, signed=signed,
                        channel=channel, api_key_id=key.id, totp_code=totp)
    out = operation_out(op)
    idem.complete(session, out, status=202)
    return out
