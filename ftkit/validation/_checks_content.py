"""Checks of a message's ``content``: a string, or text and image parts.

Fine-tuning takes text parts and ``image_url`` parts (in user messages only); an
embedded base64 image is decoded far enough to check it against the vision
limits (format, size, colour mode), a remote one cannot be read and only its URL
is checked.
"""

from __future__ import annotations

import re
from typing import Any

from .._words import plural
from ..providers._names import provider_name
from ..tokens._images import (
    MAX_IMAGE_BYTES,
    TRAINING_FORMATS,
    TRAINING_MODES,
    InvalidImageData,
    inspect_data_url,
)
from ._checks_common import (
    DEFAULT_PROFILE,
    CheckContext,
    Emit,
    MessageSummary,
    Profile,
    each_object,
    emit_unknown_keys,
    emit_wrong_type,
    shown,
)

__all__ = ["MAX_IMAGES", "check_content", "check_images", "content_text", "is_empty"]

_TEXT_PART_KEYS = frozenset({"type", "text"})
_IMAGE_PART_KEYS = frozenset({"type", "image_url"})
_IMAGE_URL_KEYS = frozenset({"url", "detail"})
_DETAILS = frozenset({"low", "high", "auto"})
_DATA_URL = re.compile(r"data:image/(?:jpeg|jpg|png|webp);base64,")
MAX_IMAGES = 10


def content_text(content: Any) -> str:
    """The text of a content value (a string or text parts), ignoring other parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            part["text"]
            for part in content
            if isinstance(part, dict) and isinstance(part.get("text"), str)
        )
    return ""


def is_empty(content: Any) -> bool:
    """No text and no image: an empty string, whitespace, empty text parts.

    An empty list is not "empty text" but invalid content (the API wants at least one part).
    """
    if isinstance(content, str):
        return not content.strip()
    if isinstance(content, list) and content:
        return all(
            isinstance(part, dict)
            and part.get("type") == "text"
            and isinstance(part.get("text"), str)
            and not part["text"].strip()
            for part in content
        )
    return False


def check_content(
    content: Any,
    role: str,
    path: str,
    emit: Emit,
    summary: MessageSummary,
    profile: Profile = DEFAULT_PROFILE,
) -> int:
    """Check a ``content`` value; return its text length (-1 when not text)."""
    if isinstance(content, str):
        return len(content)
    if not isinstance(content, list):
        emit_wrong_type(
            emit, "invalid_content", path, "content must be a string or a list of parts", content
        )
        return -1
    if not content:
        emit(
            "invalid_content",
            path,
            "content is an empty list; the API takes a string or at least one part",
            None,
        )
        return 0
    length = 0
    for where, part in each_object(
        content, path, emit, "invalid_content", "a content part must be an object"
    ):
        kind = part.get("type")
        if kind == "text":
            length += _check_text_part(part, where, emit)
        elif kind == "image_url":
            summary.images += 1
            _check_image_place(role, where, emit)
            _check_image(part, where, emit, profile)
        else:
            shown_type = "no type" if kind is None else f"type {kind!r}"
            emit(
                "invalid_content",
                f"{where}.type",
                f"unsupported content part ({shown_type}); fine-tuning takes text and "
                "image_url parts only (no audio, file or refusal parts)",
                None,
            )
    return length


def check_images(summary: MessageSummary, path: str, emit: Emit, ctx: CheckContext) -> None:
    """Per-example image rules: the count, and whether the model takes images at all."""
    if not summary.images:
        return
    if summary.images > MAX_IMAGES:
        emit(
            "too_many_images",
            path,
            f"{summary.images} images in one example; the maximum is {MAX_IMAGES}",
            None,
        )
    if ctx.vision is False:
        emit(
            "images_not_supported",
            path,
            f"the example has {plural(summary.images, 'image')} but {ctx.model} has no vision "
            "fine-tuning",
            None,
        )


def _check_text_part(part: dict[str, Any], where: str, emit: Emit) -> int:
    """Check a text part; return its length (0 when its text is not a string)."""
    text = part.get("text")
    if text is None:
        emit("invalid_content", f"{where}.text", "a text part needs a string text", None)
    elif not isinstance(text, str):
        emit_wrong_type(emit, "invalid_content", f"{where}.text", "text must be a string", text)
    emit_unknown_keys(emit, part, _TEXT_PART_KEYS, where, "a text part")
    return len(text) if isinstance(text, str) else 0


def _check_image_place(role: str, where: str, emit: Emit) -> None:
    """Images belong in user messages only."""
    if role == "assistant":
        emit("image_in_assistant", where, "images are not allowed in assistant messages", None)
    elif role == "tool":
        emit("invalid_content", where, "tool results may only hold text parts", None)
    elif role == "system" or role == "developer":
        emit(
            "image_in_system",
            where,
            f"images are not allowed in {role} messages, only in user messages",
            None,
        )


def _check_image(part: dict[str, Any], where: str, emit: Emit, profile: Profile) -> None:
    emit_unknown_keys(emit, part, _IMAGE_PART_KEYS, where, "an image part")
    image = part.get("image_url")
    if not isinstance(image, dict):
        emit_wrong_type(
            emit,
            "invalid_image_url",
            f"{where}.image_url",
            'image_url must be an object like {"url": "https://..."}',
            image,
        )
        return
    emit_unknown_keys(emit, image, _IMAGE_URL_KEYS, f"{where}.image_url", "image_url")
    _check_image_url(image.get("url"), f"{where}.image_url.url", emit, profile)
    detail = image.get("detail")
    if detail is not None and not (isinstance(detail, str) and detail in _DETAILS):
        emit(
            "invalid_image_detail",
            f"{where}.image_url.detail",
            f"detail must be low, high or auto, got {shown(detail)}",
            None,
        )


def _check_image_url(url: Any, where: str, emit: Emit, profile: Profile) -> None:
    """An https:// URL, or a base64 data URL of a JPEG, PNG or WEBP image.

    A provider that takes embedded images only (Together) refuses every other URL
    when it preprocesses the upload; it is reported here, before the upload.
    """
    if not isinstance(url, str):
        emit_wrong_type(emit, "invalid_image_url", where, "the image url must be a string", url)
    elif profile.base64_images and not url.startswith("data:"):
        cut = url[:40] + ("..." if len(url) > 40 else "")
        emit(
            "image_url_not_base64",
            where,
            f"image url {cut!r} is not a base64 data URL: {provider_name(profile.provider)} "
            "takes only images embedded as data:image/jpeg, png or webp;base64,...",
            None,
        )
    elif url.startswith("data:"):
        head = _DATA_URL.match(url)
        if head is None or head.end() == len(url):
            emit(
                "invalid_image_url",
                where,
                "a data URL must be data:image/jpeg, png or webp with ;base64, data",
                None,
            )
        else:
            _check_image_data(url, where, emit)
    elif not url.startswith("https://") or len(url) <= len("https://"):
        cut = url[:40] + ("..." if len(url) > 40 else "")
        emit(
            "invalid_image_url",
            where,
            f"image url {cut!r} is not an https:// URL or a base64 data URL",
            None,
        )


def _check_image_data(url: str, where: str, emit: Emit) -> None:
    """An embedded image against the vision limits; remote https images cannot be read."""
    try:
        header = inspect_data_url(url)
    except InvalidImageData as exc:
        emit("invalid_image_data", where, str(exc), None)
        return
    name = header.format.upper()
    if header.format not in TRAINING_FORMATS:
        emit(
            "invalid_image_data",
            where,
            f"the data is a {name} image; vision fine-tuning takes JPEG, PNG or WEBP",
            "convert the image to PNG or JPEG",
        )
    if header.nbytes > MAX_IMAGE_BYTES:
        emit(
            "image_too_large",
            where,
            f"the image is {header.nbytes / 2**20:.1f} MiB ({header.nbytes:,} bytes, "
            f"{header.width}x{header.height}); the limit is 10 MB per image",
            None,
        )
    if header.mode is not None and header.mode not in TRAINING_MODES:
        emit(
            "image_mode_not_rgb",
            where,
            f"the {name} image is in {header.mode} mode; vision fine-tuning takes RGB or RGBA",
            None,
        )
