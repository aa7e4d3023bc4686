"""Operations: the status of every money-moving or wallet-changing request (``GET /v1/operations/{id}``)."""
