"""The node's exception root. Every error the bank node raises derives from :class:`NodeError` and declares the
problem it is to a client: ``problem``, the slug of its problem type (``https://walletnet.dev/problems/<slug>``,
one of ``api.problems.ProblemKind``), and ``status``, its HTTP status. The API maps any node error by what it
carries (problem, status, detail, members), so services stay free of HTTP and a new error needs no new branch.

Under the root: the domain services' refusals (:class:`FlowError` and the classes below), the ledger's
(``node.ledger.errors``), the outbox's, idempotency's, the second factor's, the indexer's, and the node's
internal faults (custody key, settings, a stopped runner), which stay ``internal`` (HTTP 500).
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "AccountNotBoundError",
    "AuthorizationInvalidError",
    "ConflictProblem",
    "FlowConflictError",
    "FlowError",
    "FlowNotFoundError",
    "FlowValidationError",
    "InsufficientBalanceError",
    "InvalidStateError",
    "InvalidStateProblem",
    "LimitExceededError",
    "MerchantNotActiveError",
    "NodeError",
    "NotCustodianError",
    "NotFoundError",
    "OrderAlreadyPaidError",
    "PaymentRequestExpiredError",
    "RefundExceedsRefundableError",
    "ValidationProblem",
    "WalletFrozenError",
    "WalletNotActiveError",
]


class NodeError(Exception):
    """Root of every error the node raises.

    ``detail`` is the sentence a client is shown and ``extra`` the members added to the problem document
    (:meth:`members` may compute more); the message (``str(exc)``) is ``detail`` unless a subclass keeps a more
    technical one for logs (``message=``). An ``internal`` error is a fault, not a refusal: the API answers it
    with a bare 500 and logs it, unless the class is ``public`` (its detail and members are meant to be seen).
    """

    problem: ClassVar[str] = "internal"
    status: ClassVar[int] = 500
    public: ClassVar[bool] = False

    def __init__(self, detail: str | None = None, *, message: str | None = None, **extra: Any) -> None:
        self.detail = detail
        self.extra = extra
        super().__init__(message or detail or self.problem)

    def members(self) -> dict[str, Any]:
        """The problem document's members besides type, title, status, instance and detail (None: left out)."""
        return dict(self.extra)

    def retry_after(self) -> int | None:
        """Seconds after which the same request may succeed (HTTP ``Retry-After``), or None."""
        return None


class NotFoundError(NodeError, LookupError):
    """Nothing is stored under the key a caller looked up (the subclass names what, and keeps the key)."""

    problem = "not-found"
    status = 404


class ConflictProblem(NodeError):
    """A 409 ``conflict``: the request contradicts what is stored (a key or reference used otherwise)."""

    problem = "conflict"
    status = 409


class ValidationProblem(NodeError):
    """A 422 ``validation``: a value the request carries cannot be used."""

    problem = "validation"
    status = 422


class InvalidStateProblem(NodeError):
    """A 409 ``invalid-state``: what the request acts on is not in a state that allows it."""

    problem = "invalid-state"
    status = 409


class FlowError(NodeError):
    """A domain service refuses a request (by default a 409 ``conflict``)."""

    problem = "conflict"
    status = 409

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail, **extra)


class FlowValidationError(FlowError):
    """A field is valid on its own but not for this request (``field`` names it, e.g. ``"tier"``)."""

    problem = "validation"
    status = 422

    def __init__(self, field: str, detail: str, **extra: Any) -> None:
        self.field = field
        super().__init__(detail, **extra)

    def members(self) -> dict[str, Any]:
        return {"errors": [{"loc": ["body", self.field], "msg": self.detail, "type": "value_error"}], **self.extra}


class FlowNotFoundError(FlowError):
    problem = "not-found"
    status = 404


class FlowConflictError(FlowError):
    problem = "conflict"
    status = 409


class InvalidStateError(FlowError):
    """The wallet or operation is not in a state that allows the request."""

    problem = "invalid-state"
    status = 409


class NotCustodianError(FlowError):
    """The wallet is registered, but with another bank."""

    problem = "wallet-not-custodied-here"
    status = 409


class AccountNotBoundError(FlowError):
    problem = "account-not-bound"
    status = 409


class WalletFrozenError(FlowError):
    problem = "wallet-frozen"
    status = 409


class WalletNotActiveError(FlowError):
    """The wallet is closed, not open yet, or its opening failed."""

    problem = "wallet-not-active"
    status = 409


class InsufficientBalanceError(FlowError):
    """The wallet's spendable balance (less this node's outflows in flight) is below the amount."""

    problem = "insufficient-balance"
    status = 422


class LimitExceededError(FlowError):
    """A limit of the wallet's tier would refuse the payment; ``limit`` names which."""

    problem = "limit-exceeded"
    status = 422


class AuthorizationInvalidError(FlowError):
    """The customer's signed authorization is not one the bank may act on for this request."""

    problem = "authorization-invalid"
    status = 422


class MerchantNotActiveError(FlowError):
    """The merchant's onboarding is not on chain yet, failed, or the merchant is suspended."""

    problem = "merchant-not-active"
    status = 409


class OrderAlreadyPaidError(FlowError):
    """The order is paid on chain, or a payment of it is on its way: an order is paid at most once."""

    problem = "order-already-paid"
    status = 409


class PaymentRequestExpiredError(FlowError):
    """The payment request (or the payer's signed payment) is past its expiry in chain time."""

    problem = "payment-request-expired"
    status = 409


class RefundExceedsRefundableError(FlowError):
    """The refund is more than the order's amount less its refunds (settled or in flight), or more than what
    the merchant has pending (money already settled is refunded by other means)."""

    problem = "refund-exceeds-refundable"
    status = 422
