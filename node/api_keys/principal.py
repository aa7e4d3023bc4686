"""Who a request acts as: an API key, or a customer session one minted (see :func:`node.api_keys.authenticate`).

Endpoints read the same attributes from both (``id``, ``scope_set``, ``merchant_id``); a customer session adds
the customer it is bound to (``customer_ref``) and its own id, so the API can keep it to that customer's wallets
(api/customers.py) and record it on the operations it makes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from node.api_keys.models import ApiKey, CustomerSession, Scope

__all__ = ["STAFF_SCOPES", "Principal"]

STAFF_SCOPES = frozenset({Scope.TELLER, Scope.ADMIN, Scope.REGULATOR})
"""Scopes that act for any customer of the bank (a teller at the counter, the back office, the regulator)."""


@dataclass(frozen=True)
class Principal:
    """An authenticated caller. ``id`` is the API key's id; for a customer session it is the id of the key that
    minted it (so operations keep naming an API key), and ``session_id``/``customer_ref`` say which session."""

    id: int
    name: str
    scopes: tuple[str, ...]
    merchant_id: str | None = None
    customer_ref: str | None = None
    session_id: int | None = None
    expires_at: datetime | None = None  # a customer session's end (node.api_keys.cache keeps it no longer)

    @classmethod
    def of_key(cls, key: ApiKey) -> Principal:
        return cls(id=key.id, name=key.name, scopes=tuple(sorted(key.scopes)), merchant_id=key.merchant_id)

    @classmethod
    def of_session(cls, customer_session: CustomerSession) -> Principal:
        return cls(id=customer_session.api_key_id, name=f"customer session {customer_session.id}",
                   scopes=(Scope.APP.value,), customer_ref=customer_session.customer_ref,
                   session_id=customer_session.id, expires_at=customer_session.expires_at)

    @property
    def scope_set(self) -> frozenset[Scope]:
        return frozenset(Scope(s) for s in self.scopes)

    @property
    def is_customer_session(self) -> bool:
        return self.session_id is not None

    @property
    def bare_app_key(self) -> bool:
        """An API key whose only customer-facing scope is ``app``: it is bound to no customer, so it may not act
        on a customer's wallets (unless the node's transition setting allows it; api/customers.py)."""
        return (not self.is_customer_session and Scope.APP in self.scope_set
                and not self.scope_set & STAFF_SCOPES)

    @property
    def idempotency_scope(self) -> str:
        """Whose Idempotency-Keys share one namespace: the API key's, or one customer's through that key (two
        customers' apps behind one login backend never see each other's recorded answers)."""
        if self.customer_ref is not None:
            return f"apikey:{self.id}:customer:{self.customer_ref}"
        return f"apikey:{self.id}"

    def __repr__(self) -> str:
        who = f", customer={self.customer_ref!r}" if self.customer_ref is not None else ""
        return f"Principal(id={self.id!r}, name={self.name!r}, scopes={list(self.scopes)!r}{who})"
