"""Image parts: the documented tile rule, sizes read from data URL headers."""

from __future__ import annotations

import base64
import struct

import pytest

from ftkit.tokens._images import (
    ASSUMED_SIZE,
    high_detail_tokens,
    image_size_from_data_url,
    image_tokens,
)


def _data_url(mime: str, payload: bytes) -> str:
    return f"data:{mime};base64,{base64.b64encode(payload).decode()}"


def _png(width: int, height: int) -> bytes:
    return (
        b"\x89PNG\r\n\x1a\n"
        + b"\x00\x00\x00\rIHDR"
        + struct.pack(">II", width, height)
        + (b"\x08\x02\x00\x00\x00" + b"\x00" * 64)
    )


def _jpeg(width: int, height: int) -> bytes:
    app0 = (
        b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00" + b"\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    )
    sof = b"\xff\xc0" + struct.pack(">HBHH", 17, 8, height, width) + b"\x03" + b"\x00" * 9
    return b"\xff\xd8" + app0 + sof + b"\xff\xd9"


@pytest.mark.parametrize(
    ("size", "tokens"),
    [
        ((1024, 1024), 765),  # OpenAI's documented examples
        ((2048, 4096), 1105),
        ((4096, 8192), 1105),
        ((512, 512), 255),
        ((100, 100), 255),
    ],
)
def test_high_detail_rule(size: tuple[int, int], tokens: int) -> None:
    assert high_detail_tokens(*size) == tokens


def test_low_detail_is_85_whatever_the_size() -> None:
    assert image_tokens(_data_url("image/png", _png(4000, 3000)), "low") == 85
    assert image_tokens("https://example.com/x.png", "low") == 85


def test_sizes_are_read_from_headers() -> None:
    assert image_size_from_data_url(_data_url("image/png", _png(640, 480))) == (640, 480)
    assert image_size_from_data_url(_data_url("image/jpeg", _jpeg(800, 600))) == (800, 600)
    gif = b"GIF89a" + struct.pack("<HH", 33, 44) + b"\x00" * 16
    assert image_size_from_data_url(_data_url("image/gif", gif)) == (33, 44)
    vp8x = (
        b"RIFF"
        + b"\x00" * 4
        + b"WEBPVP8X"
        + b"\x00" * 8
        + (299).to_bytes(3, "little")
        + (199).to_bytes(3, "little")
    )
    assert image_size_from_data_url(_data_url("image/webp", vp8x)) == (300, 200)


def test_high_and_auto_use_the_real_size_of_embedded_images() -> None:
    url = _data_url("image/png", _png(2048, 4096))
    assert image_tokens(url, "high") == 1105
    assert image_tokens(url, "auto") == 1105
    assert image_tokens(url, None) == 1105


def test_remote_or_unreadable_images_use_the_documented_assumption() -> None:
    assumed = high_detail_tokens(*ASSUMED_SIZE)
    assert assumed == 765
    assert image_tokens("https://example.com/chart.png", "high") == assumed
    assert image_tokens("data:image/png;base64,!!!notbase64", None) == assumed
    assert image_tokens(_data_url("image/png", b"not an image at all"), "auto") == assumed
    assert image_tokens(None, "auto") == assumed


def test_a_jpeg_frame_header_past_the_first_64_kib_still_gives_the_size() -> None:
    # Large EXIF/ICC segments push the SOF marker far in; the marker walk finds it.
    big_app = b"\xff\xe2" + struct.pack(">H", 65535) + b"\x00" * 65533
    payload = b"\xff\xd8" + big_app * 2 + _jpeg(2048, 4096)[2:]
    url = _data_url("image/jpeg", payload)
    assert image_size_from_data_url(url) == (2048, 4096)
    assert image_tokens(url, "high") == 1105
