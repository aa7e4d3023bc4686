"""Render a payload as a QR code image (PNG bytes or SVG text) with segno.

Error correction defaults to M (15% of the code may be damaged or covered), the usual choice for codes
shown on screens and till receipts; use Q or H for printed codes that get scuffed. The level is applied
exactly, not silently boosted, so the same payload always gives the same image.
"""

from __future__ import annotations

import io
from typing import Final, Literal

import segno

from wallet_sdk.exceptions import QRCodeError

__all__ = ["ErrorLevel", "qr_png", "qr_svg"]

ErrorLevel = Literal["L", "M", "Q", "H"]
_LEVELS: Final = ("L", "M", "Q", "H")


def _make(payload: str, error: str, scale: int, border: int) -> segno.QRCode:
    if not isinstance(payload, str) or not payload:
        raise QRCodeError("the payload must be a non-empty str")
    if error not in _LEVELS:
        raise QRCodeError(f"error correction must be one of {', '.join(_LEVELS)}, got {error!r}")
    for name, value, low in (("scale", scale, 1), ("border", border, 0)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise QRCodeError(f"{name} must be an int >= {low}, got {value!r}")
    try:
        return segno.make_qr(payload, error=error, boost_error=False)
    except segno.DataOverflowError:
        raise QRCodeError(f"{len(payload)} characters do not fit in a QR code at level {error}") from None


def qr_png(payload: str, *, error: ErrorLevel = "M", scale: int = 4, border: int = 4) -> bytes:
    """PNG image of ``payload``: ``scale`` pixels per module, ``border`` quiet-zone modules on each side."""
    code = _make(payload, error, scale, border)
    out = io.BytesIO()
    code.save(out, kind="png", scale=scale, border=border)
    return out.getvalue()


def qr_svg(payload: str, *, error: ErrorLevel = "M", scale: int = 4, border: int = 4) -> str:
    """Standalone SVG document of ``payload`` (scales without blur: good for web pages and print)."""
    code = _make(payload, error, scale, border)
    out = io.BytesIO()
    code.save(out, kind="svg", scale=scale, border=border, xmldecl=True, svgns=True, title="walletnet payment code")
    return out.getvalue().decode("utf-8")
