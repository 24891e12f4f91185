"""One fake service: its resource stores, wired together, behind one lock.

A provider's handler set (``_openai_routes``) answers requests by calling these
stores; the stores hold the service's memory and rules and know nothing of
HTTP. Whoever calls them holds ``core.lock`` (the stores are not thread-safe
on their own).
"""

from __future__ import annotations

from collections.abc import Iterable

from ..providers import ModelInfo
from ._chat import FakeChat
from ._core import Core
from ._files import FileStore
from ._imports import ImportStore
from ._jobs import JobStore
from ._models import ModelStore
from ._permissions import PermissionStore
from ._stored import CompletionStore
from ._training import Trainer
from ._uploads import UploadStore

__all__ = ["FakeService"]


class FakeService:
    """Files, uploads, models, jobs, chat and stored completions of one fake (one :class:`Core`).

    ``imports`` (files from URLs) and ``permissions`` (checkpoint sharing) are one
    provider's each (Azure's, OpenAI's); a fake whose dialect has no route to them
    leaves them empty.
    """

    def __init__(
        self,
        core: Core,
        *,
        models: Iterable[ModelInfo],
        result_files_base64: bool,
    ) -> None:
        self.core = core
        self.files = FileStore(core)
        self.uploads = UploadStore(core, self.files)
        self.imports = ImportStore(core, self.files)
        self.models = ModelStore(core, models)
        self.chat = FakeChat(core, self.models)
        self.stored = CompletionStore(core)
        trainer = Trainer(core, self.files, self.models, self.chat, result_files_base64)
        self.jobs = JobStore(core, self.files, self.models, trainer)
        self.permissions = PermissionStore(core, self.models)

    def tick(self) -> None:
        """Bring file expiry and every job up to the current virtual time."""
        self.files.expire()
        self.jobs.all()
