"""The public development keys of local chains (anvil's and ganache's well-known mnemonic).

Their keys are public knowledge: local networks fund them, and a bank node outside ``local`` refuses to run
with one of them (node.settings).
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_account import Account

__all__ = ["DEV_MNEMONIC", "DevAccount", "dev_accounts"]

DEV_MNEMONIC = "test test test test test test test test test test test junk"


@dataclass(frozen=True)
class DevAccount:
    """A funded development account. Its key is public knowledge: never use it on a real network."""

    address: str
    private_key: str

    def __repr__(self) -> str:  # keep keys out of logs and tracebacks even for dev keys
        return f"DevAccount(address={self.address!r})"


def dev_accounts(count: int, mnemonic: str = DEV_MNEMONIC) -> list[DevAccount]:
    """The first ``count`` accounts of ``mnemonic`` (BIP-44 path m/44'/60'/0'/0/i)."""
    Account.enable_unaudited_hdwallet_features()
    accounts = []
    for i in range(count):
        acct = Account.from_mnemonic(mnemonic, account_path=f"m/44'/60'/0'/0/{i}")
        accounts.append(DevAccount(address=acct.address, private_key="0x" + acct.key.hex().removeprefix("0x")))
    return accounts
