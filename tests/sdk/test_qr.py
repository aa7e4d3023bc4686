"""QR rendering: valid PNG and SVG images that decode back to the exact payload."""

from __future__ import annotations

import struct
import xml.etree.ElementTree as ET
import zlib
from typing import Any

import pytest
import zxingcpp

from wallet_sdk.amount import Amount
from wallet_sdk.authorizations import Domain, MerchantPayment, merchant_id, order_id
from wallet_sdk.exceptions import QRCodeError, WalletnetError
from wallet_sdk.keys import WalletKey
from wallet_sdk.payload import PaymentRequest, encode_payload
from wallet_sdk.qr import qr_png, qr_svg

KEY = WalletKey("0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
TOKEN = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
SETTLEMENT = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"
DOMAIN = Domain.for_token("Digital Cash", 31337, TOKEN)
ACQUIRER = b"BANKB".ljust(32, b"\0")
PAYMENT = encode_payload(MerchantPayment(  # as the customer presents it at the point of sale
    acquirer=ACQUIRER, merchant_id=merchant_id("M-COFFEE-001"), order_id=order_id("ORDER-123"), payer=KEY.address,
    amount=1234, valid_before=2_000_000_000, settlement=SETTLEMENT).sign(KEY, DOMAIN))
REQUEST = encode_payload(PaymentRequest.issue(
    KEY, acquirer=ACQUIRER, merchant_id=merchant_id("M-COFFEE-001"), order_id=order_id("ORDER-123"),
    amount=Amount(1234, 2, "DCASH"), expires_at=2_000_000_000, chain_id=31337, token=TOKEN, settlement=SETTLEMENT,
    description="Caf\u00e9 au lait"))
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SVG = "{http://www.w3.org/2000/svg}"


def read_png(data: bytes) -> tuple[int, int, bytes]:
    """A minimal PNG reader for 8-bit-or-less greyscale (what segno writes): (width, height, 0/255 pixels).

    Checks every chunk's CRC, so a damaged image fails here rather than in the QR decoder.
    """
    assert data[:8] == PNG_SIGNATURE
    pos, chunks = 8, []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        assert zlib.crc32(kind + body) == crc, kind
        chunks.append((kind, body))
        pos += 12 + length
    assert (chunks[0][0], chunks[-1][0]) == (b"IHDR", b"IEND")
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    assert (colour, interlace) == (0, 0)  # greyscale, not interlaced
    assert depth in (1, 2, 4, 8)
    raw = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    stride = (width * depth + 7) // 8
    rows, previous = [], bytearray(stride)
    for y in range(height):
        line = raw[y * (stride + 1):(y + 1) * (stride + 1)]
        kind, row = line[0], bytearray(line[1:])
        for i in range(stride):
            a = row[i - 1] if i else 0
            b, c = previous[i], previous[i - 1] if i else 0
            if kind == 1:
                row[i] = (row[i] + a) & 0xFF
            elif kind == 2:
                row[i] = (row[i] + b) & 0xFF
            elif kind == 3:
                row[i] = (row[i] + (a + b) // 2) & 0xFF
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                row[i] = (row[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
            else:
                assert kind == 0
        rows.append(bytes(row))
        previous = row
    top = (1 << depth) - 1
    pixels = bytearray()
    for row in rows:
        for x in range(width):
            bit = x * depth
            value = row[bit // 8] >> (8 - depth - bit % 8) & top
            pixels.append(255 * value // top)
    return width, height, bytes(pixels)


def decode_png(data: bytes) -> list[str]:
    width, height, pixels = read_png(data)
    image = memoryview(pixels).cast("B", (height, width))
    return [code.text for code in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)]


# --- PNG ---


@pytest.mark.parametrize("payload", [PAYMENT, REQUEST], ids=["payment", "request"])
def test_png_decodes_back_to_the_payload(payload: str) -> None:
    png = qr_png(payload)
    assert png.startswith(PNG_SIGNATURE)
    assert decode_png(png) == [payload]


def test_png_size_follows_scale_and_border() -> None:
    # The payment payload is all QR-alphanumeric: version 13 at level M, 69 modules a side.
    width, height, _ = read_png(qr_png(PAYMENT))
    assert (width, height) == ((69 + 2 * 4) * 4, (69 + 2 * 4) * 4)
    width, height, pixels = read_png(qr_png(PAYMENT, scale=2, border=1))
    assert (width, height) == (71 * 2, 71 * 2)
    assert pixels[:2] == b"\xff\xff"  # the quiet zone is light
    assert decode_png(qr_png(PAYMENT, scale=2, border=1)) == [PAYMENT]


@pytest.mark.parametrize(("error", "modules"), [("L", 61), ("M", 69), ("Q", 81), ("H", 89)])
def test_error_correction_level_is_applied_exactly(error: Any, modules: int) -> None:
    width, _, _ = read_png(qr_png(PAYMENT, error=error, scale=1, border=0))
    assert width == modules
    assert decode_png(qr_png(PAYMENT, error=error, scale=3)) == [PAYMENT]


def test_rendering_is_deterministic() -> None:
    assert qr_png(PAYMENT) == qr_png(PAYMENT)
    assert qr_svg(PAYMENT) == qr_svg(PAYMENT)


# --- SVG ---


@pytest.mark.parametrize("payload", [PAYMENT, REQUEST], ids=["payment", "request"])
def test_svg_is_well_formed(payload: str) -> None:
    svg = qr_svg(payload)
    assert svg.startswith('<?xml version="1.0" encoding="utf-8"?>\n<svg xmlns="http://www.w3.org/2000/svg"')
    root = ET.fromstring(svg.encode("utf-8"))
    assert root.tag == f"{SVG}svg"
    assert root.find(f"{SVG}title") is not None
    assert root.find(f"{SVG}title").text == "walletnet payment code"  # type: ignore[union-attr]
    assert root.find(f"{SVG}path") is not None


def test_svg_size_follows_scale_and_border() -> None:
    root = ET.fromstring(qr_svg(PAYMENT, scale=3, border=2))
    assert (root.get("width"), root.get("height")) == (str((69 + 4) * 3), str((69 + 4) * 3))


# --- bad options ---


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"payload": ""}, "the payload must be a non-empty str"),
        ({"payload": b"WALLETNET"}, "the payload must be a non-empty str"),
        ({"error": "X"}, "error correction must be one of L, M, Q, H, got 'X'"),
        ({"error": "m"}, "error correction must be one of L, M, Q, H, got 'm'"),
        ({"scale": 0}, "scale must be an int >= 1, got 0"),
        ({"scale": 2.5}, "scale must be an int >= 1, got 2.5"),
        ({"border": -1}, "border must be an int >= 0, got -1"),
        ({"border": True}, "border must be an int >= 0, got True"),
        ({"payload": "A" * 4297}, "4297 characters do not fit in a QR code at level M"),
        ({"payload": "A" * 3000, "error": "H"}, "3000 characters do not fit in a QR code at level H"),
    ],
)
def test_bad_options(kwargs: dict[str, Any], reason: str) -> None:
    options = {"payload": PAYMENT} | kwargs
    for render in (qr_png, qr_svg):
        with pytest.raises(QRCodeError) as info:
            render(**options)
        assert str(info.value) == f"cannot render QR code: {reason}"
        assert isinstance(info.value, WalletnetError)
        assert isinstance(info.value, ValueError)


def test_largest_alphanumeric_payload_fits_at_level_l() -> None:
    payload = "A" * 4296
    assert decode_png(qr_png(payload, error="L", scale=2)) == [payload]
