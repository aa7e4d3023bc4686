"""P2P transfers, wallet history and balance with limits."""
