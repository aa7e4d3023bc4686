"""Merchant webhooks: check that a notification really comes from your walletnet bank.

The bank POSTs each event (``payment.paid``, ``payment.refunded``, ``settlement.completed``) as a JSON body
with these headers::

    Walletnet-Signature:  t=<Unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>
    Walletnet-Event-Id:   the event's id ("evt_..."); the same event may arrive more than once
    Walletnet-Event-Type: the event's type

The secret is the merchant's webhook secret (``whsec_...``), used as given (its UTF-8 bytes). Verify the
signature over the *exact* body bytes received, before parsing them::

    from wallet_sdk import webhooks

    timestamp = webhooks.verify(secret, request.headers[webhooks.SIGNATURE_HEADER], raw_body)

While a secret is being rotated the header may carry several ``v1=`` values; one matching is enough. A
timestamp more than ``tolerance`` seconds away from your clock is refused, so a recorded request cannot be
replayed later; deduplicate on the event id to ignore a redelivery you already handled.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from typing import Final

from wallet_sdk.exceptions import WebhookSignatureError

__all__ = [
    "DEFAULT_TOLERANCE",
    "EVENT_ID_HEADER",
    "EVENT_TYPE_HEADER",
    "SIGNATURE_HEADER",
    "WebhookSignatureError",
    "sign",
    "verify",
]

SIGNATURE_HEADER: Final = "Walletnet-Signature"
EVENT_ID_HEADER: Final = "Walletnet-Event-Id"
EVENT_TYPE_HEADER: Final = "Walletnet-Event-Type"
DEFAULT_TOLERANCE: Final = 300  # seconds a signed request stays acceptable

_TIMESTAMP: Final = re.compile(r"[0-9]{1,12}")
_SIGNATURE: Final = re.compile(r"[0-9a-f]{64}")


def _key(secret: str | bytes) -> bytes:
    key = secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)
    if not key:
        raise ValueError("the webhook secret is empty")
    return key


def _digest(key: bytes, timestamp: int, body: bytes) -> str:
    return hmac.new(key, f"{timestamp}.".encode("ascii") + body, hashlib.sha256).hexdigest()


def sign(secret: str | bytes, timestamp: int, body: bytes) -> str:
    """The ``Walletnet-Signature`` header value for ``body`` sent at ``timestamp`` (Unix seconds)."""
    if isinstance(timestamp, bool) or not isinstance(timestamp, int) or timestamp < 0:
        raise ValueError("timestamp must be a non-negative integer (Unix seconds)")
    return f"t={timestamp},v1={_digest(_key(secret), timestamp, body)}"


def _parse(header: str) -> tuple[int, list[str]]:
    timestamps: list[str] = []
    signatures: list[str] = []
    for item in header.split(","):
        name, sep, value = item.strip().partition("=")
        if not sep:
            raise WebhookSignatureError("malformed webhook signature header: expected t=...,v1=...")
        if name == "t":
            timestamps.append(value)
        elif name == "v1":
            signatures.append(value.lower())
        # other schemes (v0, a future v2) are ignored
    if len(timestamps) != 1 or _TIMESTAMP.fullmatch(timestamps[0]) is None:
        raise WebhookSignatureError("malformed webhook signature header: it needs exactly one t=<Unix seconds>")
    if not signatures or any(_SIGNATURE.fullmatch(s) is None for s in signatures):
        raise WebhookSignatureError("malformed webhook signature header: it needs v1=<64 hex digits>")
    return int(timestamps[0]), signatures


def verify(secret: str | bytes, header: str, body: bytes, *, tolerance: int = DEFAULT_TOLERANCE,
           now: int | None = None) -> int:
    """Check a webhook: ``header`` (the ``Walletnet-Signature`` value) must sign ``body`` with ``secret``
    at a time within ``tolerance`` seconds of ``now`` (default: this machine's clock). Returns the signed
    timestamp.

    Raises:
        WebhookSignatureError: the header is malformed, no ``v1`` signature matches, or the timestamp is
            outside the tolerance (an old request replayed, or a clock far off).
    """
    timestamp, signatures = _parse(header)
    expected = _digest(_key(secret), timestamp, body)
    matched = False
    for candidate in signatures:  # no early exit: each comparison is constant-time, and so is the loop
        matched |= hmac.compare_digest(candidate, expected)
    if not matched:
        raise WebhookSignatureError("the webhook signature does not match the body (wrong secret or altered body)")
    current = int(time.time()) if now is None else now
    if abs(current - timestamp) > tolerance:
        raise WebhookSignatureError(
            f"the webhook timestamp is {current - timestamp} s away from now (tolerance {tolerance} s): "
            "an old request replayed, or a clock off")
    return timestamp
