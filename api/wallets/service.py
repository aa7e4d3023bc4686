"""Wallet reads; free of FastAPI."""

from __future__ import annotations

from api.problems import NotFoundError
from api.wallets.schemas import Money, WalletOut
from wallet_sdk.chain.network import Network, to_address
from wallet_sdk.chain.types import WalletStatus

__all__ = ["WalletNotFoundError", "get_wallet"]


class WalletNotFoundError(NotFoundError):
    def __init__(self, address: str) -> None:
        super().__init__(f"no wallet is registered at {address}", address=address)


def _bank_code(bank_id: bytes) -> str:
    return bank_id.rstrip(b"\0").decode("ascii", errors="replace")


def get_wallet(network: Network, address: str, *, currency: str) -> WalletOut:
    """The wallet's record and spendable balance at the latest block.

    Raises:
        InvalidArgumentError: ``address`` is not an address (or has a wrong EIP-55 checksum).
        WalletNotFoundError: no wallet was ever registered at ``address``.
    """
    checked = to_address(address, "address")
    info = network.wallet(checked)
    if info.status == WalletStatus.NONE:
        raise WalletNotFoundError(checked)
    return WalletOut(address=checked, bank=_bank_code(info.bank_id), tier=info.tier, status=info.status.name.lower(),
                     balance=Money(amount=network.balance(checked), currency=currency))
