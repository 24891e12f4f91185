"""Token counting with OpenAI's rules, behind a small :class:`Tokenizer` protocol.

tiktoken is the default tokenizer (offline, hash-verified vocabularies); another
provider's tokenizer is one more :class:`Tokenizer` given to :class:`TokenCounter`.
"""

from .._public import publish
from ..providers import example_limit
from .counting import ExampleTokens, TokenCounter, count_tokens
from .encoding import base_model, encoding_for_model, encoding_name_for_model, get_encoding
from .stats import HistogramBin, TokenStats, TokenSummary
from .tokenizer import Tokenizer, get_tokenizer

__all__ = [
    "ExampleTokens",
    "HistogramBin",
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
]

publish(__name__, globals(), __all__)
