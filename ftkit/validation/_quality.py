"""Dataset-quality signals gathered during the pass, in bounded, mergeable form.

Everything here is built to be filled by one chunk of a file in a worker
process and merged in the parent afterwards, with memory that does not grow
with the size of the examples:

- the duplicate index stores an 8-byte hash and a line number per example
  (two flat arrays), never the records;
- length distributions are log-bucket histograms (about 5 % precision);
- system prompts are tracked by hash, for a bounded number of distinct prompts;
- the longest responses are a small top-k list.
"""

from __future__ import annotations

import hashlib
import heapq
import math
import re
from array import array
from collections import Counter
from collections.abc import Iterator
from typing import Any

__all__ = [
    "Histogram",
    "QualityStats",
    "find_secrets",
    "find_special_tokens",
    "line_has_secret",
    "line_has_special_token",
    "line_has_surrogate_escape",
    "stable_hash",
    "walk_strings",
]

# ---------------------------------------------------------------- hashing


def stable_hash(data: bytes) -> int:
    """An 8-byte hash equal in every process (``hash()`` is salted per process).

    SHA-256 is used for speed, not security: CPUs with SHA instructions hash a line
    two to three times faster with it than with BLAKE2b.
    """
    return int.from_bytes(_sha256(data).digest()[:8], "little")


_sha256 = hashlib.sha256


# ---------------------------------------------------------------- histogram

_RATIO = 1.1
_LOG_RATIO = math.log(_RATIO)
_log = math.log


class Histogram:
    """A mergeable histogram of non-negative numbers with geometric buckets.

    Quantiles are exact for 0 and within about 5 % otherwise; min, max, mean
    and count are exact.
    """

    __slots__ = ("buckets", "count", "maximum", "minimum", "total")

    def __init__(self) -> None:
        self.buckets: Counter[int] = Counter()
        self.count = 0
        self.total = 0
        self.minimum: int | None = None
        self.maximum: int | None = None

    def add(self, value: int) -> None:
        """Record one value."""
        self.buckets[-1 if value <= 0 else int(_log(value) / _LOG_RATIO)] += 1
        self.count += 1
        self.total += value
        if self.minimum is None or value < self.minimum:
            self.minimum = value
        if self.maximum is None or value > self.maximum:
            self.maximum = value

    def merge(self, other: Histogram) -> None:
        """Add another histogram's values to this one."""
        self.buckets.update(other.buckets)
        self.count += other.count
        self.total += other.total
        for value in (other.minimum, other.maximum):
            if value is not None:
                if self.minimum is None or value < self.minimum:
                    self.minimum = value
                if self.maximum is None or value > self.maximum:
                    self.maximum = value

    def quantile(self, q: float) -> int | None:
        """The value below which a fraction ``q`` of the values lie (approximate)."""
        if not self.count:
            return None
        rank = q * (self.count - 1)
        seen = 0
        for bucket in sorted(self.buckets):
            seen += self.buckets[bucket]
            if seen > rank:
                if bucket < 0:
                    return 0
                middle: float = _RATIO ** (bucket + 0.5)
                assert self.minimum is not None and self.maximum is not None
                return max(self.minimum, min(self.maximum, round(middle)))
        return self.maximum

    def summary(self) -> dict[str, Any]:
        """``count, min, max, mean, p10, p50, p90`` as plain JSON values."""
        return {
            "count": self.count,
            "min": self.minimum,
            "max": self.maximum,
            "mean": round(self.total / self.count, 1) if self.count else None,
            "p10": self.quantile(0.1),
            "p50": self.quantile(0.5),
            "p90": self.quantile(0.9),
        }


# ---------------------------------------------------------------- text scanning

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


# ---------------------------------------------------------------- per-pass stats

_MAX_PROMPTS = 256
_TOP_LONG = 10
NO_SYSTEM = 0
"""Key of "no system prompt" in the system-prompt table (real hashes are never 0 in practice)."""
_prompt_keys: dict[str, int] = {}
"""Hashes of recent system prompts, shared by the passes of a process (a pure cache)."""


class QualityStats:
    """Balance, diversity and consistency signals of one pass (or one chunk of it).

    Line numbers are relative to the chunk until :meth:`shift` makes them absolute.
    """

    def __init__(self) -> None:
        self.roles: Counter[str] = Counter()
        self.messages_per_example = Histogram()
        self.response_chars = Histogram()
        self.hashes: array[int] = array("Q")
        self.hash_lines: array[int] = array("Q")
        # system prompt hash -> [count, first line]; NO_SYSTEM for examples without one
        self.prompts: dict[int, list[int]] = {}
        self.prompts_dropped = 0
        self.longest: list[tuple[int, int]] = []  # min-heap of (chars, -line)

    # -- feeding
    def add_example(self, line: int, data: bytes) -> None:
        """Index an example for duplicate detection."""
        self.hashes.append(stable_hash(data))
        self.hash_lines.append(line)

    def add_system_prompt(self, line: int, text: str | None) -> None:
        """Record the example's system prompt (``None``: the example has none)."""
        if text is None:
            key = NO_SYSTEM
        else:
            # The same few prompts recur on most lines: hash each once.
            key = _prompt_keys.get(text, 0)
            if not key:
                key = stable_hash(text.encode("utf-8", "surrogatepass"))
                if len(_prompt_keys) >= _MAX_PROMPTS:
                    _prompt_keys.clear()
                _prompt_keys[text] = key
        entry = self.prompts.get(key)
        if entry is not None:
            entry[0] += 1
        elif len(self.prompts) < _MAX_PROMPTS:
            self.prompts[key] = [1, line]
        else:
            self.prompts_dropped += 1

    def add_response(self, line: int, chars: int) -> None:
        """Record the length of one trained assistant response."""
        self.response_chars.add(chars)
        item = (chars, -line)
        if len(self.longest) < _TOP_LONG:
            heapq.heappush(self.longest, item)
        elif item > self.longest[0]:
            heapq.heapreplace(self.longest, item)

    # -- combining
    def shift(self, offset: int) -> None:
        """Turn chunk-relative line numbers into file line numbers."""
        if not offset:
            return
        self.hash_lines = array("Q", (line + offset for line in self.hash_lines))
        for entry in self.prompts.values():
            entry[1] += offset
        self.longest = [(chars, neg - offset) for chars, neg in self.longest]
        heapq.heapify(self.longest)

    def merge(self, other: QualityStats) -> None:
        """Append a later chunk's stats (its lines must already be absolute)."""
        self.roles.update(other.roles)
        self.messages_per_example.merge(other.messages_per_example)
        self.response_chars.merge(other.response_chars)
        self.hashes.extend(other.hashes)
        self.hash_lines.extend(other.hash_lines)
        for key, (count, first) in other.prompts.items():
            entry = self.prompts.get(key)
            if entry is not None:
                entry[0] += count
                entry[1] = min(entry[1], first)
            elif len(self.prompts) < _MAX_PROMPTS:
                self.prompts[key] = [count, first]
            else:
                self.prompts_dropped += count
        self.prompts_dropped += other.prompts_dropped
        for item in other.longest:
            if len(self.longest) < _TOP_LONG:
                heapq.heappush(self.longest, item)
            elif item > self.longest[0]:
                heapq.heapreplace(self.longest, item)

    # -- conclusions
    def duplicates(self) -> Iterator[tuple[int, int]]:
        """``(line, first_line)`` for every example that repeats an earlier one, by line.

        The hashes are sorted once to find the values that occur more than once
        (usually few); one pass in file order then pairs each repeat with the first
        line of its value. Transient memory is one sorted list of the hashes, with
        no dictionary of records and no per-example tuples.
        """
        ordered = sorted(self.hashes)
        repeated: set[int] = set()
        previous: int | None = None
        for value in ordered:
            if value == previous:
                repeated.add(value)
            previous = value
        del ordered
        first: dict[int, int] = {}
        pairs: list[tuple[int, int]] = []
        for value, line in zip(self.hashes, self.hash_lines, strict=True):
            if value in repeated:
                seen = first.get(value)
                if seen is None:
                    first[value] = line
                else:
                    pairs.append((line, seen))
        pairs.sort()
        yield from pairs

    def overlap(self, validation: QualityStats) -> Iterator[tuple[int, int]]:
        """``(validation_line, training_line)`` for validation examples found in training."""
        wanted: dict[int, int] = {}
        for value, line in zip(validation.hashes, validation.hash_lines, strict=True):
            wanted.setdefault(value, line)
        found: dict[int, int] = {}
        for value, line in zip(self.hashes, self.hash_lines, strict=True):
            if value in wanted and value not in found:
                found[value] = line
        for value, line in zip(validation.hashes, validation.hash_lines, strict=True):
            if value in found:
                yield line, found[value]

    def longest_responses(self) -> list[tuple[int, int]]:
        """``(line, chars)`` of the longest trained responses, longest first."""
        return [(-neg, chars) for chars, neg in sorted(self.longest, reverse=True)]

    def summary(self) -> dict[str, Any]:
        """Distributions for the report: roles, messages per example, response lengths."""
        return {
            "roles": dict(sorted(self.roles.items())),
            "messages_per_example": self.messages_per_example.summary(),
            "assistant_response_chars": self.response_chars.summary(),
            "distinct_system_prompts": sum(1 for key in self.prompts if key != NO_SYSTEM)
            + (1 if self.prompts_dropped else 0),
        }
