"""Who asked, recorded on the operations a request makes: the teller's branch and operator id, the customer
session an app acted in (the API key and channel are recorded by the flows themselves).

A teller key is shared by a branch's desk, so the key alone does not say who at the counter moved money: a
teller's money move (top-up, redemption, P2P, merchant payment, closing a wallet) must name the branch and the
operator in the headers ``X-Teller-Branch`` and ``X-Teller-Operator`` (422 otherwise); other requests may send
them, and they are recorded when sent. Both show in ``GET /v1/operations/{id}`` (``branch``, ``operator``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header
from sqlalchemy.orm import Session

from api.problems import FieldError, ValidationProblemError
from node.api_keys import Principal, Scope
from node.operations.models import Attribution, attribute

__all__ = ["BRANCH_HEADER", "OPERATOR_HEADER", "Desk", "DeskDep", "attribution_of", "record_actor"]

BRANCH_HEADER = "X-Teller-Branch"
OPERATOR_HEADER = "X-Teller-Operator"
DESK_ID = r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$"


@dataclass(frozen=True)
class Desk:
    """The teller's branch and operator id as the request named them (None: not sent)."""

    branch: str | None = None
    operator: str | None = None


async def teller_desk(
    branch: Annotated[str | None, Header(alias=BRANCH_HEADER, pattern=DESK_ID,
                                         description="the teller's branch id; required on a teller's money move")
                      ] = None,
    operator: Annotated[str | None, Header(alias=OPERATOR_HEADER, pattern=DESK_ID,
                                           description="the teller's operator id; required on a teller's money "
                                                       "move")] = None,
) -> Desk:
    return Desk(branch, operator)


DeskDep = Annotated[Desk, Depends(teller_desk)]


def attribution_of(principal: Principal, desk: Desk, *, channel: str, moves_money: bool = False) -> Attribution:
    """Who asks, beyond the channel and key: the desk the request named and the customer session it acts in.

    Raises:
        ValidationProblemError: a teller's money move without the branch or the operator id.
    """
    if channel == Scope.TELLER and moves_money:
        missing = [name for name, value in ((BRANCH_HEADER, desk.branch), (OPERATOR_HEADER, desk.operator))
                   if value is None]
        if missing:
            raise ValidationProblemError(
                f"a teller's money move names who made it: send {' and '.join(missing)}",
                errors=[FieldError(loc=["header", name], msg="required for a teller's money move", type="missing")
                        for name in missing])
    return Attribution(branch=desk.branch, operator=desk.operator, customer_session_id=principal.session_id)


def record_actor(session: Session, principal: Principal, desk: Desk, *, channel: str,
                 moves_money: bool = False) -> None:
    """Record who asks (:func:`attribution_of`) on every operation this request makes in ``session``."""
    attribute(session, attribution_of(principal, desk, channel=channel, moves_money=moves_money))
