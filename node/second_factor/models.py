"""The TOTP second factor's tables (node.second_factor.service).

- ``second_factors``: a wallet's secret (encrypted), the time step of the last code accepted (a code is used
  once), and the end of the cooling-off after a teller's reset.
- ``second_factor_failures``: wrong codes in a row and the lock-out. A row of its own, because a wrong code
  is counted in a transaction of its own (node.db.durable) while the request that brought it, which holds the
  ``second_factors`` row locked, rolls back.
- ``second_factor_audit``: every change of a wallet's second factor and every lock-out: who (API key, and for
  a teller's reset the branch and operator), when, why, and until when it holds.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

import node.api_keys.models  # noqa: F401  (api_keys, the target of api_key_id)
from node.db.base import Base, IdType, UTCDateTime, str_enum, utcnow

__all__ = ["SecondFactor", "SecondFactorAction", "SecondFactorAudit", "SecondFactorFailures"]


class SecondFactor(Base):
    __tablename__ = "second_factors"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    wallet: Mapped[str] = mapped_column(String(42), unique=True)
    secret_ciphertext: Mapped[str] = mapped_column(Text)
    last_step: Mapped[int | None] = mapped_column(BigInteger)  # time step of the last code accepted
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    cooling_off_until: Mapped[datetime | None] = mapped_column(UTCDateTime())  # after a teller's reset

    def __repr__(self) -> str:  # never the secret
        return f"SecondFactor(wallet={self.wallet!r})"


class SecondFactorFailures(Base):
    __tablename__ = "second_factor_failures"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    wallet: Mapped[str] = mapped_column(String(42), unique=True)
    failures: Mapped[int] = mapped_column(Integer)  # wrong codes since the last success, lock-out or reset
    lockouts: Mapped[int] = mapped_column(Integer)  # lock-outs since the last success or reset (the back-off)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SecondFactorAction(StrEnum):
    ENROLLED = "enrolled"  # the first secret
    CHANGED = "changed"  # a new secret, confirmed with the current code
    RESET = "reset"  # a new secret by a teller, in person, without the code
    LOCKED = "locked"  # too many wrong codes


class SecondFactorAudit(Base):
    __tablename__ = "second_factor_audit"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    wallet: Mapped[str] = mapped_column(String(42), index=True)
    action: Mapped[SecondFactorAction] = mapped_column(str_enum(SecondFactorAction, "second_factor_action"))
    api_key_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("api_keys.id"))
    branch_id: Mapped[str | None] = mapped_column(String(64))  # a teller's reset: where
    operator_id: Mapped[str | None] = mapped_column(String(64))  # a teller's reset: who at the branch
    reason: Mapped[str | None] = mapped_column(String(500))
    until: Mapped[datetime | None] = mapped_column(UTCDateTime())  # end of the cooling-off or lock-out
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
