"""``/v1/wallets``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from api.auth import require_scope
from api.deps import NetworkDep, SettingsDep
from api.errors import problem_responses
from api.keys import ApiKey, Scope
from api.problems import ProblemKind
from api.wallets import service
from api.wallets.schemas import WalletOut

router = APIRouter(prefix="/v1/wallets", tags=["wallets"])

WalletReader = Annotated[ApiKey, require_scope(Scope.TELLER, Scope.APP, Scope.ADMIN, Scope.REGULATOR)]
AddressPath = Annotated[str, Path(pattern=r"^0x[0-9a-fA-F]{40}$", description="the wallet's 0x address",
                                  examples=["0x" + "ab" * 20])]


@router.get(
    "/{address}",
    operation_id="get_wallet",
    summary="A wallet's record and balance",
    response_model=WalletOut,
    responses=problem_responses(ProblemKind.UNAUTHORIZED, ProblemKind.FORBIDDEN, ProblemKind.NOT_FOUND,
                                ProblemKind.CHAIN_UNAVAILABLE),
)
def get_wallet(address: AddressPath, _key: WalletReader, network: NetworkDep, settings: SettingsDep) -> WalletOut:
    """The wallet's custodian bank, tier, status and spendable balance, read from the chain."""
    return service.get_wallet(network, address, currency=settings.currency)
