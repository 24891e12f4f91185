"""Image content parts: their header, read from a ``data:`` URL, and their tokens.

Tokens follow OpenAI's documented tile rule:

- ``detail: "low"``: a fixed 85 tokens (the image is seen at 512x512).
- ``"high"``, and ``"auto"`` or no detail (counted as ``high``, the upper
  bound the service may choose): the image is scaled to fit in 2048x2048,
  then so that its shortest side is at most 768 px; it costs 85 tokens plus
  170 per 512x512 tile.
- The size is read from the header of a ``data:`` URL (PNG IHDR, JPEG SOF
  marker, GIF logical screen, WEBP VP8/VP8L/VP8X header): only the few bytes
  of the header are decoded, wherever they are in the payload. An
  ``https://`` URL is never fetched: its image is assumed to be 1024x1024,
  i.e. 765 tokens with ``high``; so is a data URL whose header cannot be read
  (the validator reports that one as ``invalid_image_data``).

:func:`inspect_data_url` is what the validator checks a data URL with: the
whole payload must be base64 and the bytes a PNG, JPEG, GIF or WEBP image;
it returns the format, size, colour mode and decoded byte count, and the
caller compares them with the service's limits (:data:`MAX_IMAGE_BYTES`,
:data:`TRAINING_FORMATS`, :data:`TRAINING_MODES`).

These are the constants of gpt-4o, the model vision fine-tuning runs on.
"""

from __future__ import annotations

import binascii
import math
import re
from dataclasses import dataclass

__all__ = [
    "ASSUMED_SIZE",
    "MAX_IMAGE_BYTES",
    "TRAINING_FORMATS",
    "TRAINING_MODES",
    "ImageHeader",
    "InvalidImageData",
    "image_size_from_data_url",
    "image_tokens",
    "inspect_data_url",
]

LOW_DETAIL_TOKENS = 85
BASE_TOKENS = 85
TILE_TOKENS = 170
ASSUMED_SIZE = (1024, 1024)
"""Size assumed for an image whose header cannot be read (remote URL, odd data)."""

MAX_IMAGE_BYTES = 10 * 1024 * 1024
"""OpenAI's vision fine-tuning limit, "at most 10 MB" per image (read as MiB, like the
Files API's 512 MB), on the decoded bytes."""
TRAINING_FORMATS = frozenset({"jpeg", "png", "webp"})
"""Formats vision fine-tuning takes ("JPEG, PNG, or WEBP"); GIF is read for tokens only."""
TRAINING_MODES = frozenset({"RGB", "RGBA"})
"""Colour modes vision fine-tuning takes ("RGB or RGBA image mode")."""

_B64_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_WHITESPACE = re.compile(r"[ \t\r\n]+")
_MAX_JPEG_SEGMENTS = 1024
# PNG colour types (IHDR byte 25) and JPEG component counts, in PIL's mode names.
_PNG_MODES = {0: "L", 2: "RGB", 3: "P", 4: "LA", 6: "RGBA"}
_JPEG_MODES = {1: "L", 3: "RGB", 4: "CMYK"}


class InvalidImageData(ValueError):
    """A data URL's payload is not base64, or its bytes are not a readable image."""


@dataclass(frozen=True)
class ImageHeader:
    """What the first bytes of an embedded image say about it."""

    format: str
    """``"png"``, ``"jpeg"``, ``"gif"`` or ``"webp"``: from the bytes, not the MIME type."""
    width: int
    height: int
    mode: str | None
    """PIL's name for the colour mode (``RGB``, ``RGBA``, ``L``, ``LA``, ``P``, ``CMYK``);
    ``None`` where the header does not say (GIF)."""
    nbytes: int
    """Decoded size of the image in bytes."""


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
    """``(width, height)`` from a base64 ``data:image/...`` URL's header, or ``None``.

    Decodes the header bytes only; the rest of the payload is not checked
    (:func:`inspect_data_url` does that).
    """
    payload = _payload(url)
    if payload is None:
        return None
    try:
        header = _read_header(_Base64Bytes(payload))
    except InvalidImageData:
        return None
    return header.width, header.height


def inspect_data_url(url: str) -> ImageHeader:
    """The header of a ``data:...;base64,`` URL's image, after checking the whole payload.

    The payload must be base64 (line breaks are tolerated, as decoders skip them),
    correctly padded, and decode to a PNG, JPEG, GIF or WEBP image whose header gives
    a non-zero size. The check costs one pass over the payload in C and decodes only
    the header bytes.

    Raises:
        InvalidImageData: with what is wrong, in plain words.
    """
    payload = _payload(url)
    if payload is None:
        raise InvalidImageData("the URL is not a data URL with ;base64, data")
    if not payload.isascii():
        raise InvalidImageData("the base64 data holds non-ASCII characters")
    rest = payload.encode("ascii").translate(None, _B64_ALPHABET)
    padding = 0
    if rest:
        if rest.strip(b"= \t\r\n"):
            bad = next(chr(c) for c in rest if c not in b"= \t\r\n")
            at = payload.index(bad)
            raise InvalidImageData(
                f"the base64 data holds {bad!r} at character {at}, which is not base64"
            )
        if b"=" in rest:
            padding = rest.count(b"=")
            if padding > 2 or not payload.rstrip(" \t\r\n").endswith("=" * padding):
                raise InvalidImageData("the base64 data has '=' padding before its end")
        if len(rest) > padding:  # line breaks: drop them so byte offsets map to characters
            payload = _WHITESPACE.sub("", payload)
    if len(payload) % 4:
        raise InvalidImageData(
            f"the base64 data is {len(payload)} characters, not a multiple of 4: "
            "it is truncated or unpadded"
        )
    data = _Base64Bytes(payload)
    header = _read_header(data)
    _check_complete(header, data)
    return header


_PNG_END = b"IEND\xaeB`\x82"


def _check_complete(header: ImageHeader, data: _Base64Bytes) -> None:
    """A cut PNG lacks its IEND chunk; a cut WEBP is shorter than its RIFF size says."""
    if header.format == "png":
        if _PNG_END not in data.read(max(0, data.size - 64), 64):
            raise InvalidImageData("the PNG data has no IEND chunk at its end: it is truncated")
    elif header.format == "webp":
        declared = int.from_bytes(data.read(4, 4), "little") + 8
        if data.size < declared:
            raise InvalidImageData(
                f"the WEBP data is {data.size:,} bytes but its header says {declared:,}: "
                "it is truncated"
            )


def _payload(url: object) -> str | None:
    if not isinstance(url, str) or not url.startswith("data:"):
        return None
    comma = url.find(",", 0, 256)
    if comma < 0 or not url[:comma].endswith(";base64"):
        return None
    return url[comma + 1 :]


class _Base64Bytes:
    """Random access to the bytes a base64 string encodes, decoding 4-character groups."""

    __slots__ = ("_text", "size")

    def __init__(self, text: str) -> None:
        self._text = text
        stripped = text.rstrip("=")
        self.size = len(stripped) * 3 // 4

    def read(self, offset: int, count: int) -> bytes:
        """Up to ``count`` bytes from ``offset`` (fewer at the end of the data)."""
        if offset >= self.size or count <= 0:
            return b""
        start = offset // 3
        end = -(-(offset + count) // 3)
        try:
            block = binascii.a2b_base64(self._text[start * 4 : end * 4])
        except (binascii.Error, ValueError) as exc:
            raise InvalidImageData(f"the base64 data does not decode ({exc})") from None
        skip = offset - start * 3
        return block[skip : skip + count]


def _read_header(data: _Base64Bytes) -> ImageHeader:
    head = data.read(0, 32)
    if head[:8] == b"\x89PNG\r\n\x1a\n":
        if len(head) < 26 or head[12:16] != b"IHDR":
            raise InvalidImageData("the PNG data is cut before its IHDR header")
        width = int.from_bytes(head[16:20], "big")
        height = int.from_bytes(head[20:24], "big")
        mode = _PNG_MODES.get(head[25])
        if mode is None:
            raise InvalidImageData(f"the PNG header gives colour type {head[25]}, which PNG lacks")
        return _header("png", width, height, mode, data)
    if head[:6] in (b"GIF87a", b"GIF89a"):
        if len(head) < 10:
            raise InvalidImageData("the GIF data is cut before its logical screen size")
        width = int.from_bytes(head[6:8], "little")
        height = int.from_bytes(head[8:10], "little")
        return _header("gif", width, height, None, data)
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return _webp(head, data)
    if head[:3] == b"\xff\xd8\xff":
        return _jpeg(data)
    raise InvalidImageData("the data is not a PNG, JPEG, GIF or WEBP image")


def _header(fmt: str, width: int, height: int, mode: str | None, data: _Base64Bytes) -> ImageHeader:
    if width <= 0 or height <= 0:
        raise InvalidImageData(f"the {fmt.upper()} header gives a size of {width}x{height}")
    return ImageHeader(fmt, width, height, mode, data.size)


def _webp(head: bytes, data: _Base64Bytes) -> ImageHeader:
    chunk = head[12:16]
    if chunk == b"VP8X" and len(head) >= 30:
        alpha = bool(head[20] & 0x10)
        width = 1 + int.from_bytes(head[24:27], "little")
        height = 1 + int.from_bytes(head[27:30], "little")
        return _header("webp", width, height, "RGBA" if alpha else "RGB", data)
    if chunk == b"VP8L" and len(head) >= 25 and head[20] == 0x2F:
        bits = int.from_bytes(head[21:25], "little")
        width, height = (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
        return _header("webp", width, height, "RGBA" if bits >> 28 & 1 else "RGB", data)
    if chunk == b"VP8 " and len(head) >= 30 and head[23:26] == b"\x9d\x01\x2a":
        width = int.from_bytes(head[26:28], "little") & 0x3FFF
        height = int.from_bytes(head[28:30], "little") & 0x3FFF
        return _header("webp", width, height, "RGB", data)
    raise InvalidImageData("the WEBP data has no readable VP8, VP8L or VP8X header")


_SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def _jpeg(data: _Base64Bytes) -> ImageHeader:
    """Walk the marker segments to the first SOF, decoding 4 bytes per segment."""
    i = 2
    for _ in range(_MAX_JPEG_SEGMENTS):
        marker = data.read(i, 4)
        if len(marker) < 2 or marker[0] != 0xFF:
            break
        kind = marker[1]
        if kind == 0xFF:  # fill byte
            i += 1
            continue
        if kind in (0xD8, 0x01) or 0xD0 <= kind <= 0xD7:
            i += 2
            continue
        if kind in (0xD9, 0xDA) or len(marker) < 4:  # end of image, or scan data
            break
        length = int.from_bytes(marker[2:4], "big")
        if kind in _SOF_MARKERS:
            sof = data.read(i + 4, 6)
            if len(sof) < 6:
                break
            height = int.from_bytes(sof[1:3], "big")
            width = int.from_bytes(sof[3:5], "big")
            return _header("jpeg", width, height, _JPEG_MODES.get(sof[5], "unknown"), data)
        if length < 2:
            break
        i += 2 + length
    raise InvalidImageData("the JPEG data has no readable frame header (SOF marker)")
