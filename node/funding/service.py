"""Bank money into and out of wallets: customer deposit accounts, top-up (account -> wallet) and redemption
(wallet -> account).

Top-up: in one transaction the service holds the amount on the wallet's bound deposit account, records a
``topup`` operation and enqueues a ``mint``. When the mint is confirmed the completion captures the hold
against ``chain:issued`` under the mint's ref; when it fails (a cap, a paused network ...) it releases the hold.
So the customer's money is either in the wallet or back in the account, never both or neither.

Redemption: the customer signs a Redemption (the bank signs it for custodial wallets); the service checks it
off chain, against the node's view of the chain (no JSON-RPC call when the view admits it), and enqueues a
``redeem`` (a burn carrying the ref). Only when the burn is confirmed does the
completion credit the account, debiting ``chain:issued``; a failed burn books nothing.

Both book ``chain:issued`` under the ref the chain effect carries (see :mod:`node.reconcile.service`); the
completions that do it are in :mod:`node.funding.completions`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from sqlalchemy.orm import Session

from node.errors import (
    AccountNotBoundError,
    AuthorizationInvalidError,
    FlowConflictError,
    FlowNotFoundError,
    FlowValidationError,
)
from node.funding import completions as _completions  # noqa: F401  (registers the top-up and redemption completions)
from node.ledger import open_ledger
from node.ledger.accounts import SYSTEM_ACCOUNTS, VAULT, ensure_system_accounts
from node.ledger.adapter import CoreBankingLedger
from node.ledger.builtin import SqlLedger
from node.ledger.errors import AccountNotFoundError
from node.ledger.types import AccountKind
from node.operations.checks import (
    check_authorization,
    check_outflow,
    decode_signed,
    deposit_currency,
    nonce_in_flight,
)
from node.operations.local_state import local_now
from node.operations.models import Operation, OperationKind, new_operation, new_ref, operation_payload
from node.outbox import enqueue
from node.risk import service as risk
from node.second_factor import service as second_factor
from node.settings import NodeSettings
from node.wallets.access import CustodiedWallet, custodied_wallet
from node.wallets.models import CustodyMode, custodial_key
from node.writer.kinds import redeem_payload
from wallet_sdk.authorizations import Redemption, SignedAuthorization
from wallet_sdk.chain.network import Network, to_address

__all__ = [
    "CUSTODIAL_VALIDITY",
    "MAX_AMOUNT",
    "DepositAccount",
    "ExternalLedgerError",
    "decode_redemption",
    "deposit_account",
    "open_deposit_account",
    "redeem",
    "signed_redemption",
    "top_up",
]

MAX_AMOUNT: Final = 2**63 - 1  # minor units: what the ledger and the operations table hold
CUSTODIAL_VALIDITY: Final = 3600  # seconds (chain time) a redemption the bank signs for a custodial wallet is valid


class ExternalLedgerError(FlowConflictError):
    """The node books to a core-banking system: customer accounts are opened there, not through the node."""


# ------------------------------------------------------------------ deposit accounts


@dataclass(frozen=True)
class DepositAccount:
    code: str
    customer_ref: str | None
    name: str
    currency: str
    balance_minor: int
    available_minor: int


def _builtin(ledger: CoreBankingLedger, settings: NodeSettings) -> SqlLedger:
    if not isinstance(ledger, SqlLedger):
        raise ExternalLedgerError(f"this node books to the core-banking system ({settings.ledger_adapter}): "
                                  "customer deposit accounts are opened there", ledger=settings.ledger_adapter)
    return ledger


def _check_amount(amount_minor: int, field: str = "amount", *, allow_zero: bool = False) -> int:
    if isinstance(amount_minor, bool) or not isinstance(amount_minor, int) \
            or not (0 if allow_zero else 1) <= amount_minor <= MAX_AMOUNT:
        raise FlowValidationError(field, f"expected an integer of minor units from {0 if allow_zero else 1} "
                                         f"to {MAX_AMOUNT}")
    return amount_minor


def open_deposit_account(session: Session, settings: NodeSettings, *, code: str, customer_ref: str,
                         opening_balance_minor: int = 0, name: str = "") -> DepositAccount:
    """Open a customer's deposit account in the built-in ledger; the opening balance is cash the customer paid
    in at the branch (debit ``cash:vault``, credit the account).

    Raises:
        ExternalLedgerError: the node's ledger is not the built-in one.
        FlowValidationError: ``code`` is one of the node's own accounts (or an ATM's).
        FlowConflictError: an account ``code`` exists already.
    """
    _check_amount(opening_balance_minor, "opening_balance", allow_zero=True)
    ledger = _builtin(open_ledger(session, settings.ledger_adapter), settings)
    if code in SYSTEM_ACCOUNTS or code.startswith("cash:"):
        raise FlowValidationError("code", f"{code!r} is reserved for the bank's own accounts")
    ensure_system_accounts(ledger, settings.currency)
    try:
        ledger.account_info(code)
    except AccountNotFoundError:
        pass
    else:
        raise FlowConflictError(f"account {code} exists already", account=code)
    ledger.open_account(code, AccountKind.CUSTOMER_DEPOSIT, settings.currency, name=name, owner_ref=customer_ref)
    if opening_balance_minor:
        ledger.credit(code, opening_balance_minor, contra=VAULT, reference=f"account:{code}:opening",
                      memo="opening cash deposit at the branch")
    return deposit_account(session, settings, code)


def deposit_account(session: Session, settings: NodeSettings, code: str) -> DepositAccount:
    """A customer deposit account's balance and available balance (balance less holds).

    Raises:
        FlowNotFoundError: no such customer deposit account.
    """
    ledger = open_ledger(session, settings.ledger_adapter)
    try:
        info = ledger.account_info(code)
        if info.kind is not AccountKind.CUSTOMER_DEPOSIT:
            raise AccountNotFoundError(code)
        balance = ledger.balance(code)
        available = ledger.available(code)
    except AccountNotFoundError:
        raise FlowNotFoundError(f"no customer deposit account {code}", account=code) from None
    return DepositAccount(code=code, customer_ref=info.owner_ref, name=info.name, currency=balance.currency,
                          balance_minor=balance.amount_minor, available_minor=available.amount_minor)


# ------------------------------------------------------------------ top-up


def _bound_account(wallet: CustodiedWallet) -> str:
    account = wallet.record.account_code
    if not account:
        raise AccountNotBoundError(f"no bank account is bound to wallet {wallet.address}: bind one first",
                                   wallet=wallet.address)
    return account


def top_up(session: Session, settings: NodeSettings, network: Network, *, wallet: str, amount_minor: int,
           channel: str, api_key_id: int | None = None, totp_code: str | None = None) -> Operation:
    """Move ``amount_minor`` from the wallet's bound deposit account into the wallet (hold now, mint, capture).

    Raises:
        FlowNotFoundError, NotCustodianError, WalletFrozenError, WalletNotActiveError: see ``custodied_wallet``.
        AccountNotBoundError: the wallet has no bound account.
        SecondFactorRequiredError / SecondFactorInvalidError: above the threshold without a valid code.
        InsufficientFundsError: the account's available balance is below the amount (nothing is written).
    """
    _check_amount(amount_minor)
    found = custodied_wallet(session, network, settings, wallet)
    account = _bound_account(found)
    ledger = open_ledger(session, settings.ledger_adapter)
    deposit_currency(ledger, account, settings.currency)
    second_factor.require(session, settings, found.address, amount_minor, totp_code, api_key_id=api_key_id)
    ensure_system_accounts(ledger, settings.currency)
    ref = new_ref("TOPUP")
    hold_ref = f"topup:{ref}"
    ledger.hold(account, amount_minor, reference=hold_ref, memo=f"top-up of wallet {found.address}")
    op = new_operation(session, OperationKind.TOPUP, channel=channel, api_key_id=api_key_id, wallet=found.address,
                       amount_minor=amount_minor, currency=settings.currency, account=account, ref=ref,
                       details={"hold": hold_ref}, ledger=settings.ledger_adapter)
    enqueue(session, f"{op.public_id}:mint", "mint",
            operation_payload(op, wallet=found.address, amount=amount_minor, ref=ref))
    return op


# ------------------------------------------------------------------ redemption


def signed_redemption(network: Network, *, holder: str, value: int, valid_before: int, nonce: bytes, v: int,
                      r: bytes, s: bytes) -> SignedAuthorization[Redemption]:
    """A Redemption the app sent as fields, in this network's EIP-712 domain (checked by :func:`redeem`)."""
    try:
        auth = Redemption(holder=to_address(holder, "holder"), value=value, valid_before=valid_before, nonce=nonce)
        return SignedAuthorization(authorization=auth, domain=network.domain(), v=v, r=r, s=s)
    except ValueError as exc:
        raise AuthorizationInvalidError(str(exc)) from None


def decode_redemption(network: Network, text: str) -> SignedAuthorization[Redemption]:
    """A Redemption the app sent as its QR/text payload (``WALLETNET:1:REDEEM:...``); see :func:`decode_signed`."""
    return decode_signed(network, text, Redemption)


def redeem(session: Session, settings: NodeSettings, network: Network, *, wallet: str, amount_minor: int,
           signed: SignedAuthorization[Redemption] | None, channel: str, api_key_id: int | None = None,
           totp_code: str | None = None) -> Operation:
    """Burn ``amount_minor`` from the wallet for payout to its bound account (credited once the burn confirms).

    ``signed`` is the customer's Redemption; for a custodial wallet it may be None and the bank signs.

    Raises:
        FlowNotFoundError, NotCustodianError, WalletFrozenError, WalletNotActiveError, AccountNotBoundError.
        FlowValidationError: a self-custody wallet without a signed Redemption.
        AuthorizationInvalidError: not this wallet's, another amount, another chain or token, expired, used
            through this node (a nonce the wallet used on chain itself fails the burn with the chain's reason).
        InsufficientBalanceError / LimitExceededError: the chain would refuse the burn.
        SecondFactorRequiredError / SecondFactorInvalidError.
    """
    _check_amount(amount_minor)
    found = custodied_wallet(session, network, settings, wallet, from_view=True)
    account = _bound_account(found)
    ledger = open_ledger(session, settings.ledger_adapter)
    deposit_currency(ledger, account, settings.currency)
    now = local_now(session, found.address)
    if signed is None:
        if found.record.custody is not CustodyMode.CUSTODIAL:
            raise FlowValidationError("authorization", "a self-custody wallet's redemption needs the customer's "
                                                       "signed Redemption (authorization or payload)")
        key = custodial_key(settings, found.record)
        signed = Redemption(holder=found.address, value=amount_minor,
                            valid_before=now + CUSTODIAL_VALIDITY).sign(key, network.domain())
        signed_by = "bank"
    else:
        check_authorization(signed, network, signer=found.address, now=now)
        if signed.authorization.value != amount_minor:
            raise AuthorizationInvalidError(f"the Redemption is for {signed.authorization.value}, "
                                            f"the request for {amount_minor}")
        signed_by = "customer"
    nonce = "0x" + signed.authorization.nonce.hex()
    if nonce_in_flight(session, found.address, OperationKind.REDEMPTION, nonce, completed=True):
        raise AuthorizationInvalidError("this Redemption was used already", nonce=nonce)
    check_outflow(session, network, found.address, amount_minor, now=now)
    screening = risk.screen(session, settings, risk.Payment("redemption", found.address, None, amount_minor, channel,
                                                            signed_by, now), totp_code=totp_code, api_key_id=api_key_id)
    ensure_system_accounts(ledger, settings.currency)
    ref = new_ref("REDEEM")
    op = new_operation(session, OperationKind.REDEMPTION, channel=channel, api_key_id=api_key_id,
                       wallet=found.address, amount_minor=amount_minor, currency=settings.currency, account=account,
                       ref=ref, details={"nonce": nonce, "signed_by": signed_by,
                                         "valid_before": signed.authorization.valid_before},
                       ledger=settings.ledger_adapter, status=screening.status)
    risk.admit(session, settings, screening, op, f"{op.public_id}:redeem", "redeem",
               operation_payload(op, **redeem_payload(signed, ref)))
    return op
