"""Chain bindings: read a deployment through a :class:`~wallet_sdk.chain.network.Network`, send as a role.

Submodules, each importing only the ones listed before it: ``types`` (the contracts' enums and the typed
records reads return), ``rpc`` and ``calls`` (raw JSON-RPC requests, fast reads), ``args`` (checks of addresses,
ids and ints), ``encoder`` (the one encoder of contract calls, used by the roles and by the bank node's chain
writer), ``operators`` (``BankOperator``, ``NetworkOperator``, ``Regulator`` and their results: they sign and
send what the encoder builds) and ``network`` (:class:`~wallet_sdk.chain.network.Network`, deployment files, and
the roles' factories). Their errors are in :mod:`wallet_sdk.exceptions`. Everything public is exported from
:mod:`wallet_sdk`; this package itself imports nothing, so its leaf module ``types`` can be used by the SDK's
other modules (the generated :mod:`wallet_sdk.reverts`) without import cycles.
"""
