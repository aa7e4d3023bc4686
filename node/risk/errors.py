"""The risk engine's refusals."""

from __future__ import annotations

from typing import Any

from node.errors import FlowError

__all__ = ["RiskDeclinedError"]


class RiskDeclinedError(FlowError):
    """The bank's risk rules decline the payment (and, with ``action`` ``freeze``, froze the wallet): nothing
    moves. ``decision`` is the recorded decision's id, ``rules`` the rules that fired."""

    problem = "risk-declined"
    status = 403

    def __init__(self, decision: str, action: str, rules: list[str]) -> None:
        what = "declined the payment and froze the wallet" if action == "freeze" else "declined the payment"
        super().__init__(f"the bank's risk rules {what} ({', '.join(rules)}); decision {decision}",
                         decision=decision, action=action, rules=rules)

    def members(self) -> dict[str, Any]:
        return dict(self.extra)
