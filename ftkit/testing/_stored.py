"""Stored chat completions in the fake: what ``store=True`` keeps, for distillation and evals.

The real service keeps a chat completion created with ``store=True`` (its input
messages, the answer, model, metadata, created time and usage) and serves it back
through ``chat.completions.list/retrieve/update/delete`` and
``chat.completions.messages.list``. Distillation reads a teacher's traffic this way,
so the fake keeps the same record and answers with the shapes of OpenAI's spec
(``ChatCompletionList``, ``ChatCompletionMessageList``: ``first_id``/``last_id``
are required strings) and the openai SDK's types (``ChatCompletion``,
``ChatCompletionStoreMessage``, ``ChatCompletionDeleted``).

A stored completion gets a fresh id from the fake's seeded generator (the
unstored answer's id is a digest of the prompt, so asking the same thing twice
would otherwise overwrite the first record); its answer is the same as unstored.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Literal

from ._core import Core, list_object, not_found, page
from ._jobspec import parse_metadata

__all__ = ["CompletionStore"]

Order = Literal["asc", "desc"]


@dataclass
class _Stored:
    """One kept completion: the answer as created (metadata included) and its inputs."""

    completion: dict[str, Any]
    messages: list[dict[str, Any]]


def _store_message(completion_id: str, index: int, message: dict[str, Any]) -> dict[str, Any]:
    """An input message as ``ChatCompletionStoreMessage``: with an id, parts kept apart.

    A message whose content is an array of parts is served with those parts in
    ``content_parts`` and a null ``content``, as the spec describes the field. The
    spec types each as a ``ChatCompletionResponseMessage``, whose ``refusal`` is
    required: a message without one is served with ``refusal: null``.
    """
    kept = {k: copy.deepcopy(v) for k, v in message.items() if k != "content"}
    content = message.get("content")
    kept["id"] = f"{completion_id}-{index}"
    kept["content"] = content if isinstance(content, str) else None
    kept["content_parts"] = copy.deepcopy(content) if isinstance(content, list) else None
    kept.setdefault("refusal", None)
    return kept


class CompletionStore:
    """The completions created with ``store=True``, in creation order.

    Args:
        core: the fake's clock, ids and metadata limits (shared with fine-tuning jobs).
    """

    def __init__(self, core: Core) -> None:
        self._core = core
        self._kept: dict[str, _Stored] = {}

    def keep(self, body: dict[str, Any], completion: dict[str, Any]) -> dict[str, Any]:
        """The completion to answer ``body`` with, kept when the request says ``store=True``.

        Raises:
            WireError: 400 (``param`` ``metadata``) for metadata the API refuses.
        """
        metadata = parse_metadata(body.get("metadata"), self._core.limits)
        if body.get("store") is not True:
            return completion
        kept = {**completion, "id": self._core.new_id("chatcmpl-", 29), "metadata": metadata}
        self._kept[kept["id"]] = _Stored(
            copy.deepcopy(kept),
            [_store_message(kept["id"], i, m) for i, m in enumerate(body["messages"])],
        )
        return kept

    def list_completions(
        self,
        *,
        model: str | None,
        metadata: dict[str, str] | None,
        null_metadata: bool,
        after: str | None,
        limit: int,
        order: Order,
    ) -> dict[str, Any]:
        """A ``ChatCompletionList`` page by created time, filtered by model and metadata."""
        items = [s.completion for s in self._kept.values()]
        if model is not None:
            items = [c for c in items if c["model"] == model]
        if null_metadata:
            items = [c for c in items if not c["metadata"]]
        elif metadata:
            items = [c for c in items if _matches(c["metadata"], metadata)]
        if order == "desc":  # kept in creation order: newest first is the reverse
            items.reverse()
        data, has_more = page(items, after, limit)
        return list_object(copy.deepcopy(data), has_more, cursors="string")

    def retrieve(self, completion_id: str) -> dict[str, Any]:
        return copy.deepcopy(self._get(completion_id).completion)

    def update(self, completion_id: str, metadata: Any) -> dict[str, Any]:
        """Replace a stored completion's metadata (``None`` clears it).

        Raises:
            WireError: 404 for an unknown id, 400 for metadata the API refuses.
        """
        stored = self._get(completion_id)
        stored.completion["metadata"] = parse_metadata(metadata, self._core.limits)
        return copy.deepcopy(stored.completion)

    def delete(self, completion_id: str) -> dict[str, Any]:
        self._get(completion_id)
        del self._kept[completion_id]
        return {"object": "chat.completion.deleted", "id": completion_id, "deleted": True}

    def list_messages(
        self, completion_id: str, *, after: str | None, limit: int, order: Order
    ) -> dict[str, Any]:
        """A ``ChatCompletionMessageList`` page of a stored completion's input messages."""
        messages = list(self._get(completion_id).messages)
        if order == "desc":
            messages.reverse()
        data, has_more = page(messages, after, limit)
        return list_object(copy.deepcopy(data), has_more, cursors="string")

    def _get(self, completion_id: str) -> _Stored:
        stored = self._kept.get(completion_id)
        if stored is None:
            raise not_found(
                f"Completion with id '{completion_id}' not found.", param="completion_id"
            )
        return stored


def _matches(metadata: dict[str, str] | None, wanted: dict[str, str]) -> bool:
    return metadata is not None and all(metadata.get(k) == v for k, v in wanted.items())
