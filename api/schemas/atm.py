"""Request and response bodies of ATM cash: the registry and cash of the bank's ATMs (``/v1/atms``) and vault
(``/v1/vault``), and the ATMs' own messages (``/v1/atm``)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from pydantic import BaseModel, Field

from api.common import ADDRESS_PATTERN, MAX_DB_INT, Money, RequestModel, StrictInt, qr_text
from api.shown_once import shown_once
from node.atm.models import Atm
from wallet_sdk.client.atm import ATM_ID_PATTERN, EVENT_ID_PATTERN, CashMovement

__all__ = [
    "AtmCashOut",
    "AtmIn",
    "AtmOut",
    "AtmRegistrationOut",
    "CashAmountIn",
    "CashInIn",
    "CashMovementOut",
    "CashOutIn",
    "DispenseIn",
    "FaultIn",
    "NoteCountIn",
    "VaultCashOut",
    "atm_cash_out",
    "atm_out",
    "movement_out",
    "vault_cash_out",
]

MAX_MINOR = MAX_DB_INT


class AtmIn(RequestModel):
    atm_id: str = Field(pattern=ATM_ID_PATTERN, description="the bank's id of the device", examples=["ATM-0001"])
    name: str = Field(min_length=1, max_length=100)
    location: str | None = Field(None, max_length=200)


class AtmOut(BaseModel):
    atm_id: str
    name: str
    location: str | None = None
    state: str = Field(description="active or disabled")
    created_at: datetime
    disabled_at: datetime | None = None


class AtmRegistrationOut(BaseModel):
    atm: AtmOut
    secret: str = shown_once(description="the device secret that signs the ATM's messages: shown once, load it "
                                         "into the ATM; the bank keeps it encrypted")


def atm_out(atm: Atm) -> AtmOut:
    return AtmOut(atm_id=atm.atm_id, name=atm.name, location=atm.location, state=atm.state.value,
                  created_at=atm.created_at, disabled_at=atm.disabled_at)


class CashAmountIn(RequestModel):
    amount: StrictInt = Field(gt=0, le=MAX_MINOR, description="notes moved, in minor units")
    currency: str | None = Field(None, description="must be the node's currency if given")


class CashMovementOut(BaseModel):
    reference: str = Field(description="the ledger entry's reference")
    amount: Money
    vault_cash: Money = Field(description="the vault's cash after the movement")
    atm_id: str | None = None
    atm_cash: Money | None = Field(None, description="the ATM's cash after the movement")


class AtmCashOut(BaseModel):
    atm_id: str
    cash: Money = Field(description="the notes in the ATM by the ledger")
    reserved: Money = Field(description="of which promised to cash-outs in progress")


class VaultCashOut(BaseModel):
    cash: Money


def movement_out(moved: CashMovement) -> CashMovementOut:
    """The node's booked movement (the SDK's CashMovement, which this body describes) as the response body."""
    return CashMovementOut(**asdict(moved))


def atm_cash_out(atm_id: str, cash_minor: int, reserved_minor: int, currency: str) -> AtmCashOut:
    return AtmCashOut(atm_id=atm_id, cash=Money(amount=cash_minor, currency=currency),
                      reserved=Money(amount=reserved_minor, currency=currency))


def vault_cash_out(cash_minor: int, currency: str) -> VaultCashOut:
    return VaultCashOut(cash=Money(amount=cash_minor, currency=currency))


class NoteCountIn(RequestModel):
    denomination: StrictInt = Field(gt=0, le=MAX_MINOR, description="the note's value in minor units (5000 = 50.00)")
    count: StrictInt = Field(gt=0, le=100_000)


class _AtmEventIn(RequestModel):
    event_id: str = Field(pattern=EVENT_ID_PATTERN, description="the ATM's id of this event: re-sending it "
                                                                "returns the first answer")


class CashInIn(_AtmEventIn):
    wallet: str = Field(pattern=ADDRESS_PATTERN, description="the wallet to credit")
    amount: StrictInt = Field(gt=0, le=MAX_MINOR, description="the notes' total in minor units")
    currency: str | None = Field(None, description="must be the node's currency if given")
    notes: list[NoteCountIn] = Field(min_length=1, max_length=50, description="the counted notes; they must add "
                                                                              "up to amount")


class CashOutIn(_AtmEventIn):
    code: str = qr_text("the withdrawal code scanned from the app's QR code (WALLETNET:1:HOLD:...)")
    totp: str | None = Field(None, pattern=r"^[0-9]{6,8}$",
                             description="the customer's TOTP code, for amounts above the bank's threshold")


class DispenseIn(_AtmEventIn):
    pass


class FaultIn(_AtmEventIn):
    reason: str = Field(min_length=1, max_length=200, description="what went wrong, e.g. 'cassette jam'")
