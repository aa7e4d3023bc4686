"""Chain bindings: read a deployment through a :class:`~wallet_sdk.chain.network.Network`, send as a role.

Submodules: ``types`` (the contracts' enums and the typed records reads return), ``network``
(:class:`~wallet_sdk.chain.network.Network` and deployment files) and ``operators`` (``BankOperator``,
``NetworkOperator``, ``Regulator`` and their results); their errors are in :mod:`wallet_sdk.exceptions`.
Everything public is exported from :mod:`wallet_sdk`; this package itself imports nothing, so its leaf
module ``types`` can be used by the SDK's other modules (the generated :mod:`wallet_sdk.reverts`) without
import cycles.
"""
