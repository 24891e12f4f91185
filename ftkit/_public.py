"""ftkit's public surface: the top-level names, and how every public module presents its own.

:data:`TOP_LEVEL` is the one table of the names ``import ftkit`` offers and the
module each comes from; ``ftkit/__init__.py`` turns it into ``__all__`` and the
lazy loader (:func:`lazy_exports`), so the two cannot disagree.

:func:`publish` gives each exported class and function the ``__module__`` its
users import it from, as httpx and openai do: ``ftkit.RunResult``, not
``ftkit.pipeline._result.RunResult``, in reprs, tracebacks, ``help()`` and
pickles. A name exported at the top level reports ``ftkit``; any other reports
the public module that exports it. Each public package calls it once its names
exist: an eager package at the end of its ``__init__``, a lazy one (through
:func:`lazy_exports`) as each of its modules loads. Only objects defined inside
the publishing package are renamed, so a package that re-exports another's name
(``ftkit.tokens`` re-exporting a catalog function) leaves it its home.

Pickling keeps working: pickle finds a class by ``__module__`` and
``__qualname__``, and every published name resolves there (lazily, if need be).

This module imports nothing heavy: every package imports it at import time.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from typing import Any

__all__ = ["TOP_LEVEL", "lazy_exports", "names_of", "publish"]


def names_of(text: str) -> tuple[str, ...]:
    """The names in ``text``, a block of names separated by spaces (the tables read as prose)."""
    return tuple(text.split())


#: The names of ``import ftkit``, by the module they are taken from. Names of
#: ftkit's own private modules (the errors, the version) are bound at import:
#: they are light, and every layer raises the errors. The others load on first use.
TOP_LEVEL: Mapping[str, tuple[str, ...]] = {
    "ftkit._version": names_of("__version__"),
    "ftkit._exceptions": names_of(
        "APIError CostLimitExceeded DatasetError DatasetInvalid DeploymentFailed FtkitError "
        "JobFailed RecordError RetryExhausted RunConflict TokenizerUnavailable "
        "TrainingUnavailable UsageError WaitTimeout"
    ),
    "ftkit._optional": names_of("MissingExtra"),
    # records
    "ftkit.schema": names_of(
        "AssistantMessage DPOInput DPORecord DeveloperMessage FunctionCall FunctionDefinition "
        "FunctionMessage ImagePart ImageURL SFTRecord SystemMessage TextPart ToolCall "
        "ToolDefinition ToolMessage UserMessage"
    ),
    "ftkit.dataset": names_of("Dataset read_jsonl"),
    "ftkit.interop": names_of("export import_dataset"),
    # analysis
    "ftkit.validation": names_of("CODES Issue Severity ValidationReport estimate validate"),
    "ftkit.tokens": names_of("count_tokens encoding_for_model"),
    "ftkit.cost": names_of("CostEstimate"),
    "ftkit.providers": names_of("ModelInfo model_info"),
    "ftkit.evaluation": names_of(
        "EvalReport ExactMatch JsonFields JsonValid ToolCallMatch aevaluate evaluate"
    ),
    # policies and the events a run reports
    "ftkit.retry": names_of("RetryPolicy"),
    "ftkit.polling": names_of("PollPolicy"),
    "ftkit.backend": names_of("JobEvent MessageEvent MetricsEvent"),
    # pipeline
    "ftkit.pipeline": names_of(
        "AsyncFineTune AsyncRun Deployment FineTune Plan Run RunEvent RunResult RunStatus "
        "StageResult"
    ),
}

_TOP_LEVEL_HOME = {name: module for module, names in TOP_LEVEL.items() for name in names}


def publish(module_name: str, namespace: Mapping[str, Any], names: Iterable[str]) -> None:
    """Make each exported class and function report the public module users import it from.

    Args:
        module_name: the public module exporting ``names`` (``"ftkit.backend"``).
        namespace: where the names are bound (the module's ``globals()``).
        names: the exported names (the module's ``__all__``). A name not bound
            yet (a lazy package's) is skipped: it is published as its module loads.
    """
    own = module_name + "."
    for name in names:
        if name not in namespace:
            continue
        obj = namespace[name]
        home = getattr(obj, "__module__", None)
        if not (isinstance(obj, type) or callable(obj)) or not isinstance(home, str):
            continue  # constants and type aliases keep what Python gives them
        if home != module_name and not home.startswith(own):
            continue  # defined elsewhere: its own package publishes it
        obj.__module__ = "ftkit" if _TOP_LEVEL_HOME.get(name) == module_name else module_name


def lazy_exports(
    package: str, homes: Mapping[str, tuple[str, ...]], namespace: MutableMapping[str, Any]
) -> tuple[list[str], Callable[[str], Any], Callable[[], list[str]]]:
    """``__all__``, ``__getattr__`` and ``__dir__`` of a package whose names load on first use.

    Names of home modules already imported are bound into ``namespace`` now;
    the others are imported on first access, and every home loaded by then is
    published (a module pulled in by another is published with it).

    Args:
        package: the package's name (``"ftkit"``).
        homes: each home module (full name) and the names taken from it.
        namespace: the package's ``globals()``.

    Returns:
        ``(__all__, __getattr__, __dir__)`` for the package.
    """
    module_of = {name: module for module, names in homes.items() for name in names}
    exported = sorted(module_of)

    def publish_loaded() -> None:
        for module, names in homes.items():
            if module in sys.modules:
                publish(package, vars(sys.modules[module]), names)

    def load(name: str) -> Any:
        module = module_of.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        publish_loaded()
        namespace[name] = value  # later lookups skip this function
        return value

    def listing() -> list[str]:
        return sorted(set(namespace) | set(exported))

    publish_loaded()
    for module, module_names in homes.items():
        if module in sys.modules:
            namespace.update({name: getattr(sys.modules[module], name) for name in module_names})
    return exported, load, listing
