"""walletnet bank node: toolchain, local network, and (later) the bank's services."""
