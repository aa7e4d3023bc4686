"""The API's routes, one module (and one router) per URL prefix, so the URL names the file:

| prefix | module |
| --- | --- |
| ``/v1/health`` | :mod:`api.routes.health` |
| ``/v1/wallets/*`` (a wallet, its changes, TOTP, top-ups, redemptions, history, balance) | :mod:`api.routes.wallets` |
| ``/v1/accounts/*`` | :mod:`api.routes.accounts` |
| ``/v1/transfers`` | :mod:`api.routes.transfers` |
| ``/v1/atms/*`` | :mod:`api.routes.atms` |
| ``/v1/vault/*`` | :mod:`api.routes.vault` |
| ``/v1/atm/*`` (the ATMs' own signed messages) | :mod:`api.routes.atm` |
| ``/v1/merchants/*`` | :mod:`api.routes.merchants` |
| ``/v1/merchant-payments`` | :mod:`api.routes.merchant_payments` |
| ``/v1/operations/*`` | :mod:`api.routes.operations` |
| ``/v1/api-keys`` | :mod:`api.routes.api_keys` |
| ``/v1/customer-sessions/*`` | :mod:`api.routes.customer_sessions` |

A route parses the request, checks who may ask (its scopes, :mod:`api.customers`), calls the node's service and
shapes the answer with :mod:`api.schemas`; it holds no domain logic of its own. Each is declared with
:mod:`api.routing` (its function's name is its operation id). :mod:`api.app` includes the routers.
"""
