"""The typed HTTP client of a bank node's API (httpx), synchronous and asynchronous.

::

    from wallet_sdk.client import Client

    with Client("https://api.bank-a.example", api_key) as bank:
        op = bank.top_up(wallet, 5_000)              # 202: the operation, pending
        op = bank.wait_for_operation(op.id)           # until completed or failed
        print(bank.get_balance(wallet))

Every endpoint is a method of both :class:`Client` and :class:`AsyncClient` (same name, same arguments);
an ATM talks through :class:`AtmClient` / :class:`AsyncAtmClient`, which sign each message with the
device's secret, and a customer's app makes the withdrawal QR code with :func:`withdrawal_code`.
Errors are typed (:mod:`wallet_sdk.exceptions`; :mod:`wallet_sdk.client.problems`): a problem answer raises the
class of its ``type``.
Money-moving calls carry an ``Idempotency-Key`` (pass ``idempotency_key=`` to choose it; retries after a
dropped connection reuse it) and accept ``totp=`` for the second factor.

A customer's app acts with a customer session token, which the bank's login backend mints
(:meth:`Client.mint_customer_session`; :mod:`wallet_sdk.client.sessions`) and the app uses as its key
(``Client(url, token)`` or ``backend.as_customer(token)``). A teller's client names its desk:
``Client(url, teller_key, teller=Teller("BR-12", "T-1001"))``.
"""

from __future__ import annotations

import asyncio
import time

from wallet_sdk.client._core import (
    ApiRequest,
    BaseAsyncClient,
    BaseClient,
    PreparedRequest,
    async_endpoint,
    endpoint,
    model,
)
from wallet_sdk.client.atm import (
    AsyncAtmAdminEndpoints,
    AsyncAtmClient,
    AtmAdminEndpoints,
    AtmClient,
    WithdrawalCode,
    withdrawal_code,
)
from wallet_sdk.client.common import AsyncCommonEndpoints, CommonEndpoints, TotpEnrolment, TotpReset, page_of
from wallet_sdk.client.funding import AsyncFundingEndpoints, BankAccount, FundingEndpoints
from wallet_sdk.client.merchants import AsyncMerchantsEndpoints, MerchantsEndpoints
from wallet_sdk.client.models import Money, Operation, Page, Teller
from wallet_sdk.client.notifications import (
    AsyncNotificationsEndpoints,
    Notification,
    NotificationsEndpoints,
    NotificationSettings,
)
from wallet_sdk.client.risk import RiskDecision, RiskEndpoints, RiskRules
from wallet_sdk.client.sessions import AsyncCustomerSessionEndpoints, CustomerSession, CustomerSessionEndpoints
from wallet_sdk.client.transfers import AsyncTransfersEndpoints, TransfersEndpoints
from wallet_sdk.client.wallets import AsyncWalletsEndpoints, WalletsEndpoints
from wallet_sdk.exceptions import ApiError, ApiProblemError, OperationTimeoutError, SecretAlreadyShownError

__all__ = [
    "ApiError",
    "ApiProblemError",
    "ApiRequest",
    "AsyncAtmClient",
    "AsyncClient",
    "AtmClient",
    "BankAccount",
    "Client",
    "CustomerSession",
    "Money",
    "Notification",
    "NotificationSettings",
    "Operation",
    "OperationTimeoutError",
    "Page",
    "PreparedRequest",
    "RiskDecision",
    "RiskRules",
    "SecretAlreadyShownError",
    "Teller",
    "TotpEnrolment",
    "TotpReset",
    "WithdrawalCode",
    "async_endpoint",
    "endpoint",
    "model",
    "page_of",
    "withdrawal_code",
]


class Client(CommonEndpoints, WalletsEndpoints, FundingEndpoints, TransfersEndpoints, AtmAdminEndpoints,
             MerchantsEndpoints, CustomerSessionEndpoints, NotificationsEndpoints, RiskEndpoints, BaseClient):
    """Synchronous client: ``Client(base_url, api_key, timeout=10.0, retries=2)``; use it as a context manager.
    ``api_key`` may be a customer session token; ``teller=`` names a teller's branch and operator."""

    def as_customer(self, token: str | CustomerSession) -> Client:
        """A client acting with a customer session's token, sharing this client's connections (close this one
        last)."""
        return Client(self.base_url, _token(token), retries=self.retries, backoff=self.backoff, http=self._http)

    def wait_for_operation(self, operation_id: str, *, timeout: float = 30.0, poll: float = 0.1) -> Operation:
        """Poll the operation until it is final (completed, failed or released), or raise
        :class:`OperationTimeoutError`. An ATM cash-out stops at ``held`` too: pass ``until={"held"}``-style
        checks yourself with :meth:`get_operation` if you need that."""
        deadline = time.monotonic() + timeout
        while True:
            op = self.get_operation(operation_id)
            if op.final:
                return op
            if time.monotonic() >= deadline:
                raise OperationTimeoutError(operation_id, op.status, timeout)
            time.sleep(poll)


class AsyncClient(AsyncCommonEndpoints, AsyncWalletsEndpoints, AsyncFundingEndpoints, AsyncTransfersEndpoints,
                  AsyncAtmAdminEndpoints, AsyncMerchantsEndpoints, AsyncCustomerSessionEndpoints,
                  AsyncNotificationsEndpoints, RiskEndpoints, BaseAsyncClient):
    """Asynchronous client: ``async with AsyncClient(base_url, api_key) as bank: await bank.top_up(...)``."""

    def as_customer(self, token: str | CustomerSession) -> AsyncClient:
        """A client acting with a customer session's token, sharing this client's connections (close this one
        last)."""
        return AsyncClient(self.base_url, _token(token), retries=self.retries, backoff=self.backoff,
                           http=self._http)

    async def wait_for_operation(self, operation_id: str, *, timeout: float = 30.0, poll: float = 0.1) -> Operation:
        """Poll the operation until it is final, or raise :class:`OperationTimeoutError`."""
        deadline = time.monotonic() + timeout
        while True:
            op = await self.get_operation(operation_id)
            if op.final:
                return op
            if time.monotonic() >= deadline:
                raise OperationTimeoutError(operation_id, op.status, timeout)
            await asyncio.sleep(poll)


def _token(token: str | CustomerSession) -> str:
    value = token.token if isinstance(token, CustomerSession) else token
    if not value:
        raise ValueError("no customer session token: only the answer that minted a session carries it")
    return value
