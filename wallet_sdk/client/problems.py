"""Which exception an error answer of the API raises: the :class:`~wallet_sdk.exceptions.ApiProblemError`
subclass of its problem ``type``.

An error answer is an RFC 9457 problem document whose ``type`` is ``https://walletnet.dev/problems/<slug>``;
the client raises the class whose ``slug`` it is (the classes are in :mod:`wallet_sdk.exceptions`), with the
document's fields as attributes::

    try:
        client.top_up(wallet, 5_000)
    except InsufficientFundsError as exc:
        print(exc.detail, exc.problem["available"])

An unknown slug (a newer node) raises the class of the HTTP status, or :class:`ApiProblemError` itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from wallet_sdk.exceptions import (
    PROBLEM_BASE,
    ApiProblemError,
    ConflictError,
    ForbiddenError,
    InternalServerError,
    MethodNotAllowedError,
    NotFoundError,
    ServiceUnavailableError,
    UnauthorizedError,
    ValidationError,
)

__all__ = ["PROBLEM_BASE", "PROBLEM_ERRORS", "problem_error"]


def _by_slug() -> dict[str, type[ApiProblemError]]:
    found: dict[str, type[ApiProblemError]] = {}
    pending: list[type[ApiProblemError]] = [ApiProblemError]
    while pending:
        cls = pending.pop()
        if cls.slug is not None:
            found[cls.slug] = cls
        pending.extend(cls.__subclasses__())
    return found


PROBLEM_ERRORS: Final[Mapping[str, type[ApiProblemError]]] = _by_slug()
"""Problem slug -> the error class the client raises for it."""

_BY_STATUS: Final[Mapping[int, type[ApiProblemError]]] = {
    401: UnauthorizedError, 403: ForbiddenError, 404: NotFoundError, 405: MethodNotAllowedError, 409: ConflictError,
    422: ValidationError, 500: InternalServerError, 503: ServiceUnavailableError,
}


def problem_error(status: int, problem: object, text: str = "") -> ApiProblemError:
    """The typed error for an error answer (``problem``: its decoded JSON, if any)."""
    document = problem if isinstance(problem, Mapping) else None
    kind = str(document.get("type", "")) if document else ""
    cls = PROBLEM_ERRORS.get(kind.removeprefix(PROBLEM_BASE)) if kind.startswith(PROBLEM_BASE) else None
    if cls is None:
        cls = _BY_STATUS.get(status, ApiProblemError)
    return cls(status, document, text)
