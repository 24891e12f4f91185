"""Optional extras (pandas, matplotlib, rich, tqdm), imported only when a feature needs them.

``import ftkit`` never imports them; a missing extra is a clear error that
names the ``pip install`` to run.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from ._exceptions import UsageError

__all__ = ["MissingExtra", "require"]


class MissingExtra(UsageError, ImportError):
    """An optional dependency is not installed (an ``ImportError`` and an ftkit ``UsageError``)."""


def require(module: str, *, extra: str, feature: str) -> ModuleType:
    """Import ``module`` or raise :class:`MissingExtra` naming the extra that provides it.

    Args:
        module: the module to import, e.g. ``"matplotlib.pyplot"``.
        extra: the ftkit extra that installs it, e.g. ``"plots"``.
        feature: what needed it, for the message, e.g. ``"plot_metrics()"``.

    Raises:
        MissingExtra: the module cannot be imported.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        top = module.split(".")[0]
        raise MissingExtra(
            f"{feature} needs {top}, which is not installed; install it with "
            f"pip install 'ftkit[{extra}]'"
        ) from exc
