"""fast_call gives what web3's ContractFunction.call gives (values, their types, reverts), for every view function
of the four contracts, and hands web3 whatever it does not handle itself."""

from __future__ import annotations

from typing import Any

import pytest
from web3 import Web3
from web3.contract.contract import ContractFunction
from web3.exceptions import BadFunctionCallOutput, ContractLogicError
from web3.middleware.base import Web3Middleware

from wallet_sdk._abi_words import abi_type
from wallet_sdk.chain.calls import fast_call
from wallet_sdk.chain.network import Network
from wallet_sdk.exceptions import ContractRevertError

CONTRACTS = ("consortium", "registry", "token", "settlement")


def sample(typ: str, system: Any, wallet: str) -> Any:
    """A plausible argument of ABI type ``typ`` on the test network (a real wallet, bank id, small number)."""
    if typ == "address":
        return wallet
    if typ == "bytes32":
        return system.banks["A"].id
    if typ.startswith(("uint", "int")):
        return 1
    if typ == "bool":
        return True
    if typ == "bytes":
        return b"\x01"
    if typ == "string":
        return "x"
    raise AssertionError(f"no sample for {typ}")


def outcome(run: Any) -> Any:
    try:
        value = run()
    except (ContractLogicError, BadFunctionCallOutput) as exc:
        return ("error", type(exc).__name__, str(exc), getattr(exc, "data", None))
    return ("ok", value, shape(value))


def shape(value: Any) -> Any:
    """The value's types, all the way down (a list and a tuple of the same items are not the same answer)."""
    if isinstance(value, list | tuple):
        return (type(value).__name__, [shape(v) for v in value])
    return type(value).__name__


def view_calls(system: Any, wallet: str) -> list[tuple[str, ContractFunction]]:
    calls = []
    for attribute in CONTRACTS:
        contract = getattr(system, attribute)
        for item in contract.abi:
            if item.get("type") != "function" or item.get("stateMutability") not in ("view", "pure"):
                continue
            args = [sample(abi_type(i), system, wallet) for i in item["inputs"]]
            signature = f"{item['name']}({','.join(abi_type(i) for i in item['inputs'])})"
            calls.append((f"{attribute}.{signature}", contract.get_function_by_signature(signature)(*args)))
    return calls


def test_every_view_function_answers_as_web3_answers(system: Any) -> None:
    operator = system.banks["A"].operators[0]
    wallet = system.new_wallet().address
    system.send(system.registry.functions.openWallet(wallet, system.banks["A"].id, 1, 0, bytes(32)), operator)
    calls = view_calls(system, wallet)
    assert len(calls) > 30
    kinds: set[str] = set()
    for name, call in calls:
        expected = outcome(lambda c=call: c.call())
        assert outcome(lambda c=call: fast_call(c)) == expected, name
        kinds.add(expected[0])
        if expected[0] == "ok":
            kinds |= {abi_type(dict(o)) for o in call.abi["outputs"]}
    # the comparison covered answers of every kind: structs, addresses, ids, numbers, flags, and reverts
    assert {"ok", "error", "address", "bytes32", "uint256", "bool"} <= kinds
    assert any(k.startswith("(") for k in kinds)


def test_a_revert_raises_the_same_error_and_the_network_decodes_it(system: Any) -> None:
    stranger = system.new_wallet().address
    mint = system.token.functions.mint(stranger, 5, bytes(32)).call  # not a bank operator: reverts
    minting = system.token.functions.mint(stranger, 5, bytes(32))
    with pytest.raises(ContractLogicError) as slow:
        mint()
    with pytest.raises(ContractLogicError) as fast:
        fast_call(minting)
    assert (type(fast.value), str(fast.value), fast.value.data) == (type(slow.value), str(slow.value),
                                                                    slow.value.data)
    network = Network.from_web3(system.w3, system.deployment)
    with pytest.raises(ContractRevertError) as decoded:
        network._call(minting)
    assert decoded.value.name  # a named custom error of the contract


def test_what_it_does_not_handle_goes_to_web3(system: Any) -> None:
    nobody = system.new_wallet().address
    balance = system.token.functions.balanceOf(nobody)
    block = system.w3.eth.get_block("latest")
    assert fast_call(balance, block["hash"]) == balance.call(block_identifier=block["hash"]) == 0  # by hash
    empty = system.w3.eth.contract(address=nobody, abi=system.token.abi).functions.balanceOf(nobody)
    with pytest.raises(BadFunctionCallOutput):  # no code at that address: web3's own error
        fast_call(empty)

    wider = [{"type": "function", "name": "totalSupply", "stateMutability": "view", "inputs": [],
              "outputs": [{"name": "", "type": "uint256"}] * 3}]  # the token answers one word, not three
    misread = system.w3.eth.contract(address=system.token.address, abi=wider).functions.totalSupply()
    with pytest.raises(BadFunctionCallOutput):  # undecodable return data: web3's own error
        fast_call(misread)

    seen: list[str] = []

    class Watching(Web3Middleware):  # a middleware of the caller's own: it must still see every request
        def wrap_make_request(self, make_request: Any) -> Any:
            def watched(method: str, params: Any) -> Any:
                seen.append(method)
                return make_request(method, params)
            return watched

    watched = Web3(Web3.HTTPProvider(system.w3.provider.endpoint_uri))
    watched.middleware_onion.add(Watching, "watching")
    token = watched.eth.contract(address=system.token.address, abi=system.token.abi)
    assert fast_call(token.functions.balanceOf(nobody)) == 0
    assert "eth_call" in seen


def test_a_web3_without_the_internals_it_uses_gets_web3s_own_path(system: Any,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("wallet_sdk.chain.calls.WEB3_INTERNALS", False)
    slow: list[str] = []
    original = ContractFunction.call

    def watched(self: ContractFunction, *args: Any, **kwargs: Any) -> Any:
        slow.append(self.abi_element_identifier)  # type: ignore[arg-type]
        return original(self, *args, **kwargs)

    monkeypatch.setattr(ContractFunction, "call", watched)
    assert fast_call(system.token.functions.totalSupply()) == system.token.functions.totalSupply().call()
    assert slow == ["totalSupply()", "totalSupply()"]
    monkeypatch.setattr("wallet_sdk.chain.calls.WEB3_INTERNALS", True)
    fast_call(system.token.functions.totalSupply())
    assert len(slow) == 2  # with the internals, web3's call path is not taken
