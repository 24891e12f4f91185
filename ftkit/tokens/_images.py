"""Tokens of an image content part, by OpenAI's documented tile rule.

- ``detail: "low"``: a fixed 85 tokens (the image is seen at 512x512).
- ``"high"``, and ``"auto"`` or no detail (counted as ``high``, the upper
  bound the service may choose): the image is scaled to fit in 2048x2048,
  then so that its shortest side is at most 768 px; it costs 85 tokens plus
  170 per 512x512 tile.
- The size is read from the header of a ``data:`` URL (PNG, JPEG, GIF, WEBP;
  only the first bytes are decoded). An ``https://`` URL is never fetched:
  its image is assumed to be 1024x1024, i.e. 765 tokens with ``high``.

These are the constants of gpt-4o, the model vision fine-tuning runs on.
"""

from __future__ import annotations

import base64
import binascii
import math
import struct

__all__ = ["ASSUMED_SIZE", "image_size_from_data_url", "image_tokens"]

LOW_DETAIL_TOKENS = 85
BASE_TOKENS = 85
TILE_TOKENS = 170
ASSUMED_SIZE = (1024, 1024)
"""Size assumed for an image whose header cannot be read (remote URL, odd data)."""

_HEADER_CHARS = 87_384  # base64 characters decoded at most (64 KiB of image bytes)


def image_tokens(url: object, detail: object) -> int:
    """Tokens of one ``image_url`` part; never raises on odd values."""
    if detail == "low":
        return LOW_DETAIL_TOKENS
    size = image_size_from_data_url(url) if isinstance(url, str) else None
    width, height = size or ASSUMED_SIZE
    return high_detail_tokens(width, height)


def high_detail_tokens(width: int, height: int) -> int:
    """85 + 170 per 512-px tile after the 2048-box and 768-shortest-side scaling."""
    if width <= 0 or height <= 0:
        width, height = ASSUMED_SIZE
    w, h = float(width), float(height)
    if max(w, h) > 2048:
        scale = 2048 / max(w, h)
        w, h = w * scale, h * scale
    if min(w, h) > 768:
        scale = 768 / min(w, h)
        w, h = w * scale, h * scale
    tiles = math.ceil(w / 512) * math.ceil(h / 512)
    return BASE_TOKENS + TILE_TOKENS * tiles


def image_size_from_data_url(url: str) -> tuple[int, int] | None:
    """``(width, height)`` from a base64 ``data:image/...`` URL's header, or ``None``."""
    if not url.startswith("data:"):
        return None
    comma = url.find(",", 0, 256)
    if comma < 0 or ";base64" not in url[:comma]:
        return None
    chunk = url[comma + 1 : comma + 1 + _HEADER_CHARS]
    chunk = chunk[: len(chunk) - len(chunk) % 4]
    try:
        data = base64.b64decode(chunk)
    except (binascii.Error, ValueError):
        return None
    return _size_from_header(data)


def _size_from_header(data: bytes) -> tuple[int, int] | None:
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return int(width), int(height)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _webp_size(data)
    if data[:2] == b"\xff\xd8":
        return _jpeg_size(data)
    return None


def _webp_size(data: bytes) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8X" and len(data) >= 30:
        width = 1 + int.from_bytes(data[24:27], "little")
        height = 1 + int.from_bytes(data[27:30], "little")
        return width, height
    if chunk == b"VP8L" and len(data) >= 25:
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8 " and len(data) >= 30:
        width, height = struct.unpack("<HH", data[26:30])
        return int(width) & 0x3FFF, int(height) & 0x3FFF
    return None


_SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    i = 2
    n = len(data)
    while i + 4 <= n:
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        length = int.from_bytes(data[i + 2 : i + 4], "big")
        if marker in _SOF_MARKERS:
            if i + 9 > n:
                return None
            height = int.from_bytes(data[i + 5 : i + 7], "big")
            width = int.from_bytes(data[i + 7 : i + 9], "big")
            return width, height
        if length < 2:
            return None
        i += 2 + length
    return None
