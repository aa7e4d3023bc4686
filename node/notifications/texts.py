# ruff: noqa: RUF001  (full-width punctuation is what Chinese text uses)
"""The human text of each notification type, in English and Chinese, made from its ``params``.

One template per (type, language), in :data:`TEMPLATES`; :func:`render` fills it. Amounts are formatted from
their integer minor units (``params["amount"]``, with ``currency`` and ``decimals``) by the SDK's
:func:`~wallet_sdk.amount.format_amount`, addresses shortened to ``0x1234…abcd``. A type or language without a
template falls back to English, then to the type itself, so a text is always there.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from node.notifications.models import Language, NotificationType
from wallet_sdk.amount import format_amount

__all__ = ["TEMPLATES", "render"]

T = NotificationType

TEMPLATES: Final[Mapping[str, Mapping[str, str]]] = {
    T.PAYMENT_RECEIVED: {
        "en": "You received {amount} from {counterparty}.",
        "zh": "您收到来自 {counterparty} 的 {amount}。",
    },
    T.PAYMENT_SENT: {
        "en": "You paid {amount} to {payee}.",
        "zh": "您向 {payee} 支付了 {amount}。",
    },
    T.TOP_UP: {
        "en": "Your wallet was topped up with {amount} from your bank account.",
        "zh": "您的钱包已从银行账户充值 {amount}。",
    },
    T.REDEMPTION: {
        "en": "{amount} went from your wallet to your bank account.",
        "zh": "已从您的钱包向银行账户转出 {amount}。",
    },
    T.ATM_CASH_IN: {
        "en": "{amount} in cash was paid into your wallet at an ATM.",
        "zh": "您在 ATM 存入现金 {amount}。",
    },
    T.CASH_OUT_HELD: {
        "en": "{amount} is held for an ATM cash withdrawal.",
        "zh": "ATM 取现 {amount} 已冻结待出钞。",
    },
    T.CASH_OUT_DISPENSED: {
        "en": "The ATM dispensed {amount} in cash.",
        "zh": "ATM 已出钞 {amount}。",
    },
    T.CASH_OUT_RELEASED: {
        "en": "The ATM cash withdrawal did not happen: {amount} is back in your wallet.",
        "zh": "ATM 取现未完成：{amount} 已退回您的钱包。",
    },
    T.REFUND_RECEIVED: {
        "en": "{merchant} refunded you {amount}.",
        "zh": "{merchant} 向您退款 {amount}。",
    },
    T.WALLET_FROZEN: {
        "en": "Your wallet was frozen by {by} (reason {reason}).",
        "zh": "您的钱包已被{by_zh}冻结（原因：{reason}）。",
    },
    T.WALLET_UNFROZEN: {
        "en": "Your wallet is active again.",
        "zh": "您的钱包已解除冻结。",
    },
    T.TIER_CHANGED: {
        "en": "Your wallet moved from tier {previous_tier} to tier {tier}; its limits changed with it.",
        "zh": "您的钱包已从 {previous_tier} 类调整为 {tier} 类，限额随之变化。",
    },
    T.LARGE_PAYMENT: {
        "en": "A large payment of {amount} left your wallet to {payee}. Not you? Call your bank.",
        "zh": "您的钱包向 {payee} 支付了一笔大额款项 {amount}。如非本人操作，请联系银行。",
    },
    T.DAILY_LIMIT_80: {
        "en": "You have used {percent}% of today's limit ({spent} of {limit}).",
        "zh": "您今日已使用 {percent}% 的支付限额（{spent} / {limit}）。",
    },
    T.DAILY_LIMIT_100: {
        "en": "You have used all of today's limit ({limit}); payments out wait until tomorrow (UTC).",
        "zh": "您今日的支付限额（{limit}）已用完，明天（UTC）再付款。",
    },
    T.SECOND_FACTOR_ENROLLED: {
        "en": "A second factor (TOTP) was set up for your wallet.",
        "zh": "您的钱包已设置第二重验证（TOTP）。",
    },
    T.SECOND_FACTOR_CHANGED: {
        "en": "Your wallet's second factor (TOTP) was replaced.",
        "zh": "您的钱包的第二重验证（TOTP）已更换。",
    },
    T.SECOND_FACTOR_RESET: {
        "en": "Your wallet's second factor (TOTP) was reset at a branch.",
        "zh": "您的钱包的第二重验证（TOTP）已在网点重置。",
    },
    T.SECOND_FACTOR_LOCKED: {
        "en": "Too many wrong codes: your wallet's second factor is locked for a while.",
        "zh": "验证码错误次数过多，您的钱包的第二重验证已暂时锁定。",
    },
}


def _short(address: object) -> str:
    text = str(address or "")
    return f"{text[:6]}…{text[-4:]}" if len(text) == 42 else text


def _money(params: Mapping[str, Any], minor: object) -> str:
    if not isinstance(minor, int):
        return "?"
    decimals = params.get("decimals", 2)
    text = format_amount(minor, decimals=decimals if isinstance(decimals, int) else 2)
    return f"{text} {params.get('currency', '')}".strip()


def _fields(params: Mapping[str, Any]) -> dict[str, Any]:
    """What the templates may name, from ``params``."""
    merchant = params.get("merchant_name") or params.get("merchant_id")
    regulator = bool(params.get("by_regulator"))
    return {
        **params,
        "amount": _money(params, params.get("amount")),
        "spent": _money(params, params.get("spent")),
        "limit": _money(params, params.get("limit")),
        "counterparty": _short(params.get("counterparty")),
        "merchant": merchant or "",
        "payee": merchant or _short(params.get("counterparty")),
        "by": "the regulator" if regulator else "your bank",
        "by_zh": "监管机构" if regulator else "银行",
        "reason": params.get("note") or params.get("reason_code", ""),
    }


def render(type_: str, params: Mapping[str, Any], language: str = Language.EN.value) -> str:
    """The text of a notification of ``type_`` with ``params`` in ``language`` (``en`` or ``zh``)."""
    templates = TEMPLATES.get(type_)
    if templates is None:
        return type_
    template = templates.get(language) or templates[Language.EN.value]
    try:
        return template.format(**_fields(params))
    except (KeyError, IndexError, ValueError):  # params of an older shape: never fail a read for a text
        return templates[Language.EN.value] if template != templates[Language.EN.value] else type_
