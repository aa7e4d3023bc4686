"""Request and response bodies, one module per domain (wallets, funding, transfers, atm, merchants, ...), each
with the functions that shape the node's records into its answers; what all of them share is in
:mod:`api.common`. The routes that use them are in :mod:`api.routes`."""
