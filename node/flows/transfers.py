"""P2P transfers: customer-signed RelayedTransfers relayed (in batches) by the payer's bank."""
