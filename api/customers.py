"""Which customer a request may act for; every endpoint of the ``app`` scope that names a wallet, an account, an
operation or a customer checks it here before it reads or does anything.

- A staff key (teller, admin, regulator) acts for any customer of the bank.
- A customer session (a ``wnc_...`` token minted by the bank's login backend, node/api_keys/sessions.py) acts
  for its own customer only: another customer's wallet, account or operation is ``404 not-found``, as if it did
  not exist (no probing which wallets exist); a request naming another customer (opening a wallet for them) is
  ``403 forbidden``.
- An ``app`` API key alone is bound to no customer: ``403 customer-session-required``. The setting
  ``app_keys_act_for_any_customer`` (local environments only) lets it act for any customer as before, while an
  app moves to customer sessions.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from api.attribution import Desk, record_actor
from api.problems import CustomerSessionRequiredError, ForbiddenError
from node.api_keys import Principal, Scope
from node.errors import FlowNotFoundError
from node.funding.service import DepositAccount
from node.operations.checks import channel_of
from node.operations.models import Operation, OperationNotFoundError
from node.settings import NodeSettings
from node.wallets.models import find_wallet
from wallet_sdk.chain.network import to_address

__all__ = ["customer_of", "money_move", "own_account", "own_customer", "own_operation", "own_wallet"]


def customer_of(principal: Principal, settings: NodeSettings) -> str | None:
    """The customer ``principal`` is confined to, or None if it may act for any customer of the bank.

    Raises:
        CustomerSessionRequiredError: an ``app`` key alone (and the transition setting is off).
    """
    if principal.customer_ref is not None:
        return principal.customer_ref
    if principal.bare_app_key and not settings.app_keys_act_for_any_customer:
        raise CustomerSessionRequiredError(
            "an app key acts for no customer: act with the customer session token the bank's login backend minted "
            "for this customer (POST /v1/customer-sessions)")
    return None


def _owner_of_wallet(session: Session, wallet: str) -> str | None:
    record = find_wallet(session, wallet)
    return record.customer_ref if record is not None else None


def own_wallet(session: Session, settings: NodeSettings, principal: Principal, address: str) -> None:
    """``principal`` may act on the wallet at ``address``.

    Raises:
        CustomerSessionRequiredError: an ``app`` key alone.
        FlowNotFoundError: a customer session, and the wallet is not one this bank opened for its customer.
    """
    customer = customer_of(principal, settings)
    if customer is None:
        return
    wallet = to_address(address, "address")
    if _owner_of_wallet(session, wallet) != customer:
        raise FlowNotFoundError(f"this customer has no wallet {wallet} at this bank", wallet=wallet)


def own_account(settings: NodeSettings, principal: Principal, account: DepositAccount) -> None:
    """``principal`` may see ``account`` (one whose owner the ledger does not name is refused to a customer
    session: it cannot be checked).

    Raises:
        CustomerSessionRequiredError: an ``app`` key alone.
        FlowNotFoundError: a customer session, and the account is not its customer's.
    """
    customer = customer_of(principal, settings)
    if customer is not None and account.customer_ref != customer:
        raise FlowNotFoundError(f"no customer deposit account {account.code}", account=account.code)


def own_operation(session: Session, settings: NodeSettings, principal: Principal, op: Operation) -> None:
    """``principal`` may read ``op``: for a customer session, an operation on one of its customer's wallets.

    Raises:
        CustomerSessionRequiredError: an ``app`` key alone.
        OperationNotFoundError: a customer session, and the operation is not on its customer's wallet.
    """
    customer = customer_of(principal, settings)
    if customer is not None and (op.wallet is None or _owner_of_wallet(session, op.wallet) != customer):
        raise OperationNotFoundError(op.public_id)


def own_customer(settings: NodeSettings, principal: Principal, customer_ref: str) -> None:
    """``principal`` may act for ``customer_ref`` (e.g. open a wallet for them).

    Raises:
        CustomerSessionRequiredError: an ``app`` key alone.
        ForbiddenError: a customer session of another customer.
    """
    customer = customer_of(principal, settings)
    if customer is not None and customer != customer_ref:
        raise ForbiddenError("this customer session acts for its own customer only, not for the customer named in "
                             "the request")


def money_move(session: Session, settings: NodeSettings, principal: Principal, desk: Desk, wallet: str) -> str:
    """The channel (app or teller) of a customer's money move out of or into ``wallet``, once ``principal`` may act
    on that wallet and who asks is recorded on the operation it makes (a teller names its desk; api/attribution.py).

    Raises:
        CustomerSessionRequiredError / FlowNotFoundError: as :func:`own_wallet`.
        ValidationProblemError: a teller without its branch or operator id.
    """
    own_wallet(session, settings, principal, wallet)
    channel = channel_of(principal.scope_set, Scope.APP, Scope.TELLER)
    record_actor(session, principal, desk, channel=channel, moves_money=True)
    return channel
