"""ATM channel: device registry (admin) and the HMAC-authenticated ATM messages (cash-in, cash-out)."""
