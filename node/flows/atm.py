"""ATM cash: device registry and authentication, cash-in (mint) and two-phase cash-out (hold, capture)."""
