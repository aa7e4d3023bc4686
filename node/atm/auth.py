"""ATM message authentication and event idempotency.

Every ATM message is signed with the ATM's device secret (the scheme is the SDK's
:func:`wallet_sdk.client.atm.sign_atm_message`, so ATM and node share one definition). :func:`authenticate`
checks the ATM, the signature and the timestamp, and remembers the signature so the same message is never
accepted twice. Each message names an ATM ``event_id``; :func:`claim_event` makes a re-sent event return the
answer recorded by :func:`complete_event` instead of running again.
"""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from node.atm.models import Atm, AtmEvent, AtmMessage, AtmState
from node.custody import custody_for
from node.db.base import utcnow
from node.errors import FlowError
from node.settings import NodeSettings
from wallet_sdk.client.atm import sign_atm_message, verify_atm_signature

__all__ = [
    "AtmAuthenticationFailedError",
    "AtmEventConflictError",
    "AtmEventInFlightError",
    "AtmMessageReplayedError",
    "Replay",
    "authenticate",
    "check_message",
    "claim_event",
    "complete_event",
    "message_row",
    "prune_messages",
    "replayed",
]

_GENERIC = "the ATM message is not authenticated: unknown ATM or wrong signature"
_REPLAYED = "this signed message was received before: sign each message afresh (new timestamp and nonce)"


class AtmAuthenticationFailedError(FlowError):
    """Unknown or disabled ATM, a wrong signature, or a timestamp outside the allowed clock skew."""

    problem = "atm-authentication-failed"
    status = 401


class AtmMessageReplayedError(FlowError):
    """This exact signed message was accepted before."""

    problem = "atm-message-replayed"
    status = 409


class AtmEventConflictError(FlowError):
    """The ATM's event id was used for another message."""

    problem = "idempotency-key-reused"
    status = 409


class AtmEventInFlightError(FlowError):
    """Another message with this event id is being handled right now; retry."""

    problem = "idempotency-key-in-flight"
    status = 409


def authenticate(session: Session, settings: NodeSettings, *, atm_id: str | None, timestamp: str | None,
                 nonce: str | None, signature: str | None, method: str, path: str, body: bytes,
                 now: float | None = None) -> Atm:
    """The ATM that signed this message; the signature is recorded (flushed) so a replay is refused.

    Raises:
        AtmAuthenticationFailedError: a header is missing, the ATM is unknown or disabled, the signature is
            wrong, or the timestamp is more than ``settings.atm_clock_skew`` seconds off.
        AtmMessageReplayedError: the same signed message was accepted before.
    """
    atm = session.scalars(select(Atm).where(Atm.atm_id == atm_id)).one_or_none() if atm_id else None
    ts = check_message(atm, settings, atm_id=atm_id, timestamp=timestamp, nonce=nonce, signature=signature,
                       method=method, path=path, body=body, now=now)
    assert atm is not None and signature is not None
    record = AtmMessage(**message_row(atm.atm_id, signature, ts))
    try:
        with session.begin_nested():
            session.add(record)
    except IntegrityError:
        raise AtmMessageReplayedError(_REPLAYED) from None
    return atm


def check_message(atm: Atm | Any | None, settings: NodeSettings, *, atm_id: str | None, timestamp: str | None,
                  nonce: str | None, signature: str | None, method: str, path: str, body: bytes,
                  now: float | None = None) -> int:
    """:func:`authenticate`'s checks of a message of ``atm`` (its record or a row of its columns; None: no such
    ATM), short of the replay; the message's timestamp.

    Raises:
        AtmAuthenticationFailedError: as :func:`authenticate`.
    """
    if not (atm_id and timestamp and nonce and signature):
        raise AtmAuthenticationFailedError("sign the message: send X-ATM-Id, X-ATM-Timestamp, X-ATM-Nonce and "
                                           "X-ATM-Signature")
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
        raise AtmAuthenticationFailedError("X-ATM-Timestamp must be Unix seconds")
    ts = int(timestamp)
    if atm is None:
        # the same work as a real check, so the answer's timing does not tell which ATM ids exist
        sign_atm_message(secrets.token_hex(16), timestamp=0, nonce="x" * 16, method=method, path=path, body=body)
        raise AtmAuthenticationFailedError(_GENERIC)
    secret = _device_secret(settings, atm.secret_ciphertext)
    if not verify_atm_signature(secret, signature, timestamp=ts, nonce=nonce, method=method, path=path, body=body):
        raise AtmAuthenticationFailedError(_GENERIC)
    if atm.state != AtmState.ACTIVE:
        raise AtmAuthenticationFailedError(f"ATM {atm.atm_id} is disabled")
    clock = time.time() if now is None else now
    skew = settings.atm_clock_skew
    if abs(clock - ts) > skew:
        raise AtmAuthenticationFailedError(f"X-ATM-Timestamp is {int(clock - ts)} s off the bank's clock "
                                           f"(at most {skew} s allowed): check the ATM's clock")
    return ts


_SECRETS: dict[tuple[int, str], str] = {}  # (custody, sealed secret) -> the device secret: every message uses it
_SECRETS_KEPT = 4096


def _device_secret(settings: NodeSettings, sealed: str) -> str:
    custody = custody_for(settings)
    secret = _SECRETS.get((id(custody), sealed))
    if secret is None:
        secret = custody.decrypt(sealed).decode("utf-8")
        if len(_SECRETS) >= _SECRETS_KEPT:  # a rotated secret's entry is never asked for again
            _SECRETS.clear()
        _SECRETS[(id(custody), sealed)] = secret
    return secret


def message_row(atm_id: str, signature: str, timestamp: int) -> dict[str, Any]:
    """The column values of an accepted message (its signature, so that the same message again is refused)."""
    return {"atm_id": atm_id, "signature": signature.strip().lower(), "timestamp": timestamp, "received_at": utcnow()}


def replayed() -> AtmMessageReplayedError:
    """The error of a message accepted before."""
    return AtmMessageReplayedError(_REPLAYED)


def prune_messages(session: Session, settings: NodeSettings, *, now: float | None = None) -> int:
    """Forget signatures too old to be accepted again anyway (their timestamp is outside the skew)."""
    clock = time.time() if now is None else now
    horizon = int(clock) - 2 * settings.atm_clock_skew
    result = session.execute(delete(AtmMessage).where(AtmMessage.timestamp < horizon))
    return int(getattr(result, "rowcount", 0) or 0)


@dataclass(frozen=True)
class Replay:
    """The answer an event got the first time."""

    status: int
    body: Any


def claim_event(session: Session, atm: Atm, event_id: str, request_hash: str) -> AtmEvent | Replay:
    """Claim ``event_id`` for this message (a row flushed in the caller's transaction), or the first answer
    if the event was handled before with the same request.

    Raises:
        AtmEventConflictError: the event id was used with another request.
        AtmEventInFlightError: a concurrent message with this event id claimed it first.
    """
    query = select(AtmEvent).where(AtmEvent.atm_id == atm.atm_id, AtmEvent.event_id == event_id)
    existing = session.scalars(query.with_for_update()).one_or_none()
    if existing is None:
        event = AtmEvent(atm_id=atm.atm_id, event_id=event_id, request_hash=request_hash, status=0, response={},
                         created_at=utcnow())
        try:
            with session.begin_nested():
                session.add(event)
        except IntegrityError:
            raise AtmEventInFlightError(f"event {event_id} is being handled; retry it shortly") from None
        return event
    if not hmac.compare_digest(existing.request_hash, request_hash):
        raise AtmEventConflictError(f"event {event_id} of ATM {atm.atm_id} was sent before with another body",
                                    event_id=event_id)
    return Replay(existing.status, existing.response)


def complete_event(session: Session, event: AtmEvent, status: int, body: Any, *, operation: str | None = None) -> None:
    """Record the answer of a claimed event (flushed with the work)."""
    event.status = status
    event.response = body
    event.operation = operation
    session.flush()

