"""Wallets: reads of a wallet's registry record and balance from the chain."""
