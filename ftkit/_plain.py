"""The JSON forms' shared step: attributes copied under their own names.

Reports, plans, events and upload states each have a ``to_dict`` whose keys are
mostly their own attribute names, in an order the CLI's ``--json`` output and
the run manifest keep byte for byte. :func:`attributes` writes that copy once,
so a ``to_dict`` spells out only the keys it renames or converts. It imports
nothing, so every layer may use it without slowing ``import ftkit``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["attributes"]


def attributes(source: object, *names: str) -> dict[str, Any]:
    """``{name: getattr(source, name)}`` for each of ``names``, in the order given.

    Properties count like fields, so a computed value (``ok``, ``error_count``)
    sits among the stored ones where the JSON form wants it.

    Raises:
        AttributeError: ``source`` has no attribute of one of the names.
    """
    return {name: getattr(source, name) for name in names}
