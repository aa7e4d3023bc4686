"""Helpers for the DigitalCash tests (test_token_*.py): wallets, minting, EIP-712 signatures, events.

Signatures are made with eth_account's EIP-712 encoder from the type strings that IDigitalCash
documents, so a test passing here means any EIP-712 / EIP-3009 client can sign for the token.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from web3 import Web3
from web3.logs import DISCARD
from web3.types import TxReceipt

from wallet_sdk.exceptions import ContractRevertError
from wallet_sdk.revert_decoding import decode_revert

# IWalletRegistry.WalletKind / WalletStatus
PERSONAL, MERCHANT, SYSTEM = 0, 1, 2
NONE, ACTIVE, FROZEN, CLOSED = 0, 1, 2, 3
# IDigitalCash.HoldStatus / BurnReason
HOLD_NONE, HELD, CAPTURED, RELEASED = 0, 1, 2, 3
REDEMPTION, HOLD_CAPTURE, WALLET_CLOSURE, SETTLEMENT_PAYOUT = 0, 1, 2, 3

UNLIMITED = 2**256 - 1
MAX_BALANCE = 2**104 - 1
PACKED_UNLIMITED = 2**80 - 1
DAY = 86_400
ZERO_ADDRESS = "0x" + "00" * 20
ZERO32 = b"\0" * 32

# Default limits pushed by the registry (minor units): class -> (balance cap, single, daily)
TIER_LIMITS = {
    1: (50_000_000, 5_000_000, 10_000_000),
    2: (1_000_000, 500_000, 1_000_000),
    3: (200_000, 200_000, 200_000),
    4: (100_000, 50_000, 100_000),
    5: (UNLIMITED, UNLIMITED, UNLIMITED),
    6: (UNLIMITED, UNLIMITED, UNLIMITED),
}

_ADDRESS = {"type": "address"}
_UINT = {"type": "uint256"}
_B32 = {"type": "bytes32"}


def _fields(*pairs: tuple[str, dict[str, str]]) -> list[dict[str, str]]:
    return [{"name": n, **t} for n, t in pairs]


_AUTH_FIELDS = _fields(("from", _ADDRESS), ("to", _ADDRESS), ("value", _UINT), ("validAfter", _UINT),
                       ("validBefore", _UINT), ("nonce", _B32))
TYPES: dict[str, list[dict[str, str]]] = {
    "TransferWithAuthorization": _AUTH_FIELDS,
    "ReceiveWithAuthorization": _AUTH_FIELDS,
    "CancelAuthorization": _fields(("authorizer", _ADDRESS), ("nonce", _B32)),
    "Permit": _fields(("owner", _ADDRESS), ("spender", _ADDRESS), ("value", _UINT), ("nonce", _UINT),
                      ("deadline", _UINT)),
    "RelayedTransfer": _fields(("from", _ADDRESS), ("to", _ADDRESS), ("value", _UINT), ("validBefore", _UINT),
                               ("nonce", _UINT)),
    "Hold": _fields(("holder", _ADDRESS), ("value", _UINT), ("holdId", _B32), ("expiresAt", _UINT)),
    "Redemption": _fields(("holder", _ADDRESS), ("value", _UINT), ("validBefore", _UINT), ("nonce", _B32)),
}


def rand32() -> bytes:
    return os.urandom(32)


def addr(who: Any) -> str:
    return str(who if isinstance(who, str) else who.address)


def now(system: Any) -> int:
    return int(system.w3.eth.get_block("latest")["timestamp"])


def start_of_next_day(system: Any, offset: int = 3_600) -> None:
    """Move chain time to `offset` seconds into the next UTC day (no test straddles midnight by accident)."""
    t = now(system)
    system.increase_time(DAY - t % DAY + offset)


def today(system: Any) -> int:
    return now(system) // DAY


def events(contract: Any, name: str, receipt: TxReceipt) -> list[dict[str, Any]]:
    """The `name` events that `contract` itself emitted in `receipt` (others may share the signature)."""
    logs = getattr(contract.events, name)().process_receipt(receipt, errors=DISCARD)
    return [dict(e["args"]) for e in logs if Web3.to_checksum_address(e["address"]) == contract.address]


def log_names(system: Any, receipt: TxReceipt) -> list[str]:
    """Names of the token's events in `receipt`, in log order."""
    token = system.token
    topics = {}
    for item in token.abi:
        if item.get("type") == "event":
            sig = f"{item['name']}({','.join(i['type'] for i in item['inputs'])})"
            topics[keccak(text=sig)] = item["name"]
    return [topics.get(bytes(log["topics"][0]), "?") for log in receipt["logs"]
            if Web3.to_checksum_address(log["address"]) == token.address]


def decoded(reason: bytes) -> ContractRevertError:
    return decode_revert(reason)


def reason_of(failure: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A RelayFailed event's reason as (error name, arguments), addresses checksummed."""
    error = decode_revert(failure["reason"])
    args = {k: Web3.to_checksum_address(v) if isinstance(v, str) and Web3.is_address(v) else v
            for k, v in error.arguments.items()}
    return error.name, args


def balance(system: Any, who: Any) -> int:
    return int(system.token.functions.balanceOf(addr(who)).call())


def held(system: Any, who: Any) -> int:
    return int(system.token.functions.heldBalance(addr(who)).call())


def supply(system: Any) -> int:
    return int(system.token.functions.totalSupply().call())


def net_issued(system: Any, bank: str) -> int:
    return int(system.consortium.functions.netIssued(system.banks[bank].id).call())


def wallet_state(system: Any, who: Any) -> tuple[int, int, int, int]:
    status, limit_class, day, spent = system.token.functions.walletState(addr(who)).call()
    return int(status), int(limit_class), int(day), int(spent)


def op(system: Any, bank: str = "A", index: int = 0) -> LocalAccount:
    """An operator of `bank`."""
    return system.banks[bank].operators[index]


def open_wallet(system: Any, bank: str = "A", tier: int = 1, kind: int = PERSONAL,
                holder: LocalAccount | None = None) -> LocalAccount:
    """Register a wallet at `bank` (a fresh key unless `holder` is given: pass a funded account for a
    wallet that sends its own transactions)."""
    holder = holder or system.new_wallet()
    b = system.banks[bank]
    system.send(system.registry.functions.openWallet(holder.address, b.id, tier, kind, keccak(rand32())),
                b.operators[0])
    return holder


def mint(system: Any, wallet: Any, amount: int, bank: str = "A", ref: bytes | None = None) -> TxReceipt:
    return system.send(system.token.functions.mint(addr(wallet), amount, ref or rand32()), op(system, bank))


def funded_wallet(system: Any, amount: int, bank: str = "A", tier: int = 1, kind: int = PERSONAL,
                  holder: LocalAccount | None = None) -> LocalAccount:
    w = open_wallet(system, bank, tier, kind, holder)
    if amount:
        mint(system, w, amount, bank)
    return w


def freeze(system: Any, wallet: Any, bank: str = "A") -> None:
    system.send(system.registry.functions.freeze(addr(wallet), 7), op(system, bank))


def unfreeze(system: Any, wallet: Any, bank: str = "A") -> None:
    system.send(system.registry.functions.unfreeze(addr(wallet)), op(system, bank))


def close(system: Any, wallet: Any, bank: str = "A", ref: bytes | None = None) -> TxReceipt:
    return system.send(system.registry.functions.closeWallet(addr(wallet), ref or rand32()), op(system, bank))


def set_limits(system: Any, limit_class: int, cap: int, single: int, daily: int) -> TxReceipt:
    return system.send(system.registry.functions.setLimits(limit_class, (cap, single, daily)), system.operator)


def pause(system: Any) -> None:
    system.send(system.token.functions.pause(), system.operator)


# ---------------------------------------------------------------- EIP-712


def domain(system: Any) -> dict[str, Any]:
    token = system.token
    return {"name": token.functions.name().call(), "version": "1", "chainId": system.w3.eth.chain_id,
            "verifyingContract": token.address}


@dataclass(frozen=True)
class Sig:
    v: int
    r: bytes
    s: bytes

    def __iter__(self) -> Any:
        return iter((self.v, self.r, self.s))


def sign(system: Any, signer: LocalAccount, primary: str, message: dict[str, Any]) -> Sig:
    signed = Account.sign_typed_data(signer.key, domain(system), {primary: TYPES[primary]}, message)
    return Sig(signed.v, signed.r.to_bytes(32, "big"), signed.s.to_bytes(32, "big"))


def auth_args(system: Any, signer: LocalAccount, to: Any, value: int, *, kind: str = "TransferWithAuthorization",
              valid_after: int = 0, valid_before: int | None = None, nonce: bytes | None = None,
              from_: str | None = None) -> list[Any]:
    """Arguments of transferWithAuthorization / receiveWithAuthorization, signed by `signer`
    (the message's `from` is `from_` if given, to forge a wrong-signer case)."""
    valid_before = now(system) + 3_600 if valid_before is None else valid_before
    nonce = nonce or rand32()
    frm = from_ or signer.address
    message = {"from": frm, "to": addr(to), "value": value, "validAfter": valid_after,
               "validBefore": valid_before, "nonce": nonce}
    v, r, s = sign(system, signer, kind, message)
    return [frm, addr(to), value, valid_after, valid_before, nonce, v, r, s]


def cancel_args(system: Any, signer: LocalAccount, nonce: bytes, authorizer: str | None = None) -> list[Any]:
    who = authorizer or signer.address
    v, r, s = sign(system, signer, "CancelAuthorization", {"authorizer": who, "nonce": nonce})
    return [who, nonce, v, r, s]


def relayed(system: Any, signer: LocalAccount, to: Any, value: int, nonce: int, *,
            valid_before: int | None = None, from_: str | None = None) -> tuple[Any, ...]:
    """A RelayedTransfer tuple for relayTransfers."""
    valid_before = now(system) + 3_600 if valid_before is None else valid_before
    frm = from_ or signer.address
    message = {"from": frm, "to": addr(to), "value": value, "validBefore": valid_before, "nonce": nonce}
    v, r, s = sign(system, signer, "RelayedTransfer", message)
    return (frm, addr(to), value, valid_before, nonce, v, r, s)


def hold_args(system: Any, signer: LocalAccount, value: int, *, hold_id: bytes | None = None,
              expires_at: int | None = None, holder: str | None = None) -> list[Any]:
    """Arguments of placeHold signed by `signer`."""
    expires_at = now(system) + 3_600 if expires_at is None else expires_at
    hold_id = hold_id or rand32()
    who = holder or signer.address
    v, r, s = sign(system, signer, "Hold", {"holder": who, "value": value, "holdId": hold_id,
                                             "expiresAt": expires_at})
    return [who, value, hold_id, expires_at, v, r, s]


def redemption_args(system: Any, signer: LocalAccount, value: int, *, ref: bytes | None = None,
                    valid_before: int | None = None, nonce: bytes | None = None,
                    holder: str | None = None) -> list[Any]:
    """Arguments of redeemWithAuthorization signed by `signer`."""
    valid_before = now(system) + 3_600 if valid_before is None else valid_before
    nonce = nonce or rand32()
    who = holder or signer.address
    v, r, s = sign(system, signer, "Redemption", {"holder": who, "value": value, "validBefore": valid_before,
                                                   "nonce": nonce})
    return [who, value, valid_before, nonce, ref or rand32(), v, r, s]


def permit_args(system: Any, owner: LocalAccount, spender: Any, value: int, *, deadline: int | None = None,
                nonce: int | None = None) -> list[Any]:
    deadline = now(system) + 3_600 if deadline is None else deadline
    nonce = system.token.functions.nonces(owner.address).call() if nonce is None else nonce
    v, r, s = sign(system, owner, "Permit", {"owner": owner.address, "spender": addr(spender), "value": value,
                                              "nonce": nonce, "deadline": deadline})
    return [owner.address, addr(spender), value, deadline, v, r, s]
