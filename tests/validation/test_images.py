"""Image parts: data URLs are decoded and checked against the vision limits; roles.

The images are built by hand: a real PNG (zlib/struct), a minimal JPEG with a
frame header after a large APP segment, WEBP headers and a GIF screen.
"""

from __future__ import annotations

import base64
import struct
import zlib
from typing import Any

import pytest
from validate_support import assistant, check, found, sft, user

from ftkit.tokens import count_tokens
from ftkit.tokens._images import (
    MAX_IMAGE_BYTES,
    ImageHeader,
    InvalidImageData,
    image_tokens,
    inspect_data_url,
)

URL = "messages[0].content[0].image_url.url"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(width: int, height: int, colour_type: int = 2, extra: bytes = b"") -> bytes:
    """A complete PNG: signature, IHDR, one IDAT, IEND (``extra`` bytes padded into IDAT)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 8) + extra
    return (
        b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")
    )


def jpeg(width: int, height: int, components: int = 3, app_bytes: int = 14) -> bytes:
    """SOI, an APP1 segment of ``app_bytes`` payload, a baseline SOF0, SOS, EOI."""
    app1 = b"\xff\xe1" + struct.pack(">H", app_bytes + 2) + b"\x00" * app_bytes
    sof = (
        b"\xff\xc0"
        + struct.pack(">HBHHB", 8 + 3 * components, 8, height, width, components)
        + b"\x01\x11\x00" * components
    )
    return b"\xff\xd8" + app1 + sof + b"\xff\xda\x00\x02" + b"\x00" * 4 + b"\xff\xd9"


def webp_vp8x(width: int, height: int, alpha: bool = False) -> bytes:
    body = b"WEBP" + b"VP8X" + struct.pack("<I", 10) + bytes([0x10 if alpha else 0]) + b"\x00" * 3
    body += (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    return b"RIFF" + struct.pack("<I", len(body)) + body


def webp_vp8l(width: int, height: int) -> bytes:
    bits = (width - 1) | (height - 1) << 14
    body = b"WEBP" + b"VP8L" + struct.pack("<I", 5) + b"\x2f" + struct.pack("<I", bits) + b"\x00"
    return b"RIFF" + struct.pack("<I", len(body)) + body


def webp_vp8(width: int, height: int) -> bytes:
    frame = b"\x00\x00\x00" + b"\x9d\x01\x2a" + struct.pack("<HH", width, height) + b"\x00" * 8
    body = b"WEBP" + b"VP8 " + struct.pack("<I", len(frame)) + frame
    return b"RIFF" + struct.pack("<I", len(body)) + body


def gif(width: int, height: int) -> bytes:
    return b"GIF89a" + struct.pack("<HH", width, height) + b"\x00" * 3 + b"\x3b"


def _cut_webp() -> bytes:
    """A VP8X WEBP whose RIFF header announces 20 more bytes than there are."""
    whole = webp_vp8x(10, 10)
    return b"RIFF" + struct.pack("<I", len(whole) - 8 + 20) + whole[8:]


def data_url(payload: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64,{base64.b64encode(payload).decode()}"


def image_record(url: str, role: str = "user") -> dict[str, Any]:
    part = {"type": "image_url", "image_url": {"url": url}}
    return sft({"role": role, "content": [part]}, assistant("A chart."))


# ---------------------------------------------------------------- the header reader


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (png(640, 480), ("png", 640, 480, "RGB")),
        (png(64, 32, colour_type=6), ("png", 64, 32, "RGBA")),
        (png(8, 8, colour_type=0), ("png", 8, 8, "L")),
        (png(8, 8, colour_type=3), ("png", 8, 8, "P")),
        (jpeg(800, 600), ("jpeg", 800, 600, "RGB")),
        (jpeg(80, 60, components=1), ("jpeg", 80, 60, "L")),
        (jpeg(80, 60, components=4), ("jpeg", 80, 60, "CMYK")),
        (webp_vp8x(300, 200), ("webp", 300, 200, "RGB")),
        (webp_vp8x(300, 200, alpha=True), ("webp", 300, 200, "RGBA")),
        (webp_vp8l(123, 45), ("webp", 123, 45, "RGB")),
        (webp_vp8(320, 240), ("webp", 320, 240, "RGB")),
        (gif(33, 44), ("gif", 33, 44, None)),
    ],
)
def test_headers_give_format_size_and_mode(payload: bytes, expected: tuple[Any, ...]) -> None:
    header = inspect_data_url(data_url(payload))
    assert (header.format, header.width, header.height, header.mode) == expected
    assert header.nbytes == len(payload)


def test_a_jpeg_frame_header_far_into_the_file_is_found() -> None:
    # EXIF/ICC segments can put the SOF marker hundreds of KiB in (3 x 64 KiB here);
    # the marker walk decodes 4 bytes per segment, not the whole prefix.
    payload = b"\xff\xd8" + (b"\xff\xe2" + struct.pack(">H", 65535) + b"\x00" * 65533) * 3
    payload += jpeg(1600, 1200)[2:]
    url = data_url(payload, "image/jpeg")
    assert inspect_data_url(url) == ImageHeader("jpeg", 1600, 1200, "RGB", len(payload))
    assert image_tokens(url, "high") == 765  # 1600x1200 -> 1024x768: 2x2 tiles


def test_line_breaks_in_the_base64_are_tolerated() -> None:
    text = base64.encodebytes(png(700, 500, extra=b"\x01" * 300)).decode()  # MIME: 76 a line
    assert "\n" in text
    header = inspect_data_url("data:image/png;base64," + text)
    assert (header.width, header.height) == (700, 500)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("data:image/png;base64,SGVsbG8gd29ybGQ=", "not a PNG, JPEG, GIF or WEBP"),
        ("data:image/png;base64,iVBORw0KGgo=", "cut before its IHDR"),
        (data_url(png(10, 10))[:-7], "not a multiple of 4"),
        (data_url(png(10, 10))[:-24], "no IEND chunk"),
        (data_url(png(10, 10)).replace("A", "!", 1), "'!' at character"),
        (data_url(png(10, 10)).replace("A", "é", 1), "non-ASCII"),
        ("data:image/png;base64,iVBO=RAAAAAA", "padding before its end"),
        (data_url(png(0, 10)), "size of 0x10"),
        (data_url(jpeg(10, 10)[:20], "image/jpeg"), "no readable frame header"),
        (data_url(_cut_webp(), "image/webp"), "says 50: it is truncated"),
        (data_url(b"RIFF\x04\x00\x00\x00WEBPVP9 ", "image/webp"), "no readable VP8"),
    ],
)
def test_unreadable_data_is_refused_with_its_reason(url: str, reason: str) -> None:
    with pytest.raises(InvalidImageData, match=reason):
        inspect_data_url(url)


# ---------------------------------------------------------------- the validator


@pytest.mark.parametrize(
    "payload",
    [png(64, 64), png(64, 64, colour_type=6), jpeg(64, 64), webp_vp8x(64, 64), webp_vp8l(9, 9)],
)
def test_readable_rgb_images_pass(payload: bytes) -> None:
    assert found(image_record(data_url(payload, "image/jpeg"))) == set()


@pytest.mark.parametrize(
    "url",
    [
        "data:image/png;base64,SGVsbG8gd29ybGQ=",  # "Hello world"
        "data:image/png;base64,iVBORw0KGgo=",  # a bare PNG signature
        data_url(png(10, 10))[:-24],  # truncated
        data_url(gif(10, 10)),  # a GIF under a PNG MIME type
    ],
)
def test_unreadable_or_gif_data_is_an_error(url: str) -> None:
    assert found(image_record(url)) == {("invalid_image_data", URL)}


def test_a_gif_says_which_formats_train() -> None:
    (issue,) = check(image_record(data_url(gif(10, 10)))).by_code("invalid_image_data")
    assert "GIF" in issue.message and "JPEG, PNG or WEBP" in issue.message


def test_an_image_over_10_mb_is_an_error() -> None:
    over = png(4000, 3000, extra=b"\x00" * (MAX_IMAGE_BYTES + 1 - len(png(1, 1))))
    assert len(over) > MAX_IMAGE_BYTES
    assert found(image_record(data_url(over))) == {("image_too_large", URL)}
    at_limit = png(4000, 3000, extra=b"\x00" * (MAX_IMAGE_BYTES - len(png(1, 1))))
    assert len(at_limit) == MAX_IMAGE_BYTES
    assert found(image_record(data_url(at_limit))) == set()


@pytest.mark.parametrize(
    "payload", [png(8, 8, colour_type=0), png(8, 8, colour_type=3), jpeg(8, 8, components=4)]
)
def test_grayscale_palette_and_cmyk_images_are_a_warning(payload: bytes) -> None:
    report = check(image_record(data_url(payload)))
    assert found(image_record(data_url(payload))) == {("image_mode_not_rgb", URL)}
    assert [i.severity.value for i in report.by_code("image_mode_not_rgb")] == ["warning"]


@pytest.mark.parametrize("role", ["system", "developer"])
def test_images_in_system_turns_are_an_error(role: str) -> None:
    record = sft(
        {
            "role": role,
            "content": [{"type": "image_url", "image_url": {"url": "https://a.b/c.png"}}],
        },
        user(),
        assistant(),
    )
    assert ("image_in_system", "messages[0].content[0]") in found(record)


def test_images_in_user_turns_only_pass() -> None:
    assert found(image_record("https://example.com/chart.png")) == set()


def test_images_outside_user_turns_are_errors_for_every_role() -> None:
    record = sft(
        {
            "role": "system",
            "content": [{"type": "image_url", "image_url": {"url": "https://a.b/1"}}],
        },
        user(),
        {
            "role": "assistant",
            "content": [{"type": "image_url", "image_url": {"url": "https://a.b/2"}}],
        },
    )
    codes = {code for code, _ in found(record)}
    assert {"image_in_system", "image_in_assistant"} <= codes


def test_https_images_are_not_read() -> None:
    # Offline: a remote image is neither fetched nor checked; it counts as 1024x1024.
    assert found(image_record("https://example.com/not-really-an-image.txt")) == set()
    assert image_tokens("https://example.com/x.png", None) == 765


def test_tokens_come_from_the_decoded_header() -> None:
    record = image_record(data_url(png(2048, 4096)))
    text_only = sft(user("x"), assistant("A chart."))
    text_only["messages"][0]["content"] = [{"type": "text", "text": ""}]
    difference = (
        count_tokens(record, model="gpt-4o-2024-08-06").total
        - count_tokens(text_only, model="gpt-4o-2024-08-06").total
    )
    assert difference == 1105  # 2048x4096 -> 768x1536: 2x3 tiles; 1024x1024 would be 765
