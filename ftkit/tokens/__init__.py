"""Token counting with OpenAI's rules, behind a small :class:`Tokenizer` protocol.

tiktoken is the default tokenizer (offline, hash-verified vocabularies); another
provider's tokenizer is one more :class:`Tokenizer` given to :class:`TokenCounter`.
Open models (Together AI's) count with their own Hugging Face ``tokenizer.json`` and
chat template (:class:`OpenModelCounter`), or approximately without it
(:mod:`ftkit.tokens.open_models`).
"""

from .._public import publish
from ..providers import example_limit
from .counting import ExampleTokens, TokenCounter, count_tokens
from .encoding import base_model, encoding_for_model, encoding_name_for_model, get_encoding
from .open_models import (
    HFTokenizer,
    OpenModelCounter,
    StandInTokenizer,
    is_open_model,
    open_model_tokenizer,
    register_tokenizer,
)
from .stats import HistogramBin, TokenStats, TokenSummary
from .tokenizer import Tokenizer, get_tokenizer

__all__ = [
    "ExampleTokens",
    "HFTokenizer",
    "HistogramBin",
    "OpenModelCounter",
    "StandInTokenizer",
    "TokenCounter",
    "TokenStats",
    "TokenSummary",
    "Tokenizer",
    "base_model",
    "count_tokens",
    "encoding_for_model",
    "encoding_name_for_model",
    "example_limit",
    "get_encoding",
    "get_tokenizer",
    "is_open_model",
    "open_model_tokenizer",
    "register_tokenizer",
]

publish(__name__, globals(), __all__)
