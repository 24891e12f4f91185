"""The pipeline's backend for what the caller passed as ``client``, on the run's provider.

What a ``client`` may be is decided for every API in one place
(:func:`ftkit.backend._clients.resolve_client`); the pipeline adds one rule of its own: a
run is resumed on the provider it was started on.
"""

from __future__ import annotations

from typing import Any

from .._exceptions import RunConflict
from ..backend import Backend, OpenAIBackend
from ..backend._clients import resolve_client, traits_of_any
from ..backend._fireworks import FireworksBackend
from ..backend._together import TogetherBackend

__all__ = ["resolve_backend"]


def _check_provider(client: Any, expected: str | None, expected_api: str | None) -> None:
    if expected is None:
        return
    traits = traits_of_any(client)
    if traits.provider != expected:
        raise RunConflict(
            f"this run was started on {expected} but the client is for {traits.provider}; "
            f"resume it with a {expected} client"
        )
    # Azure's two APIs find an earlier job differently (metadata, or a run token in the
    # suffix): a run continues on the API it was started on.
    if expected_api is not None and traits.api != expected_api:
        raise RunConflict(
            f"this run was started on the {expected_api} API but the client speaks "
            f"{traits.describe()}; resume it with the same kind of client"
        )


def resolve_backend(
    client: Any,
    *,
    asynchronous: bool,
    expected_provider: str | None = None,
    expected_api: str | None = None,
) -> Backend:
    """The backend for ``client`` (an openai or together client, a :class:`Backend`, or None).

    Args:
        client: what the caller passed.
        asynchronous: whether the run is awaited (``AsyncFineTune`` / ``AsyncRun``),
            so an openai client must be an async one.
        expected_provider: the provider the run was started on, if any.
        expected_api: the API surface it was started on (``"azure-dated"``...), if recorded.

    Raises:
        UsageError: a client of the other kind, or an object that is neither a
            client nor a backend.
        RunConflict: the client is for another provider (or API surface) than the run's.
    """
    _check_provider(client, expected_provider, expected_api)
    twin = "ftkit.FineTune / ftkit.Run" if asynchronous else "ftkit.AsyncFineTune / ftkit.AsyncRun"
    return resolve_client(
        client,
        adapter=OpenAIBackend,
        protocol=Backend,
        asynchronous=asynchronous,
        twin=twin,
        sdk_adapters={"together": TogetherBackend, "fireworks": FireworksBackend},
    )
