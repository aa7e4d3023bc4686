"""Consortium: roles, governance (propose/approve/execute/cancel), membership, quotas, permissioning, upgrade."""

from __future__ import annotations

from typing import Any

import pytest
from eth_abi import encode as abi_encode
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract
from web3.logs import DISCARD
from web3.types import TxReceipt

from wallet_sdk._tx import deploy_bytecode
from wallet_sdk.artifacts import load_artifact
from wallet_sdk.deploy import deploy_proxy
from wallet_sdk.revert_decoding import decode_revert

# As deployed by the `system` fixture (tests/conftest.py).
QUOTA = 10**13
ENODE_OF = {k: "enode://" + c * 128 for k, c in (("A", "a"), ("B", "b"), ("C", "c"))}
ZERO = "0x" + "00" * 20
ZERO_ID = b"\0" * 32
ACTIVE, SUSPENDED, REMOVED = 1, 2, 3  # IConsortium.BankStatus
PENDING, EXECUTED, CANCELLED = 1, 2, 3  # IConsortium.ProposalStatus
IMPLEMENTATION_SLOT = int("360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc", 16)

NODE_D = "d" * 128
ENODE_D = "enode://" + NODE_D


def bid(code: str) -> bytes:
    return code.encode().ljust(32, b"\0")


def events(contract: Contract, name: str, receipt: TxReceipt) -> list[Any]:
    """Decoded `name` events that `contract` itself emitted in the receipt."""
    return [e["args"] for e in contract.events[name]().process_receipt(receipt, errors=DISCARD)
            if e["address"] == contract.address]


def data_of(contract: Contract, fn: str, *args: Any) -> bytes:
    return bytes.fromhex(contract.encode_abi(fn, args=list(args))[2:])


def propose(system: Any, target: Contract, fn: str, *args: Any, consortium: Contract | None = None,
            description: str = "") -> int:
    c = consortium if consortium is not None else system.consortium
    receipt = system.send(c.functions.propose(target.address, data_of(target, fn, *args), description),
                          system.operator)
    return int(events(c, "ProposalCreated", receipt)[0]["proposalId"])


def approve(system: Any, pid: int, *codes: str, consortium: Contract | None = None) -> None:
    """Approve `pid` for each bank code, signed by the first of its operators still assigned to it."""
    c = consortium if consortium is not None else system.consortium
    for code in codes:
        bank = system.banks[code]
        signer = next(op for op in bank.operators if c.functions.bankOfOperator(op.address).call() == bank.id)
        system.send(c.functions.approve(pid), signer)


def active_codes(system: Any) -> tuple[str, ...]:
    return tuple(k for k, b in system.banks.items() if system.consortium.functions.bankStatus(b.id).call() == ACTIVE)


def govern(system: Any, fn: str, *args: Any, target: Contract | None = None,
           approvers: tuple[str, ...] | None = None, consortium: Contract | None = None) -> TxReceipt:
    """Propose `fn(*args)` on `target` (default: the Consortium), approve (by default every active bank of
    the fixture), execute; return the receipt."""
    c = consortium if consortium is not None else system.consortium
    pid = propose(system, target if target is not None else c, fn, *args, consortium=c)
    approve(system, pid, *(approvers if approvers is not None else active_codes(system)), consortium=c)
    return system.send(c.functions.execute(pid), system.accounts[0])


def govern_fails(system: Any, reverts: Any, fn: str, *args: Any, error: str, **expected: Any) -> None:
    """The proposal executes, the governed call reverts with `error`: execute reverts ProposalCallFailed."""
    pid = propose(system, system.consortium, fn, *args)
    approve(system, pid, *active_codes(system))
    with reverts("ProposalCallFailed", proposalId=pid) as box:
        system.send(system.consortium.functions.execute(pid), system.accounts[0])
    inner = decode_revert(box["error"].arguments["returndata"])
    assert inner.name == error, f"expected {error}, got {inner}"
    for key, value in expected.items():
        assert inner.arguments[key] == value, f"{error}.{key}: expected {value!r}, got {inner.arguments[key]!r}"
    # a failed call leaves the proposal pending
    assert system.consortium.functions.proposal(pid).call()[4] == PENDING


def fresh_consortium(system: Any, threshold: int, banks: list[tuple[Any, ...]]) -> Contract:
    """A separate Consortium proxy (same roles as the system's), for initialize and issuer tests."""
    proxy, _ = deploy_proxy(system.w3, system.operator, "Consortium",
                            [system.operator.address, system.regulator.address, threshold, banks])
    return system.w3.eth.contract(address=proxy, abi=load_artifact("Consortium")["abi"])


def info(system: Any, code: str) -> dict[str, Any]:
    b = system.consortium.functions.bank(system.banks[code].id).call()
    keys = ("id", "name", "status", "quota", "netIssued", "operators", "enodes")
    return dict(zip(keys, b, strict=True))


def addrs(accounts: list[LocalAccount]) -> list[str]:
    return [a.address for a in accounts]


# ---------------------------------------------------------------------------------------------- deployment


def test_initial_state(system: Any) -> None:
    c = system.consortium
    assert c.functions.networkOperator().call() == system.operator.address
    assert c.functions.regulator().call() == system.regulator.address
    assert c.functions.threshold().call() == 2
    assert c.functions.activeBankCount().call() == 3
    assert c.functions.bankIds().call() == [system.banks[k].id for k in ("A", "B", "C")]
    assert c.functions.issuer().call() == system.token.address
    assert c.functions.proposalCount().call() == 0
    a = info(system, "A")
    assert a == {"id": bid("BANKA"), "name": "Bank A", "status": ACTIVE, "quota": QUOTA, "netIssued": 0,
                 "operators": addrs(system.banks["A"].operators), "enodes": [ENODE_OF["A"]]}
    for code, bank in system.banks.items():
        assert c.functions.quota(bank.id).call() == QUOTA
        assert c.functions.netIssued(bank.id).call() == 0
        assert c.functions.bankStatus(bank.id).call() == ACTIVE
        for op in bank.operators:
            assert c.functions.bankOfOperator(op.address).call() == bank.id
            assert c.functions.isActiveOperator(bank.id, op.address).call() is True
            assert c.functions.requireActiveOperator(op.address).call() == bank.id
        assert c.functions.bankOfEnode(ENODE_OF[code]).call() == bank.id
    op_a = system.banks["A"].operators[0].address
    assert c.functions.isActiveOperator(system.banks["B"].id, op_a).call() is False
    assert c.functions.isActiveOperator(ZERO_ID, system.accounts[0].address).call() is False
    assert c.functions.bankOfOperator(system.accounts[0].address).call() == ZERO_ID
    assert c.functions.bankStatus(bid("NOPE")).call() == 0
    assert c.functions.quota(bid("NOPE")).call() == 0


def test_initialize_emits_setup_events(system: Any) -> None:
    ops = [Account.create().address for _ in range(2)]
    proxy, _ = deploy_proxy(system.w3, system.operator, "Consortium",
                            [system.operator.address, system.regulator.address, 1,
                             [(bid("X"), "Bank X", ops, [ENODE_D], 700)]])
    c = system.w3.eth.contract(address=proxy, abi=load_artifact("Consortium")["abi"])
    logs = {name: c.events[name]().get_logs(from_block=system.w3.eth.block_number)
            for name in ("NetworkOperatorChanged", "RegulatorChanged", "BankAdded", "OperatorAdded",
                         "EnodeAdded", "QuotaSet", "ThresholdSet")}
    assert [dict(e["args"]) for e in logs["NetworkOperatorChanged"]] == [
        {"previous": ZERO, "current": system.operator.address}]
    assert [dict(e["args"]) for e in logs["RegulatorChanged"]] == [
        {"previous": ZERO, "current": system.regulator.address}]
    assert [dict(e["args"]) for e in logs["BankAdded"]] == [{"bankId": bid("X"), "name": "Bank X"}]
    assert [e["args"]["operator"] for e in logs["OperatorAdded"]] == ops
    assert [e["args"]["enodeId"] for e in logs["EnodeAdded"]] == [ENODE_D]
    assert [dict(e["args"]) for e in logs["QuotaSet"]] == [{"bankId": bid("X"), "quota": 700}]
    assert [dict(e["args"]) for e in logs["ThresholdSet"]] == [{"threshold": 1}]


def one_bank(code: str = "X", ops: list[str] | None = None, enodes: list[str] | None = None) -> tuple[Any, ...]:
    return (bid(code), f"Bank {code}", ops if ops is not None else [Account.create().address],
            enodes if enodes is not None else [], 0)


@pytest.mark.parametrize(
    ("threshold", "banks", "error", "expected"),
    [
        (0, [one_bank()], "InvalidThreshold", {"threshold": 0, "activeBanks": 1}),
        (2, [one_bank()], "InvalidThreshold", {"threshold": 2, "activeBanks": 1}),
        (1, [], "InvalidThreshold", {"threshold": 1, "activeBanks": 0}),
        (1, [one_bank(), one_bank()], "BankAlreadyExists", {"bankId": bid("X")}),
        (1, [one_bank("")], "InvalidBankId", {"bankId": ZERO_ID}),
        (1, [one_bank(ops=[ZERO])], "ZeroAddress", {}),
        (1, [one_bank(enodes=["enode://1234"])], "InvalidEnode", {"enodeId": "enode://1234"}),
        (1, [one_bank(enodes=["g" * 128])], "InvalidEnode", {"enodeId": "g" * 128}),
        (1, [one_bank(enodes=[ENODE_D, NODE_D.upper()])], "EnodeAlreadyRegistered",
         {"enodeId": NODE_D.upper(), "bankId": bid("X")}),
    ],
)
def test_initialize_rejects_bad_config(system: Any, reverts: Any, threshold: int, banks: list[Any],
                                       error: str, expected: dict[str, Any]) -> None:
    with reverts(error, **expected):
        fresh_consortium(system, threshold, banks)


def test_initialize_rejects_shared_operator_and_zero_roles(system: Any, reverts: Any) -> None:
    shared = Account.create().address
    with reverts("OperatorAlreadyAssigned", operator=shared, bankId=bid("X")):
        fresh_consortium(system, 1, [one_bank("X", [shared]), one_bank("Y", [shared])])
    for roles in ((ZERO, system.regulator.address), (system.operator.address, ZERO)):
        with reverts("ZeroAddress"):
            deploy_proxy(system.w3, system.operator, "Consortium", [*roles, 1, [one_bank()]])


def test_initialize_only_once(system: Any, reverts: Any) -> None:
    with reverts("InvalidInitialization"):
        system.send(system.consortium.functions.initialize(
            system.operator.address, system.regulator.address, 1, [one_bank()]), system.operator)
    impl = system.w3.eth.contract(address=system.deployment.implementations["Consortium"],
                                  abi=system.consortium.abi)
    with reverts("InvalidInitialization"):
        system.send(impl.functions.initialize(
            system.operator.address, system.regulator.address, 1, [one_bank()]), system.operator)


# ---------------------------------------------------------------------------------------------- governance


def test_propose(system: Any, reverts: Any) -> None:
    c = system.consortium
    data = data_of(c, "setThreshold", 3)
    receipt = system.send(c.functions.propose(c.address, data, "raise M to 3"), system.operator)
    assert [dict(e) for e in events(c, "ProposalCreated", receipt)] == [{
        "proposalId": 1, "proposer": system.operator.address, "target": c.address, "data": data,
        "description": "raise M to 3"}]
    assert c.functions.proposal(1).call() == (system.operator.address, c.address, data, "raise M to 3", PENDING, 0)
    assert c.functions.proposalCount().call() == 1
    assert propose(system, c, "setThreshold", 1) == 2
    with reverts("NotNetworkOperator", caller=system.banks["A"].operators[0].address):
        system.send(c.functions.propose(c.address, data, ""), system.banks["A"].operators[0])
    with reverts("ZeroAddress"):
        system.send(c.functions.propose(ZERO, data, ""), system.operator)
    with reverts("UnknownProposal", proposalId=3):
        c.functions.proposal(3).call()


def test_approve(system: Any, reverts: Any) -> None:
    c = system.consortium
    pid = propose(system, c, "setThreshold", 3)
    op_a1, op_a2 = system.banks["A"].operators
    receipt = system.send(c.functions.approve(pid), op_a1)
    assert [dict(e) for e in events(c, "ProposalApproved", receipt)] == [
        {"proposalId": pid, "bankId": system.banks["A"].id, "operator": op_a1.address}]
    assert c.functions.hasApproved(pid, system.banks["A"].id).call() is True
    assert c.functions.hasApproved(pid, system.banks["B"].id).call() is False
    assert c.functions.proposal(pid).call()[5] == 1
    # one approval per bank, whichever of its operators signs
    with reverts("AlreadyApproved", proposalId=pid, bankId=system.banks["A"].id):
        system.send(c.functions.approve(pid), op_a2)
    with reverts("NotBankOperator", caller=system.accounts[0].address):
        system.send(c.functions.approve(pid), system.accounts[0])
    with reverts("NotBankOperator", caller=system.operator.address):
        system.send(c.functions.approve(pid), system.operator)
    with reverts("UnknownProposal", proposalId=99):
        system.send(c.functions.approve(99), op_a1)


def test_execute_needs_threshold_and_anyone_may_execute(system: Any, reverts: Any) -> None:
    c = system.consortium
    pid = propose(system, c, "setThreshold", 3)
    approve(system, pid, "A")
    with reverts("NotEnoughApprovals", proposalId=pid, approvals=1, threshold=2):
        system.send(c.functions.execute(pid), system.accounts[0])
    approve(system, pid, "C")
    outsider = system.accounts[1]
    receipt = system.send(c.functions.execute(pid), outsider)
    assert [dict(e) for e in events(c, "ProposalExecuted", receipt)] == [{"proposalId": pid}]
    assert [dict(e) for e in events(c, "ThresholdSet", receipt)] == [{"threshold": 3}]
    assert c.functions.threshold().call() == 3
    assert c.functions.proposal(pid).call()[4] == EXECUTED
    with reverts("ProposalNotPending", proposalId=pid, status=EXECUTED):
        system.send(c.functions.execute(pid), outsider)
    with reverts("ProposalNotPending", proposalId=pid, status=EXECUTED):
        system.send(c.functions.approve(pid), system.banks["B"].operators[0])
    with reverts("UnknownProposal", proposalId=99):
        system.send(c.functions.execute(99), outsider)


def test_execute_returns_the_call_result(system: Any) -> None:
    c = system.consortium
    pid = propose(system, c, "threshold")
    approve(system, pid, "A", "B")
    assert c.functions.execute(pid).call({"from": system.accounts[0].address}) == abi_encode(["uint256"], [2])


def test_failed_call_reverts_with_its_returndata(system: Any, reverts: Any) -> None:
    govern_fails(system, reverts, "setThreshold", 4, error="InvalidThreshold", threshold=4, activeBanks=3)


def test_cancel(system: Any, reverts: Any) -> None:
    c = system.consortium
    pid = propose(system, c, "setThreshold", 3)
    approve(system, pid, "A", "B")
    with reverts("NotNetworkOperator", caller=system.banks["A"].operators[0].address):
        system.send(c.functions.cancel(pid), system.banks["A"].operators[0])
    receipt = system.send(c.functions.cancel(pid), system.operator)
    assert [dict(e) for e in events(c, "ProposalCancelled", receipt)] == [{"proposalId": pid}]
    assert c.functions.proposal(pid).call()[4] == CANCELLED
    with reverts("ProposalNotPending", proposalId=pid, status=CANCELLED):
        system.send(c.functions.execute(pid), system.accounts[0])
    with reverts("ProposalNotPending", proposalId=pid, status=CANCELLED):
        system.send(c.functions.cancel(pid), system.operator)
    with reverts("UnknownProposal", proposalId=99):
        system.send(c.functions.cancel(99), system.operator)
    assert c.functions.threshold().call() == 2


def test_suspended_banks_approval_is_not_counted(system: Any, reverts: Any) -> None:
    c = system.consortium
    pid = propose(system, c, "setThreshold", 1)
    approve(system, pid, "A", "B")
    assert c.functions.proposal(pid).call()[5] == 2
    govern(system, "suspendBank", system.banks["B"].id, approvers=("A", "C"))
    assert c.functions.hasApproved(pid, system.banks["B"].id).call() is True
    assert c.functions.proposal(pid).call()[5] == 1
    with reverts("NotEnoughApprovals", proposalId=pid, approvals=1, threshold=2):
        system.send(c.functions.execute(pid), system.accounts[0])
    # a suspended bank cannot approve either
    with reverts("BankNotActive", bankId=system.banks["B"].id, status=SUSPENDED):
        system.send(c.functions.approve(pid), system.banks["B"].operators[1])
    approve(system, pid, "C")
    system.send(c.functions.execute(pid), system.accounts[0])
    assert c.functions.threshold().call() == 1


GOVERNANCE_ONLY = [
    ("addBank", lambda s: [bid("D"), "Bank D", [], []]),
    ("suspendBank", lambda s: [s.banks["A"].id]),
    ("reactivateBank", lambda s: [s.banks["A"].id]),
    ("removeBank", lambda s: [s.banks["A"].id]),
    ("addOperator", lambda s: [s.banks["A"].id, s.accounts[0].address]),
    ("removeOperator", lambda s: [s.banks["A"].id, s.banks["A"].operators[0].address]),
    ("addEnode", lambda s: [s.banks["A"].id, ENODE_D]),
    ("removeEnode", lambda s: [s.banks["A"].id, ENODE_OF["A"]]),
    ("setThreshold", lambda s: [1]),
    ("setNetworkOperator", lambda s: [s.accounts[0].address]),
    ("setRegulator", lambda s: [s.accounts[0].address]),
    ("upgradeToAndCall", lambda s: [s.deployment.implementations["Consortium"], b""]),
]


@pytest.mark.parametrize(("fn", "args"), GOVERNANCE_ONLY, ids=[g[0] for g in GOVERNANCE_ONLY])
def test_governance_only_functions_refuse_direct_calls(system: Any, reverts: Any, fn: str, args: Any) -> None:
    for sender in (system.operator, system.banks["A"].operators[0], system.regulator):
        with reverts("NotGovernance", caller=sender.address):
            system.send(system.consortium.functions[fn](*args(system)), sender)


# ---------------------------------------------------------------------------------------------- membership


def test_add_bank(system: Any, reverts: Any) -> None:
    c = system.consortium
    op_d = system.accounts[2]
    receipt = govern(system, "addBank", bid("BANKD"), "Bank D", [op_d.address], [ENODE_D])
    assert [dict(e) for e in events(c, "BankAdded", receipt)] == [{"bankId": bid("BANKD"), "name": "Bank D"}]
    assert [dict(e) for e in events(c, "OperatorAdded", receipt)] == [
        {"bankId": bid("BANKD"), "operator": op_d.address}]
    assert [dict(e) for e in events(c, "EnodeAdded", receipt)] == [{"bankId": bid("BANKD"), "enodeId": ENODE_D}]
    assert c.functions.bank(bid("BANKD")).call() == (bid("BANKD"), "Bank D", ACTIVE, 0, 0, [op_d.address], [ENODE_D])
    assert c.functions.activeBankCount().call() == 4
    assert c.functions.bankIds().call()[-1] == bid("BANKD")
    assert c.functions.transactionAllowed(op_d.address, ZERO, 0, 0, 0, b"").call() is True
    assert c.functions.connectionAllowed(NODE_D, "10.0.0.4", 30303).call() is True
    # the new bank's operator can approve proposals
    pid = propose(system, c, "setThreshold", 3)
    system.send(c.functions.approve(pid), op_d)
    assert c.functions.hasApproved(pid, bid("BANKD")).call() is True


def test_add_bank_errors(system: Any, reverts: Any) -> None:
    a = system.banks["A"]
    govern_fails(system, reverts, "addBank", a.id, "again", [], [], error="BankAlreadyExists", bankId=a.id)
    govern_fails(system, reverts, "addBank", ZERO_ID, "zero", [], [], error="InvalidBankId", bankId=ZERO_ID)
    govern_fails(system, reverts, "addBank", bid("D"), "D", [a.operators[0].address], [],
                 error="OperatorAlreadyAssigned", operator=a.operators[0].address, bankId=a.id)
    govern_fails(system, reverts, "addBank", bid("D"), "D", [ZERO], [], error="ZeroAddress")
    govern_fails(system, reverts, "addBank", bid("D"), "D", [], [ENODE_OF["A"].upper().replace("ENODE", "enode")],
                 error="EnodeAlreadyRegistered", bankId=a.id)
    govern_fails(system, reverts, "addBank", bid("D"), "D", [], ["enode://xyz"],
                 error="InvalidEnode", enodeId="enode://xyz")


def test_suspend_and_reactivate_bank(system: Any, reverts: Any) -> None:
    c = system.consortium
    b = system.banks["B"]
    op = b.operators[0]
    receipt = govern(system, "suspendBank", b.id)
    assert [dict(e) for e in events(c, "BankStatusChanged", receipt)] == [{"bankId": b.id, "status": SUSPENDED}]
    assert c.functions.bankStatus(b.id).call() == SUSPENDED
    assert c.functions.activeBankCount().call() == 2
    assert c.functions.bankOfOperator(op.address).call() == b.id  # still assigned, whatever the status
    assert c.functions.isActiveOperator(b.id, op.address).call() is False
    with reverts("BankNotActive", bankId=b.id, status=SUSPENDED):
        c.functions.requireActiveOperator(op.address).call()
    with reverts("NotBankOperator", caller=system.accounts[0].address):
        c.functions.requireActiveOperator(system.accounts[0].address).call()
    assert c.functions.transactionAllowed(op.address, ZERO, 0, 0, 0, b"").call() is False
    assert c.functions.connectionAllowed(ENODE_OF["B"], "10.0.0.2", 30303).call() is False
    govern_fails(system, reverts, "suspendBank", b.id, error="BankNotActive", bankId=b.id, status=SUSPENDED)
    # operators and enodes of a suspended bank can still be managed (e.g. rotate a compromised key)
    govern(system, "addOperator", b.id, system.accounts[3].address, approvers=("A", "C"))
    assert c.functions.bank(b.id).call()[5] == [*addrs(b.operators), system.accounts[3].address]

    receipt = govern(system, "reactivateBank", b.id, approvers=("A", "C"))
    assert [dict(e) for e in events(c, "BankStatusChanged", receipt)] == [{"bankId": b.id, "status": ACTIVE}]
    assert c.functions.activeBankCount().call() == 3
    assert c.functions.isActiveOperator(b.id, op.address).call() is True
    assert c.functions.transactionAllowed(op.address, ZERO, 0, 0, 0, b"").call() is True
    govern_fails(system, reverts, "reactivateBank", b.id, error="BankNotSuspended", bankId=b.id, status=ACTIVE)
    govern_fails(system, reverts, "suspendBank", bid("NOPE"), error="UnknownBank", bankId=bid("NOPE"))
    govern_fails(system, reverts, "reactivateBank", bid("NOPE"), error="UnknownBank", bankId=bid("NOPE"))


def test_suspension_refused_when_threshold_would_be_unreachable(system: Any, reverts: Any) -> None:
    govern(system, "suspendBank", system.banks["C"].id)
    # threshold 2 with A and B active: suspending or removing either would leave 1 < 2
    govern_fails(system, reverts, "suspendBank", system.banks["B"].id,
                 error="InvalidThreshold", threshold=2, activeBanks=1)
    govern_fails(system, reverts, "removeBank", system.banks["B"].id,
                 error="InvalidThreshold", threshold=2, activeBanks=1)
    # lowering the threshold first makes it possible
    govern(system, "setThreshold", 1)
    govern(system, "suspendBank", system.banks["B"].id, approvers=("A",))
    assert system.consortium.functions.activeBankCount().call() == 1


def test_remove_bank(system: Any, reverts: Any) -> None:
    c = system.consortium
    b, cc = system.banks["B"], system.banks["C"]
    receipt = govern(system, "removeBank", b.id)
    assert [dict(e) for e in events(c, "BankStatusChanged", receipt)] == [{"bankId": b.id, "status": REMOVED}]
    assert c.functions.activeBankCount().call() == 2
    assert c.functions.bank(b.id).call()[2] == REMOVED
    assert c.functions.bankOfOperator(b.operators[0].address).call() == b.id
    assert c.functions.transactionAllowed(b.operators[0].address, ZERO, 0, 0, 0, b"").call() is False
    # a removed bank is final
    govern_fails(system, reverts, "removeBank", b.id, error="BankIsRemoved", bankId=b.id)
    govern_fails(system, reverts, "reactivateBank", b.id, error="BankNotSuspended", bankId=b.id, status=REMOVED)
    govern_fails(system, reverts, "suspendBank", b.id, error="BankNotActive", bankId=b.id, status=REMOVED)
    govern_fails(system, reverts, "addOperator", b.id, system.accounts[3].address, error="BankIsRemoved", bankId=b.id)
    govern_fails(system, reverts, "addEnode", b.id, ENODE_D, error="BankIsRemoved", bankId=b.id)
    govern_fails(system, reverts, "addBank", b.id, "B again", [], [], error="BankAlreadyExists", bankId=b.id)
    govern_fails(system, reverts, "removeBank", bid("NOPE"), error="UnknownBank", bankId=bid("NOPE"))
    # removing a suspended bank does not change the active count again
    govern(system, "setThreshold", 1)
    govern(system, "suspendBank", cc.id, approvers=("A",))
    assert c.functions.activeBankCount().call() == 1
    govern(system, "removeBank", cc.id, approvers=("A",))
    assert c.functions.activeBankCount().call() == 1
    assert c.functions.bankStatus(cc.id).call() == REMOVED


def test_add_and_remove_operators(system: Any, reverts: Any) -> None:
    c = system.consortium
    a = system.banks["A"]
    new_op = system.accounts[2]
    receipt = govern(system, "addOperator", a.id, new_op.address)
    assert [dict(e) for e in events(c, "OperatorAdded", receipt)] == [{"bankId": a.id, "operator": new_op.address}]
    assert c.functions.bank(a.id).call()[5] == [*addrs(a.operators), new_op.address]
    assert c.functions.isActiveOperator(a.id, new_op.address).call() is True
    # the new key can approve for bank A
    pid = propose(system, c, "setThreshold", 3)
    system.send(c.functions.approve(pid), new_op)
    assert c.functions.hasApproved(pid, a.id).call() is True

    # remove the first operator: the last one moves into its place
    receipt = govern(system, "removeOperator", a.id, a.operators[0].address)
    assert [dict(e) for e in events(c, "OperatorRemoved", receipt)] == [
        {"bankId": a.id, "operator": a.operators[0].address}]
    assert c.functions.bank(a.id).call()[5] == [new_op.address, a.operators[1].address]
    assert c.functions.bankOfOperator(a.operators[0].address).call() == ZERO_ID
    assert c.functions.transactionAllowed(a.operators[0].address, ZERO, 0, 0, 0, b"").call() is False
    # the moved entry is still removable (its position was updated)
    govern(system, "removeOperator", a.id, new_op.address)
    assert c.functions.bank(a.id).call()[5] == [a.operators[1].address]
    # a freed address may join another bank
    govern(system, "addOperator", system.banks["C"].id, a.operators[0].address)
    assert c.functions.bankOfOperator(a.operators[0].address).call() == system.banks["C"].id

    b_op = system.banks["B"].operators[0].address
    govern_fails(system, reverts, "addOperator", a.id, b_op, error="OperatorAlreadyAssigned",
                 operator=b_op, bankId=system.banks["B"].id)
    govern_fails(system, reverts, "addOperator", a.id, ZERO, error="ZeroAddress")
    govern_fails(system, reverts, "addOperator", bid("NOPE"), system.accounts[4].address,
                 error="UnknownBank", bankId=bid("NOPE"))
    govern_fails(system, reverts, "removeOperator", a.id, system.accounts[4].address,
                 error="UnknownOperator", operator=system.accounts[4].address)
    govern_fails(system, reverts, "removeOperator", a.id, b_op, error="NotOperatorOfBank",
                 operator=b_op, bankId=a.id)
    govern_fails(system, reverts, "removeOperator", bid("NOPE"), b_op, error="UnknownBank", bankId=bid("NOPE"))


def test_add_and_remove_enodes(system: Any, reverts: Any) -> None:
    c = system.consortium
    a = system.banks["A"]
    url = "enode://" + NODE_D.upper() + "@10.0.0.9:30303?discport=30301"
    receipt = govern(system, "addEnode", a.id, url)
    assert [dict(e) for e in events(c, "EnodeAdded", receipt)] == [{"bankId": a.id, "enodeId": url}]
    assert c.functions.bank(a.id).call()[6] == [ENODE_OF["A"], url]  # stored as registered
    for form in (NODE_D, NODE_D.upper(), ENODE_D, "ENODE://" + NODE_D + "@1.2.3.4:1"):
        assert c.functions.connectionAllowed(form, "10.0.0.9", 30303).call() is True
        assert c.functions.bankOfEnode(form).call() == a.id
    # same node id in another spelling, to another bank
    govern_fails(system, reverts, "addEnode", system.banks["B"].id, NODE_D, error="EnodeAlreadyRegistered",
                 enodeId=NODE_D, bankId=a.id)
    govern_fails(system, reverts, "addEnode", a.id, "enode://" + "a" * 127, error="InvalidEnode",
                 enodeId="enode://" + "a" * 127)
    govern_fails(system, reverts, "addEnode", bid("NOPE"), "e" * 128, error="UnknownBank", bankId=bid("NOPE"))

    # remove the first enode by its bare id; the URL moves into its place and stays removable
    receipt = govern(system, "removeEnode", a.id, "A" * 128)
    assert [dict(e) for e in events(c, "EnodeRemoved", receipt)] == [{"bankId": a.id, "enodeId": ENODE_OF["A"]}]
    assert c.functions.bank(a.id).call()[6] == [url]
    assert c.functions.connectionAllowed(ENODE_OF["A"], "10.0.0.1", 30303).call() is False
    receipt = govern(system, "removeEnode", a.id, ENODE_D)
    assert [dict(e) for e in events(c, "EnodeRemoved", receipt)] == [{"bankId": a.id, "enodeId": url}]
    assert c.functions.bank(a.id).call()[6] == []
    assert c.functions.bankOfEnode(NODE_D).call() == ZERO_ID

    govern_fails(system, reverts, "removeEnode", a.id, ENODE_OF["B"], error="UnknownEnode",
                 bankId=a.id, enodeId=ENODE_OF["B"])
    govern_fails(system, reverts, "removeEnode", a.id, "nope", error="InvalidEnode", enodeId="nope")
    govern_fails(system, reverts, "removeEnode", bid("NOPE"), ENODE_D, error="UnknownBank", bankId=bid("NOPE"))


def test_set_threshold(system: Any, reverts: Any) -> None:
    receipt = govern(system, "setThreshold", 3)
    assert [dict(e) for e in events(system.consortium, "ThresholdSet", receipt)] == [{"threshold": 3}]
    assert system.consortium.functions.threshold().call() == 3
    pid = propose(system, system.consortium, "setThreshold", 1)
    approve(system, pid, "A", "B")
    with reverts("NotEnoughApprovals", proposalId=pid, approvals=2, threshold=3):
        system.send(system.consortium.functions.execute(pid), system.accounts[0])
    approve(system, pid, "C")
    system.send(system.consortium.functions.execute(pid), system.accounts[0])
    assert system.consortium.functions.threshold().call() == 1
    govern_fails(system, reverts, "setThreshold", 0, error="InvalidThreshold", threshold=0, activeBanks=3)


def test_change_network_operator_and_regulator(system: Any, reverts: Any) -> None:
    c = system.consortium
    new_op, new_reg = system.accounts[2], system.accounts[3]
    receipt = govern(system, "setRegulator", new_reg.address)
    assert [dict(e) for e in events(c, "RegulatorChanged", receipt)] == [
        {"previous": system.regulator.address, "current": new_reg.address}]
    assert c.functions.regulator().call() == new_reg.address
    assert c.functions.transactionAllowed(new_reg.address, ZERO, 0, 0, 0, b"").call() is True
    assert c.functions.transactionAllowed(system.regulator.address, ZERO, 0, 0, 0, b"").call() is False
    govern_fails(system, reverts, "setRegulator", ZERO, error="ZeroAddress")
    govern_fails(system, reverts, "setNetworkOperator", ZERO, error="ZeroAddress")

    receipt = govern(system, "setNetworkOperator", new_op.address)
    assert [dict(e) for e in events(c, "NetworkOperatorChanged", receipt)] == [
        {"previous": system.operator.address, "current": new_op.address}]
    assert c.functions.networkOperator().call() == new_op.address
    with reverts("NotNetworkOperator", caller=system.operator.address):
        system.send(c.functions.propose(c.address, b"", ""), system.operator)
    system.send(c.functions.propose(c.address, data_of(c, "threshold"), "by the new operator"), new_op)


# ---------------------------------------------------------------------------------------------- quotas


def test_set_quota(system: Any, reverts: Any) -> None:
    c = system.consortium
    a = system.banks["A"]
    receipt = system.send(c.functions.setQuota(a.id, 123_456), system.operator)
    assert [dict(e) for e in events(c, "QuotaSet", receipt)] == [{"bankId": a.id, "quota": 123_456}]
    assert c.functions.quota(a.id).call() == 123_456
    with reverts("NotNetworkOperator", caller=a.operators[0].address):
        system.send(c.functions.setQuota(a.id, 1), a.operators[0])
    with reverts("UnknownBank", bankId=bid("NOPE")):
        system.send(c.functions.setQuota(bid("NOPE"), 1), system.operator)


def test_set_issuer(system: Any, reverts: Any) -> None:
    c = system.consortium
    with reverts("IssuerAlreadySet", issuer=system.token.address):
        system.send(c.functions.setIssuer(system.accounts[0].address), system.operator)
    with reverts("NotNetworkOperator", caller=system.regulator.address):
        system.send(c.functions.setIssuer(system.accounts[0].address), system.regulator)
    fresh = fresh_consortium(system, 1, [one_bank()])
    assert fresh.functions.issuer().call() == ZERO
    with reverts("ZeroAddress"):
        system.send(fresh.functions.setIssuer(ZERO), system.operator)
    receipt = system.send(fresh.functions.setIssuer(system.accounts[0].address), system.operator)
    assert [dict(e) for e in events(fresh, "IssuerSet", receipt)] == [{"issuer": system.accounts[0].address}]
    assert fresh.functions.issuer().call() == system.accounts[0].address


def test_record_issuance(system: Any, reverts: Any) -> None:
    """On a separate Consortium whose issuer is a plain account, so amounts are driven directly."""
    op_x, op_y = system.accounts[2], system.accounts[3]
    fresh = fresh_consortium(system, 1, [(bid("X"), "Bank X", [op_x.address], [], 1_000),
                                         (bid("Y"), "Bank Y", [op_y.address], [], 0)])
    issuer = system.accounts[0]
    system.send(fresh.functions.setIssuer(issuer.address), system.operator)
    x = bid("X")

    receipt = system.send(fresh.functions.recordIssuance(x, 600), issuer)
    assert [dict(e) for e in events(fresh, "IssuanceRecorded", receipt)] == [
        {"bankId": x, "delta": 600, "netIssued": 600}]
    system.send(fresh.functions.recordIssuance(x, 400), issuer)  # exactly at quota
    assert fresh.functions.netIssued(x).call() == 1_000
    with reverts("QuotaExceeded", bankId=x, quota=1_000, netIssued=1_000, amount=1):
        system.send(fresh.functions.recordIssuance(x, 1), issuer)
    # burns always pass and may take netIssued negative (the operator owes the bank reserves)
    receipt = system.send(fresh.functions.recordIssuance(x, -1_250), issuer)
    assert [dict(e) for e in events(fresh, "IssuanceRecorded", receipt)] == [
        {"bankId": x, "delta": -1_250, "netIssued": -250}]
    assert fresh.functions.netIssued(x).call() == -250
    # with netIssued at -250 the bank may issue up to quota + 250 in one go
    with reverts("QuotaExceeded", bankId=x, quota=1_000, netIssued=-250, amount=1_251):
        system.send(fresh.functions.recordIssuance(x, 1_251), issuer)
    system.send(fresh.functions.recordIssuance(x, 1_250), issuer)
    assert fresh.functions.netIssued(x).call() == 1_000

    with reverts("NotIssuer", caller=op_x.address):
        system.send(fresh.functions.recordIssuance(x, 1), op_x)
    with reverts("UnknownBank", bankId=bid("NOPE")):
        system.send(fresh.functions.recordIssuance(bid("NOPE"), -1), issuer)
    with reverts("QuotaExceeded", bankId=bid("Y"), quota=0, netIssued=0, amount=5):
        system.send(fresh.functions.recordIssuance(bid("Y"), 5), issuer)

    # a suspended bank cannot issue, but its wallets can still be redeemed
    pid = propose(system, fresh, "suspendBank", x, consortium=fresh)
    system.send(fresh.functions.approve(pid), op_y)
    system.send(fresh.functions.execute(pid), issuer)
    with reverts("BankNotActive", bankId=x, status=SUSPENDED):
        system.send(fresh.functions.recordIssuance(x, 1), issuer)
    system.send(fresh.functions.recordIssuance(x, -300), issuer)
    assert fresh.functions.netIssued(x).call() == 700


def test_system_token_is_the_issuer(system: Any, reverts: Any) -> None:
    with reverts("NotIssuer", caller=system.operator.address):
        system.send(system.consortium.functions.recordIssuance(system.banks["A"].id, 1), system.operator)


# ---------------------------------------------------------------------------------------------- permissioning


def test_transaction_allowed(system: Any) -> None:
    c = system.consortium
    allowed = [system.operator, system.regulator, *(op for b in system.banks.values() for op in b.operators)]
    for account in allowed:
        assert c.functions.transactionAllowed(account.address, c.address, 1, 2, 3, b"\x01").call() is True
    for account in (system.accounts[0], Account.create()):
        assert c.functions.transactionAllowed(account.address, c.address, 0, 0, 0, b"").call() is False
    assert c.functions.transactionAllowed(ZERO, c.address, 0, 0, 0, b"").call() is False


def test_connection_allowed(system: Any) -> None:
    c = system.consortium
    hex_a = "a" * 128
    for form in (ENODE_OF["A"], hex_a, hex_a.upper(), f"enode://{hex_a}@127.0.0.1:30303", "Enode://" + hex_a):
        assert c.functions.connectionAllowed(form, "127.0.0.1", 30303).call() is True, form
    # unknown node ids and malformed strings are refused, never reverted on
    for form in ("e" * 128, "enode://" + "e" * 128, "", "enode://", hex_a[:-1], hex_a + "a", "0x" + hex_a[2:],
                 "enode://" + "g" + hex_a[1:], "@" + hex_a):
        assert c.functions.connectionAllowed(form, "127.0.0.1", 30303).call() is False, form


def test_active_membership(system: Any) -> None:
    c = system.consortium
    ops = {k: addrs(b.operators) for k, b in system.banks.items()}
    accounts, enodes = c.functions.activeMembership().call()
    assert accounts == [*ops["A"], *ops["B"], *ops["C"], system.operator.address, system.regulator.address]
    assert enodes == [ENODE_OF["A"], ENODE_OF["B"], ENODE_OF["C"]]
    govern(system, "suspendBank", system.banks["B"].id)
    accounts, enodes = c.functions.activeMembership().call()
    assert accounts == [*ops["A"], *ops["C"], system.operator.address, system.regulator.address]
    assert enodes == [ENODE_OF["A"], ENODE_OF["C"]]
    govern(system, "addBank", bid("BANKD"), "Bank D", [system.accounts[2].address], [ENODE_D], approvers=("A", "C"))
    accounts, enodes = c.functions.activeMembership().call()
    assert accounts == [*ops["A"], *ops["C"], system.accounts[2].address, system.operator.address,
                        system.regulator.address]
    assert enodes == [ENODE_OF["A"], ENODE_OF["C"], ENODE_D]


# ---------------------------------------------------------------------------------------------- views


def test_view_errors(system: Any, reverts: Any) -> None:
    c = system.consortium
    with reverts("UnknownBank", bankId=bid("NOPE")):
        c.functions.bank(bid("NOPE")).call()
    with reverts("UnknownProposal", proposalId=0):
        c.functions.proposal(0).call()
    assert c.functions.hasApproved(0, system.banks["A"].id).call() is False
    assert c.functions.bankOfEnode("garbage").call() == ZERO_ID


# ---------------------------------------------------------------------------------------------- upgrade


def test_upgrade_through_a_proposal(system: Any, reverts: Any) -> None:
    w3: Web3 = system.w3
    c = system.consortium
    artifact = load_artifact("ConsortiumV2", test=True)
    new_impl = deploy_bytecode(w3, system.operator, artifact["abi"], artifact["bytecode"])
    govern(system, "addOperator", system.banks["C"].id, system.accounts[2].address)
    before = {code: c.functions.bank(b.id).call() for code, b in system.banks.items()}
    membership = c.functions.activeMembership().call()

    with reverts("NotGovernance", caller=system.operator.address):
        system.send(c.functions.upgradeToAndCall(new_impl, b""), system.operator)
    receipt = govern(system, "upgradeToAndCall", new_impl, b"")
    upgraded = [e["args"]["implementation"] for e in
                w3.eth.contract(address=c.address, abi=load_artifact("ERC1967Proxy")["abi"])
                .events.Upgraded().process_receipt(receipt, errors=DISCARD)]
    assert upgraded == [new_impl]
    slot = w3.eth.get_storage_at(c.address, IMPLEMENTATION_SLOT)
    assert Web3.to_checksum_address(slot[-20:]) == new_impl

    v2 = w3.eth.contract(address=c.address, abi=artifact["abi"])
    assert v2.functions.version().call() == "2"
    assert {code: v2.functions.bank(b.id).call() for code, b in system.banks.items()} == before
    assert v2.functions.activeMembership().call() == membership
    assert v2.functions.threshold().call() == 2
    assert v2.functions.issuer().call() == system.token.address
    assert v2.functions.proposalCount().call() == 2
    # governance still works after the upgrade
    govern(system, "setThreshold", 3, consortium=v2)
    assert v2.functions.threshold().call() == 3
