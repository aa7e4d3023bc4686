"""BankOperator, NetworkOperator and Regulator against the real contracts: results, decoded events, and typed
reverts carrying the Solidity error's arguments."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from eth_account import Account
from eth_utils.crypto import keccak

from wallet_sdk.amount import Amount
from wallet_sdk.authorizations import (
    CancelAuthorization,
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
from wallet_sdk.chain.network import Network
from wallet_sdk.chain.operators import BankOperator, NetworkOperator, Regulator
from wallet_sdk.chain.types import (
    BurnReason,
    HoldStatus,
    Limits,
    MerchantStatus,
    PayoutMode,
    WalletKind,
    WalletOpening,
    WalletStatus,
)
from wallet_sdk.exceptions import ContractRevertError, InvalidArgumentError
from wallet_sdk.keys import WalletKey
from wallet_sdk.reverts import (
    AuthorizationAlreadyUsed,
    BalanceCapExceeded,
    DailyOutflowLimitExceeded,
    EnforcedPause,
    ERC20InsufficientBalance,
    HoldNotActive,
    InvalidPaymentRequest,
    InvalidSignature,
    MerchantNotActive,
    NotBankOperator,
    NotCustodianOperator,
    NotEnoughApprovals,
    NotNetworkOperator,
    OrderAlreadyPaid,
    QuotaExceeded,
    RefundExceedsRefundable,
    RegulatorFreeze,
    SinglePaymentLimitExceeded,
    UnknownMerchant,
    UnorderedNonceUsed,
    WalletAlreadyRegistered,
    WalletNotActive,
    ZeroAmount,
)

BANK_A = b"BANKA".ljust(32, b"\0")


@pytest.fixture
def network(system: Any) -> Network:
    return Network.from_web3(system.w3, system.deployment)


@pytest.fixture
def bank_a(network: Network, system: Any) -> BankOperator:
    return network.bank_operator(system.banks["A"].operators[0])


@pytest.fixture
def bank_b(network: Network, system: Any) -> BankOperator:
    return network.bank_operator(system.banks["B"].operators[0])


@pytest.fixture
def operator(network: Network, system: Any) -> NetworkOperator:
    return network.network_operator(system.operator)


def chain_now(network: Network) -> int:
    return int(network.w3.eth.get_block("latest")["timestamp"])


def start_of_a_day(network: Network) -> None:
    """Move chain time to one hour into the next UTC day."""
    network.w3.provider.make_request("evm_increaseTime", [86_400 - chain_now(network) % 86_400 + 3_600])  # type: ignore[arg-type]
    network.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]


def funded(network: Network, bank: BankOperator, amount: int, *, tier: int = 1) -> WalletKey:
    key = WalletKey.create()
    bank.open_wallet(key, tier=tier)
    if amount:
        bank.mint(key, amount, new_nonce())
    return key


def test_results_carry_hash_block_gas_and_decoded_events(network: Network, bank_a: BankOperator,
                                                         system: Any) -> None:
    key = WalletKey.create()
    opened = bank_a.open_wallet(key, tier=2)
    assert [(e.contract, e.name) for e in opened.events] == [("WalletRegistry", "WalletOpened"),
                                                             ("DigitalCash", "WalletStateSet")]
    assert opened.event("WalletOpened").args == {"wallet": key.address, "bankId": BANK_A, "tier": 2,
                                                 "kind": WalletKind.PERSONAL, "accountHash": bytes(32)}
    receipt = system.w3.eth.get_transaction_receipt(opened.tx_hash)
    assert (receipt["blockNumber"], receipt["gasUsed"], receipt["status"]) == (opened.block_number, opened.gas_used, 1)
    minted = bank_a.mint(key, Amount.parse("12.34", decimals=2, currency="DCASH"), "ATM-7-0001")
    assert minted.event("Minted").args == {"wallet": key.address, "bankId": BANK_A, "amount": 1234,
                                           "ref": b"ATM-7-0001".ljust(32, b"\0")}
    assert minted.events_named("Transfer")[0]["value"] == 1234
    with pytest.raises(KeyError):
        minted.event("Burned")
    assert bank_a.bank_id == BANK_A
    assert repr(bank_a) == f"BankOperator(address='{system.banks['A'].operators[0].address}')"


def test_one_sender_per_account(network: Network, system: Any) -> None:
    account = system.banks["A"].operators[0]
    first, second = network.bank_operator(account), BankOperator(network, account)
    assert first.sender is second.sender is network.sender(account)
    assert network.sender(first.sender) is first.sender


def test_wallet_lifecycle_and_its_reverts(network: Network, bank_a: BankOperator, bank_b: BankOperator,
                                          system: Any) -> None:
    key = WalletKey.create()
    bank_a.open_wallet(key)
    with pytest.raises(WalletAlreadyRegistered) as caught:
        bank_b.open_wallet(key)
    assert caught.value.wallet == key.address
    assert caught.value.tx_hash is None  # refused at gas estimation: nothing was mined

    changed = bank_a.set_tier(key, 4)
    assert changed.event("WalletTierChanged").args == {"wallet": key.address, "bankId": BANK_A, "previousTier": 1,
                                                      "tier": 4}
    bound = bank_a.bind_account(key, keccak(b"account"))
    assert bound.event("AccountBound")["accountHash"] == keccak(b"account")
    assert network.wallet(key).account_hash == keccak(b"account")

    frozen = bank_a.freeze(key, 7)
    assert frozen.event("WalletFrozen").args == {"wallet": key.address, "bankId": BANK_A,
                                                 "by": bank_a.address, "reason": 7, "byRegulator": False}
    with pytest.raises(WalletNotActive) as not_active:
        bank_a.mint(key, 100, "m")
    assert (not_active.value.wallet, not_active.value.status) == (key.address, WalletStatus.FROZEN)
    bank_a.unfreeze(key)
    bank_a.mint(key, 2_500, "m")

    regulator = Regulator(network, system.regulator)
    regulator.freeze(key, 99)
    with pytest.raises(RegulatorFreeze) as reg:
        bank_a.unfreeze(key)
    assert reg.value.wallet == key.address
    regulator.unfreeze(key)

    closed = bank_a.close_wallet(key, "closure-1")
    assert closed.redeemed == 2_500
    burned = closed.event("Burned")
    assert (burned["amount"], burned["reason"]) == (2_500, BurnReason.WALLET_CLOSURE)
    assert network.wallet(key).status is WalletStatus.CLOSED


def test_open_wallets_in_chunks(network: Network, bank_a: BankOperator) -> None:
    keys = [Account.create().address for _ in range(25)]
    openings = [WalletOpening(wallet=k, tier=2) for k in keys[:-1]] + [
        WalletOpening(wallet=keys[-1], kind=WalletKind.MERCHANT, account_hash=keccak(b"m"))]
    results = bank_a.open_wallets(openings, chunk_size=10)
    assert len(results) == 3
    assert sum(len(r.events_named("WalletOpened")) for r in results) == 25
    assert all(network.wallet(k).status is WalletStatus.ACTIVE for k in keys)
    assert network.wallet(keys[0]).tier == 2
    assert network.wallet(keys[-1]).kind is WalletKind.MERCHANT
    with pytest.raises(WalletAlreadyRegistered) as caught:  # a chunk reverts whole, naming the wallet
        bank_a.open_wallets([WalletOpening(wallet=Account.create().address), WalletOpening(wallet=keys[3])])
    assert caught.value.wallet == keys[3]
    with pytest.raises(InvalidArgumentError):
        bank_a.open_wallets([])
    with pytest.raises(InvalidArgumentError):
        bank_a.open_wallets(openings, chunk_size=0)
    with pytest.raises(InvalidArgumentError):
        bank_a.open_wallets([keys[0]])  # an address, not a WalletOpening


def test_not_a_bank_operator(network: Network, system: Any) -> None:
    stranger = network.bank_operator(system.accounts[0])
    with pytest.raises(NotBankOperator) as caught:
        stranger.open_wallet(WalletKey.create())
    assert caught.value.caller == system.accounts[0].address
    with pytest.raises(NotBankOperator):  # the contract says the same for calls that do not need the bank id
        stranger.relay_transfers([RelayedTransfer(
            from_=system.accounts[1].address, to=system.accounts[2].address, value=1,
            valid_before=chain_now(network) + 60).sign(WalletKey(system.accounts[1].key), network.domain())])


def test_mint_reverts(network: Network, bank_a: BankOperator, bank_b: BankOperator, operator: NetworkOperator,
                      system: Any) -> None:
    small = funded(network, bank_a, 0, tier=4)
    with pytest.raises(BalanceCapExceeded) as cap:
        bank_a.mint(small, 100_001, "m")
    assert (cap.value.wallet, cap.value.balanceAfter, cap.value.cap) == (small.address, 100_001, 100_000)
    with pytest.raises(NotCustodianOperator) as custodian:
        bank_b.mint(small, 1, "m")
    assert (custodian.value.caller, custodian.value.wallet) == (bank_b.address, small.address)
    with pytest.raises(ZeroAmount):
        bank_a.mint(small, 0, "m")
    operator.set_quota("BANKA", 1_000)
    with pytest.raises(QuotaExceeded) as quota:
        bank_a.mint(small, 1_001, "m")
    assert (quota.value.bankId, quota.value.quota, quota.value.netIssued, quota.value.amount) == (
        BANK_A, 1_000, 0, 1_001)
    with pytest.raises(InvalidArgumentError):
        bank_a.mint(small, -5, "m")
    with pytest.raises(InvalidArgumentError):
        bank_a.mint(small, 5, b"short ref")


def test_transfers_and_their_limits(network: Network, bank_a: BankOperator) -> None:
    start_of_a_day(network)  # the daily outflow must not roll over midnight (UTC) mid-test
    alice = funded(network, bank_a, 100_000, tier=4)  # cap 1,000.00, single 500.00, daily 1,000.00
    bob = funded(network, bank_a, 0)
    domain = network.domain()
    deadline = chain_now(network) + 600

    too_big = TransferAuthorization(from_=alice.address, to=bob.address, value=60_000, valid_before=deadline)
    with pytest.raises(SinglePaymentLimitExceeded) as single:
        bank_a.transfer_with_authorization(too_big.sign(alice, domain))
    assert (single.value.wallet, single.value.amount, single.value.limit) == (alice.address, 60_000, 50_000)

    ok = TransferAuthorization(from_=alice.address, to=bob.address, value=50_000, valid_before=deadline)
    result = bank_a.transfer_with_authorization(ok.sign(alice, domain))
    assert result.event("Transfer").args == {"from": alice.address, "to": bob.address, "value": 50_000}
    assert result.event("AuthorizationUsed").args == {"authorizer": alice.address, "nonce": ok.nonce}
    with pytest.raises(AuthorizationAlreadyUsed) as used:
        bank_a.transfer_with_authorization(ok.sign(alice, domain))
    assert (used.value.authorizer, used.value.nonce) == (alice.address, ok.nonce)

    bank_a.mint(alice, 50_000, "top-up")
    bank_a.transfer_with_authorization(TransferAuthorization(
        from_=alice.address, to=bob.address, value=40_000, valid_before=deadline).sign(alice, domain))
    over_daily = TransferAuthorization(from_=alice.address, to=bob.address, value=10_001, valid_before=deadline)
    with pytest.raises(DailyOutflowLimitExceeded) as daily:
        bank_a.transfer_with_authorization(over_daily.sign(alice, domain))
    assert (daily.value.wallet, daily.value.spentToday, daily.value.amount, daily.value.limit) == (
        alice.address, 90_000, 10_001, 100_000)

    forged = TransferAuthorization(from_=alice.address, to=bob.address, value=1, valid_before=deadline)
    signed_by_bob = forged.sign(alice, domain)
    tampered = type(signed_by_bob)(authorization=TransferAuthorization(
        from_=alice.address, to=bob.address, value=2, valid_before=deadline, nonce=forged.nonce),
        domain=domain, v=signed_by_bob.v, r=signed_by_bob.r, s=signed_by_bob.s)
    with pytest.raises(InvalidSignature) as invalid:
        bank_a.transfer_with_authorization(tampered)
    assert invalid.value.expectedSigner == alice.address

    cancel = CancelAuthorization(authorizer=alice.address, nonce=new_nonce())
    canceled = bank_a.cancel_authorization(cancel.sign(alice, domain))
    assert canceled.event("AuthorizationCanceled")["nonce"] == cancel.nonce
    with pytest.raises(InvalidArgumentError):
        bank_a.transfer_with_authorization(cancel.sign(alice, domain))  # type: ignore[arg-type]


def test_relay_transfers_reports_each_item(network: Network, bank_a: BankOperator, bank_b: BankOperator) -> None:
    alice = funded(network, bank_a, 100_000)
    carol = funded(network, bank_b, 5_000)
    frozen = funded(network, bank_a, 5_000)
    bank_a.freeze(frozen, 1)
    shop = funded(network, bank_b, 0)
    domain = network.domain()
    deadline = chain_now(network) + 600

    def relayed(signer: WalletKey, value: int, nonce: int) -> Any:
        return RelayedTransfer(from_=signer.address, to=shop.address, value=value, valid_before=deadline,
                               nonce=nonce).sign(signer, domain)

    items = [relayed(alice, 1_000, relay_nonce(0, 0)), relayed(alice, 2_000, relay_nonce(0, 0)),
             relayed(carol, 4_000, relay_nonce(1, 5)), relayed(carol, 1_001, relay_nonce(1, 6)),
             relayed(frozen, 1, 3)]
    result = bank_b.relay_transfers(items)
    assert result.succeeded == 2
    assert [item.ok for item in result.items] == [True, False, True, False, False]
    assert [item.index for item in result.failed] == [1, 3, 4]
    errors = [item.error for item in result.failed]
    assert isinstance(errors[0], UnorderedNonceUsed)
    assert (errors[0].owner, errors[0].nonce) == (alice.address, 0)
    assert isinstance(errors[1], ERC20InsufficientBalance)
    assert (errors[1].sender, errors[1].balance, errors[1].needed) == (carol.address, 1_000, 1_001)
    assert isinstance(errors[2], WalletNotActive)
    assert errors[2].status is WalletStatus.FROZEN
    assert result.items[2].authorization is items[2].authorization
    assert network.balance(shop) == 5_000
    with pytest.raises(InvalidArgumentError):
        bank_b.relay_transfers([])


def test_holds_and_redemption(network: Network, bank_a: BankOperator, bank_b: BankOperator) -> None:
    holder = funded(network, bank_a, 20_000)
    domain = network.domain()
    deadline = chain_now(network) + 600
    first = HoldAuthorization(holder=holder.address, value=5_000, expires_at=deadline)
    placed = bank_a.place_hold(first.sign(holder, domain))
    assert placed.event("HoldPlaced").args == {"holdId": first.hold_id, "holder": holder.address, "amount": 5_000,
                                              "expiresAt": deadline}
    captured = bank_a.capture_hold(first.hold_id, "atm-1")
    assert captured.event("Burned")["reason"] is BurnReason.HOLD_CAPTURE
    with pytest.raises(HoldNotActive) as inactive:
        bank_a.release_hold(first.hold_id)
    assert (inactive.value.holdId, inactive.value.status) == (first.hold_id, HoldStatus.CAPTURED)

    second = HoldAuthorization(holder=holder.address, value=3_000, expires_at=deadline)
    bank_a.place_hold(second.sign(holder, domain))
    released = bank_a.release_hold(second.hold_id)
    assert released.event("HoldReleased").args == {"holdId": second.hold_id, "holder": holder.address,
                                                  "amount": 3_000, "by": bank_a.address}
    assert network.balance(holder) == 15_000

    redemption = Redemption(holder=holder.address, value=4_000, valid_before=deadline)
    with pytest.raises(NotCustodianOperator):
        bank_b.redeem(redemption.sign(holder, domain), "r-1")
    redeemed = bank_a.redeem(redemption.sign(holder, domain), "r-1")
    assert redeemed.event("Burned").args == {"wallet": holder.address, "bankId": BANK_A, "amount": 4_000,
                                             "ref": b"r-1".ljust(32, b"\0"), "reason": BurnReason.REDEMPTION}
    assert network.balance(holder) == 11_000
    assert network.net_issued("BANKA") == 20_000 - 5_000 - 4_000


def test_merchant_payments_refunds_and_settlement(network: Network, system: Any, bank_a: BankOperator,
                                                  bank_b: BankOperator) -> None:
    payer = funded(network, bank_b, 100_000)
    shop, fees = WalletKey.create(), WalletKey.create()
    bank_a.open_wallet(shop, kind=WalletKind.MERCHANT)
    bank_a.open_wallet(fees)
    registered = bank_a.register_merchant("SHOP-1", shop, fee_bps=200, mcc=5411,
                                          settlement_account_hash=keccak(b"iban"))
    assert registered.event("MerchantRegistered").args["payoutMode"] is PayoutMode.WALLET
    with pytest.raises(UnknownMerchant) as unknown:  # merchant ids are per acquirer: bank B has no SHOP-1
        bank_b.update_merchant("SHOP-1", shop, fee_bps=0, mcc=1)
    assert unknown.value.merchantId == merchant_id("SHOP-1")
    bank_a.update_merchant("SHOP-1", shop, fee_bps=250, mcc=5411, payout_mode=PayoutMode.WALLET)
    assert network.merchant("BANKA", "SHOP-1").fee_bps == 250
    assert network.merchant("BANKB", "SHOP-1").status is MerchantStatus.NONE
    bank_a.set_fee_wallet(fees)
    signer = WalletKey.create()  # bank A's request signer: signs requests, sends nothing
    assert network.request_signer("BANKA") is None
    assert bank_a.set_request_signer(signer).event("RequestSignerSet").args == {"bankId": BANK_A,
                                                                                "signer": signer.address}
    assert network.request_signer("BANKA") == signer.address
    assert network.is_request_signer("BANKA", signer) and network.is_request_signer("BANKA", bank_a.address)
    assert not network.is_request_signer("BANKB", signer) and not network.is_request_signer("BANKA", payer)

    domain = network.domain()
    deadline = chain_now(network) + 600

    def payment(order: str, amount: int, requested: int | None = None) -> Any:
        unsigned = MerchantPayment(acquirer=BANK_A, merchant_id=merchant_id("SHOP-1"), order_id=order_id(order),
                                   payer=payer.address, amount=amount, valid_before=deadline,
                                   settlement=system.settlement.address)
        terms = dataclasses.replace(unsigned.request_terms(), amount=requested or amount)
        return unsigned.with_request_signature(terms.sign(signer, network.settlement_domain())).sign(payer, domain)

    paid = bank_b.pay(payment("O-1", 10_000))  # any bank (anyone) may relay a payment
    assert paid.event("OrderPaid").args == {"merchantId": merchant_id("SHOP-1"), "orderId": order_id("O-1"),
                                           "acquirer": BANK_A, "payer": payer.address, "amount": 10_000}
    assert network.order("BANKA", "SHOP-1", "O-1").amount == 10_000
    with pytest.raises(InvalidPaymentRequest) as underpaid:  # bank A asked for 10,000
        bank_b.pay(payment("O-5", 1, requested=10_000))
    assert (underpaid.value.acquirer, underpaid.value.orderId) == (BANK_A, order_id("O-5"))
    unsigned = MerchantPayment(acquirer=BANK_A, merchant_id=merchant_id("SHOP-1"), order_id=order_id("O-6"),
                               payer=payer.address, amount=5, valid_before=deadline,
                               settlement=system.settlement.address).sign(payer, domain)
    with pytest.raises(InvalidArgumentError):
        bank_b.pay(unsigned)
    with pytest.raises(OrderAlreadyPaid) as again:
        bank_b.pay(payment("O-1", 10_000))
    assert (again.value.merchantId, again.value.orderId) == (merchant_id("SHOP-1"), order_id("O-1"))

    batch = bank_a.pay_batch([payment("O-2", 3_000), payment("O-1", 1), payment("O-3", 200_000),
                              payment("O-4", 7_000)])
    assert [item.ok for item in batch.items] == [True, False, False, True]
    assert isinstance(batch.items[1].error, OrderAlreadyPaid)
    assert isinstance(batch.items[2].error, ERC20InsufficientBalance)
    assert batch.items[2].error.needed == 200_000
    assert batch.succeeded == 2

    refunded = bank_a.refund("SHOP-1", "O-2", 1_000, "refund-1")
    assert refunded.event("OrderRefunded").args["refundedTotal"] == 1_000
    with pytest.raises(RefundExceedsRefundable) as refund:
        bank_a.refund("SHOP-1", "O-2", 2_001, "refund-2")
    assert (refund.value.amount, refund.value.refundable) == (2_001, 2_000)

    settled = bank_a.settle("SHOP-1", "settle-1")
    gross, refunds = 20_000, 1_000
    fee = gross * 250 // 10_000
    assert (settled.batch_id, settled.batch.gross, settled.batch.refunds, settled.batch.fee, settled.batch.net) == (
        1, gross, refunds, fee, gross - refunds - fee)
    assert network.balance(shop) == gross - refunds - fee
    assert network.balance(fees) == fee
    assert bank_a.settle("SHOP-1", "settle-2").batch_id == 2

    bank_a.set_merchant_status("SHOP-1", MerchantStatus.SUSPENDED)
    with pytest.raises(MerchantNotActive):
        bank_b.pay(payment("O-9", 1))
    bank_a.set_merchant_status("SHOP-1", MerchantStatus.ACTIVE)
    bank_b.pay(payment("O-9", 1))
    with pytest.raises(InvalidArgumentError):
        bank_a.pay_batch([])


def test_network_operator(network: Network, operator: NetworkOperator, bank_a: BankOperator, system: Any) -> None:
    result = operator.set_limits(4, Limits(200_000, 100_000, 150_000))
    assert [(e.contract, e.name) for e in result.events] == [("WalletRegistry", "LimitsSet"),
                                                             ("DigitalCash", "LimitsSet")]
    assert network.limits(4) == Limits(200_000, 100_000, 150_000)
    with pytest.raises(InvalidArgumentError):
        operator.set_limits(4, (1, 2, 3))  # type: ignore[arg-type]
    with pytest.raises(NotNetworkOperator) as caught:
        NetworkOperator(network, system.banks["A"].operators[0]).set_quota("BANKA", 5)
    assert caught.value.caller == system.banks["A"].operators[0].address

    assert operator.set_quota("BANKB", 123_456).event("QuotaSet").args == {
        "bankId": b"BANKB".ljust(32, b"\0"), "quota": 123_456}
    assert network.quota("BANKB") == 123_456

    key = WalletKey.create()
    bank_a.open_wallet(key)
    operator.pause()
    assert network.paused() is True
    with pytest.raises(EnforcedPause):
        bank_a.mint(key, 1, "m")
    operator.unpause()
    bank_a.mint(key, 1, "m")


def test_governance(network: Network, operator: NetworkOperator, system: Any) -> None:
    proposal = operator.propose_call(network.consortium.functions.setThreshold(1), "lower the threshold")
    assert proposal.event("ProposalCreated")["description"] == "lower the threshold"
    first = network.bank_operator(system.banks["A"].operators[1])
    second = network.bank_operator(system.banks["B"].operators[0])
    assert first.approve(proposal.proposal_id).event("ProposalApproved")["bankId"] == BANK_A
    with pytest.raises(NotEnoughApprovals) as caught:
        operator.execute(proposal.proposal_id)
    assert (caught.value.proposalId, caught.value.approvals, caught.value.threshold) == (proposal.proposal_id, 1, 2)
    second.approve(proposal.proposal_id)
    executed = second.execute(proposal.proposal_id)
    assert [e.name for e in executed.events] == ["ThresholdSet", "ProposalExecuted"]
    assert network.threshold() == 1

    raw = operator.propose(network.consortium.address, b"\x12\x34\x56\x78", "garbage call")
    cancelled = operator.cancel(raw.proposal_id)
    assert cancelled.event("ProposalCancelled")["proposalId"] == raw.proposal_id
    with pytest.raises(InvalidArgumentError):
        operator.propose(network.consortium.address, "0x1234", "text is not calldata")  # type: ignore[arg-type]


def test_every_revert_is_a_contract_revert_error(network: Network, bank_a: BankOperator) -> None:
    with pytest.raises(ContractRevertError) as caught:
        bank_a.mint(Account.create().address, 1, "m")
    assert caught.value.name == "NotCustodianOperator"


def test_bad_arguments(network: Network, bank_a: BankOperator, system: Any) -> None:
    with pytest.raises(InvalidArgumentError):
        BankOperator("not a network", system.accounts[0])  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError):
        BankOperator(network, "0xkey")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError):
        bank_a.open_wallet(WalletKey.create(), tier=256)
    with pytest.raises(ValueError):
        bank_a.open_wallet(WalletKey.create(), kind=7)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError):
        bank_a.freeze(WalletKey.create(), 70_000)
    with pytest.raises(InvalidArgumentError):
        bank_a.register_merchant("M", WalletKey.create(), fee_bps=-1, mcc=1)
