"""Models in the fake: the base models it serves, their aliases, and the fine-tuned ones.

Base models come from ftkit's model catalog (:mod:`ftkit.providers`): by default
every snapshot of the provider whose Models API ``created`` it records; the wire
form of a model (``owned_by``, the ``supervised`` / ``reinforcement`` method
words) is the fake's. Fine-tuned models
(and their checkpoints) appear when a job succeeds and go when deleted. Job
creation and Chat Completions resolve model names here, so both accept the
same names.

Dates are enforced as the catalog confirms them: a shutdown date only secondary
sources give (``ModelInfo.shutdown_confirmed`` false), and OpenAI's reported end of
new jobs (:data:`NO_NEW_JOBS`), are served but not enforced unless the fake is built
with ``enforce_unconfirmed_dates=True``, so a test suite does not start failing on a
rumoured date.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timezone
from typing import Any

from ..providers import ModelInfo, models
from ..providers._names import base_model
from ._core import Core, WireError

__all__ = [
    "NO_NEW_JOBS",
    "ModelStore",
    "model_object",
    "retired_at",
    "served_models",
    "wire_methods",
]

NO_NEW_JOBS = "2027-01-06"
"""The day OpenAI reportedly stops accepting new fine-tuning jobs, for everyone.

Unconfirmed: secondary sources quoting the deprecations page (the catalog's notes and
the fine-tuning facts, §1). Enforced only with ``enforce_unconfirmed_dates=True``, as the
403 ``training_not_available`` refusal reported for organisations without access.
"""

# The catalog's method words as the OpenAI API spells them in ``method.type``.
_WIRE_METHODS = {"sft": "supervised", "dpo": "dpo", "rft": "reinforcement"}


def served_models(provider: str = "openai") -> tuple[ModelInfo, ...]:
    """The base models a fake serves by default: the catalog's, where it knows ``created``."""
    return tuple(info for info in models(provider) if info.created is not None)


def model_object(info: ModelInfo) -> dict[str, Any]:
    """The ``model`` object of ``GET /models/{id}``."""
    return {
        "id": info.name,
        "object": "model",
        "created": info.created or 0,
        "owned_by": "system",
        "shutdown_date": info.shutdown,
    }


def retired_at(info: ModelInfo, now: float, *, unconfirmed: bool = True) -> bool:
    """Whether ``now`` (Unix seconds, the fake's clock) is on or after the shutdown date.

    ``unconfirmed=False`` ignores a date the catalog marks unconfirmed.
    """
    if not unconfirmed and not info.shutdown_confirmed:
        return False
    return info.retired(_day(now))


def _day(now: float) -> date:
    return datetime.fromtimestamp(now, timezone.utc).date()


def wire_methods(info: ModelInfo) -> list[str]:
    """The methods ``info`` accepts, in the API's words, sorted."""
    return sorted(_WIRE_METHODS[method] for method in info.methods)


class ModelStore:
    """The base and fine-tuned models of one fake."""

    def __init__(self, core: Core, models: Iterable[ModelInfo]) -> None:
        self._core = core
        self.enforce_unconfirmed_dates = False
        """Enforce shutdown dates the catalog marks unconfirmed, and :data:`NO_NEW_JOBS`."""
        self.no_new_jobs: str | None = NO_NEW_JOBS
        """The provider's day of no new jobs (OpenAI's; None for a provider without one)."""
        self._base: dict[str, ModelInfo] = {}
        self._aliases: dict[str, str] = {}
        self._fine_tuned: dict[str, dict[str, Any]] = {}
        for model in models:
            self.add(model)

    def add(self, model: ModelInfo) -> None:
        """Serve one more base model (or replace one with the same name)."""
        self._base[model.name] = model
        for alias in model.aliases:
            self._aliases[alias] = model.name

    def fine_tuned(self) -> list[str]:
        """The ``ft:`` models and checkpoints that exist now, oldest first."""
        return list(self._fine_tuned)

    def publish(
        self, name: str, *, created: int, base: ModelInfo, checkpoints: Iterable[tuple[str, int]]
    ) -> None:
        """Make a succeeded job's model, and its checkpoints (name, created), servable."""
        model = {
            "id": name,
            "object": "model",
            "created": created,
            "owned_by": self._core.org,
            "shutdown_date": base.shutdown,
        }
        self._fine_tuned[name] = model
        for checkpoint, at in checkpoints:
            self._fine_tuned[checkpoint] = {**model, "id": checkpoint, "created": at}

    # ------------------------------------------------------------------ dates
    def retired(self, info: ModelInfo) -> bool:
        """Whether ``info`` is past a shutdown date this fake enforces (its clock's day)."""
        return retired_at(info, self._core.now(), unconfirmed=self.enforce_unconfirmed_dates)

    def check_new_jobs(self) -> None:
        """Refuse job creation from :data:`NO_NEW_JOBS` on, if unconfirmed dates are enforced.

        Raises:
            WireError: 403 ``training_not_available``.
        """
        end = self.no_new_jobs
        if self.enforce_unconfirmed_dates and end and _day(self._core.now()).isoformat() >= end:
            raise WireError(
                403,
                "Fine-tuning is not available for this organization: new fine-tuning "
                "jobs can no longer be created.",
                code="training_not_available",
            )

    # --------------------------------------------------------------- resolving
    def resolve(self, name: str) -> tuple[str, ModelInfo] | None:
        """The name a job reports and the root base model, or None if unknown."""
        if name in self._fine_tuned:
            # ``ft:<base>:...`` (OpenAI) and ``<base>.ft-<job>`` (Azure) alike.
            root = self._base.get(base_model(name))
            return (name, root) if root else None
        snapshot = self._aliases.get(name, name)
        info = self._base.get(snapshot)
        return (snapshot, info) if info else None

    def served_name(self, name: str) -> str:
        """The model name an inference answer reports (aliases resolved).

        Raises:
            WireError: 404 ``model_not_found`` for a model that does not exist.
        """
        if name in self._fine_tuned:
            return name
        snapshot = self._aliases.get(name, name)
        if snapshot in self._base:
            return snapshot
        raise WireError(
            404,
            f"The model `{name}` does not exist or you do not have access to it.",
            param=None,
            code="model_not_found",
        )

    # -------------------------------------------------------------- operations
    def retrieve(self, name: str) -> dict[str, Any]:
        if name in self._fine_tuned:
            return dict(self._fine_tuned[name])
        info = self._base.get(self._aliases.get(name, name))
        if info is None:
            raise _no_such_model(name)
        return model_object(info)

    def list_models(self) -> dict[str, Any]:
        data = [model_object(m) for m in self._base.values()]
        data += [dict(m) for m in self._fine_tuned.values()]
        return {"object": "list", "data": data}

    def delete(self, name: str) -> dict[str, Any]:
        if name not in self._fine_tuned:
            if self.resolve(name):
                raise WireError(
                    403, f"You have insufficient permissions to delete {name}.", param="model"
                )
            raise _no_such_model(name)
        del self._fine_tuned[name]
        return {"id": name, "object": "model", "deleted": True}


def _no_such_model(name: str) -> WireError:
    return WireError(
        404, f"The model '{name}' does not exist", param="model", code="model_not_found"
    )
