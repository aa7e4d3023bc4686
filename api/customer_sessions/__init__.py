"""Customer sessions: the bank's login backend mints a short-lived token for one customer (node/api_keys)."""
