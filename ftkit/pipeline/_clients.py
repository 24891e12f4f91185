"""The pipeline's backend for what the caller passed as ``client``, on the run's provider.

What a ``client`` may be is decided for every API in one place
(:func:`ftkit.backend._clients.resolve_client`); the pipeline adds one rule of its own: a
run is resumed on the provider it was started on.
"""

from __future__ import annotations

from typing import Any

from .._exceptions import RunConflict
from ..backend import Backend, OpenAIBackend
from ..backend._clients import provider_of, resolve_client

__all__ = ["resolve_backend"]


def _check_provider(client: Any, expected: str | None) -> None:
    if expected is None:
        return
    actual = provider_of(client)
    if actual != expected:
        raise RunConflict(
            f"this run was started on {expected} but the client is for {actual}; resume it with "
            f"a {expected} client"
        )


def resolve_backend(
    client: Any, *, asynchronous: bool, expected_provider: str | None = None
) -> Backend:
    """The backend for ``client`` (an openai client, a :class:`Backend`, or None).

    Args:
        client: what the caller passed.
        asynchronous: whether the run is awaited (``AsyncFineTune`` / ``AsyncRun``),
            so an openai client must be an async one.
        expected_provider: the provider the run was started on, if any.

    Raises:
        UsageError: a client of the other kind, or an object that is neither a
            client nor a backend.
        RunConflict: the client is for another provider than the run's.
    """
    _check_provider(client, expected_provider)
    twin = "ftkit.FineTune / ftkit.Run" if asynchronous else "ftkit.AsyncFineTune / ftkit.AsyncRun"
    return resolve_client(
        client, adapter=OpenAIBackend, protocol=Backend, asynchronous=asynchronous, twin=twin
    )
