"""Near-duplicate examples: a 32-byte MinHash sketch per example, compared by LSH.

Exact duplicates are found by hashing whole lines (``_quality.py``); this module
finds examples that are *nearly* the same text. It is built for the validator's
single streaming pass and its forked workers:

- **What is compared.** Each example's text is its first user message and its
  last assistant message (a DPO pair: the input's first user message and the
  preferred output). Of each, at most ``_PIECE`` characters from the start and
  ``_PIECE`` from the end are kept, case-folded and split into words: at most
  about 32 words per example, however long it is (the cost is per word). Both
  ends of the prompt *and* of the answer take part, so examples that share a long
  instruction or a stock opening but differ later are not near-duplicates. The
  shingles are the word pairs (2-grams) of that sample; the similarity of two
  examples is the Jaccard similarity of their shingle sets. Pairs rather than
  3-grams because the sample is short: one changed word changes 2 of ~31 pairs
  (similarity 0.88) instead of 3 of ~30 triples (0.82).
- **The sketch** (:func:`sketch`): one-permutation MinHash. Each shingle is hashed
  once with Python's tuple hash of CRC-32 word ids; both are deterministic
  (unlike ``hash()`` of a string, salted per process), so a file gives the same
  findings on every run and in every worker. A hash falls in one of 32 bins by
  its top 5 bits; each bin keeps the low byte of its smallest hash (b-bit
  MinHash; 0 marks an empty bin). All of it runs in C-level builtins (``map``,
  ``sorted``, ``dict``), about 20-60 µs per example.
- **The index** (:class:`NearDuplicateIndex`): a worker appends each signature to
  a ``bytearray`` and its line to an ``array`` (40 bytes per example; no text is
  kept); the parent concatenates the chunks in file order, up to
  :data:`MAX_INDEXED` examples (the report says when that cap is reached).
- **The search** (:func:`find_pairs`, :func:`find_overlap`) runs once, in the
  parent, on the merged index: 8 LSH bands of 4 bins each. Per band the keys are
  sorted in C to find those that occur more than once, and each example whose key
  repeats is compared with the first and the latest earlier example of that key:
  linear in the number of examples, never quadratic. A band with fewer than 3
  filled bins (2 in an index of up to 50,000 examples) is not a key: it collides
  by chance. A candidate pair is verified
  on the two signatures: the share of bins, filled in either, whose bytes agree
  (the MinHash estimate of the Jaccard similarity).

A pair is reported when its estimated similarity is at least the threshold.
"""

from __future__ import annotations

import heapq
import zlib
from array import array
from collections.abc import Mapping
from itertools import compress, islice, pairwise, repeat
from operator import and_, eq
from typing import Any

__all__ = [
    "DEFAULT_THRESHOLD",
    "MAX_INDEXED",
    "MIN_THRESHOLD",
    "NearDuplicateIndex",
    "find_overlap",
    "find_pairs",
    "similarity",
    "sketch",
]

DEFAULT_THRESHOLD = 0.8
"""The similarity at or above which two examples are reported as near-duplicates.

In a sample of 32 words, one word changed in the middle changes 2 of 31 word
pairs: a similarity of 29/33 = 0.88; two words changed give about 0.77. 0.8
reports examples whose samples differ by about one word, never examples that
only share a topic or a template."""
AUTO_MAX_BYTES = 32 * 1024 * 1024
"""With ``near_duplicates="auto"`` (the default), files up to this size are searched.

The search costs about a quarter to a third of the pass's time (it runs in the
workers, in pure Python); on a small file that is a fraction of a second, on a
large one it is asked for explicitly."""
MIN_THRESHOLD = 0.5
"""Lower thresholds are refused: the bands find such pairs too unreliably to report them."""
MAX_INDEXED = 1_000_000
"""Examples indexed at most (40 MB); later examples are counted, not compared."""
TOP_PAIRS = 5
"""The most similar pairs kept for the report's quality section."""

_PIECE = 48
"""Characters taken from each end of the prompt and of the answer (about 8 words each)."""
_MIN_WORDS = 5
"""Samples with fewer words are not compared (too short to tell near from exact)."""
_BINS = 32
_BANDS = 8
SIGNATURE_BYTES = _BINS
_BIN_SPAN = repeat(1 << 59)
"""``divmod(hash, 2**59)`` is ``(bin, rest)``: the bin is the hash's top 5 bits (-16..15)."""
_BIN_NUMBERS = range(-16, 16)
_EMPTY = repeat(0)
_crc32 = zlib.crc32
_LOW_BYTE = repeat(255)
_MIN_KEY_BINS = 3
"""A band used as a key needs this many filled bins of its 4 in a large index: keys of
two bins collide by chance in about 1 of 65,536 pairs."""
_SMALL_INDEX = 50_000
"""Up to this many examples, bands of 2 filled bins are keys too: their chance collisions
(a few thousand pairs to verify) cost little, and more near pairs are found."""


def sketch(prompt: str, answer: str) -> bytes | None:
    """The 32-byte signature of an example's prompt and answer (``None``: too little text).

    One-permutation MinHash: each shingle's hash falls in one of 32 bins by its top
    bits; a bin keeps the low byte of its smallest hash (0: an empty bin).
    """
    if len(prompt) > 2 * _PIECE:
        prompt = f"{prompt[:_PIECE]} {prompt[-_PIECE:]}"
    if len(answer) > 2 * _PIECE:
        answer = f"{answer[:_PIECE]} {answer[-_PIECE:]}"
    words = f"{prompt}\n{answer}".lower().encode("utf-8", "surrogatepass").split()
    if len(words) < _MIN_WORDS:
        return None
    # Sorted from the largest down, so that dict() keeps the smallest hash of each bin.
    smallest = dict(
        map(divmod, sorted(map(hash, pairwise(map(_crc32, words))), reverse=True), _BIN_SPAN)
    )
    return bytes(map(and_, map(smallest.get, _BIN_NUMBERS, _EMPTY), _LOW_BYTE))


def _text(content: Any) -> str | None:
    """The text of a content value; ``None`` when it has none, or an image.

    An example about an image is not compared: two examples asking the same
    question about different charts are different examples, and the text cannot
    tell.
    """
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for part in content:
            if not isinstance(part, dict) or "image_url" in part:
                return None
            text = part.get("text")
            if isinstance(text, str):
                texts.append(text)
        return " ".join(texts) if texts else None
    return None


def example_texts(record: Mapping[str, Any], kind: str) -> tuple[str, str] | None:
    """The prompt (first user message) and answer (last assistant text) of a record."""
    if kind == "sft":
        messages = record.get("messages")
        answers = messages
    else:
        data = record.get("input")
        messages = data.get("messages") if isinstance(data, dict) else None
        answers = record.get("preferred_output")
    if not isinstance(messages, list) or not isinstance(answers, list):
        return None
    prompt = answer = None
    for message in messages:
        if isinstance(message, dict) and message.get("role") == "user":
            prompt = message.get("content")
            break
    for message in reversed(answers):
        if isinstance(message, dict) and message.get("role") == "assistant":
            answer = message.get("content")
            if answer:
                break
    prompt, answer = _text(prompt), _text(answer)
    if prompt is None or answer is None:
        return None
    return prompt, answer


class NearDuplicateIndex:
    """The signatures of one pass (or one chunk of it): 40 bytes per example, no text.

    Line numbers are relative to the chunk until :meth:`shift` makes them absolute.
    """

    __slots__ = ("dropped", "lines", "short", "signatures")

    def __init__(self) -> None:
        self.signatures = bytearray()
        self.lines: array[int] = array("Q")
        self.short = 0
        """Examples not compared: too little text, or an image in the prompt or answer."""
        self.dropped = 0
        """Examples past :data:`MAX_INDEXED`, not compared."""

    def __getstate__(self) -> tuple[bytearray, array[int], int, int]:
        return self.signatures, self.lines, self.short, self.dropped

    def __setstate__(self, state: tuple[bytearray, array[int], int, int]) -> None:
        self.signatures, self.lines, self.short, self.dropped = state

    def __len__(self) -> int:
        return len(self.lines)

    def add(self, line: int, record: Mapping[str, Any], kind: str) -> None:
        """Sketch one record (a valid SFT or DPO record) and index it."""
        texts = example_texts(record, kind)
        signature = sketch(*texts) if texts is not None else None
        if signature is None:
            self.short += 1
        elif len(self.lines) >= MAX_INDEXED:
            self.dropped += 1
        else:
            self.signatures += signature
            self.lines.append(line)

    def shift(self, offset: int) -> None:
        """Turn chunk-relative line numbers into file line numbers."""
        if offset:
            self.lines = array("Q", (line + offset for line in self.lines))

    def merge(self, other: NearDuplicateIndex) -> None:
        """Append a later chunk's index (its lines must already be absolute)."""
        room = max(0, MAX_INDEXED - len(self.lines))
        taken = min(room, len(other.lines))
        self.signatures += other.signatures[: taken * SIGNATURE_BYTES]
        self.lines.extend(other.lines[:taken])
        self.dropped += other.dropped + len(other.lines) - taken
        self.short += other.short


def similarity(first: bytes, second: bytes) -> float:
    """The estimated Jaccard similarity of two examples, from their signatures.

    One-permutation MinHash: the share of bins filled in either signature whose
    smallest hashes agree (bins empty in both say nothing and are left out).
    """
    if first == second:
        return 1.0
    filled = shared = 0
    for mine, theirs in zip(first, second, strict=True):
        if mine or theirs:
            filled += 1
            shared += mine == theirs
    return shared / filled if filled else 0.0


def _strong(key: int, minimum: int = _MIN_KEY_BINS) -> bool:
    """Whether a band key (4 bins) has enough filled bins to pair examples on."""
    return 4 - key.to_bytes(4, "little").count(0) >= minimum


def _min_bins(examples: int) -> int:
    return 2 if examples <= _SMALL_INDEX else _MIN_KEY_BINS


def _band_keys(signatures: bytes | bytearray, band: int) -> memoryview:
    """Band ``band`` of every signature: bins 4*band..4*band+3 read as one 32-bit key."""
    return memoryview(signatures).cast("I")[band::_BANDS]


def _signature(signatures: bytes | bytearray, index: int) -> bytes:
    start = index * SIGNATURE_BYTES
    return bytes(signatures[start : start + SIGNATURE_BYTES])


class _Best:
    """The most similar partner found for each example, among pairs at the threshold."""

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold
        self.found: dict[int, tuple[float, int]] = {}

    def offer(self, index: int, other: int, score: float) -> None:
        if score >= self.threshold:
            known = self.found.get(index)
            # The most similar partner; among equals, the earliest.
            if known is None or (score, -other) > (known[0], -known[1]):
                self.found[index] = (score, other)


def find_pairs(
    index: NearDuplicateIndex, threshold: float, skip: frozenset[int] | set[int] = frozenset()
) -> list[tuple[int, int, float]]:
    """``(line, earlier_line, similarity)`` for each example that nearly repeats an earlier one.

    Each example is reported once, with the most similar earlier example found;
    examples whose line is in ``skip`` (exact duplicates, reported as such) are
    neither reported nor used as partners. Sorted by line.
    """
    n = len(index)
    signatures = index.signatures
    lines = index.lines
    best = _Best(threshold)
    minimum = _min_bins(n)
    for band in range(_BANDS):
        keys = _band_keys(signatures, band)
        # Values that occur more than once, found by sorting in C (no dict of n keys).
        ordered = sorted(keys)
        repeated = {
            key
            for key in compress(ordered, map(eq, ordered, islice(ordered, 1, None)))
            if _strong(key, minimum)
        }
        del ordered
        if not repeated:
            continue
        first: dict[int, int] = {}
        latest: dict[int, int] = {}
        for i in compress(range(n), map(repeated.__contains__, keys)):
            if lines[i] in skip:
                continue
            key = keys[i]
            head = first.get(key)
            if head is None:
                first[key] = latest[key] = i
                continue
            mine = _signature(signatures, i)
            for other in {head, latest[key]}:
                best.offer(i, other, similarity(mine, _signature(signatures, other)))
            latest[key] = i
    return sorted((lines[i], lines[other], score) for i, (score, other) in best.found.items())


def find_overlap(
    train: NearDuplicateIndex,
    validation: NearDuplicateIndex,
    threshold: float,
    skip: frozenset[int] | set[int] = frozenset(),
) -> list[tuple[int, int, float]]:
    """``(validation_line, training_line, similarity)`` for validation examples near training ones.

    ``skip`` holds validation lines already reported as exact overlap. Memory is
    proportional to the validation file: each band's validation keys form a set,
    and the training keys are streamed past it.
    """
    best = _Best(threshold)
    minimum = _min_bins(len(train))
    for band in range(_BANDS):
        wanted_keys = _band_keys(validation.signatures, band)
        wanted = set(wanted_keys)
        train_keys = _band_keys(train.signatures, band)
        first: dict[int, int] = {}
        for t in compress(range(len(train)), map(wanted.__contains__, train_keys)):
            first.setdefault(train_keys[t], t)
        for v in compress(range(len(validation)), map(first.__contains__, wanted_keys)):
            key = wanted_keys[v]
            if validation.lines[v] in skip or not _strong(key, minimum):
                continue
            t = first[key]
            score = similarity(
                _signature(validation.signatures, v), _signature(train.signatures, t)
            )
            best.offer(v, t, score)
    return sorted(
        (validation.lines[v], train.lines[t], score) for v, (score, t) in best.found.items()
    )


def top_pairs(pairs: list[tuple[int, int, float]], k: int = TOP_PAIRS) -> list[dict[str, Any]]:
    """The ``k`` most similar pairs as report data: ``{"line", "other", "similarity"}``."""
    chosen = heapq.nsmallest(k, pairs, key=lambda pair: (-pair[2], pair[0]))
    return [
        {"line": line, "other": other, "similarity": round(score, 2)}
        for line, other, score in chosen
    ]


def summary(
    index: NearDuplicateIndex, threshold: float, pairs: list[tuple[int, int, float]]
) -> dict[str, Any]:
    """The report's ``stats["near_duplicates"]``: threshold, coverage, pair count, top pairs."""
    return {
        "threshold": threshold,
        "compared": len(index),
        "not_compared": index.short,
        "not_indexed": index.dropped,
        "pairs": len(pairs),
        "top": top_pairs(pairs),
    }
