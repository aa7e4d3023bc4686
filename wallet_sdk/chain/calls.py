"""Contract reads as one raw ``eth_call`` each: what web3's ``ContractFunction.call`` returns, in a third of the time.

web3.py's call path (request formatters, middlewares, result formatters, return normalizers) cost about 3 ms of
Python per read on this project's machines, against about 1 ms for the request itself, and an API request makes
several reads. :func:`fast_call` keeps web3 where it decides something: the call data is web3's own encoding of
the arguments, the request goes through the same provider (its session, timeouts and request cache), a revert
raises web3's ``ContractLogicError`` through web3's own check of the answer, and the result gets web3's address
normalisation. It skips only what does nothing for a plain read, and falls back to web3's path for anything else:
a connection with middlewares of its own, a default ``from`` account, a block given by hash, an answer web3
would refuse (empty or undecodable return data), or an installed web3 whose internals used here have moved.
"""

from __future__ import annotations

from typing import Any, Final

from eth_abi.abi import decode as abi_decode
from eth_abi.exceptions import DecodingError
from web3 import Web3
from web3.contract.contract import ContractFunction
from web3.types import BlockIdentifier

from wallet_sdk._abi_words import abi_type
from wallet_sdk._sender import calldata
from wallet_sdk.chain.rpc import raw_request

try:  # web3's internals, used as web3 uses them; a web3 that moved them gets its own (slower) path
    from web3._utils.abi import map_abi_data
    from web3._utils.error_formatters_utils import raise_contract_logic_error_on_revert
    from web3._utils.normalizers import BASE_RETURN_NORMALIZERS
    WEB3_INTERNALS = True
except ImportError:  # pragma: no cover - depends on the installed web3
    WEB3_INTERNALS = False

__all__ = ["WEB3_INTERNALS", "fast_call"]

_BLOCK_TAGS: Final = frozenset({"latest", "pending", "safe", "finalized", "earliest"})
_WEB3_MIDDLEWARES: Final = frozenset({"gas_price_strategy", "ens_name_to_address", "attrdict", "validation",
                                      "gas_estimate"})
"""web3's default middlewares: none of them changes an eth_call of a contract read."""


def _plain_connection(w3: Web3) -> bool:
    names = {name for _, name in w3.middleware_onion.middleware}
    return names <= _WEB3_MIDDLEWARES and not w3.eth.default_account


def _block_param(block: BlockIdentifier) -> str | None:
    if isinstance(block, int) and not isinstance(block, bool) and block >= 0:
        return hex(block)
    if isinstance(block, str) and block in _BLOCK_TAGS:
        return block
    return None


def fast_call(call: ContractFunction, block: BlockIdentifier = "latest") -> Any:
    """``call.call(block_identifier=block)``, the same value and the same errors, faster (see the module doc)."""
    w3 = call.w3
    block_param = _block_param(block)
    outputs = call.abi.get("outputs") or []
    if not WEB3_INTERNALS or block_param is None or not outputs or not _plain_connection(w3):
        return call.call(block_identifier=block)
    params = [{"to": call.address, "data": calldata(call)}, block_param]
    answer = raw_request(w3, "eth_call", params, raise_contract_logic_error_on_revert)
    data = bytes.fromhex(answer[2:]) if isinstance(answer, str) else b""
    if not data:  # no code there, or a node's odd answer: let web3 say what it says
        return call.call(block_identifier=block)
    types = [abi_type(dict(o)) for o in outputs]  # structs as "(bytes32,uint8,...)", as web3 decodes them
    try:
        decoded = abi_decode(types, data)
    except DecodingError:  # not what the ABI says: web3 raises its BadFunctionCallOutput for it
        return call.call(block_identifier=block)
    values = map_abi_data(BASE_RETURN_NORMALIZERS, types, decoded)
    return values[0] if len(values) == 1 else values
