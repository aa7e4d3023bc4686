"""``/v1/transfers``: P2P payments relayed by the payer's bank (the flow is :mod:`node.transfers.service`; a
wallet's history and balance are under ``/v1/wallets``: :mod:`api.routes.wallets`)."""

from __future__ import annotations

from fastapi import APIRouter

from api import customers
from api.attribution import DeskDep
from api.auth import Payer
from api.common import PAYING_WALLET_PROBLEMS, SECOND_FACTOR_PROBLEMS, SPENDING_PROBLEMS, TotpCode, check_currency
from api.deps import NetworkDep, SessionDep, SettingsDep
from api.idempotency import IdempotencyDep
from api.problems import ProblemKind
from api.routing import accepted, operation_route
from api.schemas.operations import OperationOut
from api.schemas.transfers import TransferIn
from node.transfers import service as transfers

router = APIRouter(prefix="/v1/transfers", tags=["transfers"])


@operation_route(router, "", "Pay another wallet (P2P, relayed by the payer's bank)", ProblemKind.UNAUTHORIZED,
                 ProblemKind.FORBIDDEN, ProblemKind.CUSTOMER_SESSION_REQUIRED, ProblemKind.NOT_FOUND,
                 *PAYING_WALLET_PROBLEMS, *SPENDING_PROBLEMS, *SECOND_FACTOR_PROBLEMS,
                 ProblemKind.IDEMPOTENCY_KEY_REUSED, ProblemKind.CHAIN_UNAVAILABLE)
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
    return accepted(idem, session, op)
