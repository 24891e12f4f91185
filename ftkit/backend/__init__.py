"""The only layer that talks to a fine-tuning API.

- :class:`Backend`: the protocol, whose methods each build one :class:`Request`
  (``run()`` it, or ``await`` its ``arun()``; ftkit errors only, no retries of
  its own), speaking only ftkit's types: :class:`Job`, :class:`TrainingFile`,
  :class:`JobEvent` (and its :class:`MessageEvent` / :class:`MetricsEvent`),
  :class:`Checkpoint`, :class:`UploadSession`, :class:`UploadedPart`,
  :class:`RemoteModel`, :class:`Page`.
- :class:`OpenAIBackend`: the one adapter over ``openai.OpenAI`` /
  ``openai.AzureOpenAI`` and their async twins, called with ``max_retries=0``;
  each openai object is translated once, at this edge.
- :class:`TogetherBackend`: the adapter over ``together.Together`` /
  ``together.AsyncTogether`` (presigned uploads, ``from_checkpoint`` chains, price
  quotes as :class:`PriceQuote`, weights downloads), also with ``max_retries=0``.
- :class:`FireworksBackend`: the adapter over ``fireworks.Fireworks`` /
  ``fireworks.AsyncFireworks`` (datasets and jobs under ids ftkit chooses, DPO
  warm-started from the SFT model, dedicated deployments).
- :class:`Traits`: what a backend's API can do (job metadata, suffix length, Uploads
  API, file import, training types), read by the layers above instead of a provider test.
- :func:`create_job_once`: exactly-once job creation by metadata (or a run token in the
  suffix where jobs keep none, or the job's id where the caller chooses it);
  :func:`ensure_trainable`: the provider's refusal of a retired base model, before a job.
- :func:`upload_file`: content-addressed, resumable upload (:class:`UploadState`).
- :class:`ChatBackend`: Chat Completions (for evaluation), over :class:`OpenAIChat`
  :class:`TogetherChat` or :class:`FireworksChat`.

Every call that sends requests has an awaitable twin (``aupload_file``); a
backend's :class:`Request` is its own (``run`` / ``arun``). The error translation
(``_errors.py``) and the resolution of ``client=`` (``_clients.py``) are
internal: every call above already raises ftkit's errors.

Importing this package imports none of ``openai``, ``together`` and ``fireworks``.
"""

from __future__ import annotations

from .._public import publish

# A module whose whole ``__all__`` this package exports is star-imported, so its
# names are listed once, in that module (asyncio's layout); ``import *`` is an
# explicit re-export for type checkers. The rest are taken one by one.
from . import _protocol, _request, _resources
from ._chat import ChatAnswer, ChatBackend, FireworksChat, OpenAIChat, TogetherChat
from ._events import JobEvent, MessageEvent, MetricsEvent
from ._fireworks import FireworksBackend
from ._jobs import acreate_job_once, aensure_trainable, create_job_once, ensure_trainable
from ._openai import OpenAIBackend
from ._protocol import *  # noqa: F403
from ._request import *  # noqa: F403
from ._resources import *  # noqa: F403
from ._together import TogetherBackend
from ._traits import Traits
from ._uploads import UploadResult, UploadState, aupload_file, upload_file

__all__ = [
    *_protocol.__all__,
    *_request.__all__,
    *_resources.__all__,
    "ChatAnswer",
    "ChatBackend",
    "FireworksBackend",
    "FireworksChat",
    "JobEvent",
    "MessageEvent",
    "MetricsEvent",
    "OpenAIBackend",
    "OpenAIChat",
    "TogetherBackend",
    "TogetherChat",
    "Traits",
    "UploadResult",
    "UploadState",
    "acreate_job_once",
    "aensure_trainable",
    "aupload_file",
    "create_job_once",
    "ensure_trainable",
    "upload_file",
]

publish(__name__, globals(), __all__)
