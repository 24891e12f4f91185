"""Checkpoint permissions in the fake: which projects may use a fine-tuned model.

``POST/GET /fine_tuning/checkpoints/{checkpoint}/permissions`` and ``DELETE
.../permissions/{permission_id}``, shaped as OpenAI's OpenAPI spec types them
(``checkpoint.permission`` objects, lists with nullable ``first_id``/``last_id``).
A checkpoint is any ``ft:`` model or checkpoint the model store serves now, so
permissions appear only after a job succeeds; the fake does not tell admin keys
from project keys (every accepted key may call these).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ._core import Core, bad_request, list_object, not_found, page
from ._models import ModelStore

__all__ = ["PermissionStore"]

_ORDERS = {"ascending": False, "descending": True}


@dataclass(frozen=True)
class _Permission:
    id: str
    created_at: int
    project_id: str

    def to_api(self) -> dict[str, Any]:
        return {
            "object": "checkpoint.permission",
            "id": self.id,
            "created_at": self.created_at,
            "project_id": self.project_id,
        }


class PermissionStore:
    """The permissions of every checkpoint of one fake, oldest first per checkpoint."""

    def __init__(self, core: Core, models: ModelStore) -> None:
        self._core = core
        self._models = models
        self._by_checkpoint: dict[str, list[_Permission]] = {}

    def create(self, checkpoint: str, body: dict[str, Any]) -> dict[str, Any]:
        """Grant each of ``body["project_ids"]``; answers the list of new permissions."""
        permissions = self._permissions(checkpoint)
        unknown = sorted(set(body) - {"project_ids"})
        if unknown:
            raise bad_request(f"Unrecognized request argument: {unknown[0]}", param=unknown[0])
        project_ids = body.get("project_ids")
        if not isinstance(project_ids, list) or not project_ids:
            raise bad_request(
                "project_ids must be a non-empty array of project ids.", param="project_ids"
            )
        if not all(isinstance(p, str) and p for p in project_ids):
            raise bad_request("project_ids must hold non-empty strings.", param="project_ids")
        created = [
            _Permission(self._core.new_id("cp_"), int(self._core.now()), project_id)
            for project_id in project_ids
        ]
        permissions.extend(created)
        return list_object([p.to_api() for p in created], False, cursors="nullable")

    def list_permissions(
        self,
        checkpoint: str,
        *,
        after: str | None,
        limit: int,
        order: str,
        project_id: str | None,
    ) -> dict[str, Any]:
        if order not in _ORDERS:
            raise bad_request("order must be 'ascending' or 'descending'.", param="order")
        items = [
            p
            for p in self._permissions(checkpoint)
            if project_id is None or p.project_id == project_id
        ]
        if _ORDERS[order]:
            items.reverse()
        found, has_more = page(items, after, limit)
        return list_object([p.to_api() for p in found], has_more, cursors="nullable")

    def delete(self, checkpoint: str, permission_id: str) -> dict[str, Any]:
        permissions = self._permissions(checkpoint)
        for permission in permissions:
            if permission.id == permission_id:
                permissions.remove(permission)
                return {"object": "checkpoint.permission", "id": permission_id, "deleted": True}
        raise not_found(
            f"No permission {permission_id} on checkpoint {checkpoint}.", param="permission_id"
        )

    def _permissions(self, checkpoint: str) -> list[_Permission]:
        """The permissions of a checkpoint the fake serves (404 for any other name)."""
        if checkpoint not in self._models.fine_tuned():
            raise not_found(
                f"Checkpoint {checkpoint} does not exist or you do not have access to it.",
                param="fine_tuned_model_checkpoint",
            )
        return self._by_checkpoint.setdefault(checkpoint, [])
