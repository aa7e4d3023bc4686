"""Wallet opening (counter, app, bulk), tier changes, freeze/unfreeze, bank-account binding, closure."""
