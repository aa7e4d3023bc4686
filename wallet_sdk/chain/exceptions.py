"""Errors of the chain bindings (connecting, deployment files, sending). Contract reverts are separate:
they are :class:`~wallet_sdk.errors.ContractRevertError` and its typed subclasses."""

from __future__ import annotations

from wallet_sdk.exceptions import WalletnetError, WrongChainError

__all__ = [
    "ChainError",
    "ContractNotDeployedError",
    "DeploymentFileError",
    "DeploymentMismatchError",
    "InvalidArgumentError",
    "NodeConnectionError",
    "TransactionRejectedError",
    "TransactionTimeoutError",
    "WrongNetworkError",
]


class ChainError(WalletnetError):
    """A problem talking to the chain or with the deployment (not a contract revert)."""


class NodeConnectionError(ChainError, ConnectionError):
    """The JSON-RPC node does not answer."""

    def __init__(self, rpc_url: str, reason: str) -> None:
        self.rpc_url = rpc_url
        self.reason = reason
        super().__init__(f"cannot reach the node at {rpc_url}: {reason}")


class WrongNetworkError(WrongChainError):
    """The node's chain id is not the deployment's: the file belongs to another network.

    A :class:`~wallet_sdk.exceptions.WrongChainError`, so one ``except`` covers payloads and networks.
    """

    def __init__(self, expected: int, actual: int, rpc_url: str = "") -> None:
        self.expected = expected
        self.actual = actual
        self.rpc_url = rpc_url
        where = f"the node at {rpc_url}" if rpc_url else "the node"
        # Skip WrongChainError's message, which speaks of payloads.
        super(WrongChainError, self).__init__(
            f"{where} is chain {actual}, but the deployment is for chain {expected}")


class ContractNotDeployedError(ChainError):
    """No contract code at an address the deployment names (wrong file, or a chain reset since)."""

    def __init__(self, name: str, address: str, chain_id: int) -> None:
        self.contract = name
        self.address = address
        self.chain_id = chain_id
        super().__init__(f"no contract code for {name} at {address} on chain {chain_id}")


class DeploymentMismatchError(ChainError):
    """Code exists at the deployment's addresses, but the contracts are not wired to each other as deployed."""

    def __init__(self, name: str, address: str, reason: str) -> None:
        self.contract = name
        self.address = address
        self.reason = reason
        super().__init__(f"{name} at {address} is not this deployment's: {reason}")


class DeploymentFileError(ChainError, ValueError):
    """The deployment file is missing or malformed."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"bad deployment file {path}: {reason}")


class InvalidArgumentError(ChainError, ValueError):
    """An argument of a chain call is not valid (caught before anything is sent)."""

    def __init__(self, field: str, value: object, reason: str) -> None:
        self.field = field
        self.value = value
        self.reason = reason
        super().__init__(f"invalid {field} {value!r}: {reason}")


class TransactionRejectedError(ChainError):
    """The node refused a signed transaction (insufficient funds for gas, underpriced, nonce trouble...)."""

    def __init__(self, reason: str, nonce: int | None = None) -> None:
        self.reason = reason
        self.nonce = nonce
        at = f" (nonce {nonce})" if nonce is not None else ""
        super().__init__(f"the node rejected the transaction{at}: {reason}")


class TransactionTimeoutError(ChainError, TimeoutError):
    """No receipt within the timeout: the transaction may still be mined later (wait again with its hash)."""

    def __init__(self, tx_hash: str, timeout: float) -> None:
        self.tx_hash = tx_hash
        self.timeout = timeout
        super().__init__(f"transaction {tx_hash} was not mined within {timeout:g}s")
