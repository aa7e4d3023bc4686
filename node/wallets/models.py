"""The bank's own record of the wallets it opened: who the customer is, how the wallet is kept, which bank
account is bound to it. The chain has the wallet's tier and status too (WalletRegistry); this table holds
what must stay off chain (customer reference, the bound account number and its salt, a custodial key)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from node.custody import custody_for
from node.db.base import Base, IdType, UTCDateTime, one_or_none, str_enum, utcnow
from node.errors import InvalidStateError
from node.settings import NodeSettings
from wallet_sdk.keys import WalletKey

__all__ = ["CustodyMode", "Verification", "WalletRecord", "WalletState", "custodial_key", "find_wallet",
           "open_key", "seal_key"]


class CustodyMode(StrEnum):
    CUSTODIAL = "custodial"  # the bank holds the key (encrypted at rest) and signs for the customer
    SELF = "self"  # the customer's app holds the key; the bank only registered the address


class Verification(StrEnum):
    """How the customer was identified when the wallet was opened; it decides the tier."""

    IN_PERSON = "in_person"  # at the counter: tier 1
    BANK_ACCOUNT = "bank_account"  # an account of this bank verified: tier 2
    IDENTITY_DOCUMENT = "identity_document"  # an identity document verified: tier 3
    PHONE = "phone"  # phone number only: tier 4


class WalletState(StrEnum):
    PENDING = "pending"  # opening sent to the chain
    ACTIVE = "active"
    FROZEN = "frozen"
    CLOSING = "closing"  # closure sent to the chain
    CLOSED = "closed"
    FAILED = "failed"  # the opening was refused on chain


class WalletRecord(Base):
    __tablename__ = "wallets"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    address: Mapped[str] = mapped_column(String(42), unique=True)  # EIP-55
    customer_ref: Mapped[str] = mapped_column(String(64), index=True)  # the bank's customer number
    enrolment_key: Mapped[str | None] = mapped_column(String(100), unique=True)  # makes an opening idempotent
    channel: Mapped[str] = mapped_column(String(16))  # teller, app, bulk
    verification: Mapped[Verification] = mapped_column(str_enum(Verification, "wallet_verification"))
    tier: Mapped[int] = mapped_column(Integer)
    custody: Mapped[CustodyMode] = mapped_column(str_enum(CustodyMode, "wallet_custody"))
    state: Mapped[WalletState] = mapped_column(str_enum(WalletState, "wallet_state"))
    phone: Mapped[str | None] = mapped_column(String(32))
    account_code: Mapped[str | None] = mapped_column(String(128))  # the bound deposit account, if any
    account_salt: Mapped[str | None] = mapped_column(String(66))  # 0x + 64 hex: salts the on-chain hash
    account_hash: Mapped[str | None] = mapped_column(String(66))  # what WalletRegistry holds
    key_ciphertext: Mapped[str | None] = mapped_column(Text)  # custodial only: the key, encrypted (custody.py)
    freeze_reason: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def __repr__(self) -> str:  # never the key
        return f"WalletRecord({self.address!r}, customer={self.customer_ref!r}, tier={self.tier}, {self.state})"


def find_wallet(session: Session, address: str, *, lock: bool = False) -> WalletRecord | None:
    """The record of ``address`` (an EIP-55 address), or None if this bank did not open it."""
    return one_or_none(session, select(WalletRecord).where(WalletRecord.address == address), lock=lock)


def seal_key(settings: NodeSettings, key: WalletKey | str) -> str:
    """A private key the bank keeps (a custodial wallet's, or the key that signs its payment requests; a
    :class:`WalletKey` or its 0x-hex), encrypted with the node's custody key (for ``key_ciphertext``)."""
    text = key if isinstance(key, str) else key.export_private_key()
    return custody_for(settings).encrypt(text.encode("ascii"))


def open_key(settings: NodeSettings, ciphertext: str) -> WalletKey:
    """The key :func:`seal_key` sealed."""
    return WalletKey.from_private_key(custody_for(settings).decrypt(ciphertext).decode("ascii"))


def custodial_key(settings: NodeSettings, record: WalletRecord) -> WalletKey:
    """The key the bank keeps for a custodial wallet, to sign the customer's authorizations.

    Raises:
        InvalidStateError: the wallet is self-custody (its key is in the customer's app).
    """
    if record.custody is not CustodyMode.CUSTODIAL or not record.key_ciphertext:
        raise InvalidStateError(f"wallet {record.address} is self-custody: the customer's app signs for it",
                                wallet=record.address)
    return open_key(settings, record.key_ciphertext)
