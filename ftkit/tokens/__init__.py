"""Token counting with OpenAI's rules (tiktoken; offline, hash-verified vocabularies)."""

from .encoding import base_model, encoding_for_model, encoding_name_for_model, get_encoding

__all__ = ["base_model", "encoding_for_model", "encoding_name_for_model", "get_encoding"]
