"""The model catalog: what each provider's models can train, their limits, prices and dates.

One table per provider, kept as data with its sources (``openai.json`` beside
this module; Azure, Together and Fireworks get their own files). The validator,
the token counter, the cost estimate, the evaluation's costs and the fake API
all read it, so they cannot disagree::

    info = ftkit.model_info("ft:gpt-4.1-mini-2025-04-14:acme::abc")
    info.name, info.limit("sft"), info.training_price("sft"), info.shutdown

Add or change entries (a new snapshot, a price change) by a call,
:func:`register`, or by a file in the same format as the shipped ones,
:func:`register_file` or the ``FTKIT_MODELS`` environment variable (read at
first use). See ``docs/models.md``.
"""

from .._public import publish
from ._catalog import (
    example_limit,
    find_model,
    lookup_model,
    model_info,
    models,
    providers,
    register,
    register_file,
    reset,
)
from ._model import (
    FEATURES,
    METHODS,
    Feature,
    InferencePrice,
    Method,
    ModelInfo,
    TrainingPrice,
    canonical_method,
)
from ._names import base_model

__all__ = [
    "FEATURES",
    "METHODS",
    "Feature",
    "InferencePrice",
    "Method",
    "ModelInfo",
    "TrainingPrice",
    "base_model",
    "canonical_method",
    "example_limit",
    "find_model",
    "lookup_model",
    "model_info",
    "models",
    "providers",
    "register",
    "register_file",
    "reset",
]

publish(__name__, globals(), __all__)
