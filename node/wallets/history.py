"""Reads of a wallet for its customer's channels: history (from the indexer) and balance with limits (chain).

A bank shows these only for the wallets it keeps; the regulator reads every wallet. History comes from the
indexer's ``wallet_history`` (one row per wallet side of an event, so a transfer between two banks' customers
is one ``transfer_out`` in the payer's history and one ``transfer_in`` in the payee's), up to the indexer's
checkpoint. Balance and limits are read from the chain at one block, so they agree with each other, into the
SDK's :class:`~wallet_sdk.client.transfers.WalletBalance`: the one definition of what ``GET .../balance`` serves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from node.errors import FlowNotFoundError, NotCustodianError
from node.indexer.models import ChainWallet, WalletHistory
from node.operations.checks import unlimited
from node.settings import NodeSettings
from node.wallets.models import find_wallet
from wallet_sdk.chain.network import Network, to_address
from wallet_sdk.client.models import Money
from wallet_sdk.client.transfers import TierLimits, WalletBalance

__all__ = ["RegisteredWallet", "history_query", "readable_history", "registered_wallet", "wallet_balance"]


@dataclass(frozen=True)
class RegisteredWallet:
    """A wallet as the chain's registry has it, with its spendable balance in minor units."""

    address: str
    bank: str  # the custodian bank's code; empty for system wallets
    tier: int
    status: str  # active, frozen or closed
    balance_minor: int


def registered_wallet(network: Network, address: str) -> RegisteredWallet:
    """The wallet's registry record and spendable balance at the latest block, whichever bank keeps it.

    Raises:
        InvalidArgumentError: ``address`` is not an address (or has a wrong EIP-55 checksum).
        FlowNotFoundError: no wallet was ever registered at ``address``.
    """
    checked = to_address(address, "address")
    info = network.wallet(checked)
    if not info.registered:
        raise FlowNotFoundError(f"no wallet is registered at {checked}", address=checked)
    return RegisteredWallet(address=checked, bank=info.bank_id.rstrip(b"\0").decode("ascii", errors="replace"),
                            tier=info.tier, status=info.status.name.lower(), balance_minor=network.balance(checked))


def readable_history(session: Session, settings: NodeSettings, address: str, *, any_bank: bool) -> str:
    """The checksummed ``address`` if its history may be shown: a wallet this bank keeps, or any indexed wallet
    when ``any_bank`` (the regulator).

    Raises:
        FlowNotFoundError: neither this bank's record nor the indexer knows the wallet.
        NotCustodianError: another bank keeps it (and ``any_bank`` is false).
    """
    wallet = to_address(address, "address")
    if find_wallet(session, wallet) is not None:
        return wallet
    indexed = session.scalars(select(ChainWallet).where(ChainWallet.address == wallet)).one_or_none()
    if indexed is None:
        raise FlowNotFoundError(f"no wallet is known at {wallet}", wallet=wallet)
    if not any_bank and indexed.bank_id != settings.bank_id:
        raise NotCustodianError(f"wallet {wallet} is kept by {indexed.bank_id}: ask its bank", wallet=wallet,
                                bank=indexed.bank_id)
    return wallet


def history_query(wallet: str) -> Select[Any]:
    """The wallet's history rows (oldest first when ordered by id, which is the order the indexer applied them)."""
    return select(WalletHistory).where(WalletHistory.wallet == wallet)


def _money(amount_minor: int, currency: str) -> Money:
    return Money(amount=amount_minor, currency=currency)


def _limit(value: int, currency: str) -> Money | None:
    return None if unlimited(value) else _money(value, currency)


def wallet_balance(network: Network, settings: NodeSettings, address: str, *, any_bank: bool) -> WalletBalance:
    """Spendable and held balance, the tier's limits and what is left of today's outflow limit, at one block.

    Raises:
        FlowNotFoundError: no wallet is registered at ``address``.
        NotCustodianError: another bank keeps it (and ``any_bank`` is false).
    """
    wallet = to_address(address, "address")
    block = network.block_number
    info = network.wallet(wallet, block=block)
    if not info.registered:
        raise FlowNotFoundError(f"no wallet is registered at {wallet}", wallet=wallet)
    if not any_bank and info.bank_code != settings.bank_id:
        raise NotCustodianError(f"wallet {wallet} is kept by {info.bank_code}: ask its bank", wallet=wallet,
                                bank=info.bank_code)
    limits = network.wallet_limits(wallet, block=block)
    cap, single, daily = limits.as_tuple() if limits is not None else (2**256 - 1,) * 3
    currency = settings.currency
    return WalletBalance(
        wallet=wallet, bank=info.bank_code, tier=info.tier, status=info.status.name.lower(),
        spendable=_money(network.balance(wallet, block=block), currency),
        held=_money(network.held_balance(wallet, block=block), currency),
        limits=TierLimits(balance_cap=_limit(cap, currency), single_payment=_limit(single, currency),
                          daily_outflow=_limit(daily, currency)),
        spent_today=_money(network.spent_today(wallet, block=block), currency), block_number=block,
        remaining_today=_limit(network.remaining_daily_allowance(wallet, block=block), currency))
