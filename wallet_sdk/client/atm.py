"""ATM cash: the admin's ATM registry, the ATM's own signed messages, and the app's withdrawal code.

Three parties use this module:

- the bank's back office (admin scope): register ATMs (each gets a device secret, shown once), replenish
  and unload them from the vault, read their cash (:class:`AtmAdminEndpoints`, mixed into ``Client``);
- the ATM itself: :class:`AtmClient` signs every message with its device secret
  (:func:`sign_atm_message`) and reports cash-ins, submits withdrawal codes, confirms dispenses;
- the customer's app: :func:`withdrawal_code` signs a :class:`~wallet_sdk.authorizations.HoldAuthorization`
  and gives the text to show as a QR code (PNG/SVG) at the ATM.

ATM message authentication (the node verifies with the same :func:`sign_atm_message`)::

    X-ATM-Id:        the ATM's id
    X-ATM-Timestamp: Unix seconds when the message was signed
    X-ATM-Nonce:     a fresh random value per message (16-64 of A-Z a-z 0-9 _ -)
    X-ATM-Signature: hex HMAC-SHA256, keyed with the device secret, of
                     "<timestamp>\\n<nonce>\\n<METHOD>\\n<path>\\n" followed by the exact body bytes

A timestamp off the node's clock by more than its ``atm_clock_skew``, a wrong signature, or an unknown or
disabled ATM is refused (401 ``atm-authentication-failed``); the same signed message twice is refused (409
``atm-message-replayed``). Each message carries the ATM's ``event_id``: re-sending an event (newly signed,
same body) returns the first answer; the same event id with another body is 409 ``idempotency-key-reused``.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import quote, urlsplit

from wallet_sdk.authorizations import Domain, HoldAuthorization, SignedAuthorization
from wallet_sdk.client._core import ApiRequest, BaseAsyncClient, BaseClient, Endpoint, model
from wallet_sdk.client.common import ClientArgumentError, get_operation, matching, operation_id_of, page_of
from wallet_sdk.client.models import Money, Operation, Page
from wallet_sdk.exceptions import OperationTimeoutError
from wallet_sdk.keys import WalletKey
from wallet_sdk.payload import encode_payload
from wallet_sdk.qr import qr_png, qr_svg

__all__ = [
    "ATM_ID_HEADER",
    "ATM_NONCE_HEADER",
    "ATM_SIGNATURE_HEADER",
    "ATM_TIMESTAMP_HEADER",
    "AsyncAtmAdminEndpoints",
    "AsyncAtmClient",
    "AsyncAtmEndpoints",
    "Atm",
    "AtmAdminEndpoints",
    "AtmCash",
    "AtmClient",
    "AtmEndpoints",
    "AtmRegistration",
    "CashMovement",
    "NoteCount",
    "VaultCash",
    "WithdrawalCode",
    "atm_headers",
    "atm_message",
    "sign_atm_message",
    "verify_atm_signature",
    "withdrawal_code",
]

ATM_ID_HEADER: Final = "X-ATM-Id"
ATM_TIMESTAMP_HEADER: Final = "X-ATM-Timestamp"
ATM_NONCE_HEADER: Final = "X-ATM-Nonce"
ATM_SIGNATURE_HEADER: Final = "X-ATM-Signature"

ATM_ID_PATTERN: Final = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$"
NONCE_PATTERN: Final = r"^[A-Za-z0-9_-]{16,64}$"
EVENT_ID_PATTERN: Final = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"
_ATM_ID = re.compile(ATM_ID_PATTERN)
_NONCE = re.compile(NONCE_PATTERN)
_EVENT_ID = re.compile(EVENT_ID_PATTERN)

DEFAULT_CODE_VALIDITY: Final = 600  # seconds a withdrawal code stays valid: time to walk to the ATM


# ------------------------------------------------------------------ message signing (ATM and node)


def atm_message(*, timestamp: int, nonce: str, method: str, path: str, body: bytes | None) -> bytes:
    """The bytes an ATM signs: ``"<timestamp>\\n<nonce>\\n<METHOD>\\n<path>\\n"`` + the exact body."""
    if isinstance(timestamp, bool) or not isinstance(timestamp, int) or timestamp < 0:
        raise ClientArgumentError(f"the timestamp must be Unix seconds, got {timestamp!r}")
    matching(_NONCE, nonce, "the nonce must be 16-64 characters of A-Z a-z 0-9 _ -")
    head = f"{timestamp}\n{nonce}\n{method.upper()}\n{path}\n"
    return head.encode("utf-8") + (body or b"")


def sign_atm_message(secret: str, *, timestamp: int, nonce: str, method: str, path: str,
                     body: bytes | None) -> str:
    """The hex HMAC-SHA256 of :func:`atm_message`, keyed with the ATM's device secret."""
    if not isinstance(secret, str) or not secret:
        raise ClientArgumentError("the ATM's device secret is empty")
    message = atm_message(timestamp=timestamp, nonce=nonce, method=method, path=path, body=body)
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def verify_atm_signature(secret: str, signature: str, *, timestamp: int, nonce: str, method: str, path: str,
                         body: bytes | None) -> bool:
    """True if ``signature`` is the ATM's signature of this message (compared in constant time)."""
    try:
        expected = sign_atm_message(secret, timestamp=timestamp, nonce=nonce, method=method, path=path, body=body)
    except ClientArgumentError:
        return False
    return hmac.compare_digest(expected, signature.strip().lower())


def atm_headers(atm_id: str, secret: str, *, method: str, path: str, body: bytes | None,
                timestamp: int | None = None, nonce: str | None = None) -> dict[str, str]:
    """The four authentication headers of one ATM message (timestamp: now; nonce: fresh, unless given)."""
    _atm_id(atm_id)
    ts = int(time.time()) if timestamp is None else timestamp
    once = secrets.token_urlsafe(18) if nonce is None else nonce
    signature = sign_atm_message(secret, timestamp=ts, nonce=once, method=method, path=path, body=body)
    return {ATM_ID_HEADER: atm_id, ATM_TIMESTAMP_HEADER: str(ts), ATM_NONCE_HEADER: once,
            ATM_SIGNATURE_HEADER: signature}


# ------------------------------------------------------------------ documents


@dataclass(frozen=True)
class Atm:
    atm_id: str
    name: str
    state: str  # active or disabled
    created_at: str
    location: str | None = None
    disabled_at: str | None = None


@dataclass(frozen=True)
class AtmRegistration:
    """A new ATM and its device secret: shown once, load it into the ATM (the node keeps it encrypted)."""

    atm: Atm
    secret: str

    def __repr__(self) -> str:
        return f"AtmRegistration(atm={self.atm!r}, secret=<hidden>)"


@dataclass(frozen=True)
class AtmCash:
    atm_id: str
    cash: Money  # the notes in the ATM by the ledger
    reserved: Money  # of which promised to cash-outs in progress


@dataclass(frozen=True)
class CashMovement:
    """Notes moved between the vault and an ATM (or delivered to the vault), as booked in the ledger."""

    reference: str
    amount: Money
    vault_cash: Money
    atm_id: str | None = None
    atm_cash: Money | None = None


@dataclass(frozen=True)
class VaultCash:
    cash: Money


@dataclass(frozen=True)
class NoteCount:
    """``count`` notes of ``denomination`` minor units (a 50.00 note of a 2-decimal currency is 5000)."""

    denomination: int
    count: int


def _positive(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ClientArgumentError(f"{name} must be a positive int of minor units, got {value!r}")
    return value


def _atm_id(atm_id: str) -> str:
    return matching(_ATM_ID, atm_id, "not an ATM id (1-32 of A-Z a-z 0-9 _ -): {value}")


def _atm_path(atm_id: str, suffix: str = "") -> str:
    return f"/v1/atms/{quote(_atm_id(atm_id))}{suffix}"


def _event(event_id: str) -> str:
    return matching(_EVENT_ID, event_id, "not an event id (1-64 of A-Z a-z 0-9 . _ : -): {value}")


def _cash_out_path(operation_id: str, suffix: str) -> str:
    return f"/v1/atm/cash-outs/{operation_id_of(operation_id)}{suffix}"


# ------------------------------------------------------------------ admin: registry, vault, cash


def register_atm(atm_id: str, *, name: str, location: str | None = None) -> ApiRequest[AtmRegistration]:
    """Register an ATM; the answer carries its device secret, which is never shown again."""
    return ApiRequest("POST", "/v1/atms", model(AtmRegistration),
                      json={"atm_id": _atm_id(atm_id), "name": name, "location": location})


def list_atms(*, limit: int | None = None, cursor: str | None = None) -> ApiRequest[Page[Atm]]:
    """The bank's ATMs, oldest first."""
    return ApiRequest("GET", "/v1/atms", page_of(Atm), params={"limit": limit, "cursor": cursor})


def get_atm(atm_id: str) -> ApiRequest[Atm]:
    return ApiRequest("GET", _atm_path(atm_id), model(Atm))


def disable_atm(atm_id: str) -> ApiRequest[Atm]:
    """Refuse every further message of the ATM (cash-outs it holds are released by the timeout)."""
    return ApiRequest("POST", _atm_path(atm_id, "/disable"), model(Atm), json={})


def rotate_atm_secret(atm_id: str) -> ApiRequest[AtmRegistration]:
    """Give the ATM a new device secret (shown once); messages signed with the old one are refused."""
    return ApiRequest("POST", _atm_path(atm_id, "/secret"), model(AtmRegistration), json={})


def get_atm_cash(atm_id: str) -> ApiRequest[AtmCash]:
    """The notes in the ATM by the ledger (compare with the ATM's own count)."""
    return ApiRequest("GET", _atm_path(atm_id, "/cash"), model(AtmCash))


def replenish_atm(atm_id: str, amount: int, *, idempotency_key: str | None = None) -> ApiRequest[CashMovement]:
    """Book ``amount`` of notes taken from the vault into the ATM."""
    return ApiRequest("POST", _atm_path(atm_id, "/replenish"), model(CashMovement),
                      json={"amount": _positive("amount", amount)}, idempotent=True, idempotency_key=idempotency_key)


def unload_atm(atm_id: str, amount: int, *, idempotency_key: str | None = None) -> ApiRequest[CashMovement]:
    """Book ``amount`` of notes taken out of the ATM back into the vault."""
    return ApiRequest("POST", _atm_path(atm_id, "/unload"), model(CashMovement),
                      json={"amount": _positive("amount", amount)}, idempotent=True, idempotency_key=idempotency_key)


def get_vault_cash() -> ApiRequest[VaultCash]:
    return ApiRequest("GET", "/v1/vault", model(VaultCash))


def deliver_vault_cash(amount: int, *, idempotency_key: str | None = None) -> ApiRequest[CashMovement]:
    """Book ``amount`` of notes delivered to the vault (from the central bank's cash centre)."""
    return ApiRequest("POST", "/v1/vault/deliveries", model(CashMovement),
                      json={"amount": _positive("amount", amount)}, idempotent=True, idempotency_key=idempotency_key)


class AtmAdminEndpoints:
    register_atm = Endpoint(register_atm)
    rotate_atm_secret = Endpoint(rotate_atm_secret)
    list_atms = Endpoint(list_atms)
    get_atm = Endpoint(get_atm)
    disable_atm = Endpoint(disable_atm)
    get_atm_cash = Endpoint(get_atm_cash)
    replenish_atm = Endpoint(replenish_atm)
    unload_atm = Endpoint(unload_atm)
    get_vault_cash = Endpoint(get_vault_cash)
    deliver_vault_cash = Endpoint(deliver_vault_cash)


AsyncAtmAdminEndpoints = AtmAdminEndpoints  # one class serves both clients


# ------------------------------------------------------------------ the ATM's messages


def _notes(notes: Mapping[int, int] | Sequence[NoteCount]) -> list[dict[str, int]]:
    items = [NoteCount(d, c) for d, c in notes.items()] if isinstance(notes, Mapping) else list(notes)
    if not items:
        raise ClientArgumentError("report at least one denomination")
    out = []
    for item in items:
        if not isinstance(item, NoteCount):
            raise ClientArgumentError(f"expected NoteCount items, got {type(item).__name__}")
        out.append({"denomination": _positive("denomination", item.denomination),
                    "count": _positive("count", item.count)})
    return out


def report_cash_in(event_id: str, wallet: str, notes: Mapping[int, int] | Sequence[NoteCount], *,
                   amount: int | None = None) -> ApiRequest[Operation]:
    """Report notes counted into the ATM for ``wallet``: the bank mints their total into it.

    ``notes`` maps denominations (minor units) to counts; ``amount``, when given, must equal their total.
    Answers the ``atm_cash_in`` operation (pending until the mint is confirmed).
    """
    counted = _notes(notes)
    total = sum(n["denomination"] * n["count"] for n in counted)
    if amount is not None and amount != total:
        raise ClientArgumentError(f"the notes add up to {total}, not {amount}")
    return ApiRequest("POST", "/v1/atm/cash-ins", model(Operation),
                      json={"event_id": _event(event_id), "wallet": wallet, "amount": total, "notes": counted})


def submit_withdrawal(event_id: str, code: str, *, totp: str | None = None) -> ApiRequest[Operation]:
    """Submit the withdrawal code scanned from the customer's app: the bank places the hold on chain.

    Answers the ``atm_cash_out`` operation; dispense once it is ``held`` (:meth:`AtmClient.wait_until_held`).
    ``totp`` is the customer's code, typed on the ATM's keypad, for amounts above the bank's threshold.
    """
    if not isinstance(code, str) or not code.strip():
        raise ClientArgumentError("the withdrawal code is empty")
    body: dict[str, Any] = {"event_id": _event(event_id), "code": code.strip()}
    if totp is not None:
        body["totp"] = totp
    return ApiRequest("POST", "/v1/atm/cash-outs", model(Operation), json=body)


def confirm_dispense(operation_id: str, event_id: str) -> ApiRequest[Operation]:
    """The notes of a held cash-out left the ATM: the bank captures (burns) the hold."""
    return ApiRequest("POST", _cash_out_path(operation_id, "/dispense"), model(Operation),
                      json={"event_id": _event(event_id)})


def report_dispense_fault(operation_id: str, event_id: str, reason: str) -> ApiRequest[Operation]:
    """The ATM could not dispense a held cash-out: the bank releases the hold back to the wallet."""
    if not isinstance(reason, str) or not reason.strip():
        raise ClientArgumentError("say why the dispense failed")
    return ApiRequest("POST", _cash_out_path(operation_id, "/fault"), model(Operation),
                      json={"event_id": _event(event_id), "reason": reason.strip()})


class AtmEndpoints:
    report_cash_in = Endpoint(report_cash_in)
    submit_withdrawal = Endpoint(submit_withdrawal)
    confirm_dispense = Endpoint(confirm_dispense)
    report_dispense_fault = Endpoint(report_dispense_fault)
    get_operation = Endpoint(get_operation)


AsyncAtmEndpoints = AtmEndpoints  # one class serves both clients


class _AtmSigner:
    """Signs each request, from its exact body, as the ATM ``atm_id`` (see the module docstring)."""

    def _init_signer(self, base_url: str, atm_id: str, secret: str, clock: Callable[[], float] | None,
                     nonces: Callable[[], str] | None) -> None:
        if not isinstance(secret, str) or not secret:
            raise ClientArgumentError("the ATM's device secret is empty")
        self.atm_id = _atm_id(atm_id)
        self._secret = secret
        self._clock = clock or time.time
        self._nonces = nonces or (lambda: secrets.token_urlsafe(18))
        self._path_prefix = urlsplit(base_url).path.rstrip("/")  # the path the node sees includes it

    def sign(self, request: ApiRequest[Any], body: bytes | None) -> dict[str, str]:
        return atm_headers(self.atm_id, self._secret, method=request.method, path=self._path_prefix + request.path,
                           body=body, timestamp=int(self._clock()), nonce=self._nonces())


_HELD_OR_FINAL: Final = frozenset({"held", "completed", "failed", "released"})


class AtmClient(AtmEndpoints, _AtmSigner, BaseClient):
    """An ATM's connection to its bank: ``AtmClient(base_url, api_key, atm_id=..., secret=...)``.

    ``api_key`` is a key of scope ``atm``; ``secret`` the device secret from the ATM's registration.
    ``clock`` (Unix seconds) and ``nonces`` are for tests and for ATMs with their own time source.
    """

    def __init__(self, base_url: str, api_key: str, *, atm_id: str, secret: str,
                 clock: Callable[[], float] | None = None, nonces: Callable[[], str] | None = None,
                 **options: Any) -> None:
        super().__init__(base_url, api_key, **options)
        self._init_signer(base_url, atm_id, secret, clock, nonces)

    def __repr__(self) -> str:  # never the secret
        return f"AtmClient({self.base_url!r}, atm_id={self.atm_id!r})"

    def wait_for_status(self, operation_id: str, statuses: Collection[str] = _HELD_OR_FINAL, *,
                        timeout: float = 30.0, poll: float = 0.1) -> Operation:
        """Poll until the operation's status is one of ``statuses`` (default: held or final)."""
        deadline = time.monotonic() + timeout
        while True:
            op = self.get_operation(operation_id)
            if op.status in statuses or op.final:
                return op
            if time.monotonic() >= deadline:
                raise OperationTimeoutError(operation_id, op.status, timeout)
            time.sleep(poll)

    def wait_until_held(self, operation_id: str, *, timeout: float = 30.0) -> Operation:
        """Wait for a cash-out's hold: ``held`` means dispense; ``failed`` means do not."""
        return self.wait_for_status(operation_id, _HELD_OR_FINAL, timeout=timeout)


class AsyncAtmClient(AsyncAtmEndpoints, _AtmSigner, BaseAsyncClient):
    """The asynchronous :class:`AtmClient`."""

    def __init__(self, base_url: str, api_key: str, *, atm_id: str, secret: str,
                 clock: Callable[[], float] | None = None, nonces: Callable[[], str] | None = None,
                 **options: Any) -> None:
        super().__init__(base_url, api_key, **options)
        self._init_signer(base_url, atm_id, secret, clock, nonces)

    def __repr__(self) -> str:
        return f"AsyncAtmClient({self.base_url!r}, atm_id={self.atm_id!r})"

    async def wait_for_status(self, operation_id: str, statuses: Collection[str] = _HELD_OR_FINAL, *,
                              timeout: float = 30.0, poll: float = 0.1) -> Operation:
        deadline = time.monotonic() + timeout
        while True:
            op = await self.get_operation(operation_id)
            if op.status in statuses or op.final:
                return op
            if time.monotonic() >= deadline:
                raise OperationTimeoutError(operation_id, op.status, timeout)
            await asyncio.sleep(poll)

    async def wait_until_held(self, operation_id: str, *, timeout: float = 30.0) -> Operation:
        return await self.wait_for_status(operation_id, _HELD_OR_FINAL, timeout=timeout)


# ------------------------------------------------------------------ the app: withdrawal codes


@dataclass(frozen=True)
class WithdrawalCode:
    """A signed cash-out authorization as the app shows it: :attr:`text` in a QR code (:meth:`png`, :meth:`svg`)."""

    signed: SignedAuthorization[HoldAuthorization]
    text: str  # WALLETNET:1:HOLD:...

    @property
    def amount(self) -> int:
        return self.signed.authorization.value

    @property
    def expires_at(self) -> int:
        return self.signed.authorization.expires_at

    def png(self, *, scale: int = 6) -> bytes:
        return qr_png(self.text, scale=scale)

    def svg(self, *, scale: int = 6) -> str:
        return qr_svg(self.text, scale=scale)


def withdrawal_code(key: WalletKey, domain: Domain, amount: int, *, now: int | None = None,
                    valid_for: int = DEFAULT_CODE_VALIDITY) -> WithdrawalCode:
    """Sign a cash-out of ``amount`` minor units from ``key``'s wallet, valid for ``valid_for`` seconds.

    ``now`` is the chain's clock (``Network.now()``) when the app knows it, else the device's. The bank
    refuses a code that expires before it could settle the cash-out, so keep ``valid_for`` of a few minutes.
    """
    _positive("amount", amount)
    _positive("valid_for", valid_for)
    start = int(time.time()) if now is None else now
    auth = HoldAuthorization(holder=key.address, value=amount, expires_at=start + valid_for)
    signed = auth.sign(key, domain)
    return WithdrawalCode(signed=signed, text=encode_payload(signed))
