"""``/v1/transfers`` (P2P payments relayed by the payer's bank) and a wallet's ``history`` and ``balance``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from api import customers
from api.attribution import DeskDep
from api.auth import require_scope
from api.deps import NetworkDep, ReadSessionDep, SessionDep, SettingsDep
from api.funding.endpoints import check_currency
from api.idempotency import IdempotencyDep
from api.keys import Principal, Scope
from api.operations.schemas import OperationOut, operation_out
from api.pagination import Page, PageParamsDep, paginate
from api.problems import ProblemKind, problem_responses
from api.second_factor import SECOND_FACTOR_PROBLEMS, TotpCode
from api.transfers.schemas import (
    HistoryItemOut,
    TransferIn,
    WalletBalanceOut,
    balance_out,
    history_item_out,
)
from api.wallets.endpoints import AddressPath
from node.indexer.models import WalletHistory
from node.transfers import service as transfers
from node.wallets import history

router = APIRouter(tags=["transfers"])

Payer = Annotated[Principal, require_scope(Scope.APP, Scope.TELLER)]
WalletReader = Annotated[Principal, require_scope(Scope.TELLER, Scope.APP, Scope.ADMIN, Scope.REGULATOR)]


@router.post(
    "/v1/transfers",
    operation_id="transfer",
    summary="Pay another wallet (P2P, relayed by the payer's bank)",
    status_code=202,
    response_model=OperationOut,
    responses=problem_responses(
        ProblemKind.UNAUTHORIZED, ProblemKind.FORBIDDEN, ProblemKind.CUSTOMER_SESSION_REQUIRED, ProblemKind.NOT_FOUND,
        ProblemKind.WALLET_NOT_CUSTODIED_HERE,
        ProblemKind.WALLET_FROZEN, ProblemKind.WALLET_NOT_ACTIVE, ProblemKind.AUTHORIZATION_INVALID,
        ProblemKind.INSUFFICIENT_BALANCE, ProblemKind.LIMIT_EXCEEDED, *SECOND_FACTOR_PROBLEMS,
        ProblemKind.IDEMPOTENCY_KEY_REUSED, ProblemKind.CHAIN_UNAVAILABLE),
)
def transfer(body: TransferIn, key: Payer, desk: DeskDep, idem: IdempotencyDep, session: SessionDep,
             settings: SettingsDep, network: NetworkDep, totp: TotpCode = None) -> OperationOut:
    """Relay the payer's signed RelayedTransfer (`authorization` as fields, or `payload` as its QR text) to
    the payee, who may be at any bank; for a custodial payer the bank signs. This bank must keep the payer's
    wallet. The signature, chain, token, deadline and nonce are checked first (`authorization-invalid`), then
    the payer's spendable balance and tier limits (`insufficient-balance`, `limit-exceeded`). The answer is
    the `p2p` operation, `pending`; the transfer goes on chain in the bank's next relay batch, and the
    operation becomes `completed`, or `failed` with the contract's reason (`details.reason`, e.g.
    `BalanceCapExceeded` when the payee's tier cannot take the money). A customer session pays from its own
    customer's wallets only; a teller names its desk (`X-Teller-Branch`, `X-Teller-Operator`)."""
    check_currency(body.currency, settings)
    channel = customers.money_move(session, settings, key, desk, body.payer)
    signed = None
    if body.authorization is not None:
        a = body.authorization
        signed = transfers.signed_transfer(network, from_=a.from_, to=a.to, value=a.value,
                                           valid_before=a.valid_before, nonce=int(a.nonce), v=a.v,
                                           r=bytes.fromhex(a.r[2:]), s=bytes.fromhex(a.s[2:]))
    elif body.payload is not None:
        signed = transfers.decode_transfer(network, body.payload)
    op = transfers.transfer(session, settings, network, payer=body.payer, payee=body.payee, amount_minor=body.amount,
                            signed=signed, channel=channel, api_key_id=key.id, totp_code=totp)
    out = operation_out(op)
    idem.complete(session, out, status=202)
    return out


@router.get(
    "/v1/wallets/{address}/history",
    operation_id="get_history",
    summary="A wallet's history",
    response_model=Page[HistoryItemOut],
    responses=problem_responses(ProblemKind.UNAUTHORIZED, ProblemKind.FORBIDDEN, ProblemKind.CUSTOMER_SESSION_REQUIRED,
                                ProblemKind.NOT_FOUND, ProblemKind.WALLET_NOT_CUSTODIED_HERE),
)
def get_history(address: AddressPath, key: WalletReader, session: ReadSessionDep, settings: SettingsDep,
                page: PageParamsDep) -> Page[HistoryItemOut]:
    """The wallet's transactions as the bank's indexer saw them on chain, oldest first (cursor-paginated):
    transfers in and out (with the counterparty), mints and burns (with their ref), and ATM holds. Each event
    appears once. Among them, in the order the bank wrote them, the bank's notices to the customer about the
    wallet's second factor (``totp_enrolled``, ``totp_changed``, ``totp_reset``, ``totp_locked``; with a
    ``note``, no block or transaction, no effect on the balance). The bank shows its own customers' wallets (a
    customer session: its customer's); the regulator any wallet."""
    customers.own_wallet(session, settings, key, address)
    wallet = history.readable_history(session, settings, address, any_bank=Scope.REGULATOR in key.scope_set)
    rows, next_cursor = paginate(session, history.history_query(wallet), WalletHistory.id, page)
    return Page[HistoryItemOut](items=[history_item_out(r) for r in rows], next_cursor=next_cursor)


@router.get(
    "/v1/wallets/{address}/balance",
    operation_id="get_balance",
    summary="A wallet's balance, limits and what is left of today's limit",
    response_model=WalletBalanceOut,
    responses=problem_responses(ProblemKind.UNAUTHORIZED, ProblemKind.FORBIDDEN, ProblemKind.CUSTOMER_SESSION_REQUIRED,
                                ProblemKind.NOT_FOUND, ProblemKind.WALLET_NOT_CUSTODIED_HERE,
                                ProblemKind.CHAIN_UNAVAILABLE),
)
def get_balance(address: AddressPath, key: WalletReader, session: ReadSessionDep, settings: SettingsDep,
                network: NetworkDep) -> WalletBalanceOut:
    """Spendable and held balance, the tier's limits (balance cap, single payment, daily outflow) and what the
    daily limit still allows today, read from the chain at one block. The bank shows its own customers'
    wallets (a customer session: its customer's); the regulator any wallet."""
    customers.own_wallet(session, settings, key, address)
    balance = history.wallet_balance(network, settings, address, any_bank=Scope.REGULATOR in key.scope_set)
    return balance_out(balance, settings.currency)
