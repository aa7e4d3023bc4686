"""The whole network under random sequences of operations (hypothesis stateful test, real anvil).

A Python model of every wallet, hold, merchant, order, bank position, limit and nonce predicts each step
exactly: either its effect, or the custom error (name and arguments) the contracts must raise, found in
the order the contracts check. A rejected step is also mined (with a fixed gas limit, so it lands on chain
as a failed transaction) and must change nothing: every balance, hold, pending amount, supply, netIssued,
limit, wallet state, order and nonce is read before and after. After every step the chain must equal the
model and, from chain values alone:

  sum(balanceOf(w) for every wallet w, the settlement contract excluded) + token.totalHeld()
      + settlement.totalPending() == token.totalSupply() == sum over banks of netIssued(bank)
  balanceOf(settlement) == totalPending()   (the token refuses any transfer into the contract but its
                                             own payment pull: DirectTransferToSettlement)
  totalHeld() == sum of heldBalance(w) == balanceOf(token) == sum of the Held holds' amounts
  totalPending() == sum over merchants of pendingGross - pendingRefunds

and no wallet is above its class's limits: balance + held <= balance cap, today's outflow <= daily
limit. The contracts check a cap only when money comes in and a limit only when money goes out, so a
tier change or lower limits may leave a wallet above them: it keeps what it had (the invariant allows
what the wallet owned / had spent at the change, shrinking as it spends) and may not grow past it.

Operations: open wallets (one or in bulk, banks A/B/C, tiers 1-4, personal and merchant), register
merchants, mint, EIP-3009 transfer, relay batch, hold / capture / release (by bank or holder), merchant
pay (single and batch, some with a request the acquirer did not sign), refund, settle (wallet and
bank-account payout), redemption, freeze / unfreeze
(bank and regulator), close, tier change, tier limits lowered or restored, day rollover, replays of any
authorization signed before, and steps built to fail (over a single/daily limit, a balance cap or bank
C's small quota; frozen, closed, unregistered or settlement-contract parties; over-refund; an order paid
twice; an early release). Every example starts from the same base state (build_base), built once.

test_random_operations_keep_the_books is the random run (derandomized: the same run on every machine);
test_each_rejection_changes_nothing walks every kind of rejection once from the base state, so each is
covered whatever hypothesis chooses.
"""

from __future__ import annotations

import copy
import functools
import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import hypothesis.strategies as st
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test
from test_settlement import payment_nonce, sign_payment, with_fields
from token_support import (
    ACTIVE,
    CAPTURED,
    CLOSED,
    DAY,
    FROZEN,
    HELD,
    MAX_BALANCE,
    MERCHANT,
    PERSONAL,
    RELEASED,
    SYSTEM,
    TIER_LIMITS,
    UNLIMITED,
    auth_args,
    hold_args,
    now,
    redemption_args,
    relayed,
    start_of_next_day,
)
from web3 import Web3
from web3.logs import DISCARD

from wallet_sdk.revert_decoding import decode_revert

Err = tuple[str, dict[str, Any]] | None

BANKS = ("A", "B", "C")
QUOTA_C = 4_500_000  # bank C's small issuance quota (45,000.00; its base wallets hold 41,500.00)
VALIDITY = 3 * DAY + DAY // 2  # authorizations expire 3.5 days after signing: 4 rollovers
EXPIRES_AFTER = 4  # ... i.e. after this many day rollovers (each example starts at 01:00 UTC)
HOLD_LIFE = DAY // 2  # holds expire at 13:00 on the day they are placed: after 1 rollover
TX_GAS = 5_000_000  # every step is mined with this gas limit, without estimation (a rejected one too)

# The ganache leg of `make test` (WALLETNET_TEST_CHAIN=ganache) runs the random sequences on a node several times
# slower than anvil, so with fewer examples: it is there to find anvil-only behaviour, which the first few show.
EXAMPLES = 25 if os.environ.get("WALLETNET_TEST_CHAIN", "anvil") == "anvil" else 2
STEPS = 30
# Shrinking replays a failing run hundreds of times on the chain (minutes, past pytest's timeout): off by
# default, the failing steps are printed as they ran. WALLETNET_SHRINK=1 shrinks them to a minimal sequence.
PHASES = [Phase.explicit, Phase.generate, *([Phase.shrink] if os.environ.get("WALLETNET_SHRINK") else [])]


def key_of(tag: str) -> LocalAccount:
    """A deterministic key (reproducible runs): the same tag gives the same wallet in every example."""
    return Account.from_key(keccak(text=f"walletnet invariants {tag}"))


STRANGER = key_of("stranger")  # never registered
MALLORY = key_of("mallory")  # signs authorizations for wallets that are not hers


def b32(text: str) -> bytes:
    return text.encode().ljust(32, b"\0")


# ==================================================================== the model


@dataclass
class Wallet:
    address: str
    acct: LocalAccount | None  # None for the settlement contract
    bank: str | None  # custodian bank code; None for the settlement contract (a system wallet)
    kind: int
    tier: int = 1
    status: int = ACTIVE
    by_regulator: bool = False
    balance: int = 0
    held: int = 0
    day: int = 0  # walletState's day and spentToday, exactly as the token packs them
    spent: int = 0
    cap_allowance: int = 0  # what the wallet may own above its cap after a tier change (shrinks)
    daily_allowance: int = 0  # ditto for today's outflow
    next_relay_nonce: int = 0
    relay_used: set[int] = field(default_factory=set)

    @property
    def limit_class(self) -> int:
        return {MERCHANT: 5, SYSTEM: 6}.get(self.kind, self.tier)



@dataclass
class Hold:
    holder: str
    amount: int
    expires_at: int
    expire_k: int  # expired once the model has seen this many rollovers
    status: int = HELD


@dataclass
class Merchant:
    acquirer: str
    wallet: str
    fee_bps: int
    mode: int  # 0 to wallet, 1 burn for bank-account payout
    gross: int = 0
    refunds: int = 0
    batch: int = 0


@dataclass
class Order:
    payer: str
    amount: int
    refunded: int = 0


@dataclass
class Signed:
    """An authorization signed during the run, replayable as it was signed."""

    kind: str  # transfer | redeem | hold | pay | relay
    args: Any
    authorizer: str
    expire_k: int
    sig_ok: bool
    request_ok: bool = True  # a payment's request signed by its acquirer


class Model:
    def __init__(self, bank_ids: dict[str, bytes], operators: dict[str, str], regulator: str) -> None:
        self.bank_ids = bank_ids
        self.operators = operators  # bank code -> the operator address the machine sends with
        self.regulator = regulator
        self.wallets: dict[str, Wallet] = {}
        self.settlement = ""
        self.fee_wallets: dict[str, str] = {}
        self.holds: dict[bytes, Hold] = {}
        self.merchants: dict[bytes, Merchant] = {}
        self.orders: dict[tuple[bytes, bytes], Order] = {}
        self.net = dict.fromkeys(bank_ids, 0)
        self.quota = dict.fromkeys(bank_ids, 0)
        self.limit_table = dict(TIER_LIMITS)  # class -> (balance cap, single, daily), as the token enforces them
        self.supply = self.total_held = self.total_pending = 0
        self.auth_used: set[tuple[str, bytes]] = set()
        self.burned_refs: set[tuple[str, bytes]] = set()  # (bank, ref) of its redemptions: once each
        self.auth_known: set[tuple[str, bytes]] = set()
        self.signed: list[Signed] = []
        self.named: dict[str, str] = {}  # the base state's wallets (and hold ids, hex) by role
        self.today = 0
        self.rollovers = 0
        self.counter = 0

    def clone(self) -> Model:
        memo = {id(w.acct): w.acct for w in self.wallets.values() if w.acct is not None}
        memo |= {id(s.args): s.args for s in self.signed}  # signed payloads are immutable
        return copy.deepcopy(self, memo)

    def fresh(self, tag: str) -> str:
        self.counter += 1
        return f"{tag}-{self.counter}"

    # ------------------------------------------------------------ the token's hook

    def limits(self, w: Wallet) -> tuple[int, int, int]:
        return self.limit_table[w.limit_class]

    def spent_today(self, w: Wallet) -> int:
        return w.spent if w.day == self.today else 0

    def check_debit(self, address: str, value: int) -> Err:
        """The paying side of a limit-checked movement (transfer, redemption, hold, payout burn)."""
        w = self.wallets.get(address)
        if w is None or w.status != ACTIVE:
            return "WalletNotActive", {"wallet": address, "status": w.status if w else 0}
        if value > w.balance:
            return "ERC20InsufficientBalance", {"sender": address, "balance": w.balance, "needed": value}
        _, single, daily = self.limits(w)
        if single != UNLIMITED and value > single:
            return "SinglePaymentLimitExceeded", {"wallet": address, "amount": value, "limit": single}
        spent = self.spent_today(w)
        if daily != UNLIMITED and spent + value > daily:
            return "DailyOutflowLimitExceeded", {"wallet": address, "spentToday": spent, "amount": value,
                                                 "limit": daily}
        return None

    def debit(self, address: str, value: int) -> None:
        w = self.wallets[address]
        w.balance -= value
        w.spent = min(self.spent_today(w) + value, MAX_BALANCE)
        w.day = self.today

    def check_credit(self, address: str, value: int) -> Err:
        w = self.wallets.get(address)
        if w is None or w.status != ACTIVE:
            return "WalletNotActive", {"wallet": address, "status": w.status if w else 0}
        cap = self.limits(w)[0]
        owned = w.balance + value + w.held
        if cap != UNLIMITED and owned > cap:
            return "BalanceCapExceeded", {"wallet": address, "balanceAfter": owned, "cap": cap}
        return None

    def transfer(self, frm: str, to: str, value: int, *, pulled_by_settlement: bool = False) -> Err:
        err = self.check_debit(frm, value)
        if err:
            return err
        self.debit(frm, value)
        t = self.wallets.get(to)
        if t is None or t.status != ACTIVE:
            return "WalletNotActive", {"wallet": to, "status": t.status if t else 0}
        if to == self.settlement and not pulled_by_settlement:
            return "DirectTransferToSettlement", {"from": frm}
        err = self.check_credit(to, value)  # a self-transfer sees the debited balance, as the token does
        if err:
            return err
        self.wallets[to].balance += value
        return None

    def custodian(self, caller: str, address: str) -> Err:
        """DigitalCash's _requireCustodianOperator."""
        w = self.wallets.get(address)
        if w is None or w.bank is None or self.operators[w.bank] != caller:
            return "NotCustodianOperator", {"caller": caller, "wallet": address}
        return None

    def use_auth(self, authorizer: str, nonce: bytes, sig_ok: bool) -> Err:
        if (authorizer, nonce) in self.auth_used:
            return "AuthorizationAlreadyUsed", {"authorizer": authorizer, "nonce": nonce}
        if not sig_ok:
            return "InvalidSignature", {"expectedSigner": authorizer}
        self.auth_used.add((authorizer, nonce))
        return None

    def expired(self, expire_k: int, valid_before: int) -> Err:
        return ("AuthorizationExpired", {"validBefore": valid_before}) if self.rollovers >= expire_k else None

    # ------------------------------------------------------------ operations (mutate; error = discard)

    def mint(self, caller: str, address: str, value: int) -> Err:
        err = self.custodian(caller, address)
        if err:
            return err
        w = self.wallets[address]
        err = self.check_credit(address, value)
        if err:
            return err
        assert w.bank is not None
        net, quota = self.net[w.bank], self.quota[w.bank]
        if net + value > 0 and net + value > quota:
            return "QuotaExceeded", {"bankId": self.bank_ids[w.bank], "quota": quota, "netIssued": net,
                                     "amount": value}
        w.balance += value
        self.supply += value
        self.net[w.bank] += value
        return None

    def transfer_with_authorization(self, args: list[Any], expire_k: int, sig_ok: bool) -> Err:
        frm, to, value, _after, before, nonce = args[:6]
        return (self.expired(expire_k, before) or self.use_auth(frm, nonce, sig_ok)
                or self.transfer(frm, to, value))

    def relay_item(self, item: tuple[Any, ...], expire_k: int, sig_ok: bool) -> Err:
        frm, to, value, before, nonce = item[:5]
        err = self.expired(expire_k, before)
        if err:
            return err
        w = self.wallets[frm]
        if nonce in w.relay_used:
            return "UnorderedNonceUsed", {"owner": frm, "nonce": nonce}
        if not sig_ok:
            return "InvalidSignature", {"expectedSigner": frm}
        err = self.transfer(frm, to, value)
        if err:
            return err
        self.wallets[frm].relay_used.add(nonce)
        return None

    def redeem(self, caller: str, args: list[Any], expire_k: int, sig_ok: bool) -> Err:
        holder, value, before, nonce, ref = args[:5]
        err = self.custodian(caller, holder)
        if err:
            return err
        bank = self.wallets[holder].bank
        assert bank is not None
        if (bank, ref) in self.burned_refs:
            return "RefAlreadyBurned", {"bankId": self.bank_ids[bank], "ref": ref}
        err = self.expired(expire_k, before) or self.use_auth(holder, nonce, sig_ok) or self.check_debit(holder, value)
        if err:
            return err
        self.debit(holder, value)
        self.burn(bank, value)
        self.burned_refs.add((bank, ref))
        return None

    def burn(self, bank: str | None, value: int) -> None:
        assert bank is not None
        self.supply -= value
        self.net[bank] -= value

    def place_hold(self, caller: str, args: list[Any], expire_k: int, sig_ok: bool) -> Err:
        holder, value, hold_id, expires_at = args[:4]
        err = self.custodian(caller, holder) or self.expired(expire_k, expires_at)
        if err:
            return err
        if (holder, hold_id) in self.auth_used:
            return "AuthorizationAlreadyUsed", {"authorizer": holder, "nonce": hold_id}
        if hold_id in self.holds:
            return "HoldAlreadyExists", {"holdId": hold_id}
        err = self.use_auth(holder, hold_id, sig_ok) or self.check_debit(holder, value)
        if err:
            return err
        self.debit(holder, value)
        w = self.wallets[holder]
        w.held += value
        self.total_held += value
        self.holds[hold_id] = Hold(holder, value, expires_at, expire_k)
        return None

    def active_hold(self, hold_id: bytes) -> Err:
        h = self.holds.get(hold_id)
        if h is None:
            return "UnknownHold", {"holdId": hold_id}
        if h.status != HELD:
            return "HoldNotActive", {"holdId": hold_id, "status": h.status}
        return None

    def holder_active(self, address: str) -> Err:
        w = self.wallets[address]
        return None if w.status == ACTIVE else ("WalletNotActive", {"wallet": address, "status": w.status})

    def holder_may_settle_holds(self, address: str) -> Err:
        """Capture and release need the holder Active or Frozen: a later freeze must not block them."""
        w = self.wallets[address]
        ok = w.status in (ACTIVE, FROZEN)
        return None if ok else ("WalletNotActive", {"wallet": address, "status": w.status})

    def capture(self, caller: str, hold_id: bytes) -> Err:
        err = self.active_hold(hold_id)
        if err:
            return err
        h = self.holds[hold_id]
        err = self.custodian(caller, h.holder) or self.holder_may_settle_holds(h.holder)
        if err:
            return err
        h.status = CAPTURED
        self.wallets[h.holder].held -= h.amount
        self.total_held -= h.amount
        self.burn(self.wallets[h.holder].bank, h.amount)
        return None

    def release(self, caller: str, hold_id: bytes) -> Err:
        err = self.active_hold(hold_id)
        if err:
            return err
        h = self.holds[hold_id]
        if caller == h.holder:
            if self.rollovers < h.expire_k:
                return "HoldNotExpired", {"holdId": hold_id, "expiresAt": h.expires_at}
        else:
            err = self.custodian(caller, h.holder)
        err = err or self.holder_may_settle_holds(h.holder)
        if err:
            return err
        h.status = RELEASED
        w = self.wallets[h.holder]
        w.held -= h.amount
        w.balance += h.amount
        self.total_held -= h.amount
        return None

    def pay(self, payment: tuple[Any, ...], expire_k: int, sig_ok: bool, request_ok: bool = True) -> Err:
        acquirer, mid, oid, payer, amount, _after, before = payment[:7]
        m = self.merchants[mid]
        if (mid, oid) in self.orders:
            return "OrderAlreadyPaid", {"merchantId": mid, "orderId": oid}
        if not request_ok:  # signed by a stranger, not by the acquirer
            return "InvalidPaymentRequest", {"acquirer": acquirer, "merchantId": mid, "orderId": oid,
                                             "signer": STRANGER.address}
        err = (self.expired(expire_k, before) or self.use_auth(payer, payment_nonce(acquirer, mid, oid), sig_ok)
               or self.transfer(payer, self.settlement, amount, pulled_by_settlement=True))
        if err:
            return err
        self.orders[(mid, oid)] = Order(payer, amount)
        m.gross += amount
        self.total_pending += amount
        return None

    def acquirer(self, caller: str, mid: bytes) -> Err:
        """Merchant ids are per acquirer: another bank's operator finds no merchant of that id at its bank."""
        if self.operators[self.merchants[mid].acquirer] != caller:
            return "UnknownMerchant", {"merchantId": mid}
        return None

    def refund(self, caller: str, mid: bytes, oid: bytes, amount: int) -> Err:
        err = self.acquirer(caller, mid)
        if err:
            return err
        m, o = self.merchants[mid], self.orders.get((mid, oid))
        if o is None:
            return "UnknownOrder", {"merchantId": mid, "orderId": oid}
        if amount == 0:
            return "ZeroAmount", {}
        refundable = o.amount - o.refunded
        if amount > refundable:
            return "RefundExceedsRefundable", {"merchantId": mid, "orderId": oid, "amount": amount,
                                               "refundable": refundable}
        pending = m.gross - m.refunds
        if amount > pending:
            return "RefundExceedsPending", {"merchantId": mid, "amount": amount, "pending": pending}
        o.refunded += amount
        m.refunds += amount
        self.total_pending -= amount
        return self.transfer(self.settlement, o.payer, amount)

    def settle(self, caller: str, mid: bytes) -> Err:
        err = self.acquirer(caller, mid)
        if err:
            return err
        m = self.merchants[mid]
        after_refunds = m.gross - m.refunds
        fee = min(m.gross * m.fee_bps // 10_000, after_refunds)
        net = after_refunds - fee
        m.gross = m.refunds = 0
        m.batch += 1
        self.total_pending -= fee + net
        if net:
            if m.mode == 0:
                err = self.transfer(self.settlement, m.wallet, net)
            else:
                err = self.check_debit(self.settlement, net)
                if not err:
                    self.debit(self.settlement, net)
                    self.burn(m.acquirer, net)
            if err:
                return err
        if fee:
            return self.transfer(self.settlement, self.fee_wallets[m.acquirer], fee)
        return None

    def add_wallets(self, wallets: list[Wallet]) -> Err:
        for w in wallets:
            self.wallets[w.address] = w
        return None

    def register(self, mid: bytes, bank: str, address: str, fee: int, mode: int) -> Err:
        w = self.wallets.get(address)
        if w is None or w.kind != MERCHANT or w.status != ACTIVE:
            return "InvalidMerchantWallet", {"wallet": address}
        self.merchants[mid] = Merchant(bank, address, fee, mode)
        return None

    def open_check(self, address: str) -> Err:
        if address in self.wallets:
            return "WalletAlreadyRegistered", {"wallet": address}
        return None

    def registry_wallet(self, address: str) -> tuple[Wallet | None, Err]:
        """WalletRegistry._openWallet."""
        w = self.wallets.get(address)
        if w is None:
            return None, ("WalletNotRegistered", {"wallet": address})
        if w.status == CLOSED:
            return None, ("WalletIsClosed", {"wallet": address})
        return w, None

    def bank_id(self, w: Wallet) -> bytes:
        return self.bank_ids[w.bank] if w.bank else b"\0" * 32

    def registry_custodian(self, caller: str, address: str, w: Wallet) -> Err:
        if w.bank is None or self.operators[w.bank] != caller:
            return "NotCustodian", {"caller": caller, "wallet": address, "bankId": self.bank_id(w)}
        return None

    def freeze(self, caller: str, address: str) -> Err:
        w, err = self.registry_wallet(address)
        if err:
            return err
        assert w is not None
        by_regulator = caller == self.regulator
        if not by_regulator and (w.bank is None or self.operators[w.bank] != caller):
            return "NotCustodianOrRegulator", {"caller": caller, "wallet": address}
        if not (w.status == ACTIVE or (by_regulator and w.status == FROZEN and not w.by_regulator)):
            return "WalletNotActive", {"wallet": address, "status": w.status}
        w.status, w.by_regulator = FROZEN, by_regulator
        return None

    def unfreeze(self, caller: str, address: str) -> Err:
        w, err = self.registry_wallet(address)
        if err:
            return err
        assert w is not None
        if w.status != FROZEN:
            return "WalletNotFrozen", {"wallet": address}
        if w.by_regulator:
            if caller != self.regulator:
                return "RegulatorFreeze", {"wallet": address}
        else:
            err = self.registry_custodian(caller, address, w)
            if err:
                return err
        w.status, w.by_regulator = ACTIVE, False
        return None

    def close(self, caller: str, address: str) -> Err:
        w, err = self.registry_wallet(address)
        if err:
            return err
        assert w is not None
        err = self.registry_custodian(caller, address, w)
        if err:
            return err
        if w.by_regulator:
            return "RegulatorFreeze", {"wallet": address}
        if w.held:
            return "HoldsOutstanding", {"wallet": address, "held": w.held}
        self.burn(w.bank, w.balance)
        w.balance = 0
        w.status, w.by_regulator = CLOSED, False
        return None

    def grandfather(self, w: Wallet) -> None:
        """New, possibly lower, limits for `w`: the token checks caps on credit and outflow on debit only, so
        what the wallet owns / spent today may stay above them (and may not grow)."""
        w.cap_allowance = w.balance + w.held
        w.daily_allowance = self.spent_today(w)

    def set_limits(self, limit_class: int, limits: tuple[int, int, int]) -> Err:
        self.limit_table[limit_class] = limits
        for w in self.wallets.values():
            if w.limit_class == limit_class:
                self.grandfather(w)
        return None

    def set_tier(self, caller: str, address: str, tier: int) -> Err:
        w, err = self.registry_wallet(address)
        if err:
            return err
        assert w is not None
        err = self.registry_custodian(caller, address, w)
        if err:
            return err
        if w.kind != PERSONAL:
            return "NotPersonalWallet", {"wallet": address, "kind": w.kind}
        if not 1 <= tier <= 4:
            return "InvalidTier", {"wallet": address, "tier": tier}
        w.tier = tier
        self.grandfather(w)
        return None

    # ------------------------------------------------------------ what the chain must show

    def expected(self) -> dict[Any, Any]:
        out: dict[Any, Any] = {
            "supply": self.supply, "totalHeld": self.total_held, "tokenBalance": self.total_held,
            "totalPending": self.total_pending,
        }
        for limit_class, limits in self.limit_table.items():
            out["limits", limit_class] = limits
        for code in self.bank_ids:
            out["netIssued", code] = self.net[code]
            out["quota", code] = self.quota[code]
        for address, w in self.wallets.items():
            out["wallet", address] = (w.balance, w.held, w.status, w.limit_class, w.day, w.spent)
            out["registry", address] = (w.status, w.by_regulator, w.tier if w.kind == PERSONAL else 1, w.kind)
            words = {n >> 8 for n in w.relay_used} | ({0} if w.acct else set())
            for word in words:
                out["bitmap", address, word] = sum(1 << (n & 0xFF) for n in w.relay_used if n >> 8 == word)
        out["wallet", STRANGER.address] = (0, 0, 0, 0, 0, 0)
        out["registry", STRANGER.address] = (0, False, 0, 0)
        for hold_id, h in self.holds.items():
            out["hold", hold_id] = (h.holder, h.amount, h.expires_at, h.status)
        for mid, m in self.merchants.items():
            out["merchant", mid] = (self.bank_ids[m.acquirer], m.wallet, m.fee_bps, m.mode, 1, m.gross, m.refunds,
                                    m.batch)
        for (mid, oid), o in self.orders.items():
            out["order", mid, oid] = (o.payer, o.amount, o.refunded)
        for who, nonce in self.auth_known:
            out["auth", who, nonce] = (who, nonce) in self.auth_used
        return out


# ==================================================================== reading the chain in one round trip


@functools.cache
def _selector(signature: str) -> bytes:
    return keccak(text=signature)[:4]


def _word(value: Any) -> bytes:
    if isinstance(value, str):
        return bytes(12) + bytes.fromhex(value.removeprefix("0x"))
    if isinstance(value, bytes):
        return value.rjust(32, b"\0")
    return int(value).to_bytes(32, "big")


@functools.cache
def _address(word: int) -> str:
    return Web3.to_checksum_address(word.to_bytes(20, "big"))


def _signed(word: int) -> int:
    return word - (1 << 256) if word >> 255 else word


class ChainReader:
    """Everything the model predicts, read with one JSON-RPC batch of eth_calls."""

    def __init__(self, system: Any) -> None:
        self.system = system
        self.provider = system.w3.provider

    def read(self, model: Model) -> dict[Any, Any]:
        s = self.system
        token, registry, settlement, consortium = (s.token.address, s.registry.address, s.settlement.address,
                                                   s.consortium.address)
        calls: list[tuple[Any, str, str, tuple[Any, ...]]] = [
            ("supply", token, "totalSupply()", ()),
            ("totalHeld", token, "totalHeld()", ()),
            ("tokenBalance", token, "balanceOf(address)", (token,)),
            ("totalPending", settlement, "totalPending()", ()),
        ]
        for limit_class in model.limit_table:
            calls.append((("limits", limit_class), token, "limits(uint8)", (limit_class,)))
        for code, bank_id in model.bank_ids.items():
            calls.append((("netIssued", code), consortium, "netIssued(bytes32)", (bank_id,)))
            calls.append((("quota", code), consortium, "quota(bytes32)", (bank_id,)))
        addresses = [*model.wallets, STRANGER.address]
        for a in addresses:
            calls.append((("balance", a), token, "balanceOf(address)", (a,)))
            calls.append((("held", a), token, "heldBalance(address)", (a,)))
            calls.append((("state", a), token, "walletState(address)", (a,)))
            calls.append((("registry", a), registry, "wallet(address)", (a,)))
            w = model.wallets.get(a)
            if w is not None and w.acct is not None:
                for word in {n >> 8 for n in w.relay_used} | {0}:
                    calls.append((("bitmap", a, word), token, "nonceBitmap(address,uint256)", (a, word)))
        for hold_id in model.holds:
            calls.append((("hold", hold_id), token, "holdOf(bytes32)", (hold_id,)))
        for mid, merchant in model.merchants.items():
            bank = model.bank_ids[merchant.acquirer]
            calls.append((("merchant", mid), settlement, "merchant(bytes32,bytes32)", (bank, mid)))
        for mid, oid in model.orders:
            bank = model.bank_ids[model.merchants[mid].acquirer]
            calls.append((("order", mid, oid), settlement, "order(bytes32,bytes32,bytes32)", (bank, mid, oid)))
        for who, nonce in model.auth_known:
            calls.append((("auth", who, nonce), token, "authorizationState(address,bytes32)", (who, nonce)))

        requests = [("eth_call", [{"to": to, "data": "0x" + (_selector(sig) + b"".join(_word(x) for x in args)).hex()},
                                  "latest"]) for _, to, sig, args in calls]
        responses = self.provider.make_batch_request(requests)
        assert isinstance(responses, list), responses
        words: dict[Any, list[int]] = {}
        for (key, *_), response in zip(calls, sorted(responses, key=lambda r: r["id"]), strict=True):
            assert "error" not in response, (key, response)
            raw = bytes.fromhex(str(response["result"]).removeprefix("0x"))
            words[key] = [int.from_bytes(raw[i:i + 32], "big") for i in range(0, len(raw), 32)]

        out: dict[Any, Any] = {k: words[k][0] for k in ("supply", "totalHeld", "tokenBalance", "totalPending")}
        for code in model.bank_ids:
            out["netIssued", code] = _signed(words["netIssued", code][0])
            out["quota", code] = words["quota", code][0]
        for a in addresses:
            status, limit_class, day, spent = words["state", a]
            out["wallet", a] = (words["balance", a][0], words["held", a][0], status, limit_class, day, spent)
            _bank, tier, kind, reg_status, by_regulator, *_ = words["registry", a]
            out["registry", a] = (reg_status, bool(by_regulator), tier, kind)
        for key, value in words.items():
            if key[0] == "bitmap":
                out[key] = value[0]
            elif key[0] == "hold":
                holder, amount, expires_at, status = value
                out[key] = (_address(holder), amount, expires_at, status)
            elif key[0] == "merchant":
                acquirer, wallet, fee, _mcc, mode, status, _hash, gross, refunds, batch = value
                out[key] = (acquirer.to_bytes(32, "big"), _address(wallet), fee, mode, status, gross, refunds, batch)
            elif key[0] == "limits":
                out[key] = tuple(value)
            elif key[0] == "order":
                payer, amount, refunded, _paid_at = value
                out[key] = (_address(payer), amount, refunded)
            elif key[0] == "auth":
                out[key] = bool(value[0])
        return out


def differences(expected: dict[Any, Any], actual: dict[Any, Any]) -> list[str]:
    keys = sorted(set(expected) | set(actual), key=repr)
    return [f"{k!r}: expected {expected.get(k)!r}, chain {actual.get(k)!r}" for k in keys
            if expected.get(k) != actual.get(k)]


class Sender:
    """Sends with a fixed gas limit, a cached chain id and gas price and locally counted nonces: about a
    third of the round trips of ``system.send``, so the run can afford more steps. (A rejected step is
    first an eth_call, whose revert data ``reverts`` decodes, then mined all the same.)"""

    def __init__(self, w3: Web3) -> None:
        self.w3 = w3
        self.chain_id = w3.eth.chain_id
        self.gas_price = 2 * w3.eth.gas_price + 1
        self.nonces: dict[str, int] = {}

    def send(self, call: Any, sender: LocalAccount) -> Any:
        address = sender.address
        nonce = self.nonces.get(address)
        if nonce is None:
            nonce = self.w3.eth.get_transaction_count(address, "pending")
        tx = call.build_transaction({"from": address, "chainId": self.chain_id, "gas": TX_GAS,
                                     "gasPrice": self.gas_price, "nonce": nonce})
        tx_hash = self.w3.eth.send_raw_transaction(sender.sign_transaction(tx).raw_transaction)
        self.nonces[address] = nonce + 1
        return self.w3.eth.wait_for_transaction_receipt(tx_hash)

    @staticmethod
    def reason(call: Any, sender: LocalAccount) -> str:
        """Why `call` reverts now (for a failure message)."""
        try:
            call.call({"from": sender.address})
        except Exception as exc:
            return str(decode_revert(getattr(exc, "data", None))) if hasattr(exc, "data") else repr(exc)
        return "it does not revert now"


# ==================================================================== the state machine


class Network(RuleBasedStateMachine):
    """One example: a random sequence of operations from the base state, reverted afterwards."""

    def __init__(self, system: Any, reverts: Any, base: Model, outcomes: Counter[tuple[str, str]]) -> None:
        super().__init__()
        self.s = system
        self.reverts = reverts
        self.outcomes = outcomes
        self.reader = ChainReader(system)
        self.snapshot = system.rpc("evm_snapshot")
        self.tx = Sender(system.w3)
        self.m = base.clone()
        start_of_next_day(system)  # 01:00 UTC: 23 hours before any step could straddle midnight by accident
        self.clock = now(system)  # chain time, to within the few seconds a run takes (boundaries are hours away)
        self.m.today = self.clock // DAY
        self.ops = {code: system.banks[code].operators[0] for code in BANKS}
        self.relayer = system.accounts[0]  # anyone may submit EIP-3009 authorizations and payments
        self.log: list[str] = []  # outcomes in order ("ok" or the error), relay and payBatch items included
        self.steps_today = 0

    def teardown(self) -> None:
        assert self.s.rpc("evm_revert", self.snapshot) is True

    # ------------------------------------------------------------ plumbing

    def execute(self, label: str, call: Any, sender: LocalAccount, simulate: Callable[[Model], Err]) -> Any:
        """Predict `call` on a copy of the model; send it; check the chain took the predicted path."""
        self.steps_today += 1
        trial = self.m.clone()
        err = simulate(trial)
        if err is None:
            receipt = self.tx.send(call, sender)
            if receipt["status"] != 1:
                raise AssertionError(f"{label}: the model expected success, the chain said "
                                     f"{self.tx.reason(call, sender)}")
            self.m = trial
            self.record(label, "ok")
            return receipt
        name, args = err
        before = self.reader.read(self.m)
        with self.reverts(name, **args):
            call.call({"from": sender.address})
        # Mine it anyway: a failed transaction on chain must change nothing either.
        assert self.tx.send(call, sender)["status"] == 0, f"{label}: mined without reverting, expected {name}"
        after = self.reader.read(self.m)
        assert after == before, f"{label} rejected with {name} but changed: {differences(before, after)}"
        self.record(label, self.outcome_name(name, args))
        return None

    def record(self, label: str, outcome: str) -> None:
        self.outcomes[label, outcome] += 1
        self.log.append(outcome)

    @staticmethod
    def outcome_name(name: str, args: dict[str, Any]) -> str:
        return f"{name}/{args['status']}" if name == "WalletNotActive" else name

    def wallets(self, *, settlement: bool = False) -> list[str]:
        return [a for a in self.m.wallets if settlement or a != self.m.settlement]

    def pick(self, data: Any, items: Any, label: str = "") -> Any:
        return data.draw(st.sampled_from(list(items)), label=label or None)

    def amount(self, data: Any, safe: int, *candidates: int) -> int:
        """Half the time an amount up to `safe` (that should pass), else a boundary value (a balance, a limit,
        the room left under one, one more) or any amount up to the largest of them."""
        values = sorted({c for c in candidates if 1 <= c < 2**100})
        kind = data.draw(st.integers(0, 3), label="amount kind")
        if kind <= 1 and 1 <= safe < 2**100:
            return data.draw(st.integers(1, safe), label="amount")
        if kind == 2 or not values:
            upper = max((v for v in [*values, safe] if 1 <= v < 2**100), default=1)
            return data.draw(st.integers(1, upper), label="amount")
        return self.pick(data, values, "amount")

    def most(self, address: str) -> int:
        """The largest payment `address` can make now (balance, single and daily limits)."""
        w = self.m.wallets[address]
        _, single, daily = self.m.limits(w)
        return min(w.balance, single, daily - self.m.spent_today(w) if daily != UNLIMITED else w.balance)

    def headroom(self, address: str) -> int:
        """What `address` can still receive under its balance cap (0 if not an active wallet)."""
        w = self.m.wallets.get(address)
        if w is None or w.status != ACTIVE:
            return 0
        cap = self.m.limits(w)[0]
        return UNLIMITED if cap == UNLIMITED else max(cap - w.balance - w.held, 0)

    def room(self, address: str) -> list[int]:
        """Interesting amounts for `address` paying and being paid."""
        w = self.m.wallets[address]
        cap, single, daily = self.m.limits(w)
        left = daily - self.m.spent_today(w) if daily != UNLIMITED else w.balance
        most = self.most(address)  # the largest payment that passes: repeat it to reach the daily limit
        spend = [w.balance, w.balance + 1, single, single + 1, left, left + 1, w.balance // 2, most]
        credit = [cap - w.balance - w.held, cap - w.balance - w.held + 1] if cap != UNLIMITED else []
        return [v for v in spend if w.balance] + credit

    def spender(self, data: Any, label: str) -> str:
        """A wallet to pay from: mostly one with money (new wallets start empty)."""
        funded = [a for a in self.wallets() if self.m.wallets[a].balance]
        if funded and data.draw(st.integers(0, 3), label=f"{label} funded") != 0:
            return str(self.pick(data, funded, label))
        return str(self.pick(data, self.wallets(), label))

    def recipient(self, data: Any) -> str:
        """Mostly a wallet; sometimes the settlement contract (refused) or an address never registered."""
        if data.draw(st.integers(0, 5), label="odd recipient") == 0:
            return str(self.pick(data, [self.m.settlement, STRANGER.address], "to"))
        return str(self.pick(data, self.wallets(), "to"))

    def key_for(self, address: str, forged: bool) -> LocalAccount:
        acct = self.m.wallets[address].acct
        assert acct is not None
        return MALLORY if forged else acct

    def valid_before(self) -> tuple[int, int]:
        return self.clock + VALIDITY, self.m.rollovers + EXPIRES_AFTER

    def new_wallet(self, bank: str, kind: int, tier: int) -> Wallet:
        acct = key_of(self.m.fresh("wallet"))
        return Wallet(acct.address, acct, bank, kind, tier if kind == PERSONAL else 1)

    # ------------------------------------------------------------ opening and registry changes

    @rule(data=st.data())
    def open_wallets(self, data: Any) -> None:
        bank = self.pick(data, BANKS, "bank")
        op = self.ops[bank]
        bank_id = self.m.bank_ids[bank]
        reg = self.s.registry.functions
        if data.draw(st.integers(0, 9), label="reopen") == 0:  # an address that is already registered
            address = self.pick(data, self.wallets(settlement=True), "existing")
            self.execute("open", reg.openWallet(address, bank_id, 1, PERSONAL, keccak(b"acct")), op,
                         lambda m: m.open_check(address))
            return
        count = data.draw(st.integers(1, 3), label="count")
        new = [self.new_wallet(bank, self.pick(data, [PERSONAL, PERSONAL, MERCHANT], "kind"),
                               data.draw(st.integers(1, 4), label="tier")) for _ in range(count)]
        openings = [(w.address, w.tier, w.kind, keccak(text=f"acct {w.address}")) for w in new]
        if count == 1:
            address, tier, kind, account_hash = openings[0]
            call = reg.openWallet(address, bank_id, tier, kind, account_hash)
        else:
            call = reg.openWallets(bank_id, openings)
        self.execute("open", call, op, lambda m: m.add_wallets(new))

    @rule(data=st.data())
    def register_merchant(self, data: Any) -> None:
        """A bank acquires a merchant: mostly on a new merchant wallet, sometimes (refused) on another wallet."""
        bank = self.pick(data, BANKS, "bank")
        op = self.ops[bank]
        if data.draw(st.integers(0, 4), label="existing wallet") == 0:
            address = self.pick(data, self.wallets(settlement=True), "wallet")
        else:
            w = self.new_wallet(bank, MERCHANT, 1)
            address = w.address
            self.execute("open", self.s.registry.functions.openWallet(address, self.m.bank_ids[bank], 1, MERCHANT,
                                                                      keccak(text=address)), op,
                         lambda m: m.add_wallets([w]))
        mid = b32(self.m.fresh("M"))
        fee = self.pick(data, [0, 30, 250, 10_000], "feeBps")
        mode = data.draw(st.integers(0, 1), label="payout mode")
        self.execute("registerMerchant",
                     self.s.settlement.functions.registerMerchant(mid, address, fee, 5411, keccak(mid), mode), op,
                     lambda m: m.register(mid, bank, address, fee, mode))

    @rule(data=st.data())
    def set_tier(self, data: Any) -> None:
        address = self.pick(data, self.wallets(), "wallet")
        w = self.m.wallets[address]
        assert w.bank is not None
        tier = self.pick(data, [1, 2, 3, 4, 1, 2, 3, 4, 5], "tier")
        op = self.ops[w.bank]
        self.execute("setTier", self.s.registry.functions.setTier(address, tier), op,
                     lambda m: m.set_tier(op.address, address, tier))

    @rule(data=st.data())
    def freeze(self, data: Any) -> None:
        by = self.pick(data, ["bank", "regulator", "other bank"], "by")
        candidates = self.wallets(settlement=by == "regulator")
        address = self.pick(data, candidates, "wallet")
        bank = self.m.wallets[address].bank
        caller = (self.s.regulator if by == "regulator" else self.ops[bank] if by == "bank"
                  else self.ops[self.pick(data, [b for b in BANKS if b != bank], "other")])
        self.registry_call("freeze", "freeze", address, caller)

    @rule(data=st.data())
    def unfreeze(self, data: Any) -> None:
        frozen = [a for a, w in self.m.wallets.items() if w.status == FROZEN]
        address = self.pick(data, frozen or self.wallets(), "wallet")
        w = self.m.wallets[address]
        caller = self.s.regulator if w.bank is None or data.draw(st.booleans(), label="regulator") \
            else self.ops[w.bank]
        self.registry_call("unfreeze", "unfreeze", address, caller)

    @rule(data=st.data())
    def close(self, data: Any) -> None:
        holding = [a for a in self.wallets() if self.m.wallets[a].held]
        if holding and data.draw(st.booleans(), label="with holds"):
            address = self.pick(data, holding, "wallet")
        else:
            address = self.pick(data, self.wallets(), "wallet")
        bank = self.m.wallets[address].bank
        assert bank is not None
        self.registry_call("close", "close", address, self.ops[bank])

    @rule(data=st.data())
    def set_limits(self, data: Any) -> None:
        """The network operator tightens a tier's limits (to a quarter) or restores the defaults."""
        limit_class = data.draw(st.integers(1, 4), label="tier")
        cap, single, daily = TIER_LIMITS[limit_class]
        limits = self.pick(data, [(cap // 4, single // 4, daily // 4), (cap, single, daily)], "limits")
        self.execute("setLimits", self.s.registry.functions.setLimits(limit_class, limits), self.s.operator,
                     lambda m: m.set_limits(limit_class, limits))

    @precondition(lambda self: self.steps_today >= 4)  # first in hypothesis's rule order, so otherwise too frequent
    @rule()
    def next_day(self) -> None:
        self.s.increase_time(DAY)
        self.steps_today = 0
        self.m.today += 1
        self.m.rollovers += 1
        self.clock = now(self.s)
        assert self.clock // DAY == self.m.today

    # ------------------------------------------------------------ issuance and redemption

    @rule(data=st.data())
    def mint(self, data: Any) -> None:
        at_c = [a for a in self.wallets() if self.m.wallets[a].bank == "C"]  # bank C: the small quota
        if data.draw(st.integers(0, 2), label="bank C") == 0:
            address = self.pick(data, at_c, "wallet")
        else:
            address = self.pick(data, self.wallets(settlement=True), "wallet")
        bank = self.m.wallets[address].bank
        if bank is None or data.draw(st.integers(0, 9), label="wrong bank") == 0:
            op = self.ops[self.pick(data, [b for b in BANKS if b != bank], "other bank")]
        else:
            op = self.ops[bank]
        quota_room = self.m.quota[bank] - self.m.net[bank] if bank else 0
        value = self.amount(data, min(self.headroom(address), quota_room if bank else 0),
                            *self.room(address), quota_room, quota_room + 1, 100_000, 10_000_000)
        ref = keccak(text=self.m.fresh("mint"))
        self.execute("mint", self.s.token.functions.mint(address, value, ref), op,
                     lambda m: m.mint(op.address, address, value))

    @rule(data=st.data())
    def redeem(self, data: Any) -> None:
        address = self.spender(data, "holder")
        forged = data.draw(st.integers(0, 9), label="forged") == 0
        self.send_redemption("redeem", address, self.amount(data, self.most(address), *self.room(address)), forged)

    def send_redemption(self, label: str, address: str, value: int, forged: bool = False) -> None:
        """The holder's signed Redemption, relayed by its custodian bank."""
        bank = self.m.wallets[address].bank
        assert bank is not None
        before, expire_k = self.valid_before()
        nonce = keccak(text=self.m.fresh("redeem"))
        args = redemption_args(self.s, self.key_for(address, forged), value, ref=keccak(nonce), valid_before=before,
                               nonce=nonce, holder=address)
        self.m.signed.append(Signed("redeem", args, address, expire_k, not forged))
        self.m.auth_known.add((address, nonce))
        op = self.ops[bank]
        self.execute(label, self.s.token.functions.redeemWithAuthorization(*args), op,
                     lambda m: m.redeem(op.address, args, expire_k, not forged))

    # ------------------------------------------------------------ transfers

    @rule(data=st.data())
    def transfer_with_authorization(self, data: Any) -> None:
        frm = self.spender(data, "from")
        to = self.recipient(data)
        forged = data.draw(st.integers(0, 9), label="forged") == 0
        value = self.amount(data, min(self.most(frm), self.headroom(to)),
                            *self.room(frm), *(self.room(to) if to in self.m.wallets else []))
        self.send_transfer("transferWithAuthorization", frm, to, value, forged)

    def send_transfer(self, label: str, frm: str, to: str, value: int, forged: bool = False) -> None:
        """An EIP-3009 transferWithAuthorization signed by `frm` (or forged), submitted by a third party."""
        before, expire_k = self.valid_before()
        nonce = keccak(text=self.m.fresh("3009"))
        args = auth_args(self.s, self.key_for(frm, forged), to, value, valid_before=before, nonce=nonce, from_=frm)
        self.m.signed.append(Signed("transfer", args, frm, expire_k, not forged))
        self.m.auth_known.add((frm, nonce))
        self.execute(label, self.s.token.functions.transferWithAuthorization(*args), self.relayer,
                     lambda m: m.transfer_with_authorization(args, expire_k, not forged))

    @rule(data=st.data())
    def misdirected_transfer(self, data: Any) -> None:
        """An EIP-3009 transfer of 1 that the token must refuse for who is involved: into the settlement
        contract, to a frozen, closed or never registered address, or from a frozen or closed wallet."""
        active = [a for a in self.wallets() if self.m.wallets[a].status == ACTIVE and self.m.wallets[a].balance]
        inactive = [a for a in self.wallets() if self.m.wallets[a].status != ACTIVE]
        frm = self.pick(data, active, "from") if active else self.spender(data, "from")
        case = self.pick(data, ["to settlement", "to inactive", "from inactive"], "case")
        if case == "to settlement":
            to = self.m.settlement
        elif case == "to inactive":
            to = self.pick(data, [*inactive, STRANGER.address], "to")
        else:
            frm = self.pick(data, inactive or self.wallets(), "from")
            to = self.pick(data, self.wallets(), "to")
        self.send_transfer("misdirected transfer", frm, to, 1)

    @rule(data=st.data())
    def relay_batch(self, data: Any) -> None:
        items: list[tuple[tuple[Any, ...], int, bool]] = []
        before, expire_k = self.valid_before()
        for _ in range(data.draw(st.integers(1, 4), label="items")):
            kind = data.draw(st.integers(0, 7), label="item kind")
            done = [s for s in self.m.signed if s.kind == "relay"]
            if kind == 0 and done:  # resubmit an item signed before
                old = self.pick(data, range(len(done)), "replayed")
                items.append((done[old].args, done[old].expire_k, done[old].sig_ok))
                continue
            # kind 4: another payment from the previous item's payer
            frm = items[-1][0][0] if kind == 4 and items else self.spender(data, "from")
            to = self.recipient(data)
            w = self.m.wallets[frm]
            if kind == 1 and w.next_relay_nonce:  # the nonce of the previous item signed by this wallet
                nonce = w.next_relay_nonce - 1
            else:
                nonce = w.next_relay_nonce
                w.next_relay_nonce += 1 + (data.draw(st.integers(0, 300), label="gap") if kind == 2 else 0)
            forged = kind == 3
            # the same amount again from the same payer walks it up to its daily limit
            value = (items[-1][0][2] if kind == 4 and items
                     else self.amount(data, min(self.most(frm), self.headroom(to)), *self.room(frm)))
            item = relayed(self.s, self.key_for(frm, forged), to, value, nonce, valid_before=before, from_=frm)
            self.m.signed.append(Signed("relay", item, frm, expire_k, not forged))
            items.append((item, expire_k, not forged))
        self.relay(items, self.pick(data, BANKS, "relaying bank"))

    @rule(data=st.data())
    def spend_the_daily_allowance(self, data: Any) -> None:
        """A wallet pays out all it may today in one relay batch (the largest payments that pass), then 1 more:
        the last item must fail, over the daily limit when the wallet has more money than allowance left."""
        def left(w: Wallet) -> int:
            return self.m.limits(w)[2] - self.m.spent_today(w)

        richer = [a for a in self.wallets() if self.m.limits(self.m.wallets[a])[2] != UNLIMITED
                  and 0 < left(self.m.wallets[a]) < self.m.wallets[a].balance]
        frm = self.pick(data, richer, "payer") if richer else self.spender(data, "payer")
        shops = [a for a, w in self.m.wallets.items() if w.kind == MERCHANT] or self.wallets()
        self.spend_the_day(frm, self.pick(data, shops, "to"), self.pick(data, BANKS, "relaying bank"))

    def spend_the_day(self, frm: str, to: str, bank: str) -> None:
        """`frm` pays `to` the largest payments that pass until its daily allowance (or balance) is used up,
        then 1 more, in one relay batch."""
        w = self.m.wallets[frm]
        _, single, daily = self.m.limits(w)
        allowance = daily - self.m.spent_today(w) if daily != UNLIMITED else w.balance
        balance = w.balance
        amounts = []
        while len(amounts) < 4 and min(single, allowance, balance) > 0:
            amounts.append(min(single, allowance, balance))
            allowance, balance = allowance - amounts[-1], balance - amounts[-1]
        before, expire_k = self.valid_before()
        items = []
        for value in [*amounts, 1]:
            item = relayed(self.s, self.key_for(frm, False), to, value, w.next_relay_nonce, valid_before=before,
                           from_=frm)
            w.next_relay_nonce += 1
            self.m.signed.append(Signed("relay", item, frm, expire_k, True))
            items.append((item, expire_k, True))
        self.relay(items, bank)

    def relay(self, items: list[tuple[tuple[Any, ...], int, bool]], bank: str) -> None:
        """Send a relay batch; the failed items (reported in RelayFailed) must be exactly the predicted ones."""
        predicted: list[tuple[int, str, int, str, dict[str, Any]]] = []

        def simulate(m: Model) -> Err:
            for index, (item, expire_k, sig_ok) in enumerate(items):
                trial = m.clone()
                err = trial.relay_item(item, expire_k, sig_ok)
                if err is None:
                    m.__dict__.update(trial.__dict__)
                else:
                    predicted.append((index, item[0], item[4], *err))
            return None

        receipt = self.execute("relayTransfers", self.s.token.functions.relayTransfers([i for i, _, _ in items]),
                               self.ops[bank], simulate)
        failed = []
        for event in self.s.token.events.RelayFailed().process_receipt(receipt, errors=DISCARD):
            error = decode_revert(event["args"]["reason"])
            failed.append((event["args"]["index"], event["args"]["from"], event["args"]["nonce"], error.name,
                           error.arguments))
        assert failed == predicted, f"relay batch: RelayFailed {failed}, the model expected {predicted}"
        for *_, name, args in predicted:
            self.record("relay item", self.outcome_name(name, args))

    # ------------------------------------------------------------ holds

    @rule(data=st.data())
    def place_hold(self, data: Any) -> None:
        holder = self.spender(data, "holder")
        forged = data.draw(st.integers(0, 9), label="forged") == 0
        self.send_hold("placeHold", holder, self.amount(data, self.most(holder), *self.room(holder)), forged)

    def send_hold(self, label: str, holder: str, value: int, forged: bool = False) -> None:
        """The holder's signed Hold (ATM cash-out), placed by its custodian bank."""
        bank = self.m.wallets[holder].bank
        assert bank is not None
        expires_at = self.clock + HOLD_LIFE
        hold_id = keccak(text=self.m.fresh("hold"))
        args = hold_args(self.s, self.key_for(holder, forged), value, hold_id=hold_id, expires_at=expires_at,
                         holder=holder)
        expire_k = self.m.rollovers + 1
        self.m.signed.append(Signed("hold", args, holder, expire_k, not forged))
        self.m.auth_known.add((holder, hold_id))
        op = self.ops[bank]
        self.execute(label, self.s.token.functions.placeHold(*args), op,
                     lambda m: m.place_hold(op.address, args, expire_k, not forged))

    def hold(self, data: Any) -> bytes:
        """Mostly a hold still held (the others can only be rejected)."""
        held = [h for h, x in self.m.holds.items() if x.status == HELD]
        if held and data.draw(st.integers(0, 3), label="held") != 0:
            return bytes(self.pick(data, held, "hold"))
        return bytes(self.pick(data, self.m.holds, "hold"))

    @precondition(lambda self: any(h.status == HELD for h in self.m.holds.values()))
    @rule(data=st.data())
    def capture_hold(self, data: Any) -> None:
        hold_id = self.hold(data)
        op = self.ops[self.m.wallets[self.m.holds[hold_id].holder].bank or "A"]
        ref = keccak(text=self.m.fresh("atm"))
        self.execute("captureHold", self.s.token.functions.captureHold(hold_id, ref), op,
                     lambda m: m.capture(op.address, hold_id))

    @precondition(lambda self: any(h.status == HELD for h in self.m.holds.values()))
    @rule(data=st.data())
    def release_hold(self, data: Any) -> None:
        by_holder = data.draw(st.booleans(), label="by holder")
        early = [h for h, x in self.m.holds.items() if x.status == HELD and self.m.rollovers < x.expire_k]
        if by_holder and early and data.draw(st.booleans(), label="before expiry"):
            hold_id = bytes(self.pick(data, early, "hold"))  # the holder may not release it yet
        else:
            hold_id = self.hold(data)
        holder = self.m.wallets[self.m.holds[hold_id].holder]
        assert holder.acct is not None and holder.bank is not None
        if by_holder:
            caller = holder.acct
            self.s.set_balance(holder.address, 10**18)  # holders have no gas of their own
        else:
            caller = self.ops[holder.bank]
        self.execute("releaseHold", self.s.token.functions.releaseHold(hold_id), caller,
                     lambda m: m.release(caller.address, hold_id))

    # ------------------------------------------------------------ merchants

    def payment(self, data: Any) -> tuple[tuple[Any, ...], int, bool, bool]:
        mid = self.pick(data, self.m.merchants, "merchant")
        paid = [oid for (m, oid) in self.m.orders if m == mid]
        oid = (self.pick(data, paid, "paid order") if paid and data.draw(st.integers(0, 5), label="again") == 0
               else b32(self.m.fresh("order")))
        payer = self.spender(data, "payer")
        forged = data.draw(st.integers(0, 9), label="forged") == 0
        unrequested = data.draw(st.integers(0, 9), label="request not by the acquirer") == 0
        value = self.amount(data, self.most(payer), *self.room(payer))
        before, expire_k = self.valid_before()
        acquirer = self.m.merchants[mid].acquirer
        payment = sign_payment(self.s, self.key_for(payer, forged), mid, oid, value, acquirer=acquirer,
                               valid_before=before, request_signer=STRANGER if unrequested else None)
        payment = with_fields(payment, payer=payer)
        self.m.signed.append(Signed("pay", payment, payer, expire_k, not forged, not unrequested))
        self.m.auth_known.add((payer, payment_nonce(self.m.bank_ids[acquirer], mid, oid)))
        return payment, expire_k, not forged, not unrequested

    @precondition(lambda self: self.m.merchants)
    @rule(data=st.data())
    def pay(self, data: Any) -> None:
        payment, expire_k, sig_ok, request_ok = self.payment(data)
        self.execute("pay", self.s.settlement.functions.pay(payment), self.relayer,
                     lambda m: m.pay(payment, expire_k, sig_ok, request_ok))

    @precondition(lambda self: self.m.merchants)
    @rule(data=st.data())
    def pay_batch(self, data: Any) -> None:
        payments = [self.payment(data) for _ in range(data.draw(st.integers(1, 3), label="payments"))]
        if data.draw(st.booleans(), label="same order twice"):
            payments.append(payments[0])
        predicted: list[tuple[int, bytes, bytes, str, dict[str, Any]]] = []

        def simulate(m: Model) -> Err:
            for index, (p, expire_k, sig_ok, request_ok) in enumerate(payments):
                trial = m.clone()
                err = trial.pay(p, expire_k, sig_ok, request_ok)
                if err is None:
                    m.__dict__.update(trial.__dict__)
                else:
                    predicted.append((index, p[1], p[2], *err))
            return None

        receipt = self.execute("payBatch", self.s.settlement.functions.payBatch([p for p, *_ in payments]),
                               self.relayer, simulate)
        failed = []
        for event in self.s.settlement.events.PaymentFailed().process_receipt(receipt, errors=DISCARD):
            error = decode_revert(event["args"]["reason"])
            failed.append((event["args"]["index"], event["args"]["merchantId"], event["args"]["orderId"],
                           error.name, error.arguments))
        assert failed == predicted, f"payBatch: PaymentFailed {failed}, the model expected {predicted}"
        for *_, name, args in predicted:
            self.record("payBatch item", self.outcome_name(name, args))

    @precondition(lambda self: self.m.orders)
    @rule(data=st.data())
    def refund(self, data: Any) -> None:
        settled = [k for k, o in self.m.orders.items()  # partly paid out already: only the pending part is left
                   if o.amount - o.refunded > self.m.merchants[k[0]].gross - self.m.merchants[k[0]].refunds]
        orders = settled if settled and data.draw(st.integers(0, 2), label="settled") == 0 else self.m.orders
        mid, oid = self.pick(data, orders, "order")
        o, mer = self.m.orders[mid, oid], self.m.merchants[mid]
        refundable, pending = o.amount - o.refunded, mer.gross - mer.refunds
        value = self.amount(data, min(refundable, pending), refundable, refundable + 1, pending, pending + 1, 1)
        if data.draw(st.integers(0, 19), label="zero") == 0:
            value = 0
        bank = mer.acquirer
        if data.draw(st.integers(0, 9), label="not acquirer") == 0:
            bank = self.pick(data, [b for b in BANKS if b != mer.acquirer], "other bank")
        self.refund_order("refund", mid, oid, value, bank)

    @precondition(lambda self: self.m.merchants)
    @rule(data=st.data())
    def settle(self, data: Any) -> None:
        pending = [x for x, mer in self.m.merchants.items() if mer.gross]
        mid = self.pick(data, pending if pending and data.draw(st.booleans(), label="pending") else self.m.merchants,
                        "merchant")
        op = self.ops[self.m.merchants[mid].acquirer]
        ref = keccak(text=self.m.fresh("settle"))
        mode = self.m.merchants[mid].mode
        self.execute(f"settle/{('wallet', 'bank account')[mode]}", self.s.settlement.functions.settle(mid, ref), op,
                     lambda m: m.settle(op.address, mid))

    # ------------------------------------------------------------ steps that must fail, on purpose
    # Each scenario takes its parameters explicitly: the rules below draw them, and
    # test_each_rejection_changes_nothing runs every one from the base state.

    def over_the_single_limit(self, frm: str, channel: str, to: str = "") -> None:
        """One more than `frm`'s single-payment limit, by transfer (to `to`), hold or redemption."""
        single = self.m.limits(self.m.wallets[frm])[1]
        value = (single if single != UNLIMITED else self.m.wallets[frm].balance) + 1
        if channel == "transfer":
            self.send_transfer("over the single limit", frm, to, value)
        elif channel == "hold":
            self.send_hold("over the single limit", frm, value)
        else:
            self.send_redemption("over the single limit", frm, value)

    def mint_over_the_cap(self, address: str) -> None:
        """The custodian mints one more than the wallet's balance cap leaves."""
        w = self.m.wallets[address]
        assert w.bank is not None
        op = self.ops[w.bank]
        value = max(self.m.limits(w)[0] - w.balance - w.held, 0) + 1
        self.execute("mint over the cap", self.s.token.functions.mint(address, value, keccak(text=self.m.fresh("m"))),
                     op, lambda m: m.mint(op.address, address, value))

    def mint_over_the_quota(self, address: str, over: int) -> None:
        """Bank C mints `over` more than its small quota leaves, to its wallet `address`."""
        op = self.ops["C"]
        value = max(self.m.quota["C"] - self.m.net["C"], 0) + over
        self.execute("mint over the quota", self.s.token.functions.mint(address, value, keccak(text=self.m.fresh("m"))),
                     op, lambda m: m.mint(op.address, address, value))

    def refund_order(self, label: str, mid: bytes, oid: bytes, value: int, bank: str = "") -> None:
        """A refund of `value` by an operator of `bank` (the acquirer by default)."""
        op = self.ops[bank or self.m.merchants[mid].acquirer]
        ref = keccak(text=self.m.fresh("refund"))
        self.execute(label, self.s.settlement.functions.refund(mid, oid, value, ref), op,
                     lambda m: m.refund(op.address, mid, oid, value))

    def pay_twice(self, mid: bytes, oid: bytes, payer: str) -> None:
        """A new, validly signed payment by `payer` for an order already paid."""
        before, expire_k = self.valid_before()
        payment = sign_payment(self.s, self.key_for(payer, False), mid, oid, 1, acquirer=self.m.merchants[mid].acquirer,
                               valid_before=before)
        self.execute("pay twice", self.s.settlement.functions.pay(payment), self.relayer,
                     lambda m: m.pay(payment, expire_k, True))

    def pay_unrequested(self, mid: bytes, payer: str) -> None:
        """A validly signed payment of a new order whose request the acquirer did not sign (a stranger did)."""
        before, expire_k = self.valid_before()
        payment = sign_payment(self.s, self.key_for(payer, False), mid, b32(self.m.fresh("squat")), 1,
                               acquirer=self.m.merchants[mid].acquirer, valid_before=before, request_signer=STRANGER)
        self.execute("pay unrequested", self.s.settlement.functions.pay(payment), self.relayer,
                     lambda m: m.pay(payment, expire_k, True, False))

    def release_by_holder(self, label: str, hold_id: bytes) -> None:
        """The holder releases its hold itself (allowed once the hold has expired)."""
        holder = self.m.wallets[self.m.holds[hold_id].holder].acct
        assert holder is not None
        self.s.set_balance(holder.address, 10**18)  # holders have no gas of their own
        self.execute(label, self.s.token.functions.releaseHold(hold_id), holder,
                     lambda m: m.release(holder.address, hold_id))

    def registry_call(self, label: str, fn: str, address: str, caller: LocalAccount) -> None:
        """freeze / unfreeze / closeWallet of `address` by `caller`."""
        reg = self.s.registry.functions
        if fn == "freeze":
            call, simulate = reg.freeze(address, 7), lambda m: m.freeze(caller.address, address)
        elif fn == "unfreeze":
            call, simulate = reg.unfreeze(address), lambda m: m.unfreeze(caller.address, address)
        else:
            ref = keccak(text=self.m.fresh("closure"))
            call, simulate = reg.closeWallet(address, ref), lambda m: m.close(caller.address, address)
        self.execute(label, call, caller, simulate)

    @rule(data=st.data())
    def pay_over_the_single_limit(self, data: Any) -> None:
        """From a wallet that has the money: SinglePaymentLimitExceeded unless the wallet is not active."""
        able = [a for a in self.wallets() if self.m.limits(self.m.wallets[a])[1] < self.m.wallets[a].balance]
        frm = self.pick(data, able, "from") if able else self.spender(data, "from")
        self.over_the_single_limit(frm, self.pick(data, ["transfer", "hold", "redemption"], "channel"),
                                   self.pick(data, self.wallets(), "to"))

    @rule(data=st.data())
    def mint_over_a_cap(self, data: Any) -> None:
        """BalanceCapExceeded unless the wallet is not active."""
        capped = [a for a in self.wallets() if self.m.limits(self.m.wallets[a])[0] != UNLIMITED]
        self.mint_over_the_cap(self.pick(data, capped, "to"))

    @rule(data=st.data())
    def mint_over_quota(self, data: Any) -> None:
        """QuotaExceeded, unless the wallet refuses first (not active, or its cap)."""
        at_c = [a for a in self.wallets() if self.m.wallets[a].bank == "C"]
        roomy = [a for a in at_c if self.headroom(a) == UNLIMITED]  # merchant wallets: no cap to hit first
        address = self.pick(data, roomy if roomy and data.draw(st.booleans(), label="roomy") else at_c, "wallet")
        self.mint_over_the_quota(address, data.draw(st.integers(1, 100_000), label="over"))

    @precondition(lambda self: self.m.orders)
    @rule(data=st.data())
    def refund_too_much(self, data: Any) -> None:
        """One more than an order has left to refund: RefundExceedsRefundable."""
        mid, oid = self.pick(data, self.m.orders, "order")
        o = self.m.orders[mid, oid]
        self.refund_order("refund too much", mid, oid, o.amount - o.refunded + 1)

    @precondition(lambda self: self.m.orders)
    @rule(data=st.data())
    def pay_an_order_twice(self, data: Any) -> None:
        """OrderAlreadyPaid."""
        self.pay_twice(*self.pick(data, self.m.orders, "order"), self.spender(data, "payer"))

    @precondition(lambda self: any(h.status == HELD and self.m.rollovers < h.expire_k
                                   for h in self.m.holds.values()))
    @rule(data=st.data())
    def release_before_expiry(self, data: Any) -> None:
        """HoldNotExpired."""
        early = [h for h, x in self.m.holds.items() if x.status == HELD and self.m.rollovers < x.expire_k]
        self.release_by_holder("release early", bytes(self.pick(data, early, "hold")))

    # ------------------------------------------------------------ replays

    def used(self, s: Signed) -> bool:
        """The authorization went through (a replay must be refused)."""
        if s.kind == "pay":
            return (s.args[1], s.args[2]) in self.m.orders
        if s.kind == "relay":
            return s.args[4] in self.m.wallets[s.authorizer].relay_used
        nonce = s.args[2] if s.kind == "hold" else s.args[5] if s.kind == "transfer" else s.args[3]
        return (s.authorizer, nonce) in self.m.auth_used

    @precondition(lambda self: self.m.signed)
    @rule(data=st.data())
    def replay(self, data: Any) -> None:
        """Submit again, unchanged, any authorization signed earlier in the run."""
        kind = self.pick(data, sorted({s.kind for s in self.m.signed}), "kind")
        of_kind = [s for s in self.m.signed if s.kind == kind]
        used = [s for s in of_kind if self.used(s)]
        choices = used if used and data.draw(st.integers(0, 3), label="used") != 0 else of_kind
        self.resubmit(choices[self.pick(data, range(len(choices)), "signed")])

    def resubmit(self, signed: Signed) -> None:
        t, args, k, ok = self.s.token.functions, signed.args, signed.expire_k, signed.sig_ok
        bank = self.m.wallets[signed.authorizer].bank
        assert bank is not None
        op = self.ops[bank]
        if signed.kind == "transfer":
            self.execute("replay transfer", t.transferWithAuthorization(*args), self.relayer,
                         lambda m: m.transfer_with_authorization(args, k, ok))
        elif signed.kind == "redeem":
            self.execute("replay redeem", t.redeemWithAuthorization(*args), op,
                         lambda m: m.redeem(op.address, args, k, ok))
        elif signed.kind == "hold":
            self.execute("replay hold", t.placeHold(*args), op, lambda m: m.place_hold(op.address, args, k, ok))
        elif signed.kind == "pay":
            request_ok = signed.request_ok
            self.execute("replay pay", self.s.settlement.functions.pay(args), self.relayer,
                         lambda m: m.pay(args, k, ok, request_ok))
        else:
            self.relay([(args, k, ok)], bank)

    # ------------------------------------------------------------ invariants

    @invariant()
    def books_balance_and_match_the_model(self) -> None:
        m = self.m
        chain = self.reader.read(m)
        supply = chain["supply"]
        balances = {a: chain["wallet", a][0] for a in m.wallets}
        others = sum(v for a, v in balances.items() if a != m.settlement)
        # The identity, from chain values only.
        assert others + chain["totalHeld"] + chain["totalPending"] == supply
        assert balances[m.settlement] == chain["totalPending"]
        assert supply == sum(chain["netIssued", code] for code in BANKS)
        assert chain["totalHeld"] == chain["tokenBalance"] == sum(chain["wallet", a][1] for a in m.wallets)
        assert chain["totalHeld"] == sum(h.amount for h in m.holds.values() if h.status == HELD)
        assert chain["totalPending"] == sum(x.gross - x.refunds for x in m.merchants.values())
        # Limits, as the token enforces them (caps on credit, outflow on debit).
        for a, w in m.wallets.items():
            cap, _, daily = m.limits(w)
            balance, held, _, _, day, spent = chain["wallet", a]
            owned = balance + held
            spent_today = spent if day == m.today else 0
            assert owned <= max(cap, w.cap_allowance), f"{a} owns {owned} over its cap {cap}"
            assert spent_today <= max(daily, w.daily_allowance), f"{a} spent {spent_today} over its limit {daily}"
            w.cap_allowance = min(w.cap_allowance, owned)
            w.daily_allowance = min(w.daily_allowance, spent_today)
        # And everything else exactly as the model predicted.
        diff = differences(m.expected(), chain)
        assert not diff, "chain differs from the model:\n" + "\n".join(diff)


# ==================================================================== base state (once per test)


def build_base(system: Any) -> Model:
    """The state every example starts from: bank C's small quota; a fee wallet per bank; funded personal
    wallets of every tier; two merchants (wallet payout at B, bank-account payout at C) with a paid order
    each, B's already settled (its order can no longer be refunded from pending); a wallet frozen by the
    regulator and a closed one; two holds, one expired when the examples run, one not; a used EIP-3009
    transfer, redemption, payment and relay item (so every example has settled orders, regulator freezes,
    closed wallets, holds and replays to work on)."""
    s = system
    ops = {code: s.banks[code].operators[0] for code in BANKS}
    m = Model({code: s.banks[code].id for code in BANKS}, {c: o.address for c, o in ops.items()}, s.regulator.address)
    m.settlement = s.settlement.address
    m.wallets[m.settlement] = Wallet(m.settlement, None, None, SYSTEM)
    for code in BANKS:
        m.quota[code] = int(s.consortium.functions.quota(s.banks[code].id).call())
    start_of_next_day(s)  # 01:00: the hold below expires at 13:00, before any example starts (the next day)
    clock = now(s)
    m.today = clock // DAY

    def do(call: Any, sender: LocalAccount, simulate: Callable[[Model], Err]) -> None:
        assert simulate(m) is None
        s.send(call, sender)

    def quota(mm: Model) -> Err:
        mm.quota["C"] = QUOTA_C
        return None

    do(s.consortium.functions.setQuota(s.banks["C"].id, QUOTA_C), s.operator, quota)

    def open_(bank: str, kind: int, tier: int = 1, funds: int = 0) -> Wallet:
        acct = key_of(f"base-{len(m.wallets)}")
        w = Wallet(acct.address, acct, bank, kind, tier if kind == PERSONAL else 1)
        s.send(s.registry.functions.openWallet(w.address, s.banks[bank].id, tier, kind, keccak(text=w.address)),
               ops[bank])
        m.wallets[w.address] = w
        if funds:
            do(s.token.functions.mint(w.address, funds, keccak(text=f"base mint {w.address}")), ops[bank],
               lambda mm: mm.mint(ops[bank].address, w.address, funds))
        return w

    for code in BANKS:
        fee_wallet = open_(code, MERCHANT)
        s.send(s.settlement.functions.setFeeWallet(fee_wallet.address), ops[code])
        m.fee_wallets[code] = fee_wallet.address
    rich = open_("A", PERSONAL, 1, 20_000_000)
    small = open_("A", PERSONAL, 4, 60_000)
    tier2 = open_("B", PERSONAL, 2, 600_000)
    modest = open_("C", PERSONAL, 3, 150_000)
    c_rich = open_("C", PERSONAL, 1, 4_000_000)
    suspect = open_("B", PERSONAL, 2, 300_000)
    gone = open_("A", PERSONAL, 3, 10_000)
    do(s.registry.functions.closeWallet(gone.address, keccak(b"base closure")), ops["A"],
       lambda mm: mm.close(ops["A"].address, gone.address))
    do(s.registry.functions.freeze(suspect.address, 99), s.regulator, lambda mm: mm.freeze(s.regulator.address,
                                                                                           suspect.address))
    for code, fee, mode, amount in (("B", 250, 0, 300_000), ("C", 100, 1, 200_000)):
        shop = open_(code, MERCHANT)
        mid = b32(f"M-BASE-{code}")
        s.send(s.settlement.functions.registerMerchant(mid, shop.address, fee, 5812, keccak(mid), mode), ops[code])
        m.merchants[mid] = Merchant(code, shop.address, fee, mode)
        assert rich.acct is not None
        payment = sign_payment(s, rich.acct, mid, b32(f"o-base-{code}"), amount, acquirer=code,
                               valid_before=clock + VALIDITY)
        m.auth_known.add((rich.address, payment_nonce(m.bank_ids[code], mid, payment[2])))
        do(s.settlement.functions.pay(payment), s.accounts[0], lambda mm, p=payment: mm.pay(p, 1, True))
        m.signed.append(Signed("pay", payment, rich.address, 3, True))
        m.named[f"shop {code}"] = shop.address
    do(s.settlement.functions.settle(b32("M-BASE-B"), keccak(b"base settlement")), ops["B"],
       lambda mm: mm.settle(ops["B"].address, b32("M-BASE-B")))
    # Authorizations used in the base, replayable in every example. Those valid for VALIDITY expire after
    # 3 rollovers of an example (which starts a day later); the short hold has expired when it starts.
    assert small.acct is not None and modest.acct is not None and c_rich.acct is not None
    hold = hold_args(s, small.acct, 20_000, hold_id=keccak(b"base hold"), expires_at=clock + HOLD_LIFE)
    long_hold = hold_args(s, modest.acct, 30_000, hold_id=keccak(b"base long hold"), expires_at=clock + VALIDITY)
    transfer = auth_args(s, rich.acct, small.address, 7_000, valid_before=clock + VALIDITY,
                         nonce=keccak(b"base transfer"))
    redemption = redemption_args(s, small.acct, 5_000, ref=keccak(b"base redemption ref"),
                                 valid_before=clock + VALIDITY, nonce=keccak(b"base redemption"))
    do(s.token.functions.placeHold(*hold), ops["A"], lambda mm: mm.place_hold(ops["A"].address, hold, 1, True))
    do(s.token.functions.placeHold(*long_hold), ops["C"],
       lambda mm: mm.place_hold(ops["C"].address, long_hold, 1, True))
    do(s.token.functions.transferWithAuthorization(*transfer), s.accounts[0],
       lambda mm: mm.transfer_with_authorization(transfer, 1, True))
    do(s.token.functions.redeemWithAuthorization(*redemption), ops["A"],
       lambda mm: mm.redeem(ops["A"].address, redemption, 1, True))
    item = relayed(s, c_rich.acct, tier2.address, 1_000, 0, valid_before=clock + VALIDITY)
    do(s.token.functions.relayTransfers([item]), ops["A"], lambda mm: mm.relay_item(item, 1, True))
    c_rich.next_relay_nonce = 1
    m.holds[hold[2]].expire_k = 0  # the model counts an example's rollovers from 0
    m.holds[long_hold[2]].expire_k = 3
    m.signed += [Signed("hold", hold, small.address, 0, True), Signed("hold", long_hold, modest.address, 3, True),
                 Signed("transfer", transfer, rich.address, 3, True),
                 Signed("redeem", redemption, small.address, 3, True), Signed("relay", item, c_rich.address, 3, True)]
    m.auth_known |= {(small.address, hold[2]), (modest.address, long_hold[2]), (rich.address, transfer[5]),
                     (small.address, redemption[3])}
    m.named |= {"rich": rich.address, "small": small.address, "tier2": tier2.address, "modest": modest.address,
                "c_rich": c_rich.address, "suspect": suspect.address, "gone": gone.address,
                "fee C": m.fee_wallets["C"], "hold": hold[2].hex(), "long hold": long_hold[2].hex()}
    return m


def test_random_operations_keep_the_books(system: Any, reverts: Any) -> None:
    """Random sequences from the base state; the invariants and the model are checked after every step."""
    base = build_base(system)
    outcomes: Counter[tuple[str, str]] = Counter()
    run_state_machine_as_test(
        lambda: Network(system, reverts, base, outcomes),
        settings=settings(
            max_examples=EXAMPLES, stateful_step_count=STEPS, deadline=None, derandomize=True, database=None,
            phases=PHASES,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
            print_blob=False,
        ),
    )
    accepted = sum(n for (_, outcome), n in outcomes.items() if outcome == "ok")
    rejected = sum(outcomes.values()) - accepted
    # Not a vacuous run: plenty of both (each rejected one checked to the error and for changing nothing):
    # at least 4 of each per example, i.e. 100 of each in anvil's 25 examples.
    assert accepted >= 4 * EXAMPLES and rejected >= 4 * EXAMPLES, outcomes


def test_each_rejection_changes_nothing(system: Any, reverts: Any) -> None:
    """Every kind of step that must be refused, once, from the base state, in a fixed order: each raises the
    predicted custom error with its arguments and changes nothing, and the invariants hold after each.
    (The random run meets them too, but how often depends on hypothesis's choices; this does not.)"""
    base = build_base(system)
    net = Network(system, reverts, base, Counter())
    n, s = base.named, system
    rich, tier2, suspect, gone, small = n["rich"], n["tier2"], n["suspect"], n["gone"], n["small"]
    mid_b, mid_c, oid_b, oid_c = b32("M-BASE-B"), b32("M-BASE-C"), b32("o-base-B"), b32("o-base-C")
    signed = {x.kind: x for x in base.signed if x.kind != "hold"}
    short_hold, long_hold = bytes.fromhex(n["hold"]), bytes.fromhex(n["long hold"])
    short_hold_signed = next(x for x in base.signed if x.kind == "hold" and x.args[2] == short_hold)

    def days(k: int) -> None:
        for _ in range(k):
            net.next_day()

    steps: list[tuple[str, Callable[[], Any], list[str]]] = [
        ("over the single limit, transfer", lambda: net.over_the_single_limit(rich, "transfer", tier2),
         ["SinglePaymentLimitExceeded"]),
        ("over the single limit, hold", lambda: net.over_the_single_limit(rich, "hold"),
         ["SinglePaymentLimitExceeded"]),
        ("over the single limit, redemption", lambda: net.over_the_single_limit(rich, "redemption"),
         ["SinglePaymentLimitExceeded"]),
        ("over the balance cap", lambda: net.mint_over_the_cap(tier2), ["BalanceCapExceeded"]),
        ("over bank C's quota", lambda: net.mint_over_the_quota(n["fee C"], 1), ["QuotaExceeded"]),
        ("from a frozen wallet", lambda: net.send_transfer("t", suspect, tier2, 1), ["WalletNotActive/2"]),
        ("to a frozen wallet", lambda: net.send_transfer("t", rich, suspect, 1), ["WalletNotActive/2"]),
        ("from a closed wallet", lambda: net.send_transfer("t", gone, tier2, 1), ["WalletNotActive/3"]),
        ("to a closed wallet", lambda: net.send_transfer("t", rich, gone, 1), ["WalletNotActive/3"]),
        ("to an address never registered", lambda: net.send_transfer("t", rich, STRANGER.address, 1),
         ["WalletNotActive/0"]),
        ("into the settlement contract", lambda: net.send_transfer("t", rich, s.settlement.address, 1),
         ["DirectTransferToSettlement"]),
        ("more than the balance", lambda: net.send_transfer("t", small, tier2, base.wallets[small].balance + 1),
         ["ERC20InsufficientBalance"]),
        ("a forged signature", lambda: net.send_transfer("t", rich, tier2, 1, forged=True), ["InvalidSignature"]),
        ("refund more than the order has left", lambda: net.refund_order("r", mid_c, oid_c, 200_001),
         ["RefundExceedsRefundable"]),
        ("refund an order already settled", lambda: net.refund_order("r", mid_b, oid_b, 1), ["RefundExceedsPending"]),
        ("refund by a bank not the acquirer", lambda: net.refund_order("r", mid_c, oid_c, 1, "A"), ["UnknownMerchant"]),
        ("an order paid twice", lambda: net.pay_twice(mid_b, oid_b, tier2), ["OrderAlreadyPaid"]),
        ("an order the acquirer did not request", lambda: net.pay_unrequested(mid_b, tier2),
         ["InvalidPaymentRequest"]),
        ("the holder releases a hold early", lambda: net.release_by_holder("r", long_hold), ["HoldNotExpired"]),
        ("close a wallet with money on hold", lambda: net.registry_call("c", "close", small, s.banks["A"].operators[0]),
         ["HoldsOutstanding"]),
        ("the bank lifts the regulator's freeze",
         lambda: net.registry_call("u", "unfreeze", suspect, s.banks["B"].operators[0]), ["RegulatorFreeze"]),
        ("the bank closes a wallet the regulator froze",
         lambda: net.registry_call("c", "close", suspect, s.banks["B"].operators[0]), ["RegulatorFreeze"]),
        ("a replayed EIP-3009 transfer", lambda: net.resubmit(signed["transfer"]), ["AuthorizationAlreadyUsed"]),
        ("a replayed redemption", lambda: net.resubmit(signed["redeem"]), ["RefAlreadyBurned"]),
        ("a replayed payment", lambda: net.resubmit(signed["pay"]), ["OrderAlreadyPaid"]),
        ("a replayed relay item (the batch goes through)", lambda: net.resubmit(signed["relay"]),
         ["ok", "UnorderedNonceUsed"]),
        ("a replayed hold, expired", lambda: net.resubmit(short_hold_signed), ["AuthorizationExpired"]),
        ("over the daily limit (5M + 5M pass, 1 more does not)", lambda: net.spend_the_day(rich, n["shop B"], "A"),
         ["ok", "DailyOutflowLimitExceeded"]),
        ("3 days later a replayed transfer has expired", lambda: (days(3), net.resubmit(signed["transfer"])),
         ["AuthorizationExpired"]),
        ("and the holder may release its expired hold", lambda: net.release_by_holder("r", long_hold), ["ok"]),
    ]
    try:
        for what, step, expected in steps:
            start = len(net.log)
            step()
            assert net.log[start:] == expected, f"{what}: {net.log[start:]}"
            net.books_balance_and_match_the_model()
    finally:
        net.teardown()
