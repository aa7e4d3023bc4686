"""walletnet's Python SDK: amounts, keys, signed authorizations, QR payloads and contract bindings.

Everything an app developer needs is importable from here; modules starting with ``_`` are internal.
"""

from wallet_sdk import authorizations as _authorizations
from wallet_sdk import exceptions as _exceptions
from wallet_sdk._sender import FeeMode, PendingTransaction, TransactionSender
from wallet_sdk.amount import Amount, format_amount, parse_amount
from wallet_sdk.artifacts import load_artifact
from wallet_sdk.authorizations import *  # noqa: F403 (all of it: __all__ below)
from wallet_sdk.chain import types as _chain_types
from wallet_sdk.chain.events import (
    Event,
    EventPosition,
    decode_receipt,
    event_names,
    follow,
    iter_events,
)
from wallet_sdk.chain.network import AddressLike, Network, load_deployment
from wallet_sdk.chain.operators import (
    BankOperator,
    CloseResult,
    ItemResult,
    NetworkOperator,
    PaymentBatchResult,
    ProposalResult,
    Regulator,
    RelayResult,
    SettleResult,
    TxResult,
)
from wallet_sdk.chain.types import *  # noqa: F403 (all of it: __all__ below)
from wallet_sdk.exceptions import *  # noqa: F403 (all of it: __all__ below)
from wallet_sdk.keys import WalletKey
from wallet_sdk.payload import Payload, PaymentRequest, decode_payload, encode_payload
from wallet_sdk.qr import qr_png, qr_svg
from wallet_sdk.revert_decoding import decode_revert

__all__ = [
    "AddressLike",
    "Amount",
    "BankOperator",
    "CloseResult",
    "Event",
    "EventPosition",
    "FeeMode",
    "ItemResult",
    "Network",
    "NetworkOperator",
    "Payload",
    "PaymentBatchResult",
    "PaymentRequest",
    "PendingTransaction",
    "ProposalResult",
    "Regulator",
    "RelayResult",
    "SettleResult",
    "TransactionSender",
    "TxResult",
    "WalletKey",
    "decode_payload",
    "decode_receipt",
    "decode_revert",
    "encode_payload",
    "event_names",
    "follow",
    "format_amount",
    "iter_events",
    "load_artifact",
    "load_deployment",
    "parse_amount",
    "qr_png",
    "qr_svg",
]
# Re-exported whole (the star imports above): their own __all__ names what; every error the SDK raises, the HTTP
# client's included, is importable from here.
__all__ += _authorizations.__all__
__all__ += _chain_types.__all__
__all__ += _exceptions.__all__
