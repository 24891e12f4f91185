"""Which API keys the fake accepts, and the 401s it answers to the rest.

OpenAI reads the key from ``Authorization: Bearer``; Azure OpenAI from the
``api-key`` header or a bearer (Entra ID) token. By default an OpenAI fake takes
any ``sk-`` key and an Azure fake any non-empty one, so a test that picks its own
key keeps working; ``api_keys`` narrows both to exactly those keys, so a test can
check how its code handles a rejected key. (Each API surface words its own 401s:
``KeyCheck.check`` is OpenAI's; Azure's are in ``_azure``.)

A wrong key gets OpenAI's 401 ``invalid_api_key``. Unlike the real service the
message does not quote even a masked key: ftkit's rule is that no API key
appears in a log or an error, and a test fake should not teach otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable

import httpx2

from ._clients import DEFAULT_API_KEY
from ._core import WireError

__all__ = ["KeyCheck"]

OPENAI_KEY_PREFIX = "sk-"

MISSING_KEY_MESSAGE = (
    "You didn't provide an API key. You need to provide your API key in an "
    "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
)
WRONG_KEY_MESSAGE = (
    "Incorrect API key provided. You can find your API key at "
    "https://platform.openai.com/account/api-keys."
)


class KeyCheck:
    """The keys one fake accepts: ``keys`` exactly, or by default the provider's key shape.

    Raises:
        ValueError: ``keys`` is a single string, empty, or holds a blank key.
    """

    def __init__(self, keys: Iterable[str] | None = None) -> None:
        if isinstance(keys, str):
            raise ValueError("api_keys takes a list of keys, not one string")
        self.keys: tuple[str, ...] | None = None if keys is None else tuple(keys)
        if self.keys is not None and (not self.keys or not all(k.strip() for k in self.keys)):
            raise ValueError("api_keys must hold at least one non-blank key")

    @property
    def client_key(self) -> str:
        """The key the fake's own clients send unless told otherwise (one it accepts)."""
        return self.keys[0] if self.keys else DEFAULT_API_KEY

    def check(self, request: httpx2.Request, *, azure: bool) -> None:
        """Pass a request presenting an accepted key.

        Raises:
            WireError: 401 without a key, 401 ``invalid_api_key`` with a wrong one.
        """
        key = presented_key(request, azure=azure)
        if key is None:
            raise WireError(401, MISSING_KEY_MESSAGE)
        if not self.accepts(key, azure=azure):
            raise WireError(401, WRONG_KEY_MESSAGE, code="invalid_api_key")

    def accepts(self, key: str, *, azure: bool) -> bool:
        if self.keys is not None:
            return key in self.keys
        return azure or (key.startswith(OPENAI_KEY_PREFIX) and len(key) > len(OPENAI_KEY_PREFIX))


def presented_key(request: httpx2.Request, *, azure: bool) -> str | None:
    """The key a request carries: Azure's ``api-key`` header first, then a bearer token."""
    if azure:
        key = request.headers.get("api-key", "").strip()
        if key:
            return key
    scheme, _, token = request.headers.get("authorization", "").strip().partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None
