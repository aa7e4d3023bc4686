"""Bank accounts (built-in ledger), account binding, top-ups and redemptions."""
