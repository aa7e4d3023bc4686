"""Gas report: walletnet's main operations through their UUPS proxies, beside a plain OpenZeppelin 5
ERC20 + ERC20Permit (contracts/test/PlainToken.sol) compiled with the same settings, in the same run.

    make gas          # or: .venv/bin/python -m bench.gas [--out docs/gas.md]

Prints a table and writes it, with the command, compiler settings and date, to docs/gas.md.
Numbers are transaction gas (21,000 base included), measured on a fresh local anvil (EVM paris).
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract
from web3.types import TxReceipt

from tools.devnet import Devnet
from tools.toolchain import SETTINGS
from wallet_sdk import (
    Domain,
    HoldAuthorization,
    MerchantPayment,
    Redemption,
    RelayedTransfer,
    TransferAuthorization,
    WalletKey,
    merchant_id,
    order_id,
    settlement_domain,
)
from wallet_sdk._tx import deploy_bytecode, send_call
from wallet_sdk.artifacts import load_artifact
from wallet_sdk.authorizations import split_signature
from wallet_sdk.deploy import BankConfig, NetworkConfig, bank_id, deploy

ROOT = Path(__file__).resolve().parent.parent
TRANSFER_TARGET_RATIO = 1.3  # steady-state transfer vs the plain ERC20 transfer
RELAY_TARGET = 42_000  # gas per payment in a relay batch of 100


@dataclass
class Row:
    operation: str
    walletnet: int | None
    plain: int | None = None
    note: str = ""


class Bench:
    def __init__(self, devnet: Devnet) -> None:
        self.w3 = Web3(Web3.HTTPProvider(devnet.rpc_url, request_kwargs={"timeout": 120}))
        keys = [Account.from_key(a.private_key) for a in devnet.accounts]
        self.operator, regulator, self.bank_a, self.bank_b = keys[0], keys[1], keys[2], keys[3]
        self.spare = keys[4:]
        config = NetworkConfig(
            network_operator=self.operator.address, regulator=regulator.address, threshold=1,
            banks=[BankConfig("BANKA", "Bank A", [self.bank_a.address], quota=10**15),
                   BankConfig("BANKB", "Bank B", [self.bank_b.address], quota=10**15)],
        )
        d = deploy(self.w3, self.operator, config)
        self.registry = d.contract(self.w3, "WalletRegistry")
        self.token = d.contract(self.w3, "DigitalCash")
        self.settlement = d.contract(self.w3, "MerchantSettlement")
        self.domain = Domain.for_token(d.token["name"], d.chain_id, self.token.address)

    def send(self, call: Any, sender: LocalAccount) -> TxReceipt:
        return send_call(self.w3, sender, call)

    def gas(self, call: Any, sender: LocalAccount) -> int:
        return int(self.send(call, sender)["gasUsed"])

    def now(self) -> int:
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def open(self, address: str, bank: str = "A", kind: int = 0) -> None:
        sender, bid = (self.bank_a, bank_id("BANKA")) if bank == "A" else (self.bank_b, bank_id("BANKB"))
        self.send(self.registry.functions.openWallet(address, bid, 1, kind, secrets.token_bytes(32)), sender)

    def open_many(self, addresses: list[str]) -> None:
        openings = [(a, 1, 0, secrets.token_bytes(32)) for a in addresses]
        for i in range(0, len(openings), 50):
            self.send(self.registry.functions.openWallets(bank_id("BANKA"), openings[i:i + 50]), self.bank_a)

    def mint(self, address: str, amount: int, bank: str = "A") -> int:
        return self.gas(self.token.functions.mint(address, amount, secrets.token_bytes(32)),
                        self.bank_a if bank == "A" else self.bank_b)


def measure(b: Bench) -> list[Row]:
    rows: list[Row] = []
    t, s = b.token, b.settlement

    # --- plain OpenZeppelin ERC20 + Permit, same compiler settings, no proxy
    art = load_artifact("PlainToken", test=True)
    holder, other = b.spare[0], b.spare[1]
    plain: Contract = b.w3.eth.contract(
        address=Web3.to_checksum_address(deploy_bytecode(b.w3, holder, art["abi"], art["bytecode"])), abi=art["abi"])
    plain_mint_fresh = b.gas(plain.functions.mint(holder.address, 10**12), holder)
    plain_mint = b.gas(plain.functions.mint(holder.address, 1_000), holder)
    plain_fresh = b.gas(plain.functions.transfer(other.address, 1_000), holder)
    plain_existing = b.gas(plain.functions.transfer(other.address, 1_000), holder)
    plain_burn = b.gas(plain.functions.burn(1_000), holder)

    # --- walletnet: wallets whose holders send their own transactions (dev accounts) for plain transfers
    sender, receiver, fresh = b.spare[2], b.spare[3], b.spare[4]
    for w in (sender, receiver, fresh):
        b.open(w.address, "A" if w is sender else "B")
    rows.append(Row("mint (to an empty wallet)", b.mint(sender.address, 10_000_000), plain_mint_fresh))
    rows.append(Row("mint (steady state)", b.mint(sender.address, 1_000), plain_mint))
    batch = b.gas(t.functions.mintBatch([(sender.address, 1_000, secrets.token_bytes(32)) for _ in range(10)]),
                  b.bank_a)
    rows.append(Row("mintBatch of 10, steady state (per mint)", batch // 10, plain_mint,
                    "a writer round's ATM cash-ins and top-ups"))
    b.mint(receiver.address, 1_000, "B")
    rows.append(Row("transfer to a fresh wallet (zero balance)",
                    b.gas(t.functions.transfer(fresh.address, 1_000), sender), plain_fresh))
    transfer = b.gas(t.functions.transfer(receiver.address, 1_000), sender)
    rows.append(Row("transfer between existing wallets (steady state)", transfer, plain_existing,
                    f"target <= {TRANSFER_TARGET_RATIO}x plain: {transfer / plain_existing:.2f}x"))
    tier2 = b.spare[5]
    b.send(b.registry.functions.openWallet(tier2.address, bank_id("BANKA"), 2, 0, secrets.token_bytes(32)), b.bank_a)
    b.mint(tier2.address, 1_000)
    b.send(t.functions.transfer(tier2.address, 1_000), sender)
    cross = b.gas(t.functions.transfer(tier2.address, 1_000), sender)
    rows.append(Row("transfer between existing wallets of different tiers", cross, plain_existing,
                    "reads the receiver's tier limits too"))

    # --- signed paths: holders who never hold ETH sign with the SDK
    payer = WalletKey.create()
    b.open(payer.address)
    b.mint(payer.address, 5_000_000)
    deadline = b.now() + 3_600
    for label in ("transferWithAuthorization (first use of the payer today)", "transferWithAuthorization"):
        auth = TransferAuthorization(from_=payer.address, to=receiver.address, value=1_000, valid_before=deadline)
        sig = auth.sign(payer, b.domain)
        call = t.functions.transferWithAuthorization(payer.address, receiver.address, 1_000, 0, deadline,
                                                     auth.nonce, sig.v, sig.r, sig.s)
        if label.endswith(")"):
            b.send(call, b.bank_a)
            continue
        rows.append(Row(label, b.gas(call, b.bank_a), None, "EIP-3009, random bytes32 nonce"))

    # relay batches: many payers, each already active today (steady state)
    payers = [WalletKey.create() for _ in range(100)]
    b.open_many([p.address for p in payers])
    for p in payers:
        b.mint(p.address, 1_000_000)
    nonce_counter = [0]

    def batch(n: int) -> list[tuple[Any, ...]]:
        items = []
        for p in payers[:n]:
            nonce_counter[0] += 1
            auth = RelayedTransfer(from_=p.address, to=receiver.address, value=100, valid_before=deadline,
                                   nonce=nonce_counter[0])
            sig = auth.sign(p, b.domain)
            items.append((p.address, receiver.address, 100, deadline, nonce_counter[0], sig.v, sig.r, sig.s))
        return items

    first = b.gas(t.functions.relayTransfers(batch(100)), b.bank_a)
    rows.append(Row("relay batch of 100, first payment of each payer (per payment)", first // 100, None,
                    "fresh nonce-bitmap word and daily counter"))
    for n in (1, 10, 100):
        per = b.gas(t.functions.relayTransfers(batch(n)), b.bank_a) // n
        note = f"target <= {RELAY_TARGET:,}" if n == 100 else ""
        rows.append(Row(f"relay batch of {n}, steady state (per payment)", per, None, note))

    # holds (ATM cash-out) and redemption
    def hold() -> tuple[bytes, int]:
        h = HoldAuthorization(holder=payer.address, value=2_000, expires_at=b.now() + 3_600)
        sig = h.sign(payer, b.domain)
        g = b.gas(t.functions.placeHold(payer.address, 2_000, h.hold_id, h.expires_at, sig.v, sig.r, sig.s),
                  b.bank_a)
        return h.hold_id, g

    hold_id, g = hold()
    rows.append(Row("placeHold (ATM cash-out authorisation)", g))
    rows.append(Row("captureHold (burn after dispense)",
                    b.gas(t.functions.captureHold(hold_id, secrets.token_bytes(32)), b.bank_a), plain_burn))
    hold_id, _ = hold()
    rows.append(Row("releaseHold (by the bank)", b.gas(t.functions.releaseHold(hold_id), b.bank_a)))
    red = Redemption(holder=payer.address, value=3_000, valid_before=deadline)
    sig = red.sign(payer, b.domain)
    rows.append(Row("redeemWithAuthorization (burn to bank account)",
                    b.gas(t.functions.redeemWithAuthorization(payer.address, 3_000, deadline, red.nonce,
                                                              secrets.token_bytes(32), sig.v, sig.r, sig.s),
                          b.bank_a), plain_burn))

    # merchant: pay, refund, settle (acquirer bank B, payer at bank A: cross-bank)
    shop = WalletKey.create()
    fee_wallet = WalletKey.create()
    b.open(shop.address, "B", kind=1)
    b.open(fee_wallet.address, "B", kind=2)
    mid = merchant_id("SHOP-1")
    b.send(s.functions.registerMerchant(mid, shop.address, 150, 5411, secrets.token_bytes(32), 0), b.bank_b)
    b.send(s.functions.setFeeWallet(fee_wallet.address), b.bank_b)
    request_signer = WalletKey.create()  # bank B's key that signs its payment requests
    b.send(s.functions.setRequestSigner(request_signer.address), b.bank_b)
    acquirer = bank_id("BANKB")
    request_domain = settlement_domain(b.domain.chain_id, s.address)

    def pay(order: str, amount: int) -> int:
        mp = MerchantPayment(acquirer=acquirer, merchant_id=mid, order_id=order_id(order), payer=payer.address,
                             amount=amount, valid_before=deadline, settlement=s.address)
        request = split_signature(mp.request_terms().sign(request_signer, request_domain))
        sg = mp.sign(payer, b.domain)
        return b.gas(s.functions.pay((acquirer, mid, mp.order_id, payer.address, amount, 0, deadline, sg.v, sg.r,
                                      sg.s, *request)), b.bank_a)

    pay("ORDER-0", 1_000)
    rows.append(Row("pay (merchant QR payment, steady state)", pay("ORDER-1", 12_345), None,
                    "payer at bank A, merchant at bank B; checks the acquirer's signed request"))
    rows.append(Row("refund (partial)",
                    b.gas(s.functions.refund(mid, order_id("ORDER-1"), 345, secrets.token_bytes(32)), b.bank_b)))
    rows.append(Row("settle (net to the merchant's wallet, fee to the acquirer)",
                    b.gas(s.functions.settle(mid, secrets.token_bytes(32)), b.bank_b)))
    return rows


def render(rows: list[Row]) -> str:
    def fmt(v: int | None) -> str:
        return f"{v:,}" if v is not None else "—"

    lines = ["| operation | walletnet gas | plain OZ ERC20 gas | ratio | note |", "| --- | ---: | ---: | ---: | --- |"]
    for r in rows:
        ratio = f"{r.walletnet / r.plain:.2f}x" if r.walletnet and r.plain else ""
        lines.append(f"| {r.operation} | {fmt(r.walletnet)} | {fmt(r.plain)} | {ratio} | {r.note} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "gas.md")
    args = parser.parse_args()
    with Devnet(accounts=12) as devnet:
        rows = measure(Bench(devnet))
    table = render(rows)
    print(table)
    settings = f"solc {load_artifact('DigitalCash')['compiler']['version']}, optimizer " \
               f"{SETTINGS['optimizer']['runs']} runs, EVM {SETTINGS['evmVersion']}"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        "# Gas report\n\n"
        "Made by `make gas` (`.venv/bin/python -m bench.gas`) on "
        f"{dt.date.today().isoformat()}, {platform.machine()} / Python {platform.python_version()}, "
        f"anvil, {settings}.\nTransaction gas including the 21,000 base; walletnet through its UUPS proxies, "
        "the baseline is a plain OpenZeppelin 5 ERC20 + ERC20Permit without proxy, measured in the same run. "
        "Targets are goals, reported here, never asserted in tests.\n\n" + table + "\n\n" + NOTES,
        encoding="utf-8")
    print(f"\nwrote {args.out}")


NOTES = """## Reading the table

- **Steady-state transfer**: both wallets already hold money and the sender has already spent today,
  so every storage word is warm-written, not created. Every registry, limit and pause check runs:
  DigitalCash keeps each wallet's balance, status, limit class, UTC day and today's outflow in one
  storage word, and the limits of all classes plus the pause flag in words read once per transaction,
  so the checks cost almost nothing beyond the balance update (the trick USDC v2.2 uses for its
  blacklist flag).
- **Relayed payments** use `RelayedTransfer` signatures with Permit2-style unordered nonces: 256 nonces
  share one storage word, so marking a nonce used is a warm bit flip instead of a fresh 22,100-gas
  slot per payment as with EIP-3009's random `bytes32` nonces (`transferWithAuthorization` row). The
  21,000 base cost and the batch's calldata are shared by the batch.
- **Transfer to a fresh wallet** is cheaper than the plain ERC20's: a walletnet wallet must be registered
  before it can receive, and registration already wrote its packed storage word, so the first credit
  updates a word instead of creating one. The cost moved to wallet opening.
- **Mint, burn, holds**: these call the Consortium (quota, `netIssued`) and the registry (custodian
  bank) and emit walletnet's reconciliation events (`Minted`/`Burned` with the off-chain `ref`), so they
  cost more than the plain ERC20's bare mint and burn; they are per cash event, not per payment.
- `—`: the plain ERC20 has no such operation.
"""

if __name__ == "__main__":
    main()
