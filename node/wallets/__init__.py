"""node.wallets."""
