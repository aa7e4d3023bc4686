"""Helpers of the ATM flow tests on the two-bank network: a registered, stocked ATM and its signing client,
self-custody customers (their app holds the key that signs withdrawal codes)."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from flow_network import BankNode

from wallet_sdk.client import Client, Operation
from wallet_sdk.client.atm import AtmClient, WithdrawalCode, withdrawal_code
from wallet_sdk.exceptions import NotFoundError
from wallet_sdk.keys import WalletKey


def fresh(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(5)}"


@dataclass
class Atm:
    bank: BankNode
    atm_id: str
    secret: str
    client: AtmClient
    api_key: str

    def signed_as(self, **options: object) -> AtmClient:
        """Another client of this ATM (e.g. with its own clock or nonces, or another secret)."""
        secret = str(options.pop("secret", self.secret))
        atm_id = str(options.pop("atm_id", self.atm_id))
        api_key = str(options.pop("api_key", self.api_key))
        return AtmClient(self.bank.url, api_key, atm_id=atm_id, secret=secret, timeout=30.0,
                         **options)  # type: ignore[arg-type]


def new_atm(bank: BankNode, admin: Client, *, stock: int = 0) -> Atm:
    """Register an ATM at ``bank`` and, if ``stock``, deliver that much to the vault and load it into the ATM."""
    atm_id = fresh("ATM")
    registration = admin.register_atm(atm_id, name=f"Test ATM {atm_id}", location="Main Street 1")
    if stock:
        admin.deliver_vault_cash(stock)
        admin.replenish_atm(atm_id, stock)
    key = bank.key("atm")
    client = AtmClient(bank.url, key, atm_id=atm_id, secret=registration.secret, timeout=30.0)
    return Atm(bank, atm_id, registration.secret, client, key)


@dataclass(frozen=True)
class Customer:
    bank: BankNode
    key: WalletKey  # held by the customer's app

    @property
    def wallet(self) -> str:
        return str(self.key.address)

    def code(self, amount: int, *, valid_for: int = 600) -> WithdrawalCode:
        """A withdrawal code as the app shows it, valid from the chain's clock."""
        return withdrawal_code(self.key, self.bank.network.domain(), amount, now=self.bank.network.now(),
                               valid_for=valid_for)


def new_customer(bank: BankNode) -> Customer:
    """A self-custody wallet opened at the counter (tier 1), active on chain."""
    key = WalletKey.create()
    teller = bank.client("teller")
    opening = teller.open_wallet(fresh("CUST"), "in_person", custody="self", address=str(key.address))
    deadline = time.monotonic() + 10
    while True:  # the wallets endpoint may answer before its commit is visible (its session commits late)
        try:
            done = teller.wait_for_operation(opening.operation.id)
            break
        except NotFoundError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    assert done.status == "completed", done
    return Customer(bank, key)


def final(client: AtmClient | Client, op: Operation) -> Operation:
    return client.wait_for_operation(op.id) if isinstance(client, Client) else client.wait_for_status(op.id, ())
