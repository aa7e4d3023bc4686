"""Which wallets this bank acts for: a wallet of this bank as both its record and the chain see it, found and
locked before a flow moves its money. The node's own view of the chain answers first; the chain is asked only
when that view does not show the wallet active and kept here (then the chain's answer decides, and explains)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from node.errors import FlowNotFoundError, NotCustodianError, WalletFrozenError, WalletNotActiveError
from node.operations.local_state import local_wallet
from node.settings import NodeSettings
from node.wallets.models import WalletRecord, WalletState, find_wallet
from wallet_sdk.chain.network import Network, to_address
from wallet_sdk.chain.types import WalletInfo, WalletStatus

__all__ = ["CustodiedWallet", "custodied_wallet", "require_active"]


@dataclass(frozen=True)
class CustodiedWallet:
    """A wallet of this bank as both the node's record and the chain see it (``chain`` None: the node's own view
    of the chain, :mod:`node.operations.local_state`, shows it active and kept by this bank, and the chain was
    not asked)."""

    record: WalletRecord
    chain: WalletInfo | None

    @property
    def address(self) -> str:
        return self.record.address


def custodied_wallet(session: Session, network: Network, settings: NodeSettings, address: str, *,
                     active: bool = True, from_view: bool = False) -> CustodiedWallet:
    """The wallet at ``address``, which this bank must keep (and, with ``active``, be able to move money).

    ``from_view``: an active wallet of this bank as the node's view of the chain shows it is taken without asking
    the chain (a payment's admission; a regulator's freeze then counts once indexed, docs/node.md).

    The record is locked, so concurrent requests for one wallet run one after the other.

    Raises:
        FlowNotFoundError: no wallet is registered at ``address``.
        NotCustodianError: another bank keeps it.
        WalletFrozenError / WalletNotActiveError: ``active`` and the wallet cannot move money now.
    """
    wallet = to_address(address, "wallet")
    record = find_wallet(session, wallet, lock=True)
    if from_view and active and record is not None and record.state is WalletState.ACTIVE:
        local = local_wallet(session, wallet)
        if local is not None and local.status == "active" and local.bank_id == settings.bank_id:
            return CustodiedWallet(record, None)
    info = network.wallet(wallet)
    if record is None or (info.registered and info.bank_code != settings.bank_id):
        if not info.registered:
            raise FlowNotFoundError(f"no wallet is registered at {wallet}", wallet=wallet)
        raise NotCustodianError(f"wallet {wallet} is kept by {info.bank_code}, not {settings.bank_id}: "
                                "its own bank acts for it", wallet=wallet, bank=info.bank_code)
    found = CustodiedWallet(record, info)
    if active:
        require_active(found)
    return found


def require_active(wallet: CustodiedWallet) -> None:
    info, record = wallet.chain, wallet.record
    if info is None:  # the node's view of the chain showed it active
        if record.state is not WalletState.ACTIVE:
            raise WalletNotActiveError(f"wallet {record.address} is {record.state.value}", wallet=record.address,
                                       status=record.state.value)
        return
    if info.status is WalletStatus.FROZEN or record.state is WalletState.FROZEN:
        raise WalletFrozenError(f"wallet {record.address} is frozen", wallet=record.address,
                                reason=info.freeze_reason or record.freeze_reason,
                                by_regulator=info.frozen_by_regulator)
    if info.status is not WalletStatus.ACTIVE or record.state is not WalletState.ACTIVE:
        shown = info.status.name.lower() if info.status is not WalletStatus.ACTIVE else record.state.value
        raise WalletNotActiveError(f"wallet {record.address} is {shown}", wallet=record.address, status=shown)
