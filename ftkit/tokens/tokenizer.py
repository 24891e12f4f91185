"""The seam between token counting and a tokenizer, and the choice of one per encoding.

:class:`~ftkit.tokens.TokenCounter` applies OpenAI's counting rules; what it
needs from a tokenizer is small: its name, which vocabulary it holds, and the
tokens of a text. :class:`Tokenizer` is that protocol, so a provider whose
models use another tokenizer (a Hugging Face ``tokenizer.json``, say) is one
more implementation passed to ``TokenCounter(model, tokenizer)``.

For tiktoken's encodings, :func:`get_tokenizer` picks the implementation:

- tiktoken, through its public API, is the reference and the default
  (:class:`TiktokenTokenizer`, on the hash-verified vocabulary of
  :mod:`ftkit.tokens.encoding`);
- the ``bpe-openai`` counter (:mod:`ftkit.tokens._fast`, the ``offline`` extra)
  accelerates it, but only when its vocabulary has the SHA-256 tiktoken pins
  *and* it gives tiktoken's counts on :data:`SELF_TEST`, a fixed set of tricky
  strings whose tiktoken counts are pinned in :data:`SELF_TEST_COUNTS` (the
  tests recount them with tiktoken, so counting them at runtime does not cost
  the half second it takes to build tiktoken's tables). Anything else falls
  back to tiktoken, with a warning when the accelerator was present but wrong.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from ._fast import accelerator
from ._once import once
from .encoding import get_encoding, vocabulary_sha256

if TYPE_CHECKING:
    import tiktoken

__all__ = ["SELF_TEST", "SELF_TEST_COUNTS", "TiktokenTokenizer", "Tokenizer", "get_tokenizer"]

logger = logging.getLogger("ftkit.tokens")


class Tokenizer(Protocol):
    """What token counting needs from a tokenizer.

    Text is encoded as plain text: a special-token string such as
    ``<|endoftext|>`` inside the data is ordinary text, never a control token,
    and any ``str`` is accepted (lone surrogates included).
    """

    @property
    def name(self) -> str:
        """The tokenizer's name, e.g. ``"o200k_base"``; it selects the tool-counting constants."""
        ...

    @property
    def vocabulary(self) -> str:
        """What identifies the vocabulary: the SHA-256 (hex) of its file for tiktoken encodings."""
        ...

    def encode(self, text: str) -> Sequence[int]:
        """The token ids of ``text``."""
        ...

    def count(self, text: str) -> int:
        """``len(encode(text))``, possibly without building the ids."""
        ...


class TiktokenTokenizer:
    """A tiktoken encoding behind the :class:`Tokenizer` protocol (``encode_ordinary``)."""

    __slots__ = ("_ordinary", "encoding", "vocabulary")

    def __init__(self, encoding: tiktoken.Encoding, vocabulary: str) -> None:
        """Wrap ``encoding``, whose vocabulary file has the SHA-256 ``vocabulary``."""
        self.encoding = encoding
        self.vocabulary = vocabulary
        self._ordinary = encoding.encode_ordinary

    @property
    def name(self) -> str:
        """The encoding's name."""
        return str(self.encoding.name)

    def __repr__(self) -> str:
        return f"TiktokenTokenizer({self.name!r})"

    def encode(self, text: str) -> list[int]:
        """``encoding.encode_ordinary(text)``."""
        tokens: list[int] = self._ordinary(text)
        return tokens

    def count(self, text: str) -> int:
        """The number of tokens of ``text``."""
        return len(self._ordinary(text))


SELF_TEST: tuple[str, ...] = (
    "Fine-tuning ftkit: naïve café, 東京 München 😀 число ñandú ✓ — it's 12345 tokens!\n\n"
    "  def f(x):\treturn x**2  <|endoftext|>",
    "I'M HERE, they'LL go; it’s 'S fine'd\u00a0\u3000\u2028\ufeff\u200d",
    "  \n\n\t  \r\n   x  \n \n\n\n",
    "1234567890 3.14159 1e-10 ٣٤٥ Ⅻ ² 𝔸",
    "👨\u200d👩\u200d👧\u200d👦 🇫🇷 👍🏽 é e\u0301 한국어 ไทย हिन्दी İı ǅ ﬁ ß",
    '{"k": [1, 2], "url": "https://example.com/a?b=c"}\n\tif (x) { return y; }',
    "a" * 300 + " " + "!" * 64 + " " + "ab" * 100,
    "<|endoftext|><|fim_prefix|><|fim_middle|><|fim_suffix|><|endofprompt|><|im_start|>",
)
"""Texts an accelerator must count as tiktoken does: scripts, case and contractions,
whitespace runs, digits, emoji sequences, combining marks, code, long runs of one
character, special-token strings."""

SELF_TEST_COUNTS: dict[str, tuple[int, ...]] = {
    "o200k_base": (42, 20, 7, 27, 33, 31, 96, 33),
    "cl100k_base": (46, 22, 7, 29, 55, 31, 148, 36),
}
"""tiktoken's ``len(encode_ordinary(text))`` of each :data:`SELF_TEST` text (tested)."""

_cache: dict[str, Tokenizer] = {}


def get_tokenizer(encoding_name: str) -> Tokenizer:
    """The tokenizer that counts ``encoding_name`` as tiktoken does, by the fastest verified means.

    Built once per process and encoding (worker processes forked afterwards share it).

    Raises:
        UsageError: an encoding ftkit does not support.
        TokenizerUnavailable: tiktoken is needed and no verified vocabulary is available.
    """
    return once(_cache, encoding_name, _choose)


def _choose(encoding_name: str) -> Tokenizer:
    pinned = vocabulary_sha256(encoding_name)
    fast = accelerator(encoding_name)
    if fast is not None:
        if fast.vocabulary != pinned:
            logger.warning(
                "ignoring bpe-openai for %s: its vocabulary does not have tiktoken's sha256",
                encoding_name,
            )
        elif not _passes_self_test(fast):
            logger.warning(
                "ignoring bpe-openai for %s: it does not count the self-test texts as tiktoken",
                encoding_name,
            )
        else:
            logger.debug("counting %s tokens with bpe-openai", encoding_name)
            return fast
    return TiktokenTokenizer(get_encoding(encoding_name), pinned)


def _passes_self_test(tokenizer: Tokenizer) -> bool:
    """Whether ``tokenizer`` gives tiktoken's count of every :data:`SELF_TEST` text."""
    expected = SELF_TEST_COUNTS.get(tokenizer.name)
    if expected is None:
        return False
    try:
        got = tuple(map(tokenizer.count, SELF_TEST))
    except Exception as exc:  # a broken accelerator must never break counting
        logger.debug("the %s self-test raised %s", tokenizer.name, type(exc).__name__)
        return False
    return got == expected
