"""Text that must not reach training: special tokens, credentials, lone surrogates.

Every line is tested on its raw bytes first (``line_has_*``: a ``memchr`` or a
literal search, nearly free); only the rare line that passes is decoded and
walked string by string to name the JSON path (``report_*``). The prefilters
never miss what the full scans find (a property test holds them to it).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

__all__ = [
    "find_secrets",
    "find_special_tokens",
    "line_has_secret",
    "line_has_special_token",
    "line_has_surrogate_escape",
    "report_lone_surrogates",
    "report_secrets",
    "report_special_tokens",
    "walk_strings",
]

_Emit = Callable[[str, str, str, "str | None"], None]

_SPECIAL = re.compile(
    r"<\|(?:endoftext|fim_prefix|fim_middle|fim_suffix|endofprompt|im_start|im_end|im_sep)\|>"
)
_SPECIAL_BYTES = re.compile(_SPECIAL.pattern.encode())

# (label, literal prefix, pattern). Each pattern starts with its literal, so the regex engine
# can jump to candidates, and checks the character before it with a lookbehind placed after
# the literal; a line is only searched for a pattern when its literal occurs at all.
_SECRET_PATTERNS: tuple[tuple[str, str, str], ...] = (
    (
        "an OpenAI-style API key (sk-...)",
        "sk-",
        r"sk-(?<![A-Za-z0-9_-]sk-)(?:proj-|svcacct-|admin-|ant-)?[A-Za-z0-9_-]{20,}",
    ),
    ("an AWS access key id", "AKIA", r"AKIA(?<![A-Z0-9]AKIA)[0-9A-Z]{16}(?![A-Z0-9])"),
    ("an AWS access key id", "ASIA", r"ASIA(?<![A-Z0-9]ASIA)[0-9A-Z]{16}(?![A-Z0-9])"),
    ("a private key", "PRIVATE KEY-----", r"-----BEGIN (?:[A-Z]+ )*PRIVATE KEY-----"),
    ("a GitHub token", "gh", r"gh[pousr]_(?<![A-Za-z0-9_]gh[pousr]_)[A-Za-z0-9]{36,}"),
    ("a GitHub token", "github_pat_", r"github_pat_[A-Za-z0-9_]{40,}"),
    ("a Slack token", "xox", r"xox[abprs]-(?<![A-Za-z0-9]xox[abprs]-)[A-Za-z0-9-]{10,}"),
    ("a Google API key", "AIza", r"AIza(?<![A-Za-z0-9]AIza)[0-9A-Za-z_-]{35}"),
    ("a Stripe secret key", "_live_", r"[sr]k_live_(?<![A-Za-z0-9][sr]k_live_)[0-9A-Za-z]{20,}"),
)
_SECRETS = tuple(
    (label, literal, re.compile(pattern)) for label, literal, pattern in _SECRET_PATTERNS
)
# Every match of a pattern contains its group's guard byte. ``byte in data`` is a memchr,
# ten times faster than a substring search, so a line without ``-``, ``_`` or ``A`` skips
# the substring searches of that group entirely (the result is the same: a pattern cannot
# match a line that lacks a byte all its matches contain).
_SECRET_GUARDS: dict[str, bytes] = {
    "sk-": b"-",
    "PRIVATE KEY-----": b"-",
    "xox": b"-",  # xox[abprs]-
    "gh": b"_",  # gh[pousr]_
    "github_pat_": b"_",
    "_live_": b"_",
    "AKIA": b"A",
    "ASIA": b"A",
    "AIza": b"A",
}
# Patterns that start with their literal are searched directly: the regex engine finds a
# literal prefix as fast as ``in`` does. The others are searched only when their literal
# occurs (``None``: no gate).
_UNGATED = frozenset({"sk-", "xox", "gh", "github_pat_", "AKIA", "ASIA", "AIza"})
_SecretGroup = tuple[bytes, tuple[tuple["bytes | None", "re.Pattern[bytes]"], ...]]
_SECRET_GROUPS: tuple[_SecretGroup, ...] = tuple(
    (
        guard,
        tuple(
            (None if literal in _UNGATED else literal.encode(), re.compile(pattern.encode()))
            for _, literal, pattern in _SECRET_PATTERNS
            if _SECRET_GUARDS[literal] == guard
        ),
    )
    for guard in dict.fromkeys(_SECRET_GUARDS.values())
)
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD]")


def line_has_special_token(data: bytes) -> bool:
    """Fast test of a raw JSON line for special tokens (the caller then finds where)."""
    return b"|" in data and b"<|" in data and _SPECIAL_BYTES.search(data) is not None


def line_has_surrogate_escape(data: bytes) -> bool:
    """Whether a raw JSON line may hold an escaped surrogate (``\\ud800``-``\\udfff``)."""
    return b"\\" in data and _SURROGATE_ESCAPE.search(data) is not None


def line_has_secret(data: bytes) -> bool:
    """Fast test of a raw JSON line for anything that looks like a credential."""
    for guard, group in _SECRET_GROUPS:
        if guard in data:
            for gate, pattern in group:
                if (gate is None or gate in data) and pattern.search(data) is not None:
                    return True
    return False


def find_special_tokens(text: str) -> list[str]:
    """The distinct special tokens in ``text``, in order of appearance."""
    return list(dict.fromkeys(_SPECIAL.findall(text)))


def find_secrets(text: str) -> list[str]:
    """Labels of the credential kinds in ``text`` (never the secret itself)."""
    labels = [
        label for label, literal, pattern in _SECRETS if literal in text and pattern.search(text)
    ]
    return list(dict.fromkeys(labels))


def walk_strings(obj: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every string value (and object key) in a JSON value, with its JSON path.

    Iterative, so a deeply nested line cannot exhaust the call stack.
    """
    stack: list[tuple[str, Any]] = [(path, obj)]
    while stack:
        here, value = stack.pop()
        if isinstance(value, str):
            yield here, value
        elif isinstance(value, dict):
            for key, item in reversed(list(value.items())):
                child = f"{here}.{key}" if here else str(key)
                if isinstance(key, str):
                    yield child, key
                stack.append((child, item))
        elif isinstance(value, list):
            for index in range(len(value) - 1, -1, -1):
                stack.append((f"{here}[{index}]", value[index]))


def report_special_tokens(obj: dict[str, Any], emit: _Emit) -> None:
    """Emit ``special_token`` for every string of a record that holds one."""
    for path, text in walk_strings(obj):
        if "<|" in text:
            found = find_special_tokens(text)
            if found:
                emit(
                    "special_token",
                    path,
                    f"the text contains {', '.join(found)}, which the service rejects",
                    None,
                )


def report_lone_surrogates(obj: dict[str, Any], emit: _Emit) -> None:
    """Emit ``invalid_unicode`` for every string that holds an unpaired surrogate."""
    for path, text in walk_strings(obj):
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            emit(
                "invalid_unicode",
                path,
                "the text contains an unpaired surrogate escape (\\ud800-\\udfff)",
                None,
            )


def report_secrets(obj: dict[str, Any], emit: _Emit) -> None:
    """Emit ``possible_secret`` for every string that looks like it holds a credential."""
    for path, text in walk_strings(obj):
        labels = find_secrets(text)
        if labels:
            emit(
                "possible_secret",
                path,
                f"the text contains what looks like {' and '.join(labels)}",
                None,
            )
