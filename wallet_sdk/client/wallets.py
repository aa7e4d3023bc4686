"""Wallets: opening (counter, app), bulk enrolment, tier changes, freeze/unfreeze, bank-account binding, closure.

::

    opening = bank.open_wallet("CUST-1", "in_person")          # teller key: tier 1, the bank keeps the key
    op = bank.wait_for_operation(opening.operation.id)           # completed once the chain registered it
    bank.bind_account(opening.wallet.address, "DEP-0001")        # salted hash on chain, number off chain
    bank.close_wallet(opening.wallet.address, totp="123456")     # the balance goes to the bound account

A self-custody wallet is registered by its address; in the app channel the customer's key proves it holds the
address with :func:`sign_registration` (an EIP-712 signature that names the bank and the customer).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Final, Literal, cast

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_typing import ChecksumAddress

from wallet_sdk.client._core import ApiRequest, Endpoint, model
from wallet_sdk.client.common import ClientArgumentError, wallet_path
from wallet_sdk.client.models import Money, Operation
from wallet_sdk.keys import WalletKey

__all__ = [
    "REGISTRATION_DOMAIN",
    "AsyncWalletsEndpoints",
    "Custody",
    "Enrolment",
    "EnrolmentResult",
    "EnrolmentRow",
    "RowError",
    "Verification",
    "Wallet",
    "WalletOpening",
    "WalletRecord",
    "WalletsEndpoints",
    "registration_signer",
    "registration_typed_data",
    "sign_registration",
]

Verification = Literal["in_person", "bank_account", "identity_document", "phone"]
"""How the customer was identified; it decides the tier (1, 2, 3, 4). The counter does ``in_person``, the app
the other three; bulk enrolment any."""
Custody = Literal["custodial", "self"]
"""``custodial``: the bank makes and keeps the key. ``self``: the customer's app holds it and registers the address."""


# ------------------------------------------------------------------ proof of key possession

REGISTRATION_DOMAIN: Final = {"name": "walletnet wallet registration", "version": "1"}
_REGISTRATION_TYPES: Final = {
    "EIP712Domain": [{"name": "name", "type": "string"}, {"name": "version", "type": "string"}],
    "WalletRegistration": [{"name": "wallet", "type": "address"}, {"name": "bank", "type": "string"},
                           {"name": "customerRef", "type": "string"}],
}


def registration_typed_data(wallet: str, bank: str, customer_ref: str) -> dict[str, Any]:
    """The EIP-712 message a self-custody key signs to register its address with ``bank`` for ``customer_ref``.

    Naming the bank and the customer keeps a proof from being reused for another bank or customer."""
    return {"types": _REGISTRATION_TYPES, "primaryType": "WalletRegistration", "domain": dict(REGISTRATION_DOMAIN),
            "message": {"wallet": wallet, "bank": bank, "customerRef": customer_ref}}


def sign_registration(key: WalletKey, bank: str, customer_ref: str) -> str:
    """The ``proof`` of :meth:`WalletsEndpoints.open_wallet` for a self-custody wallet: 0x + 130 hex digits."""
    signed = key.sign_typed_data(registration_typed_data(key.address, bank, customer_ref))
    return "0x" + bytes(signed.signature).hex()


def registration_signer(wallet: str, bank: str, customer_ref: str, proof: str) -> ChecksumAddress:
    """Who signed ``proof`` over the registration of ``wallet`` (compare it with ``wallet``).

    Raises:
        ValueError: ``proof`` is not a 65-byte signature in hex.
    """
    raw = proof[2:] if proof.startswith("0x") else proof
    try:
        signature = bytes.fromhex(raw)
    except ValueError:
        raise ValueError("the proof is not hex") from None
    if len(signature) != 65:
        raise ValueError("the proof is not a 65-byte signature")
    message = encode_typed_data(full_message=registration_typed_data(wallet, bank, customer_ref))
    try:
        return cast(ChecksumAddress, Account.recover_message(message, signature=signature))
    except Exception:  # eth_keys raises several types for a signature off the curve
        raise ValueError("the proof is not a valid signature") from None


# ------------------------------------------------------------------ documents


@dataclass(frozen=True)
class Wallet:
    """A wallet as the chain has it (``GET /v1/wallets/{address}``)."""

    address: str
    bank: str  # code of the custodian bank
    tier: int
    status: str  # active, frozen, closed
    balance: Money  # spendable (money on hold excluded)


@dataclass(frozen=True)
class WalletRecord:
    """The bank's own record of a wallet it opened."""

    address: str
    customer_ref: str
    channel: str  # teller, app, bulk
    verification: str
    tier: int
    custody: str  # custodial or self
    state: str  # pending, active, frozen, closing, closed, failed
    created_at: str
    updated_at: str
    phone: str | None = None
    account: str | None = None  # the bound deposit account
    freeze_reason: int | None = None


@dataclass(frozen=True)
class WalletOpening:
    """The answer of an opening: the wallet and the operation registering it on chain. ``created`` is False
    when this enrolment had opened the wallet before (the same wallet and operation are returned)."""

    wallet: WalletRecord
    operation: Operation
    created: bool = True


@dataclass(frozen=True)
class EnrolmentRow:
    """One existing customer to enrol in bulk (the columns of the enrolment CSV)."""

    customer_ref: str
    verification: str
    tier: int | str | None = None  # default: the verification's tier
    custody: str = "custodial"
    address: str | None = None  # self-custody only
    phone: str | None = None
    account: str | None = None  # a deposit account of the bank to bind

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None and v != ""}


@dataclass(frozen=True)
class RowError:
    """Why one row was not enrolled: a problem ``type`` URI, its title, and the field at fault if any."""

    type: str
    title: str
    detail: str | None = None
    field: str | None = None

    @property
    def slug(self) -> str:
        return self.type.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class EnrolmentResult:
    """The outcome of one row: ``opened`` (new wallet), ``existing`` (enrolled before) or ``failed``."""

    index: int
    customer_ref: str
    status: str
    wallet: str | None = None
    operation_id: str | None = None
    tier: int | None = None
    custody: str | None = None
    error: RowError | None = None

    @property
    def ok(self) -> bool:
        return self.status in ("opened", "existing")


@dataclass(frozen=True)
class Enrolment:
    results: list[EnrolmentResult] = field(default_factory=list)


# ------------------------------------------------------------------ builders


def _body(**fields: Any) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}


def get_wallet(address: str) -> ApiRequest[Wallet]:
    """The wallet's custodian bank, tier, status and spendable balance, read from the chain."""
    return ApiRequest("GET", wallet_path(address), model(Wallet))


def get_wallet_record(address: str) -> ApiRequest[WalletRecord]:
    """This bank's record of a wallet it opened: customer, custody, state, bound account."""
    return ApiRequest("GET", wallet_path(address, "/record"), model(WalletRecord))


def open_wallet(customer_ref: str, verification: Verification, *, custody: Custody = "custodial",
                address: str | None = None, proof: str | None = None, phone: str | None = None,
                account: str | None = None, channel: Literal["teller", "app"] | None = None,
                idempotency_key: str | None = None) -> ApiRequest[WalletOpening]:
    """Open a wallet for a customer: at the counter (teller key, ``in_person``: tier 1) or in the app (app key:
    ``bank_account`` with ``account``: tier 2, ``identity_document``: tier 3, ``phone`` with ``phone``: tier 4).

    A ``custodial`` wallet's key is made and kept by the bank; a ``self`` wallet is the ``address`` of the
    customer's key, with ``proof`` (:func:`sign_registration`) required in the app. Opening again for the same
    customer and channel returns the same wallet. ``channel`` is needed only for a key with both scopes.
    """
    if not isinstance(customer_ref, str) or not customer_ref:
        raise ClientArgumentError("customer_ref must be a non-empty str")
    body = _body(customer_ref=customer_ref, verification=verification, custody=custody, address=address,
                 proof=proof, phone=phone, account=account, channel=channel)
    return ApiRequest("POST", "/v1/wallets", model(WalletOpening), json=body, idempotent=True,
                      idempotency_key=idempotency_key)


def enrol_wallets(rows: Sequence[EnrolmentRow | Mapping[str, Any]], *,
                  idempotency_key: str | None = None) -> ApiRequest[Enrolment]:
    """Enrol existing customers in bulk (admin or teller key): one result per row, in order. Each customer is
    enrolled once (``bulk:<customer_ref>``), so sending a row again returns its wallet as ``existing``."""
    if not rows:
        raise ClientArgumentError("send at least one row")
    items = [row.to_json() if isinstance(row, EnrolmentRow) else dict(row) for row in rows]
    return ApiRequest("POST", "/v1/wallets/enrolments", model(Enrolment), json={"rows": items}, idempotent=True,
                      idempotency_key=idempotency_key)


def change_tier(wallet: str, tier: int, *, reason: str | None = None,
                idempotency_key: str | None = None) -> ApiRequest[Operation]:
    """Move a wallet to tier 1..4 (teller or admin key); its limits follow once the chain has it."""
    return ApiRequest("POST", wallet_path(wallet, "/tier"), model(Operation), json=_body(tier=tier, reason=reason),
                      idempotent=True, idempotency_key=idempotency_key)


def freeze_wallet(wallet: str, reason: int, *, note: str | None = None,
                  idempotency_key: str | None = None) -> ApiRequest[Operation]:
    """Freeze a wallet with a reason code 1..65535 (teller or admin key): it can neither send nor receive."""
    return ApiRequest("POST", wallet_path(wallet, "/freeze"), model(Operation), json=_body(reason=reason, note=note),
                      idempotent=True, idempotency_key=idempotency_key)


def unfreeze_wallet(wallet: str, *, note: str | None = None,
                    idempotency_key: str | None = None) -> ApiRequest[Operation]:
    """Lift the bank's freeze of a wallet (teller or admin key); a regulator's freeze stays."""
    return ApiRequest("POST", wallet_path(wallet, "/unfreeze"), model(Operation), json=_body(note=note),
                      idempotent=True, idempotency_key=idempotency_key)


def bind_account(wallet: str, account: str, *, idempotency_key: str | None = None) -> ApiRequest[Operation]:
    """Bind a deposit account of this bank to the wallet (teller or app key): redemptions and the closure pay
    out to it. The chain keeps only a salted hash of the account code."""
    return ApiRequest("POST", wallet_path(wallet, "/account"), model(Operation), json={"account": account},
                      idempotent=True, idempotency_key=idempotency_key)


def close_wallet(wallet: str, *, totp: str | None = None, idempotency_key: str | None = None) -> ApiRequest[Operation]:
    """Close a wallet for good (teller or app key): the chain burns its balance, which the bank credits to the
    bound account. ``totp``: the customer's code, needed when the balance is above the second-factor threshold."""
    return ApiRequest("POST", wallet_path(wallet, "/close"), model(Operation), json={}, idempotent=True,
                      idempotency_key=idempotency_key, totp=totp)


class WalletsEndpoints:
    get_wallet = Endpoint(get_wallet)
    get_wallet_record = Endpoint(get_wallet_record)
    open_wallet = Endpoint(open_wallet)
    enrol_wallets = Endpoint(enrol_wallets)
    change_tier = Endpoint(change_tier)
    freeze_wallet = Endpoint(freeze_wallet)
    unfreeze_wallet = Endpoint(unfreeze_wallet)
    bind_account = Endpoint(bind_account)
    close_wallet = Endpoint(close_wallet)


AsyncWalletsEndpoints = WalletsEndpoints  # one class serves both clients
