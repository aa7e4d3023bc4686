"""walletnet HTTP API: the FastAPI face of one bank node."""
