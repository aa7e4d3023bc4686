"""Chain bindings: read a deployment through a :class:`~wallet_sdk.chain.network.Network`, send as a role.

Submodules: ``types`` (the contracts' enums and the typed records reads return), ``network``
(:class:`~wallet_sdk.chain.network.Network` and deployment files), ``operators`` (``BankOperator``,
``NetworkOperator``, ``Regulator`` and their results) and ``exceptions``. Everything public is exported
from :mod:`wallet_sdk`; this package itself imports nothing, so its leaf modules (``types``,
``exceptions``) can be used by the SDK's other modules without import cycles.
"""
