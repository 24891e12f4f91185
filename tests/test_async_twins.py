"""Every public sync call that does I/O has an async twin with the same signature.

One naming convention: an async function is the sync one with an ``a`` prefix
(``evaluate`` / ``aevaluate``, ``wait_for_job`` / ``await_for_job``); an async
class is the sync one with an ``Async`` prefix and the same method names
(``Run`` / ``AsyncRun``); an async method of a sync class sits beside its sync
one with an ``a`` prefix (``RunResult.evaluate`` / ``aevaluate``). "The same
signature" means the same parameter names, kinds and defaults (annotations may
differ: ``await_for_job`` takes a ``retrieve`` that returns an awaitable).

A call does I/O when it takes something that talks to an API (:data:`IO_PARAMETERS`)
or belongs to a class that has an async twin. Anything else is pure (records,
reports, policies, token counting, reading local files) and has no twin, and so
is a sans-IO program (a generator function such as ``polling.waiting``: it only
yields operations, and its sync and async drivers are the twins).

A backend is one class for both kinds of client: each of its methods builds a
``Request`` whose ``run`` / ``arun`` are the twins (checked like any pair), so
a method that builds a request is its own twin. Once a class serves its calls
that way, every other public method of it must have a twin too: a method
added to ``OpenAIBackend`` that sends by itself is caught. The other
exceptions are listed in :data:`NO_TWIN`, each with its reason.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import pytest

import ftkit
from ftkit.backend import Request

#: Parameters through which a call reaches an API: a client, a backend, or a call into one.
IO_PARAMETERS = frozenset({"client", "backend", "retrieve", "list_events"})

#: Sync calls (by ``__qualname__``) that take an I/O parameter, or are methods of a backend,
#: but send nothing and so need no twin.
NO_TWIN = {
    "provider_of": "reads the client's type; sends nothing",
    "resolve_client": "wraps a client in an adapter; sends nothing",
    "resolve_chat": "wraps a client in the chat adapter; sends nothing",
    "RunResult.with_client": "a copy of a value, holding another client",
    "RunResult.from_manifest": "reads the local manifest; the client is only kept",
    "FireworksBackend.dataset_name": "spells a resource name from the account; sends nothing",
    "FireworksBackend.job_name": "spells a resource name from the job's identity; sends nothing",
}


def _public_modules() -> Iterator[ModuleType]:
    yield ftkit
    for info in pkgutil.walk_packages(ftkit.__path__, "ftkit."):
        if not any(part.startswith("_") for part in info.name.split(".")[1:]):
            yield importlib.import_module(info.name)


def _public(namespace: Any) -> dict[str, Any]:
    """The public functions and classes of a module (its ``__all__``) or a class."""
    if isinstance(namespace, ModuleType):
        names = getattr(namespace, "__all__", [])
        return {
            n: getattr(namespace, n)
            for n in names
            if not isinstance(getattr(namespace, n), ModuleType)
        }
    return {
        name: inspect.getattr_static(namespace, name)
        for name in dir(namespace)
        if not name.startswith("_") and _callable(inspect.getattr_static(namespace, name))
    }


def _callable(member: Any) -> bool:
    return isinstance(member, (staticmethod, classmethod)) or inspect.isfunction(member)


def _function(member: Any) -> Callable[..., Any]:
    return member.__func__ if isinstance(member, (staticmethod, classmethod)) else member


def _is_async(member: Any) -> bool:
    fn = _function(member)
    return inspect.iscoroutinefunction(fn) or inspect.isasyncgenfunction(fn)


def _parameters(member: Any) -> list[tuple[str, Any, Any]]:
    signature = inspect.signature(_function(member))
    return [(p.name, p.kind, p.default) for p in signature.parameters.values()]


def _takes_io(member: Any) -> bool:
    try:
        return bool(IO_PARAMETERS & set(inspect.signature(_function(member)).parameters))
    except (TypeError, ValueError):  # pragma: no cover - a builtin without a signature
        return False


Pair = tuple[str, Any, str, Any]
"""(sync name, sync member, async name, async member); a missing twin is None."""


def _builds_request(member: Any) -> bool:
    """Whether ``member`` returns a ``Request``: it sends nothing, its request has the twins."""
    try:
        returns = inspect.signature(_function(member)).return_annotation
    except (TypeError, ValueError):  # pragma: no cover - a builtin without a signature
        return False
    if isinstance(returns, str):  # postponed annotations: "Request[Job]"
        return returns.split("[", 1)[0].rsplit(".", 1)[-1] == Request.__name__
    return getattr(returns, "__origin__", returns) is Request


def _pairs_in(
    owner: str, members: dict[str, Any], *, serves_requests: bool = False
) -> Iterator[Pair]:
    """The twin pairs among ``members`` of ``owner`` (a module, or a sync class).

    In a class that ``serves_requests`` (one of its methods builds a ``Request``),
    every method that builds none does I/O.
    """
    for name, member in members.items():
        where = f"{owner}.{name}"
        if inspect.isclass(member):
            if name.startswith("Async") and len(name) > len("Async"):
                yield f"{owner}.{name[5:]}", members.get(name[5:]), where, member
            elif f"Async{name}" not in members:
                methods = _public(member)  # evaluate beside aevaluate; a backend's requests
                serving = any(_builds_request(method) for method in methods.values())
                yield from _pairs_in(where, methods, serves_requests=serving)
        elif _is_async(member):
            sync = name[1:] if name.startswith("a") else f"<{name} lacks the 'a' prefix>"
            yield f"{owner}.{sync}", members.get(sync), where, member
        elif f"a{name}" not in members and (
            _does_io(member)
            or (serves_requests and not _builds_request(member) and not _named_exempt(member))
        ):
            yield where, member, f"{owner}.a{name}", None


def _named_exempt(member: Any) -> bool:
    return getattr(_function(member), "__qualname__", "") in NO_TWIN


def _does_io(member: Any) -> bool:
    """An I/O parameter, and none of: a sans-IO program (a generator), a request
    builder, a call in :data:`NO_TWIN`."""
    fn = _function(member)
    exempt = _named_exempt(member) or inspect.isgeneratorfunction(fn) or _builds_request(member)
    return _takes_io(member) and not exempt


def _twin_pairs() -> list[Pair]:
    """Every pair in ftkit's public modules, each once (re-exports name the first home)."""
    pairs: dict[tuple[object, object], Pair] = {}
    for module in _public_modules():
        for pair in _pairs_in(module.__name__, _public(module)):
            sync_name, sync, async_name, asynchronous = pair
            key = (
                id(sync) if sync is not None else sync_name.rsplit(".", 1)[-1],
                id(asynchronous) if asynchronous is not None else async_name.rsplit(".", 1)[-1],
            )
            pairs.setdefault(key, pair)
    return list(pairs.values())


def _problems(sync_name: str, sync: Any, async_name: str, asynchronous: Any) -> list[str]:
    if sync is None:
        return [f"{async_name} has no sync twin {sync_name}"]
    if asynchronous is None:
        return [f"{sync_name} does I/O but has no async twin {async_name}"]
    if not inspect.isclass(sync):
        if not _is_async(asynchronous):
            return [f"{async_name} is not a coroutine function"]
        if _parameters(sync) != _parameters(asynchronous):
            return [
                f"{async_name}{inspect.signature(_function(asynchronous))} differs from "
                f"{sync_name}{inspect.signature(_function(sync))}"
            ]
        return []
    sync_methods, async_methods = _public(sync), _public(asynchronous)
    problems = [
        f"{async_name}.{n} is missing" for n in sorted(set(sync_methods) - set(async_methods))
    ] + [f"{sync_name}.{n} is missing" for n in sorted(set(async_methods) - set(sync_methods))]
    for name in sorted(set(sync_methods) & set(async_methods)):
        if _parameters(sync_methods[name]) != _parameters(async_methods[name]):
            problems.append(f"{async_name}.{name} and {sync_name}.{name} differ in signature")
    return problems


def test_every_io_call_has_an_async_twin_with_the_same_signature() -> None:
    problems = [problem for pair in _twin_pairs() for problem in _problems(*pair)]
    assert problems == []


def test_the_check_finds_pairs() -> None:
    names = {(sync, asynchronous) for sync, _, asynchronous, _ in _twin_pairs()}
    assert ("ftkit.evaluate", "ftkit.aevaluate") in names
    assert ("ftkit.Run", "ftkit.AsyncRun") in names
    assert ("ftkit.RetryPolicy.call", "ftkit.RetryPolicy.acall") in names
    assert ("ftkit.RunResult.evaluate", "ftkit.RunResult.aevaluate") in names
    assert ("ftkit.backend.Request.run", "ftkit.backend.Request.arun") in names


def test_a_backend_is_its_own_twin() -> None:
    """Every method of the one adapter builds a request (whose run/arun are checked above)."""
    for adapter in (ftkit.backend.OpenAIBackend, ftkit.backend.OpenAIChat):
        methods = _public(adapter)
        assert methods
        assert all(_builds_request(method) for method in methods.values()), adapter
        assert [p for pair in _pairs_in("m", {"A": adapter}) for p in _problems(*pair)] == []


def _load(backend: object) -> None: ...


async def _aload(backend: object, extra: int = 0) -> None: ...


async def _areload(backend: object) -> None: ...


class Session:
    def read(self, path: str) -> None: ...


class AsyncSession:
    async def read(self, path: str, *, mode: str = "r") -> None: ...


def _retrieving(backend: object) -> Request[None]: ...


class Adapter:
    """Serves both kinds through requests, but one method sends by itself."""

    def __init__(self, client: object) -> None: ...

    def retrieve(self, job_id: str) -> Request[None]: ...

    def retrieve_now(self, job_id: str) -> None: ...


class Call:
    """A request whose awaited form takes another parameter than its blocking one."""

    def run(self) -> None: ...

    async def arun(self, timeout: float) -> None: ...


@pytest.mark.parametrize(
    ("members", "problem"),
    [
        ({"load": _load}, "does I/O but has no async twin m.aload"),
        ({"load": _load, "aload": _aload}, "differs from"),
        ({"aload": _areload}, "has no sync twin m.load"),
        ({"async_load": _areload}, "has no sync twin m.sync_load"),  # one convention only
        ({"fetch": _areload}, "lacks the 'a' prefix"),
        ({"Session": Session, "AsyncSession": AsyncSession}, "differ in signature"),
        ({"AsyncSession": AsyncSession}, "has no sync twin m.Session"),
        ({"Adapter": Adapter}, "m.Adapter.retrieve_now does I/O but has no async twin"),
        ({"Call": Call}, "differs from m.Call.run(self)"),
    ],
)
def test_the_check_fails_on_a_missing_or_different_twin(
    members: dict[str, Any], problem: str
) -> None:
    found = [p for pair in _pairs_in("m", members) for p in _problems(*pair)]
    assert any(problem in p for p in found), found


def _loading(backend: object) -> Iterator[None]:
    yield None


def test_a_sans_io_program_needs_no_twin() -> None:
    assert [p for pair in _pairs_in("m", {"loading": _loading}) for p in _problems(*pair)] == []


def test_a_request_builder_needs_no_twin() -> None:
    found = [p for pair in _pairs_in("m", {"retrieving": _retrieving}) for p in _problems(*pair)]
    assert found == []
    found = [p for pair in _pairs_in("m", {"Adapter": Adapter}) for p in _problems(*pair)]
    assert found == [
        "m.Adapter.retrieve_now does I/O but has no async twin m.Adapter.aretrieve_now"
    ]
