"""Token counting with OpenAI's rules (tiktoken; offline, hash-verified vocabularies)."""

from .counting import ExampleTokens, TokenCounter, count_tokens
from .encoding import base_model, encoding_for_model, encoding_name_for_model, get_encoding
from .limits import example_limit
from .stats import HistogramBin, TokenStats, TokenSummary

__all__ = [
    "ExampleTokens",
    "HistogramBin",
    "TokenCounter",
    "TokenStats",
    "TokenSummary",
    "base_model",
    "count_tokens",
    "encoding_for_model",
    "encoding_name_for_model",
    "example_limit",
    "get_encoding",
]
