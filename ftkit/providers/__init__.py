"""The model catalog: what each provider's models can train, their limits, prices and dates.

One table per provider, kept as data with its sources (``openai.json``,
``azure.json``, ``together.json`` and ``fireworks.json`` beside this module).
Together's live limits refresh an entry through
:func:`model_limits_info`. The validator, the token counter, the cost estimate, the
evaluation's costs and the fake API all read it, so they cannot disagree::

    info = ftkit.model_info("ft:gpt-4.1-mini-2025-04-14:acme::abc")
    info.name, info.limit("sft"), info.training_price("sft"), info.shutdown

Add or change entries (a new snapshot, a price change) by a call,
:func:`register`, or by a file in the same format as the shipped ones,
:func:`register_file` or the ``FTKIT_MODELS`` environment variable (read at
first use). See ``docs/models.md``.
"""

from .._public import publish

# A module whose whole ``__all__`` this package exports is star-imported, so its
# names are listed once, in that module (asyncio's layout); ``import *`` is an
# explicit re-export for type checkers. The rest are taken one by one.
from . import _catalog, _model
from ._catalog import *  # noqa: F403
from ._limits import model_limits_info
from ._model import *  # noqa: F403
from ._names import base_model

__all__ = [*_catalog.__all__, *_model.__all__, "base_model", "model_limits_info"]

publish(__name__, globals(), __all__)
