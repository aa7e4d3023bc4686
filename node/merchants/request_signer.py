"""The key that signs this bank's payment requests: MerchantSettlement's request signer.

Every payment request the bank issues carries the bank's EIP-712 signature of its terms (acquirer, merchant,
order, amount, expiry); the settlement contract refuses a payment without it, and so does the payer's bank.
Requests are made in the API process, which must not hold an operator key (an operator key moves money). So
the node makes a key of its own, once, keeps it sealed with the custody key like custodial wallet keys, and
registers it on chain with ``setRequestSigner`` through the outbox (``set_request_signer``), in the same
transaction that made it: exactly once. On chain that key signs requests and can do nothing else.

The first onboarding makes it (its row goes before the merchant's registration, so the key is on chain by the
time the merchant is active); a bank whose merchants were onboarded before gets it with its next request.
Requests signed before the registration is mined are refused by payers' banks until it is.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import literal, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from node.db.base import utcnow
from node.merchants.models import RequestSigner
from node.outbox import OutboxRow, OutboxState, enqueue
from node.settings import NodeSettings
from node.wallets.models import open_key, seal_key
from wallet_sdk.keys import WalletKey

__all__ = ["PAYMENT_REQUESTS", "registered_signer", "request_signing_key"]

PAYMENT_REQUESTS: Final = "payment-requests"  # the purpose of the one key this module keeps


_SEALED = select(RequestSigner.key_ciphertext).where(RequestSigner.purpose == PAYMENT_REQUESTS)
_OPENED: dict[str, WalletKey] = {}  # sealed key -> the key: every payment at a POS signs with it


def _current(session: Session) -> RequestSigner | None:
    return session.scalars(select(RequestSigner).where(RequestSigner.purpose == PAYMENT_REQUESTS)).one_or_none()


def _open(settings: NodeSettings, sealed: str) -> WalletKey:
    key = _OPENED.get(sealed)
    if key is None:
        key = _OPENED.setdefault(sealed, open_key(settings, sealed))
    return key


def request_signing_key(session: Session, settings: NodeSettings) -> WalletKey:
    """The key that signs this bank's payment requests; made, sealed and queued for registration on chain (in
    the caller's transaction) if the bank has none yet."""
    sealed = session.connection().execute(_SEALED).scalar()
    if sealed is not None:
        return _open(settings, sealed)
    record = _current(session)
    if record is None:
        key = WalletKey.create()
        try:
            with session.begin_nested():
                session.add(RequestSigner(purpose=PAYMENT_REQUESTS, address=str(key.address),
                                          key_ciphertext=seal_key(settings, key), created_at=utcnow()))
        except IntegrityError:  # a concurrent request made it first: use that one
            record = _current(session)
            assert record is not None
        else:
            enqueue(session, f"request-signer:{key.address}", "set_request_signer", {"signer": str(key.address)})
            return key
    return _open(settings, record.key_ciphertext)


_REGISTERED = (select(RequestSigner.address)
               .join(OutboxRow, OutboxRow.idempotency_key == literal("request-signer:") + RequestSigner.address)
               .where(RequestSigner.purpose == PAYMENT_REQUESTS, OutboxRow.state == OutboxState.CONFIRMED))


def registered_signer(session: Session) -> str | None:
    """The address of this bank's request signer once its ``setRequestSigner`` is confirmed on chain (None
    before): a payer's bank of this bank's own merchants knows its signer without asking the chain."""
    return session.connection().execute(_REGISTERED).scalar()
