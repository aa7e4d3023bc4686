"""Endpoints every area uses: health, operations, API keys (read-only), TOTP enrolment and a teller's reset."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from wallet_sdk.authorizations import Authorization, SignedAuthorization
from wallet_sdk.client._core import ApiRequest, Endpoint, model
from wallet_sdk.client.models import ApiKeyInfo, Health, Operation, Page
from wallet_sdk.exceptions import ClientArgumentError

__all__ = ["AsyncCommonEndpoints", "ClientArgumentError", "CommonEndpoints", "TotpEnrolment", "TotpReset",
           "authorization_fields", "matching", "page_of", "wallet_path"]

D = TypeVar("D")
A = TypeVar("A", bound=Authorization)

_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_OPERATION = re.compile(r"op_[0-9a-f]{32}")


def matching(pattern: re.Pattern[str], value: str, refusal: str) -> str:
    """``value``, if it is a string that ``pattern`` matches whole (an id or code before it goes into a path or a
    body); else :class:`ClientArgumentError` with the message ``refusal``, in which ``{value}`` stands for it."""
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise ClientArgumentError(refusal.format(value=repr(value)))
    return value


def wallet_path(address: str, suffix: str = "") -> str:
    """``/v1/wallets/<address><suffix>``, refusing anything that is not an address (no path tricks)."""
    return f"/v1/wallets/{matching(_ADDRESS, address, 'not a 0x wallet address: {value}')}{suffix}"


def operation_id_of(operation_id: str) -> str:
    """``operation_id`` if it is one (``op_`` and 32 hex digits)."""
    return matching(_OPERATION, operation_id, "not an operation id: {value}")


def page_of(cls: type[D]) -> Callable[[Any], Page[D]]:
    """A parser of ``{"items": [...], "next_cursor": ...}`` into a :class:`Page` of ``cls``."""
    item = model(cls)

    def parse(data: Any) -> Page[D]:
        return Page(items=[item(x) for x in data.get("items", [])], next_cursor=data.get("next_cursor"))

    return parse


def authorization_fields(signed: SignedAuthorization[A] | str, kind: type[A],
                         fields: Callable[[A], dict[str, Any]]) -> dict[str, Any]:
    """The request fields of a signed ``kind``: ``authorization`` (``fields`` of it, then the signature), or
    ``payload`` when given its QR text."""
    if isinstance(signed, str):
        return {"payload": signed}
    auth = signed.authorization
    if not isinstance(auth, kind):
        raise ClientArgumentError(f"expected a signed {kind.__name__}, not {type(auth).__name__}")
    return {"authorization": {**fields(auth), "v": signed.v, "r": "0x" + signed.r.hex(), "s": "0x" + signed.s.hex()}}


@dataclass(frozen=True)
class TotpEnrolment:
    wallet: str
    secret: str  # shown once: give it to the customer's authenticator app
    provisioning_uri: str

    def __repr__(self) -> str:
        return f"TotpEnrolment(wallet={self.wallet!r}, secret=<hidden>)"


@dataclass(frozen=True)
class TotpReset:
    wallet: str
    secret: str  # shown once: give it to the customer's authenticator app
    provisioning_uri: str
    cooling_off_until: str  # ISO 8601; until then operations above the threshold are refused

    def __repr__(self) -> str:
        return f"TotpReset(wallet={self.wallet!r}, secret=<hidden>, cooling_off_until={self.cooling_off_until!r})"


def get_health() -> ApiRequest[Health]:
    """Whether the node's chain connection and database answer (no key needed)."""
    return ApiRequest("GET", "/v1/health", model(Health))


def get_operation(operation_id: str) -> ApiRequest[Operation]:
    """The current state of an operation (``op_...``) a flow endpoint returned."""
    return ApiRequest("GET", f"/v1/operations/{operation_id_of(operation_id)}", model(Operation))


def list_api_keys(*, limit: int | None = None, cursor: str | None = None) -> ApiRequest[Page[ApiKeyInfo]]:
    """The node's API keys (admin scope), oldest first; never their secrets."""
    return ApiRequest("GET", "/v1/api-keys", page_of(ApiKeyInfo), params={"limit": limit, "cursor": cursor})


def enrol_totp(wallet: str, *, totp: str | None = None,
               idempotency_key: str | None = None) -> ApiRequest[TotpEnrolment]:
    """Make a TOTP secret for the wallet's customer; operations above the bank's threshold then need ``totp=``.
    A wallet that has one already needs its current code as ``totp=`` to replace it (a lost authenticator is
    reset by a teller: :func:`reset_totp`)."""
    return ApiRequest(
        "POST",
        wallet_path(wallet, "/totp"),
        model(TotpEnrolment),
        json={},
        idempotent=True,
        idempotency_key=idempotency_key,
        totp=totp,
    )


def reset_totp(wallet: str, *, branch_id: str, reason: str, operator_id: str | None = None,
               idempotency_key: str | None = None) -> ApiRequest[TotpReset]:
    """Teller only, in person: a new TOTP secret without the current code. It is audited with the key,
    ``branch_id``, ``operator_id`` and ``reason``; operations above the threshold are refused until
    ``cooling_off_until`` (``SecondFactorCoolingOffError``); the customer sees it in the wallet's history."""
    body: dict[str, Any] = {"branch_id": branch_id, "reason": reason}
    if operator_id is not None:
        body["operator_id"] = operator_id
    return ApiRequest("POST", wallet_path(wallet, "/totp/reset"), model(TotpReset), json=body, idempotent=True,
                      idempotency_key=idempotency_key)


class CommonEndpoints:
    get_health = Endpoint(get_health)
    get_operation = Endpoint(get_operation)
    list_api_keys = Endpoint(list_api_keys)
    enrol_totp = Endpoint(enrol_totp)
    reset_totp = Endpoint(reset_totp)


AsyncCommonEndpoints = CommonEndpoints  # one class serves both clients
