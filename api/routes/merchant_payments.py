"""``/v1/merchant-payments``: the payer's bank relaying a payment of a merchant's request, whichever bank acquires
the merchant (the flow is :func:`node.merchants.service.pay_request`; the merchant's own routes are under
``/v1/merchants``: :mod:`api.routes.merchants`)."""

from __future__ import annotations

from fastapi import APIRouter

from api import customers
from api.attribution import DeskDep
from api.auth import Payer
from api.common import (
    PAYING_WALLET_PROBLEMS,
    PAYMENT_REQUEST_PROBLEMS,
    SECOND_FACTOR_PROBLEMS,
    SPENDING_PROBLEMS,
    TotpCode,
)
from api.deps import NetworkDep, SessionDep, SettingsDep
from api.idempotency import IdempotencyDep
from api.problems import ProblemKind
from api.routing import accepted, operation_route
from api.schemas.merchants import MerchantPaymentIn
from api.schemas.operations import OperationOut
from node.merchants import service as flows

router = APIRouter(prefix="/v1/merchant-payments", tags=["merchants"])


@operation_route(router, "", "Pay a merchant's payment request (relayed by the payer's bank)", ProblemKind.UNAUTHORIZED,
                 ProblemKind.FORBIDDEN, ProblemKind.NOT_FOUND, *SPENDING_PROBLEMS, *PAYMENT_REQUEST_PROBLEMS,
                 ProblemKind.IDEMPOTENCY_KEY_REUSED, ProblemKind.CHAIN_UNAVAILABLE, *PAYING_WALLET_PROBLEMS,
                 *SECOND_FACTOR_PROBLEMS, ProblemKind.CUSTOMER_SESSION_REQUIRED)
def pay_merchant(body: MerchantPaymentIn, key: Payer, desk: DeskDep, idem: IdempotencyDep, session: SessionDep,
                 settings: SettingsDep, network: NetworkDep, totp: TotpCode = None) -> OperationOut:
    """The payer's app scanned a merchant's QR and signed the payment (`payload`: `WALLETNET:1:PAY:...`, carrying
    the request's signature by the merchant's bank); for a custodial payer it may send the request itself
    (`WALLETNET:1:REQUEST:...`) and the bank signs. This bank must keep the payer's wallet. Refused at once: a
    request not signed by the merchant's bank for exactly this amount and order (an edited amount, an order it
    never requested: `authorization-invalid`; checked on chain, and the settlement contract refuses it too), an
    expired request (`payment-request-expired`), an order paid or being paid (`order-already-paid`), a
    merchant not active, the payer's balance or limits. The answer is the `merchant_payment` operation; it
    completes once the payment is on chain. A customer session pays from its own customer's wallets only; a
    teller names its desk (`X-Teller-Branch`, `X-Teller-Operator`)."""
    channel = customers.money_move(session, settings, key, desk, body.payer)
    op = flows.pay_request(session, settings, network, payer=body.payer, payload=body.payload, channel=channel,
                           api_key_id=key.id, totp_code=totp)
    return accepted(idem, session, op)
