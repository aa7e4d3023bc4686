"""The flows' domain errors. Each names the problem kind the API reports it as (``problem``, a slug of
``api.problems.ProblemKind``), so the services stay free of HTTP and the API maps them in one place."""

from __future__ import annotations

from typing import Any

__all__ = [
    "AccountNotBoundError",
    "AuthorizationInvalidError",
    "FlowConflictError",
    "FlowError",
    "FlowNotFoundError",
    "FlowValidationError",
    "InsufficientBalanceError",
    "InvalidStateError",
    "LimitExceededError",
    "MerchantNotActiveError",
    "NotCustodianError",
    "OrderAlreadyPaidError",
    "PaymentRequestExpiredError",
    "RefundExceedsRefundableError",
    "WalletFrozenError",
    "WalletNotActiveError",
]


class FlowError(Exception):
    """Root of the flows' errors; ``extra`` members are added to the problem document."""

    problem = "conflict"

    def __init__(self, detail: str, **extra: Any) -> None:
        self.detail = detail
        self.extra = extra
        super().__init__(detail)


class FlowValidationError(FlowError):
    """A field is valid on its own but not for this request (``field`` names it, e.g. ``"tier"``)."""

    problem = "validation"

    def __init__(self, field: str, detail: str, **extra: Any) -> None:
        self.field = field
        super().__init__(detail, **extra)


class FlowNotFoundError(FlowError):
    problem = "not-found"


class FlowConflictError(FlowError):
    problem = "conflict"


class InvalidStateError(FlowError):
    """The wallet or operation is not in a state that allows the request."""

    problem = "invalid-state"


class NotCustodianError(FlowError):
    """The wallet is registered, but with another bank."""

    problem = "wallet-not-custodied-here"


class AccountNotBoundError(FlowError):
    problem = "account-not-bound"


class WalletFrozenError(FlowError):
    problem = "wallet-frozen"


class WalletNotActiveError(FlowError):
    """The wallet is closed, not open yet, or its opening failed."""

    problem = "wallet-not-active"


class InsufficientBalanceError(FlowError):
    """The wallet's spendable balance (less this node's outflows in flight) is below the amount."""

    problem = "insufficient-balance"


class LimitExceededError(FlowError):
    """A limit of the wallet's tier would refuse the payment; ``limit`` names which."""

    problem = "limit-exceeded"


class AuthorizationInvalidError(FlowError):
    """The customer's signed authorization is not one the bank may act on for this request."""

    problem = "authorization-invalid"


class MerchantNotActiveError(FlowError):
    """The merchant's onboarding is not on chain yet, failed, or the merchant is suspended."""

    problem = "merchant-not-active"


class OrderAlreadyPaidError(FlowError):
    """The order is paid on chain, or a payment of it is on its way: an order is paid at most once."""

    problem = "order-already-paid"


class PaymentRequestExpiredError(FlowError):
    """The payment request (or the payer's signed payment) is past its expiry in chain time."""

    problem = "payment-request-expired"


class RefundExceedsRefundableError(FlowError):
    """The refund is more than the order's amount less its refunds (settled or in flight), or more than what
    the merchant has pending (money already settled is refunded by other means)."""

    problem = "refund-exceeds-refundable"
