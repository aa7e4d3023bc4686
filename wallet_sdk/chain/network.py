"""``Network``: one walletnet deployment on one chain, read through typed methods.

>>> network = Network.connect("http://127.0.0.1:8545", "deployment.json")   # doctest: +SKIP
>>> network.balance("0x70997970C51812dc3A010C7d01b50e0d17dc79C8")            # doctest: +SKIP
123456

Writes go through :class:`~wallet_sdk.chain.operators.BankOperator` and friends, which sign locally with a
:class:`~wallet_sdk._sender.TransactionSender`; :meth:`Network.sender` hands out one sender per account so
that every object sending for that account shares its nonce counter.
"""

from __future__ import annotations

import json
import threading
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Any, Final

from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from eth_utils.address import is_address, to_checksum_address
from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.exceptions import BadFunctionCallOutput, ContractLogicError, Web3RPCError
from web3.types import BlockIdentifier, RPCEndpoint

from wallet_sdk._sender import TransactionSender, revert_from
from wallet_sdk.amount import Amount, format_amount, parse_amount
from wallet_sdk.artifacts import load_artifact
from wallet_sdk.authorizations import Domain, settlement_domain
from wallet_sdk.chain.args import AddressLike, to_address, to_bank_id, to_bytes32, to_merchant_id, to_uint
from wallet_sdk.chain.calls import fast_call
from wallet_sdk.chain.events import iter_events
from wallet_sdk.chain.operators import BankOperator, NetworkOperator, Regulator
from wallet_sdk.chain.rpc import raw_request
from wallet_sdk.chain.types import (
    BankInfo,
    BankPosition,
    BankStatus,
    HoldInfo,
    HoldStatus,
    LimitClass,
    Limits,
    MerchantInfo,
    MerchantStatus,
    OrderInfo,
    OrderState,
    PayoutMode,
    Positions,
    ProposalInfo,
    ProposalStatus,
    SettlementBatch,
    TokenInfo,
    WalletInfo,
    WalletKind,
    WalletStatus,
)
from wallet_sdk.deploy import CONTRACTS, Deployment
from wallet_sdk.exceptions import (
    ContractNotDeployedError,
    CurrencyMismatchError,
    DeploymentFileError,
    DeploymentMismatchError,
    InvalidArgumentError,
    NodeConnectionError,
    WrongNetworkError,
)
from wallet_sdk.keys import WalletKey

__all__ = ["AddressLike", "Network", "cache_chain_id", "load_deployment", "to_address", "to_bytes32", "to_uint"]

_ZERO_ADDRESS: Final = "0x" + "00" * 20
_CHAIN_ID: Final = RPCEndpoint("eth_chainId")
_ZERO32: Final = bytes(32)


# --- connections ---


def cache_chain_id(w3: Web3) -> None:
    """Have ``w3``'s provider answer ``eth_chainId`` from its cache (unless it already caches requests its own
    way). web3's validation asks the node for it before every eth_call and eth_estimateGas, about half of all
    requests; a connection's chain id does not change (a Network checks it against its deployment once)."""
    provider = w3.provider
    if not getattr(provider, "cache_allowed_requests", True):
        provider.cache_allowed_requests = True
        provider.cacheable_requests = {_CHAIN_ID}


# --- deployment files ---


def load_deployment(path: str | Path) -> Deployment:
    """Read and check a deployment file written by the deploy step; :class:`DeploymentFileError` if it is bad."""
    where = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DeploymentFileError(where, "no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DeploymentFileError(where, f"cannot read it ({type(exc).__name__})") from None
    try:
        data = json.loads(text)
    except ValueError:
        raise DeploymentFileError(where, "not JSON") from None
    return deployment_from_dict(data, where)


def deployment_from_dict(data: object, where: str = "<dict>") -> Deployment:
    """Check a parsed deployment document and build the :class:`~wallet_sdk.deploy.Deployment`."""
    if not isinstance(data, dict):
        raise DeploymentFileError(where, "expected a JSON object")
    for key in ("chain_id", "contracts"):
        if key not in data:
            raise DeploymentFileError(where, f"missing {key!r}")
    chain_id = data["chain_id"]
    if isinstance(chain_id, bool) or not isinstance(chain_id, int) or chain_id <= 0:
        raise DeploymentFileError(where, f"chain_id must be a positive int, got {chain_id!r}")
    contracts = data["contracts"]
    if not isinstance(contracts, dict):
        raise DeploymentFileError(where, "'contracts' must map contract names to addresses")
    checked: dict[str, str] = {}
    for name in CONTRACTS:
        address = contracts.get(name)
        if address is None:
            raise DeploymentFileError(where, f"no address for {name}")
        if not isinstance(address, str) or not is_address(address):
            raise DeploymentFileError(where, f"{name} address {address!r} is not an address")
        checked[name] = to_checksum_address(address)
    block = data.get("block", 0)
    if isinstance(block, bool) or not isinstance(block, int) or block < 0:
        raise DeploymentFileError(where, f"block must be an int >= 0, got {block!r}")
    implementations = data.get("implementations", {})
    token = data.get("token", {})
    if not isinstance(implementations, dict) or not isinstance(token, dict):
        raise DeploymentFileError(where, "'implementations' and 'token' must be objects")
    unknown = set(data) - {"chain_id", "contracts", "implementations", "block", "token"}
    if unknown:
        raise DeploymentFileError(where, f"unknown key {sorted(unknown)[0]!r}")
    return Deployment(chain_id=chain_id, contracts=checked, implementations=dict(implementations), block=block,
                      token=dict(token))


class _Deployed:
    """A read-only attribute of a :class:`Network`: the web3 contract of one name in its deployment."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, network: Network, owner: type[Network] | None = None) -> Contract:
        return network._contracts[self.name]

    def __set__(self, network: Network, value: object) -> None:
        raise AttributeError(f"the {self.name} contract of a network is read-only")


class Network:
    """A walletnet deployment on a chain: contracts, token facts, and typed reads.

    Create it with :meth:`connect` (an RPC URL) or :meth:`from_web3`; both check that the node is on the
    deployment's chain (:class:`WrongNetworkError`, a ``WrongChainError``), that every contract has code
    (:class:`ContractNotDeployedError`) and that the contracts are wired to each other as deployed
    (:class:`DeploymentMismatchError`).

    Reads take an optional ``block`` (a number, "latest", "pending"...). Addresses may be given as text
    or as anything with an ``address``; bank, merchant and order ids as 32 bytes or as their text code
    ("BANKA", "ORDER-1"). A revert in a read raises its typed :class:`~wallet_sdk.exceptions.ContractRevertError`.
    """

    def __init__(self, w3: Web3, deployment: Deployment, *, rpc_url: str = "") -> None:
        """Wrap without checks; prefer :meth:`connect` / :meth:`from_web3`."""
        self.w3 = w3
        self.deployment = deployment
        self.rpc_url = rpc_url
        self.chain_id = int(deployment.chain_id)
        self.addresses: dict[str, ChecksumAddress] = {
            name: to_checksum_address(deployment.contracts[name]) for name in CONTRACTS}
        self._contracts = {name: w3.eth.contract(address=self.addresses[name], abi=load_artifact(name)["abi"])
                           for name in CONTRACTS}
        self._senders: dict[ChecksumAddress, TransactionSender] = {}
        self._senders_lock = threading.Lock()

    # --- construction ---

    @classmethod
    def connect(cls, rpc_url: str, deployment: Deployment | str | Path, *, timeout: float = 30.0,
                verify: bool = True) -> Network:
        """Connect to the JSON-RPC node at ``rpc_url`` for ``deployment`` (a Deployment or a file path)."""
        w3 = Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": timeout}))
        return cls.from_web3(w3, deployment, verify=verify, rpc_url=rpc_url)

    @classmethod
    def from_web3(cls, w3: Web3, deployment: Deployment | str | Path, *, verify: bool = True,
                  rpc_url: str = "") -> Network:
        """Like :meth:`connect`, with a Web3 instance you configured yourself."""
        if isinstance(deployment, str | Path):
            deployment = load_deployment(deployment)
        elif not isinstance(deployment, Deployment):
            raise InvalidArgumentError("deployment", deployment, "expected a Deployment or a file path")
        else:
            deployment = deployment_from_dict(
                {"chain_id": deployment.chain_id, "contracts": deployment.contracts,
                 "implementations": deployment.implementations, "block": deployment.block,
                 "token": deployment.token}, "<Deployment>")
        url = rpc_url or str(getattr(w3.provider, "endpoint_uri", "") or "")
        try:
            actual = int(w3.eth.chain_id)
        except (OSError, Web3RPCError) as exc:  # requests' ConnectionError and timeouts are OSErrors
            raise NodeConnectionError(url, type(exc).__name__) from None
        if actual != deployment.chain_id:
            raise WrongNetworkError(deployment.chain_id, actual, url)
        cache_chain_id(w3)
        network = cls(w3, deployment, rpc_url=url)
        if verify:
            network.verify()
        return network

    def verify(self) -> None:
        """Check code at every address and the contracts' wiring (done by connect)."""
        for name, address in self.addresses.items():
            if not bytes(self.w3.eth.get_code(address)):
                raise ContractNotDeployedError(name, address, self.chain_id)
        expected = {
            ("DigitalCash", "registry"): "WalletRegistry",
            ("DigitalCash", "consortium"): "Consortium",
            ("DigitalCash", "settlement"): "MerchantSettlement",
            ("WalletRegistry", "token"): "DigitalCash",
            ("MerchantSettlement", "token"): "DigitalCash",
            ("Consortium", "issuer"): "DigitalCash",
        }
        for (name, getter), other in expected.items():
            try:
                actual = getattr(self._contracts[name].functions, getter)().call()
            except (ContractLogicError, BadFunctionCallOutput, Web3RPCError, ValueError):
                raise DeploymentMismatchError(name, self.addresses[name], f"{getter}() cannot be read") from None
            if to_checksum_address(actual) != self.addresses[other]:
                raise DeploymentMismatchError(
                    name, self.addresses[name], f"its {getter}() is {actual}, not {other} {self.addresses[other]}")

    def __repr__(self) -> str:
        return f"Network(chain_id={self.chain_id}, token={self.addresses['DigitalCash']})"

    # --- contracts and senders ---

    consortium = _Deployed("Consortium")
    registry = _Deployed("WalletRegistry")
    token = _Deployed("DigitalCash")
    settlement = _Deployed("MerchantSettlement")

    def contract(self, name: str) -> Contract:
        """The web3 contract ``name`` (one of Consortium, WalletRegistry, DigitalCash, MerchantSettlement)."""
        if name not in self._contracts:
            raise InvalidArgumentError("contract", name, f"expected one of {', '.join(CONTRACTS)}")
        return self._contracts[name]

    def sender(self, account: LocalAccount | WalletKey | TransactionSender, **options: Any) -> TransactionSender:
        """The one :class:`TransactionSender` of ``account`` on this network (created on first use).

        ``options`` (gas_margin, fee_mode, gas_price, timeout, ...) apply when it is created.
        """
        if isinstance(account, TransactionSender):
            return account
        if not isinstance(account, LocalAccount | WalletKey):
            raise InvalidArgumentError("account", account,
                                       "expected a LocalAccount, a WalletKey or a TransactionSender")
        with self._senders_lock:
            sender = self._senders.get(account.address)
            if sender is None:
                sender = self._senders[account.address] = TransactionSender(self.w3, account, **options)
            return sender

    def bank_operator(self, account: LocalAccount | WalletKey | TransactionSender) -> BankOperator:
        """A :class:`~wallet_sdk.chain.operators.BankOperator` signing with ``account``."""
        return BankOperator(self, account)

    def network_operator(self, account: LocalAccount | WalletKey | TransactionSender) -> NetworkOperator:
        return NetworkOperator(self, account)

    def regulator(self, account: LocalAccount | WalletKey | TransactionSender) -> Regulator:
        return Regulator(self, account)

    def _call(self, call: ContractFunction, block: BlockIdentifier = "latest") -> Any:
        try:
            return fast_call(call, block)
        except ContractLogicError as exc:
            raise revert_from(exc) from None

    @property
    def block_number(self) -> int:
        return int(self.w3.eth.block_number)

    def mined(self, tx_hash: str) -> tuple[int, int] | None:
        """``(status, block number)`` of a mined transaction (status 1 succeeded, 0 reverted); None while the node
        has no receipt for it. Reads the node's raw receipt: web3's formatting of a relay batch's hundred logs
        cost far more than the request, and only these two fields are needed."""
        answer = raw_request(self.w3, "eth_getTransactionReceipt", [tx_hash])
        if not answer or answer.get("blockNumber") is None:
            return None
        return int(answer["status"], 16), int(answer["blockNumber"], 16)

    def now(self) -> int:
        """The latest block's timestamp (Unix seconds): the clock the contracts check deadlines against."""
        return int(self.w3.eth.get_block("latest")["timestamp"])

    # --- token and amounts ---

    @cached_property
    def token_info(self) -> TokenInfo:
        token = self.token.functions
        return TokenInfo(address=self.addresses["DigitalCash"], name=str(token.name().call()),
                         symbol=str(token.symbol().call()), decimals=int(token.decimals().call()))

    @property
    def decimals(self) -> int:
        return self.token_info.decimals

    @property
    def symbol(self) -> str:
        return self.token_info.symbol

    def domain(self) -> Domain:
        """The token's EIP-712 domain: sign every authorization for this network in it."""
        return Domain.for_token(self.token_info.name, self.chain_id, self.addresses["DigitalCash"])

    def settlement_domain(self) -> Domain:
        """The settlement contract's EIP-712 domain: acquirers sign payment requests in it."""
        return settlement_domain(self.chain_id, self.addresses["MerchantSettlement"])

    def parse_amount(self, value: str | int | Decimal) -> int:
        """Minor units of a decimal amount in the token's decimals: ``parse_amount("12.34") == 1234``."""
        return parse_amount(value, decimals=self.decimals)

    def format_amount(self, minor: int) -> str:
        """Decimal text of ``minor`` units: ``format_amount(1234) == "12.34"``."""
        return format_amount(minor, decimals=self.decimals)

    def amount(self, minor: int) -> Amount:
        """An :class:`~wallet_sdk.amount.Amount` of the token (with its symbol as currency)."""
        return Amount(minor, self.decimals, self.symbol)

    def to_minor(self, value: int | Amount, what: str = "amount") -> int:
        """Minor units of an int or of an Amount of this token (other decimals/currency refused)."""
        if isinstance(value, Amount):
            if value.decimals != self.decimals or value.currency not in (None, self.symbol):
                raise CurrencyMismatchError(value, self.amount(0))
            return value.minor
        return to_uint(value, what)

    # --- wallets ---

    def balance(self, wallet: AddressLike, *, block: BlockIdentifier = "latest") -> int:
        """Spendable balance in minor units (money on hold excluded: see :meth:`held_balance`)."""
        return int(self._call(self.token.functions.balanceOf(to_address(wallet, "wallet")), block))

    def held_balance(self, wallet: AddressLike, *, block: BlockIdentifier = "latest") -> int:
        """Money on hold for ATM cash-outs, in minor units."""
        return int(self._call(self.token.functions.heldBalance(to_address(wallet, "wallet")), block))

    def wallet(self, wallet: AddressLike, *, block: BlockIdentifier = "latest") -> WalletInfo:
        """The wallet's registry record (status NONE if the address was never registered)."""
        address = to_address(wallet, "wallet")
        bank_id, tier, kind, status, by_regulator, reason, account_hash = self._call(
            self.registry.functions.wallet(address), block)
        return WalletInfo(address=address, bank_id=bytes(bank_id), tier=int(tier), kind=WalletKind(kind),
                          status=WalletStatus(status), frozen_by_regulator=bool(by_regulator),
                          freeze_reason=int(reason), account_hash=bytes(account_hash))

    def limit_class_of(self, wallet: AddressLike, *, block: BlockIdentifier = "latest") -> LimitClass | None:
        """The wallet's limit class: its tier if personal, MERCHANT or SYSTEM; None if not registered."""
        value = int(self._call(self.registry.functions.limitClassOf(to_address(wallet, "wallet")), block))
        return None if value == 0 else LimitClass(value)

    def limits(self, limit_class: int, *, block: BlockIdentifier = "latest") -> Limits:
        """Limits of a limit class (tier 1-4, 5 merchant, 6 system); :data:`UNLIMITED` means none."""
        to_uint(limit_class, "limit_class", bits=8)
        cap, single, daily = self._call(self.registry.functions.limits(limit_class), block)
        return Limits(int(cap), int(single), int(daily))

    def wallet_limits(self, wallet: AddressLike, *, block: BlockIdentifier = "latest") -> Limits | None:
        """The limits that apply to ``wallet`` (None if it is not registered)."""
        limit_class = self.limit_class_of(wallet, block=block)
        return None if limit_class is None else self.limits(limit_class, block=block)

    def remaining_daily_allowance(self, wallet: AddressLike, *, block: BlockIdentifier = "latest") -> int:
        """How much more the wallet may send today (UTC day of the chain), in minor units."""
        return int(self._call(self.token.functions.remainingDailyAllowance(to_address(wallet, "wallet")), block))

    def spent_today(self, wallet: AddressLike, *, block: BlockIdentifier = "latest") -> int:
        """The wallet's outflow so far today (chain time, UTC days)."""
        state = self._call(self.token.functions.walletState(to_address(wallet, "wallet")), block)
        day = int(state[2])
        now = int(self.w3.eth.get_block(block)["timestamp"])
        return int(state[3]) if day == now // 86_400 else 0

    def authorization_used(self, authorizer: AddressLike, nonce: bytes, *, block: BlockIdentifier = "latest") -> bool:
        """True if the bytes32 nonce (EIP-3009 nonce, hold id, redemption nonce) is used or canceled."""
        return bool(self._call(self.token.functions.authorizationState(
            to_address(authorizer, "authorizer"), to_bytes32(nonce, "nonce")), block))

    def relay_nonce_used(self, owner: AddressLike, nonce: int, *, block: BlockIdentifier = "latest") -> bool:
        """True if the RelayedTransfer bitmap nonce is used."""
        to_uint(nonce, "nonce")
        word = int(self._call(self.token.functions.nonceBitmap(to_address(owner, "owner"), nonce >> 8), block))
        return bool(word >> (nonce & 0xFF) & 1)

    # --- holds ---

    def hold(self, hold_id: bytes, *, block: BlockIdentifier = "latest") -> HoldInfo:
        """An ATM cash-out hold (status NONE if there is no such hold)."""
        hid = to_bytes32(hold_id, "hold_id")
        holder, amount, expires_at, status = self._call(self.token.functions.holdOf(hid), block)
        return HoldInfo(hold_id=hid, holder=to_checksum_address(holder), amount=int(amount),
                        expires_at=int(expires_at), status=HoldStatus(status))

    def total_held(self, *, block: BlockIdentifier = "latest") -> int:
        return int(self._call(self.token.functions.totalHeld(), block))

    # --- merchants ---

    def merchant(self, acquirer: bytes | str, merchant: bytes | str, *,
                 block: BlockIdentifier = "latest") -> MerchantInfo:
        """The record of ``acquirer``'s merchant ``merchant`` (status NONE if that bank registered no such id:
        merchant ids are per acquiring bank)."""
        mid = to_merchant_id(merchant)
        (acquirer_id, wallet, fee_bps, mcc, payout_mode, status, account_hash, gross, refunds,
         last_batch) = self._call(self.settlement.functions.merchant(to_bank_id(acquirer), mid), block)
        return MerchantInfo(merchant_id=mid, acquirer=bytes(acquirer_id), wallet=to_checksum_address(wallet),
                            fee_bps=int(fee_bps), mcc=int(mcc), payout_mode=PayoutMode(payout_mode),
                            status=MerchantStatus(status), settlement_account_hash=bytes(account_hash),
                            pending_gross=int(gross), pending_refunds=int(refunds), last_batch_id=int(last_batch))

    def fee_wallet(self, bank: bytes | str, *, block: BlockIdentifier = "latest") -> ChecksumAddress | None:
        """The wallet receiving ``bank``'s acquiring fees, or None if it has not set one."""
        address = to_checksum_address(self._call(self.settlement.functions.feeWallet(to_bank_id(bank)), block))
        return None if address == _ZERO_ADDRESS else address

    def request_signer(self, bank: bytes | str, *, block: BlockIdentifier = "latest") -> ChecksumAddress | None:
        """The key that signs ``bank``'s payment requests (beside its active operators), or None if it set none."""
        address = to_checksum_address(self._call(self.settlement.functions.requestSigner(to_bank_id(bank)), block))
        return None if address == _ZERO_ADDRESS else address

    def is_request_signer(self, bank: bytes | str, signer: AddressLike, *, block: BlockIdentifier = "latest") -> bool:
        """True if ``signer`` may sign ``bank``'s payment requests: its request signer or an active operator (as
        MerchantSettlement.pay checks). Pass it to ``decode_payload(..., is_request_signer=...)``."""
        address = to_address(signer, "signer")
        if address == self.request_signer(bank, block=block):
            return True
        return bool(self._call(self.consortium.functions.isActiveOperator(to_bank_id(bank), address), block))

    def order(self, acquirer: bytes | str, merchant: bytes | str, order: bytes | str, *,
              block: BlockIdentifier = "latest") -> OrderInfo:
        """An order's payment record; :attr:`OrderInfo.state` says unpaid / paid / (partially) refunded."""
        bank, mid, oid = to_bank_id(acquirer), to_merchant_id(merchant), to_bytes32(order, "order_id")
        payer, amount, refunded, paid_at = self._call(self.settlement.functions.order(bank, mid, oid), block)
        return OrderInfo(acquirer=bank, merchant_id=mid, order_id=oid, payer=to_checksum_address(payer),
                         amount=int(amount), refunded=int(refunded), paid_at=int(paid_at))

    def order_state(self, acquirer: bytes | str, merchant: bytes | str, order: bytes | str, *,
                    block: BlockIdentifier = "latest") -> OrderState:
        return self.order(acquirer, merchant, order, block=block).state

    def total_pending(self, *, block: BlockIdentifier = "latest") -> int:
        """Money held by the settlement contract for all merchants, not yet settled."""
        return int(self._call(self.settlement.functions.totalPending(), block))

    def settlement_batches(self, merchant: bytes | str | None = None, *, acquirer: bytes | str | None = None,
                           from_block: int | None = None, to_block: int | None = None) -> list[SettlementBatch]:
        """Settlement batches (MerchantSettled events), oldest first: of every merchant with id ``merchant`` (or of
        all), of acquiring bank ``acquirer`` (or of all banks; merchant ids are per acquirer)."""
        indexed: dict[str, Any] = {}
        if merchant is not None:
            indexed["merchantId"] = to_merchant_id(merchant)
        if acquirer is not None:
            indexed["acquirer"] = to_bank_id(acquirer)
        return [
            SettlementBatch(merchant_id=bytes(e["merchantId"]), batch_id=int(e["batchId"]),
                            acquirer=bytes(e["acquirer"]), gross=int(e["gross"]), refunds=int(e["refunds"]),
                            fee=int(e["fee"]), net=int(e["net"]), payout_mode=PayoutMode(e["payoutMode"]),
                            ref=bytes(e["ref"]), block_number=e.block_number, tx_hash=e.tx_hash)
            for e in iter_events(self, from_block, to_block, ["MerchantSettled"], indexed=indexed or None)
        ]

    # --- banks and issuance ---

    def bank_ids(self, *, block: BlockIdentifier = "latest") -> list[bytes]:
        """Every bank ever admitted (any status), in admission order."""
        return [bytes(b) for b in self._call(self.consortium.functions.bankIds(), block)]

    def bank(self, bank: bytes | str, *, block: BlockIdentifier = "latest") -> BankInfo:
        """A member bank (reverts UnknownBank if there is none with that id)."""
        bid, name, status, quota, net_issued, operators, enodes = self._call(
            self.consortium.functions.bank(to_bank_id(bank)), block)
        return BankInfo(bank_id=bytes(bid), name=str(name), status=BankStatus(status), quota=int(quota),
                        net_issued=int(net_issued), operators=tuple(to_checksum_address(o) for o in operators),
                        enodes=tuple(str(e) for e in enodes))

    def banks(self, *, block: BlockIdentifier = "latest") -> list[BankInfo]:
        return [self.bank(b, block=block) for b in self.bank_ids(block=block)]

    def net_issued(self, bank: bytes | str, *, block: BlockIdentifier = "latest") -> int:
        """Minted minus burned by ``bank``, in minor units (negative: the operator owes it reserves)."""
        return int(self._call(self.consortium.functions.netIssued(to_bank_id(bank)), block))

    def quota(self, bank: bytes | str, *, block: BlockIdentifier = "latest") -> int:
        """The most ``bank`` may have issued net at any time, in minor units."""
        return int(self._call(self.consortium.functions.quota(to_bank_id(bank)), block))

    def positions(self, *, block: BlockIdentifier = "latest") -> Positions:
        """Every bank's position and the total supply, all read at one block."""
        number = int(self.w3.eth.get_block(block)["number"])
        banks = tuple(BankPosition(bank_id=b.bank_id, name=b.name, status=b.status, quota=b.quota,
                                   net_issued=b.net_issued) for b in self.banks(block=number))
        return Positions(block_number=number, banks=banks, total_supply=self.total_supply(block=number))

    def bank_of_operator(self, operator: AddressLike, *, block: BlockIdentifier = "latest") -> bytes | None:
        """The bank id an operator address belongs to (whatever the bank's status), or None."""
        bid = bytes(self._call(self.consortium.functions.bankOfOperator(to_address(operator, "operator")), block))
        return None if bid == _ZERO32 else bid

    def total_supply(self, *, block: BlockIdentifier = "latest") -> int:
        return int(self._call(self.token.functions.totalSupply(), block))

    def paused(self, *, block: BlockIdentifier = "latest") -> bool:
        return bool(self._call(self.token.functions.paused(), block))

    # --- roles and governance ---

    def network_operator_address(self, *, block: BlockIdentifier = "latest") -> ChecksumAddress:
        return to_checksum_address(self._call(self.consortium.functions.networkOperator(), block))

    def regulator_address(self, *, block: BlockIdentifier = "latest") -> ChecksumAddress:
        return to_checksum_address(self._call(self.consortium.functions.regulator(), block))

    def threshold(self, *, block: BlockIdentifier = "latest") -> int:
        """How many bank approvals a governance proposal needs."""
        return int(self._call(self.consortium.functions.threshold(), block))

    def proposal(self, proposal_id: int, *, block: BlockIdentifier = "latest") -> ProposalInfo:
        """A governance proposal (reverts UnknownProposal if there is none with that id)."""
        proposer, target, data, description, status, approvals = self._call(
            self.consortium.functions.proposal(to_uint(proposal_id, "proposal_id")), block)
        return ProposalInfo(proposal_id=proposal_id, proposer=to_checksum_address(proposer),
                            target=to_checksum_address(target), data=bytes(data), description=str(description),
                            status=ProposalStatus(status), approvals=int(approvals))

    def has_approved(self, proposal_id: int, bank: bytes | str, *, block: BlockIdentifier = "latest") -> bool:
        return bool(self._call(self.consortium.functions.hasApproved(
            to_uint(proposal_id, "proposal_id"), to_bank_id(bank)), block))

