"""The error kinds of the API and the domain errors that carry them; free of FastAPI (services raise these).

:mod:`api.errors` maps them (and every other error) to RFC 9457 problem documents.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "KINDS",
    "PROBLEM_BASE",
    "PROBLEM_MEDIA_TYPE",
    "REVERT_KINDS",
    "WALLET_STATUS_FROZEN",
    "AccountNotBoundError",
    "ApiError",
    "AtmAuthenticationError",
    "AtmReplayError",
    "AuthorizationInvalidError",
    "ChainUnavailableError",
    "ConflictError",
    "CustomerSessionRequiredError",
    "FieldError",
    "ForbiddenError",
    "InsufficientFundsProblem",
    "InvalidStateError",
    "NotCustodianError",
    "NotFoundError",
    "Problem",
    "ProblemKind",
    "RequestTimeoutError",
    "RequestTooLargeError",
    "ServiceUnavailableError",
    "UnauthorizedError",
    "ValidationProblemError",
]

PROBLEM_BASE: Final = "https://walletnet.dev/problems/"
PROBLEM_MEDIA_TYPE: Final = "application/problem+json"


class ProblemKind(StrEnum):
    """The stable slugs of the problem ``type`` URIs."""

    VALIDATION = "validation"
    UNAUTHORIZED = "unauthorized"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not-found"
    METHOD_NOT_ALLOWED = "method-not-allowed"
    CONFLICT = "conflict"
    IDEMPOTENCY_KEY_REUSED = "idempotency-key-reused"
    IDEMPOTENCY_KEY_IN_FLIGHT = "idempotency-key-in-flight"
    INSUFFICIENT_BALANCE = "insufficient-balance"
    LIMIT_EXCEEDED = "limit-exceeded"
    WALLET_FROZEN = "wallet-frozen"
    WALLET_NOT_ACTIVE = "wallet-not-active"
    NETWORK_PAUSED = "network-paused"
    CONTRACT_REJECTED = "contract-rejected"
    CHAIN_UNAVAILABLE = "chain-unavailable"
    SERVICE_UNAVAILABLE = "service-unavailable"
    REQUEST_TOO_LARGE = "request-too-large"
    REQUEST_TIMEOUT = "request-timeout"
    INTERNAL = "internal"
    SECOND_FACTOR_REQUIRED = "second-factor-required"
    SECOND_FACTOR_INVALID = "second-factor-invalid"
    SECOND_FACTOR_LOCKED = "second-factor-locked"
    SECOND_FACTOR_COOLING_OFF = "second-factor-cooling-off"
    INSUFFICIENT_FUNDS = "insufficient-funds"
    AUTHORIZATION_INVALID = "authorization-invalid"
    ATM_AUTHENTICATION_FAILED = "atm-authentication-failed"
    ATM_MESSAGE_REPLAYED = "atm-message-replayed"
    INVALID_STATE = "invalid-state"
    WALLET_NOT_CUSTODIED_HERE = "wallet-not-custodied-here"
    ACCOUNT_NOT_BOUND = "account-not-bound"
    MERCHANT_NOT_ACTIVE = "merchant-not-active"
    ORDER_ALREADY_PAID = "order-already-paid"
    PAYMENT_REQUEST_EXPIRED = "payment-request-expired"
    REFUND_EXCEEDS_REFUNDABLE = "refund-exceeds-refundable"
    CUSTOMER_SESSION_REQUIRED = "customer-session-required"

    @property
    def uri(self) -> str:
        return PROBLEM_BASE + self.value


@dataclass(frozen=True)
class _KindInfo:
    status: int
    title: str


KINDS: Final[Mapping[ProblemKind, _KindInfo]] = {
    ProblemKind.VALIDATION: _KindInfo(422, "The request is not valid"),
    ProblemKind.UNAUTHORIZED: _KindInfo(401, "A valid API key is required"),
    ProblemKind.FORBIDDEN: _KindInfo(403, "The API key's scopes do not allow this"),
    ProblemKind.NOT_FOUND: _KindInfo(404, "Not found"),
    ProblemKind.METHOD_NOT_ALLOWED: _KindInfo(405, "Method not allowed"),
    ProblemKind.CONFLICT: _KindInfo(409, "Conflict"),
    ProblemKind.IDEMPOTENCY_KEY_REUSED: _KindInfo(409, "The idempotency key was used for another request"),
    ProblemKind.IDEMPOTENCY_KEY_IN_FLIGHT: _KindInfo(409, "A request with this idempotency key is in progress"),
    ProblemKind.INSUFFICIENT_BALANCE: _KindInfo(422, "Insufficient balance"),
    ProblemKind.LIMIT_EXCEEDED: _KindInfo(422, "A wallet limit would be exceeded"),
    ProblemKind.WALLET_FROZEN: _KindInfo(409, "The wallet is frozen"),
    ProblemKind.WALLET_NOT_ACTIVE: _KindInfo(409, "The wallet is not active"),
    ProblemKind.NETWORK_PAUSED: _KindInfo(503, "The network is paused"),
    ProblemKind.CONTRACT_REJECTED: _KindInfo(422, "The contracts rejected the operation"),
    ProblemKind.CHAIN_UNAVAILABLE: _KindInfo(503, "The chain is unavailable"),
    ProblemKind.SERVICE_UNAVAILABLE: _KindInfo(503, "The service is unavailable"),
    ProblemKind.REQUEST_TOO_LARGE: _KindInfo(413, "The request body is too large"),
    ProblemKind.REQUEST_TIMEOUT: _KindInfo(408, "The request body did not arrive in time"),
    ProblemKind.INTERNAL: _KindInfo(500, "Internal error"),
    ProblemKind.SECOND_FACTOR_REQUIRED: _KindInfo(403, "A second factor (TOTP code) is required"),
    ProblemKind.SECOND_FACTOR_INVALID: _KindInfo(403, "The second factor (TOTP code) is not valid"),
    ProblemKind.SECOND_FACTOR_LOCKED: _KindInfo(429, "The second factor is locked after too many wrong codes"),
    ProblemKind.SECOND_FACTOR_COOLING_OFF: _KindInfo(
        403, "The second factor was reset lately: operations above the threshold must wait"),
    ProblemKind.INSUFFICIENT_FUNDS: _KindInfo(422, "Insufficient funds in the bank account"),
    ProblemKind.AUTHORIZATION_INVALID: _KindInfo(422, "The signed authorization is not valid"),
    ProblemKind.ATM_AUTHENTICATION_FAILED: _KindInfo(401, "The ATM message is not authenticated"),
    ProblemKind.ATM_MESSAGE_REPLAYED: _KindInfo(409, "The ATM message was replayed"),
    ProblemKind.INVALID_STATE: _KindInfo(409, "The operation is not allowed in its current state"),
    ProblemKind.WALLET_NOT_CUSTODIED_HERE: _KindInfo(409, "The wallet is kept by another bank"),
    ProblemKind.ACCOUNT_NOT_BOUND: _KindInfo(409, "No bank account is bound to the wallet"),
    ProblemKind.MERCHANT_NOT_ACTIVE: _KindInfo(409, "The merchant is not active"),
    ProblemKind.ORDER_ALREADY_PAID: _KindInfo(409, "The order is paid already"),
    ProblemKind.PAYMENT_REQUEST_EXPIRED: _KindInfo(409, "The payment request has expired"),
    ProblemKind.REFUND_EXCEEDS_REFUNDABLE: _KindInfo(422, "The refund exceeds what remains refundable"),
    ProblemKind.CUSTOMER_SESSION_REQUIRED: _KindInfo(403, "A customer session token is required"),
}

# Contract reverts (by Solidity error name) that have a problem kind of their own.
REVERT_KINDS: Final[Mapping[str, ProblemKind]] = {
    "ERC20InsufficientBalance": ProblemKind.INSUFFICIENT_BALANCE,
    "DailyOutflowLimitExceeded": ProblemKind.LIMIT_EXCEEDED,
    "SinglePaymentLimitExceeded": ProblemKind.LIMIT_EXCEEDED,
    "BalanceCapExceeded": ProblemKind.LIMIT_EXCEEDED,
    "EnforcedPause": ProblemKind.NETWORK_PAUSED,
    "WalletNotActive": ProblemKind.WALLET_NOT_ACTIVE,
    "OrderAlreadyPaid": ProblemKind.ORDER_ALREADY_PAID,
    "MerchantNotActive": ProblemKind.MERCHANT_NOT_ACTIVE,
    "RefundExceedsRefundable": ProblemKind.REFUND_EXCEEDS_REFUNDABLE,
    "RefundExceedsPending": ProblemKind.REFUND_EXCEEDS_REFUNDABLE,
}
WALLET_STATUS_FROZEN: Final = 2  # IWalletRegistry.WalletStatus.FROZEN


class FieldError(BaseModel):
    """One invalid input: where (``loc``, e.g. ``["body", "amount"]``), what went wrong and its code."""

    loc: list[str | int]
    msg: str
    type: str


class Problem(BaseModel):
    """RFC 9457 problem details (``application/problem+json``)."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="stable URI of the error kind, https://walletnet.dev/problems/<kind>")
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[FieldError] | None = Field(None, description="the invalid fields (validation problems only)")


class ApiError(Exception):
    """An error the API reports as a problem of ``kind``; ``extra`` members are added to the document."""

    kind: ProblemKind = ProblemKind.INTERNAL

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        self.detail = detail
        self.extra = extra
        super().__init__(detail or KINDS[self.kind].title)

    @property
    def status_code(self) -> int:
        return KINDS[self.kind].status


class ValidationProblemError(ApiError):
    kind = ProblemKind.VALIDATION

    def __init__(self, detail: str, *, errors: Sequence[FieldError] = ()) -> None:
        super().__init__(detail)
        self.errors = list(errors)


class UnauthorizedError(ApiError):
    kind = ProblemKind.UNAUTHORIZED


class ForbiddenError(ApiError):
    kind = ProblemKind.FORBIDDEN


class NotFoundError(ApiError):
    kind = ProblemKind.NOT_FOUND


class CustomerSessionRequiredError(ApiError):
    """An ``app`` API key alone is bound to no customer: acting on a customer's wallets, accounts or operations
    needs a customer session token (api/customers.py)."""

    kind = ProblemKind.CUSTOMER_SESSION_REQUIRED


class ConflictError(ApiError):
    kind = ProblemKind.CONFLICT


class ChainUnavailableError(ApiError):
    kind = ProblemKind.CHAIN_UNAVAILABLE


class ServiceUnavailableError(ApiError):
    kind = ProblemKind.SERVICE_UNAVAILABLE


class RequestTooLargeError(ApiError):
    """The body is (or says it will be) larger than the setting ``api_max_body``; it was not read."""

    kind = ProblemKind.REQUEST_TOO_LARGE


class RequestTimeoutError(ApiError):
    """The body did not arrive within the setting ``api_body_timeout``."""

    kind = ProblemKind.REQUEST_TIMEOUT


class InvalidStateError(ApiError):
    """The operation (or wallet) is not in a state that allows the request (dispensing a released cash-out)."""

    kind = ProblemKind.INVALID_STATE


class NotCustodianError(ApiError):
    """The wallet exists but another bank keeps it; only its custodian can act for it."""

    kind = ProblemKind.WALLET_NOT_CUSTODIED_HERE


class AccountNotBoundError(ApiError):
    kind = ProblemKind.ACCOUNT_NOT_BOUND


class AuthorizationInvalidError(ApiError):
    """A customer's signed authorization is malformed, expired, for another chain, or not the wallet's."""

    kind = ProblemKind.AUTHORIZATION_INVALID


class AtmAuthenticationError(ApiError):
    kind = ProblemKind.ATM_AUTHENTICATION_FAILED


class AtmReplayError(ApiError):
    kind = ProblemKind.ATM_MESSAGE_REPLAYED


class InsufficientFundsProblem(ApiError):
    kind = ProblemKind.INSUFFICIENT_FUNDS
