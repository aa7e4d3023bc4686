"""Network: connecting (and every way it refuses to), deployment files, and the typed reads, on the real anvil."""

from __future__ import annotations

import json
import socket
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_utils.crypto import keccak
from web3 import Web3

from wallet_sdk.amount import Amount
from wallet_sdk.authorizations import (
    Domain,
    HoldAuthorization,
    MerchantPayment,
    Redemption,
    RelayedTransfer,
    TransferAuthorization,
    merchant_id,
    new_nonce,
    order_id,
    relay_nonce,
)
from wallet_sdk.chain.network import Network, load_deployment
from wallet_sdk.chain.operators import BankOperator
from wallet_sdk.chain.types import (
    UNLIMITED,
    BankStatus,
    HoldStatus,
    LimitClass,
    Limits,
    MerchantStatus,
    OrderState,
    PayoutMode,
    ProposalStatus,
    WalletKind,
    WalletStatus,
)
from wallet_sdk.deploy import Deployment
from wallet_sdk.exceptions import (
    ContractNotDeployedError,
    ContractRevertError,
    CurrencyMismatchError,
    DeploymentFileError,
    DeploymentMismatchError,
    InvalidArgumentError,
    NodeConnectionError,
    WrongChainError,
    WrongNetworkError,
)
from wallet_sdk.keys import WalletKey
from wallet_sdk.reverts import InvalidLimitClass, UnknownBank, UnknownProposal

DEFAULT_LIMITS = {
    1: Limits(50_000_000, 5_000_000, 10_000_000),
    2: Limits(1_000_000, 500_000, 1_000_000),
    3: Limits(200_000, 200_000, 200_000),
    4: Limits(100_000, 50_000, 100_000),
    5: Limits(UNLIMITED, UNLIMITED, UNLIMITED),
    6: Limits(UNLIMITED, UNLIMITED, UNLIMITED),
}
BANK_A = b"BANKA".ljust(32, b"\0")
BANK_B = b"BANKB".ljust(32, b"\0")


@pytest.fixture
def network(system: Any) -> Network:
    return Network.from_web3(system.w3, system.deployment)


@pytest.fixture
def bank_a(network: Network, system: Any) -> BankOperator:
    return BankOperator(network, system.banks["A"].operators[0])


@pytest.fixture
def bank_b(network: Network, system: Any) -> BankOperator:
    return BankOperator(network, system.banks["B"].operators[0])


def deployment_doc(system: Any) -> dict[str, Any]:
    return asdict(system.deployment)


def write(tmp_path: Path, doc: Any, name: str = "deployment.json") -> Path:
    path = tmp_path / name
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc), encoding="utf-8")
    return path


def chain_now(network: Network) -> int:
    return int(network.w3.eth.get_block("latest")["timestamp"])


def start_of_a_day(network: Network) -> None:
    """Move chain time to one hour into the next UTC day."""
    network.w3.provider.make_request("evm_increaseTime", [86_400 - chain_now(network) % 86_400 + 3_600])  # type: ignore[arg-type]
    network.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]


# --- connecting ---


def test_connect_with_a_file_or_a_deployment(system: Any, devnet: Any, tmp_path: Path) -> None:
    path = write(tmp_path, deployment_doc(system))
    by_file = Network.connect(devnet.rpc_url, path)
    by_str = Network.connect(devnet.rpc_url, str(path))
    by_object = Network.connect(devnet.rpc_url, system.deployment)
    for network in (by_file, by_str, by_object):
        assert network.chain_id == system.w3.eth.chain_id
        assert network.rpc_url == devnet.rpc_url
        assert network.addresses == {k: system.deployment.contracts[k] for k in network.addresses}
        assert network.token.address == system.token.address
        assert network.settlement.address == system.settlement.address
        assert network.total_supply() == 0
    assert repr(by_file) == f"Network(chain_id={by_file.chain_id}, token={system.token.address})"
    assert load_deployment(path) == system.deployment


class CountingProvider(Web3.HTTPProvider):
    """Counts the requests that reach the node (below web3's request cache)."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.sent: list[str] = []

    def _make_request(self, method: Any, request_data: bytes) -> bytes:
        self.sent.append(str(method))
        return super()._make_request(method, request_data)


def test_the_chain_id_is_cached_not_asked_before_every_call(system: Any, devnet: Any) -> None:
    provider = CountingProvider(devnet.rpc_url)
    network = Network.from_web3(Web3(provider), system.deployment, verify=False)
    assert network.w3.eth.chain_id == system.w3.eth.chain_id  # the first look fills the cache
    provider.sent.clear()
    for _ in range(5):  # web3's own call path: its validation wants the chain id for each eth_call
        assert network.token.functions.totalSupply().call() >= 0
    for _ in range(3):  # the Network's reads (fast_call) need no chain id at all
        assert network.total_supply() >= 0
    assert network.w3.eth.chain_id == system.w3.eth.chain_id
    assert provider.sent == ["eth_call"] * 8
    assert provider.cacheable_requests == {"eth_chainId"}  # blocks, receipts, ... are always asked afresh


def test_a_provider_that_caches_its_own_way_is_left_so(system: Any, devnet: Any) -> None:
    provider = Web3.HTTPProvider(devnet.rpc_url, cache_allowed_requests=True)
    chosen = provider.cacheable_requests
    Network.from_web3(Web3(provider), system.deployment, verify=False)
    assert provider.cacheable_requests is chosen and "eth_getBlockByNumber" in chosen


def test_wrong_chain_is_refused(system: Any, devnet: Any, tmp_path: Path) -> None:
    doc = deployment_doc(system) | {"chain_id": 1}
    with pytest.raises(WrongNetworkError) as caught:
        Network.connect(devnet.rpc_url, write(tmp_path, doc))
    assert isinstance(caught.value, WrongChainError)
    assert (caught.value.expected, caught.value.actual, caught.value.rpc_url) == (1, 31337, devnet.rpc_url)
    assert str(caught.value) == f"the node at {devnet.rpc_url} is chain 31337, but the deployment is for chain 1"
    with pytest.raises(WrongChainError):
        Network.from_web3(system.w3, Deployment(**doc))


def test_missing_contract_code_is_refused(system: Any, devnet: Any, tmp_path: Path) -> None:
    empty = Account.create().address
    doc = deployment_doc(system)
    doc["contracts"] = dict(doc["contracts"], MerchantSettlement=empty)
    with pytest.raises(ContractNotDeployedError) as caught:
        Network.connect(devnet.rpc_url, write(tmp_path, doc))
    assert (caught.value.contract, caught.value.address, caught.value.chain_id) == ("MerchantSettlement", empty, 31337)
    # without verification it connects (for tools that inspect a half-deployed network)
    assert Network.connect(devnet.rpc_url, write(tmp_path, doc), verify=False).addresses["MerchantSettlement"] == empty


def test_contracts_wired_to_other_contracts_are_refused(system: Any, devnet: Any, tmp_path: Path) -> None:
    doc = deployment_doc(system)
    contracts = doc["contracts"]
    doc["contracts"] = dict(contracts, WalletRegistry=contracts["MerchantSettlement"],
                            MerchantSettlement=contracts["WalletRegistry"])
    with pytest.raises(DeploymentMismatchError) as caught:
        Network.connect(devnet.rpc_url, write(tmp_path, doc))
    assert caught.value.contract == "DigitalCash"
    assert "registry()" in caught.value.reason
    # an implementation address instead of the proxy: code exists, but nothing is wired to it
    doc = deployment_doc(system)
    doc["contracts"] = dict(doc["contracts"], DigitalCash=doc["implementations"]["DigitalCash"])
    with pytest.raises(DeploymentMismatchError):
        Network.connect(devnet.rpc_url, write(tmp_path, doc))


def test_unreachable_node(system: Any, tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    with pytest.raises(NodeConnectionError) as caught:
        Network.connect(url, system.deployment, timeout=2)
    assert caught.value.rpc_url == url
    assert isinstance(caught.value, ConnectionError)


@pytest.mark.parametrize(("content", "reason"), [
    (None, "no such file"),
    ("{not json", "not JSON"),
    ("[1, 2]", "expected a JSON object"),
    ({"contracts": {}}, "missing 'chain_id'"),
    ({"chain_id": 31337}, "missing 'contracts'"),
    ({"chain_id": True, "contracts": {}}, "chain_id must be a positive int"),
    ({"chain_id": -1, "contracts": {}}, "chain_id must be a positive int"),
    ({"chain_id": 31337, "contracts": []}, "'contracts' must map"),
    ({"chain_id": 31337, "contracts": {"Consortium": "0x" + "11" * 20}}, "no address for WalletRegistry"),
])
def test_bad_deployment_files(tmp_path: Path, content: Any, reason: str) -> None:
    path = tmp_path / "missing.json" if content is None else write(tmp_path, content)
    with pytest.raises(DeploymentFileError) as caught:
        load_deployment(path)
    assert caught.value.path == str(path)
    assert caught.value.reason.startswith(reason)
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(("change", "reason"), [
    ({"contracts": {"DigitalCash": "0x1234"}}, "DigitalCash address '0x1234' is not an address"),
    ({"contracts": {"DigitalCash": 7}}, "DigitalCash address 7 is not an address"),
    ({"block": -3}, "block must be an int >= 0"),
    ({"token": []}, "'implementations' and 'token' must be objects"),
    ({"extra": 1}, "unknown key 'extra'"),
])
def test_bad_deployment_fields(system: Any, tmp_path: Path, change: dict[str, Any], reason: str) -> None:
    doc = deployment_doc(system)
    for key, value in change.items():
        doc[key] = dict(doc[key], **value) if isinstance(value, dict) and key in doc else value
    with pytest.raises(DeploymentFileError) as caught:
        Network.from_web3(system.w3, write(tmp_path, doc))
    assert caught.value.reason.startswith(reason)


def test_deployment_must_be_a_deployment_or_path(system: Any) -> None:
    with pytest.raises(InvalidArgumentError):
        Network.from_web3(system.w3, {"chain_id": 31337})  # type: ignore[arg-type]


# --- token, domain, amounts ---


def test_token_facts_domain_and_amounts(network: Network, system: Any) -> None:
    info = network.token_info
    assert (info.name, info.symbol, info.decimals, info.address) == ("Digital Cash", "DCASH", 2, system.token.address)
    domain = network.domain()
    assert domain == Domain.for_token("Digital Cash", 31337, system.token.address)
    assert domain.separator() == bytes(system.token.functions.DOMAIN_SEPARATOR().call())
    assert network.parse_amount("12.34") == 1234
    assert network.parse_amount(5) == 500
    assert network.format_amount(1234) == "12.34"
    assert network.amount(1234) == Amount(1234, 2, "DCASH")
    assert str(network.amount(5)) == "0.05 DCASH"
    assert network.to_minor(Amount(700, 2)) == 700
    assert network.to_minor(Amount(700, 2, "DCASH")) == 700
    with pytest.raises(CurrencyMismatchError):
        network.to_minor(Amount(700, 3))
    with pytest.raises(CurrencyMismatchError):
        network.to_minor(Amount(700, 2, "EUR"))
    with pytest.raises(InvalidArgumentError):
        network.to_minor(-1)
    with pytest.raises(InvalidArgumentError):
        network.to_minor(True)


# --- wallets and limits ---


def test_wallet_info_and_limits(network: Network, system: Any, bank_a: BankOperator) -> None:
    key = WalletKey.create()
    unknown = network.wallet(key)
    assert (unknown.status, unknown.registered, unknown.bank_id) == (WalletStatus.NONE, False, bytes(32))
    assert network.limit_class_of(key) is None
    assert network.wallet_limits(key) is None

    account_hash = keccak(b"salt" + b"DE00 1234")
    bank_a.open_wallet(key, tier=3, account_hash=account_hash)
    info = network.wallet(key.address)
    assert info.address == key.address
    assert (info.bank_id, info.bank_code, info.tier, info.kind, info.status) == (
        BANK_A, "BANKA", 3, WalletKind.PERSONAL, WalletStatus.ACTIVE)
    assert (info.frozen_by_regulator, info.freeze_reason, info.account_hash, info.active) == (
        False, 0, account_hash, True)
    assert network.limit_class_of(key) is LimitClass.TIER_3
    assert network.wallet_limits(key) == DEFAULT_LIMITS[3]

    shop = WalletKey.create()
    bank_a.open_wallet(shop, kind=WalletKind.MERCHANT)
    assert network.wallet(shop).kind is WalletKind.MERCHANT
    assert network.limit_class_of(shop) is LimitClass.MERCHANT
    assert network.limit_class_of(system.settlement.address) is LimitClass.SYSTEM
    assert network.wallet(system.settlement.address).kind is WalletKind.SYSTEM

    for limit_class, limits in DEFAULT_LIMITS.items():
        assert network.limits(limit_class) == limits
    for bad in (0, 7):
        with pytest.raises(InvalidLimitClass) as caught:
            network.limits(bad)
        assert caught.value.limitClass == bad
    with pytest.raises(InvalidArgumentError):
        network.limits(256)

    bank_a.freeze(key, 42)
    frozen = network.wallet(key)
    assert (frozen.status, frozen.freeze_reason, frozen.frozen_by_regulator) == (WalletStatus.FROZEN, 42, False)
    network.regulator(system.regulator).freeze(shop, 9)
    assert network.wallet(shop).frozen_by_regulator is True


def test_balances_allowance_and_nonces(network: Network, system: Any, bank_a: BankOperator) -> None:
    start_of_a_day(network)  # the daily outflow must not roll over midnight (UTC) mid-test
    alice, bob = WalletKey.create(), WalletKey.create()
    bank_a.open_wallet(alice, tier=4)  # single 500.00, daily 1,000.00
    bank_a.open_wallet(bob)
    bank_a.mint(alice, 90_000, "topup-1")
    assert network.balance(alice) == 90_000
    assert network.remaining_daily_allowance(alice) == 100_000
    assert network.spent_today(alice) == 0

    transfer = TransferAuthorization(from_=alice.address, to=bob.address, value=30_000,
                                     valid_before=chain_now(network) + 3600)
    bank_a.transfer_with_authorization(transfer.sign(alice, network.domain()))
    assert network.authorization_used(alice, transfer.nonce) is True
    assert network.authorization_used(alice, new_nonce()) is False
    relay = RelayedTransfer(from_=alice.address, to=bob.address, value=1_000, valid_before=chain_now(network) + 3600,
                            nonce=relay_nonce(3, 17))
    bank_a.relay_transfers([relay.sign(alice, network.domain())])
    assert network.relay_nonce_used(alice, relay_nonce(3, 17)) is True
    assert network.relay_nonce_used(alice, relay_nonce(3, 18)) is False
    assert network.balance(alice) == 59_000
    assert network.balance(bob) == 31_000
    assert network.spent_today(alice) == 31_000
    assert network.remaining_daily_allowance(alice) == 69_000

    before = network.block_number
    bank_a.mint(alice, 1, "topup-2")
    assert network.balance(alice, block=before) == 59_000  # reads at a past block
    assert network.balance(alice) == 59_001


def test_hold_info(network: Network, bank_a: BankOperator) -> None:
    holder = WalletKey.create()
    bank_a.open_wallet(holder)
    bank_a.mint(holder, 10_000, "cash-in-1")
    hold = HoldAuthorization(holder=holder.address, value=4_000, expires_at=chain_now(network) + 600)
    assert network.hold(hold.hold_id).status is HoldStatus.NONE
    bank_a.place_hold(hold.sign(holder, network.domain()))
    info = network.hold(hold.hold_id)
    assert (info.holder, info.amount, info.expires_at, info.status) == (
        holder.address, 4_000, hold.expires_at, HoldStatus.HELD)
    assert network.held_balance(holder) == 4_000
    assert network.balance(holder) == 6_000
    assert network.total_held() == 4_000
    bank_a.capture_hold(hold.hold_id, "atm-dispense-1")
    assert network.hold(hold.hold_id).status is HoldStatus.CAPTURED
    assert network.held_balance(holder) == 0


# --- merchants, orders, settlement batches ---


def test_merchant_order_states_and_settlement_batches(network: Network, system: Any, bank_a: BankOperator,
                                                      bank_b: BankOperator) -> None:
    payer, shop, fees = WalletKey.create(), WalletKey.create(), WalletKey.create()
    bank_b.open_wallet(payer)
    bank_b.mint(payer, 50_000, "topup")
    bank_a.open_wallet(shop, kind=WalletKind.MERCHANT)
    bank_a.open_wallet(fees, kind=WalletKind.MERCHANT)
    bank_a.set_fee_wallet(fees)
    assert network.fee_wallet("BANKA") == fees.address
    assert network.fee_wallet(BANK_B) is None
    assert network.merchant("BANKA", "CAFE").status is MerchantStatus.NONE
    bank_a.register_merchant("CAFE", shop, fee_bps=150, mcc=5812)
    assert network.merchant(BANK_B, "CAFE").status is MerchantStatus.NONE  # merchant ids are per acquirer
    merchant = network.merchant(BANK_A, merchant_id("CAFE"))
    assert (merchant.acquirer, merchant.wallet, merchant.fee_bps, merchant.mcc, merchant.payout_mode,
            merchant.status, merchant.pending, merchant.last_batch_id) == (
        BANK_A, shop.address, 150, 5812, PayoutMode.WALLET, MerchantStatus.ACTIVE, 0, 0)

    assert network.order_state("BANKA", "CAFE", "ORDER-1") is OrderState.UNPAID
    signer = WalletKey.create()
    bank_a.set_request_signer(signer)
    paid = []
    for number, amount in ((1, 10_000), (2, 2_001)):
        payment = MerchantPayment(acquirer=BANK_A, merchant_id=merchant_id("CAFE"),
                                  order_id=order_id(f"ORDER-{number}"), payer=payer.address, amount=amount,
                                  valid_before=chain_now(network) + 600, settlement=system.settlement.address)
        payment = payment.with_request_signature(payment.request_terms().sign(signer, network.settlement_domain()))
        paid.append(bank_a.pay(payment.sign(payer, network.domain())))
    order = network.order("BANKA", "CAFE", "ORDER-1")
    assert (order.payer, order.amount, order.refunded, order.state) == (payer.address, 10_000, 0, OrderState.PAID)
    assert order.paid_at == network.w3.eth.get_block(paid[0].block_number)["timestamp"]
    bank_a.refund("CAFE", "ORDER-1", 2_500, "refund-1")
    assert network.order_state("BANKA", "CAFE", "ORDER-1") is OrderState.PARTIALLY_REFUNDED
    assert network.order("BANKA", "CAFE", "ORDER-1").refundable == 7_500
    assert network.order("BANKB", "CAFE", "ORDER-1").state is OrderState.UNPAID
    bank_a.refund("CAFE", "ORDER-2", 2_001, "refund-2")
    assert network.order_state("BANKA", "CAFE", "ORDER-2") is OrderState.REFUNDED
    assert network.merchant("BANKA", "CAFE").pending == 12_001 - 4_501
    assert network.total_pending() == 7_500

    first = bank_a.settle("CAFE", "batch-ref-1")
    # fee = floor(12,001 * 150 / 10,000) = 180; net = 12,001 - 4,501 - 180 = 7,320
    assert (first.batch_id, first.batch.gross, first.batch.refunds, first.batch.fee, first.batch.net) == (
        1, 12_001, 4_501, 180, 7_320)
    assert network.balance(shop) == 7_320
    assert network.balance(fees) == 180
    second = bank_a.settle("CAFE", "batch-ref-2")
    assert (second.batch_id, second.batch.gross, second.batch.net) == (2, 0, 0)

    batches = network.settlement_batches("CAFE")
    assert [(b.batch_id, b.gross, b.refunds, b.fee, b.net, b.ref) for b in batches] == [
        (1, 12_001, 4_501, 180, 7_320, order_id("batch-ref-1")), (2, 0, 0, 0, 0, order_id("batch-ref-2"))]
    assert all(b.gross == b.refunds + b.fee + b.net for b in batches)
    assert batches[0].tx_hash == first.tx_hash
    assert batches[0].block_number == first.block_number
    assert network.settlement_batches("OTHER") == []
    assert network.settlement_batches() == batches
    assert network.settlement_batches("CAFE", acquirer="BANKA") == batches
    assert network.settlement_batches("CAFE", acquirer=BANK_B) == []
    assert network.merchant("BANKA", "CAFE").last_batch_id == 2


# --- banks, positions, governance ---


def test_banks_quota_and_positions(network: Network, system: Any, bank_a: BankOperator, bank_b: BankOperator) -> None:
    assert network.bank_ids() == [BANK_A, BANK_B, b"BANKC".ljust(32, b"\0")]
    bank = network.bank("BANKA")
    assert (bank.bank_id, bank.code, bank.name, bank.status, bank.quota, bank.net_issued) == (
        BANK_A, "BANKA", "Bank A", BankStatus.ACTIVE, 10**13, 0)
    assert bank.operators == tuple(o.address for o in system.banks["A"].operators)
    assert bank.enodes == ("enode://" + "a" * 128,)
    assert [b.code for b in network.banks()] == ["BANKA", "BANKB", "BANKC"]
    with pytest.raises(UnknownBank) as caught:
        network.bank("NOPE")
    assert caught.value.bankId == b"NOPE".ljust(32, b"\0")
    assert network.bank_of_operator(system.banks["B"].operators[1]) == BANK_B
    assert network.bank_of_operator(system.operator) is None

    a, b = WalletKey.create(), WalletKey.create()
    bank_a.open_wallet(a)
    bank_b.open_wallet(b)
    bank_a.mint(a, 70_000, "m1")
    bank_b.mint(b, 5_000, "m2")
    # a moves 20,000 to b (a bank B wallet), and b redeems it at bank B: bank B has burned more than it minted
    bank_a.transfer_with_authorization(TransferAuthorization(
        from_=a.address, to=b.address, value=20_000, valid_before=chain_now(network) + 600).sign(a, network.domain()))
    bank_b.redeem(Redemption(holder=b.address, value=25_000, valid_before=chain_now(network) + 600)
                  .sign(b, network.domain()), "redeem-1")
    assert network.net_issued("BANKA") == 70_000
    assert network.net_issued(BANK_B) == -20_000
    assert network.quota("BANKB") == 10**13
    positions = network.positions()
    assert positions.block_number == network.block_number
    assert [(p.code, p.net_issued) for p in positions.banks] == [("BANKA", 70_000), ("BANKB", -20_000), ("BANKC", 0)]
    assert positions.total_supply == network.total_supply() == 50_000
    assert positions.net_issued_total == 50_000
    assert positions.balanced is True
    assert positions.of(BANK_B).net_issued == -20_000
    with pytest.raises(KeyError):
        positions.of(bytes(32))
    assert network.paused() is False


def test_roles_and_proposals(network: Network, system: Any) -> None:
    assert network.network_operator_address() == system.operator.address
    assert network.regulator_address() == system.regulator.address
    assert network.threshold() == 2
    with pytest.raises(UnknownProposal) as caught:
        network.proposal(99)
    assert caught.value.proposalId == 99
    operator = network.network_operator(system.operator)
    created = operator.propose_call(system.consortium.functions.setThreshold(1), "one approval is enough")
    proposal = network.proposal(created.proposal_id)
    assert (proposal.proposer, proposal.target, proposal.description, proposal.status, proposal.approvals) == (
        system.operator.address, system.consortium.address, "one approval is enough", ProposalStatus.PENDING, 0)
    assert network.has_approved(created.proposal_id, "BANKA") is False


# --- argument checks ---


@pytest.mark.parametrize("bad", [
    "0x1234", "not an address", 42, None, "0x70997970c51812dc3A010C7d01b50e0d17dc79C8",  # wrong checksum
    "70997970C51812dc3A010C7d01b50e0d17dc79C8",
])
def test_bad_addresses_are_refused_before_any_call(network: Network, bad: Any) -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        network.balance(bad)
    assert caught.value.field == "wallet"


def test_addresses_in_any_case_and_objects_with_an_address(network: Network) -> None:
    key = WalletKey.create()
    for form in (key, key.address, key.address.lower(), "0x" + key.address[2:].upper()):
        assert network.balance(form) == 0


@pytest.mark.parametrize("bad", [b"short", "x" * 33, "", 5, "NUL\0"])
def test_bad_ids_are_refused(network: Network, bad: Any) -> None:
    with pytest.raises(InvalidArgumentError):
        network.bank(bad)
    with pytest.raises(InvalidArgumentError):
        network.order("BANKA", "CAFE", bad)
    with pytest.raises(InvalidArgumentError):
        network.merchant("BANKA", bad)
    with pytest.raises(InvalidArgumentError):
        network.merchant(bad, "CAFE")


def test_contract_lookup(network: Network) -> None:
    assert network.contract("Consortium") is network.consortium
    with pytest.raises(InvalidArgumentError):
        network.contract("Nope")


def test_reverting_read_is_typed(network: Network) -> None:
    with pytest.raises(ContractRevertError) as caught:
        network.bank(b"\x01" * 32)
    assert isinstance(caught.value, UnknownBank)
    assert caught.value.tx_hash is None


def test_mined_gives_status_and_block_or_none(network: Network, system: Any, bank_a: BankOperator) -> None:
    alice = WalletKey.create()
    bank_a.open_wallet(alice)
    minted = bank_a.mint(alice, 100, "topup-mined")
    assert network.mined(minted.tx_hash) == (1, minted.block_number)
    stranger = system.accounts[0]  # not a bank operator: its mint is mined, and reverts
    tx = system.token.functions.mint(alice.address, 5, bytes(32)).build_transaction({
        "from": stranger.address, "gas": 300_000, "gasPrice": system.w3.eth.gas_price * 2,
        "nonce": system.w3.eth.get_transaction_count(stranger.address, "pending")})
    failed = system.w3.eth.send_raw_transaction(stranger.sign_transaction(tx).raw_transaction)
    receipt = system.w3.eth.wait_for_transaction_receipt(failed)
    assert network.mined(failed.to_0x_hex()) == (0, receipt["blockNumber"])
    assert network.mined("0x" + "ab" * 32) is None  # no such transaction
