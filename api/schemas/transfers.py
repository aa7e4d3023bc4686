"""Request bodies of P2P transfers (``/v1/transfers``); the answer is the operation
(:mod:`api.schemas.operations`)."""

from __future__ import annotations

from pydantic import ConfigDict, Field

from api.common import (
    ADDRESS_PATTERN,
    Amount,
    Hex32,
    NodeCurrency,
    RequestModel,
    SignedFormsModel,
    StrictInt,
    qr_text,
)

__all__ = ["RelayedTransferIn", "TransferIn"]


class RelayedTransferIn(RequestModel):
    """A RelayedTransfer signed by the payer's key (EIP-712, the token's domain), as ``relayTransfers`` takes it."""

    model_config = ConfigDict(populate_by_name=True)

    from_: str = Field(alias="from", pattern=ADDRESS_PATTERN, description="the payer")
    to: str = Field(pattern=ADDRESS_PATTERN, description="the payee")
    value: StrictInt = Field(gt=0, lt=2**256, description="= amount")
    valid_before: StrictInt = Field(gt=0, lt=2**256, description="Unix seconds (chain time)")
    nonce: str = Field(pattern=r"^[0-9]{1,78}$", description="the bitmap nonce (word << 8 | bit), a decimal string "
                                                               "(256 bits do not fit a JSON number everywhere)")
    v: StrictInt = Field(ge=0, le=255)
    r: Hex32
    s: Hex32


class TransferIn(SignedFormsModel):
    signed = "signed transfer"

    payer: str = Field(pattern=ADDRESS_PATTERN, description="the paying wallet; this bank must keep it")
    payee: str = Field(pattern=ADDRESS_PATTERN, description="the receiving wallet, at any bank")
    amount: Amount
    currency: NodeCurrency = None
    authorization: RelayedTransferIn | None = Field(
        None, description="the payer's signed RelayedTransfer as fields (self-custody payers: this or payload)")
    payload: str | None = qr_text("the signed RelayedTransfer as the app's QR text, WALLETNET:1:RELAY:...", None)
