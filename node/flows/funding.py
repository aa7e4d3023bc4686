"""Top-up from a deposit account into a wallet, and redemption from a wallet to the bound account."""
