"""Validation of a ``POST /fine_tuning/jobs`` body, with the documented ranges (facts §4).

The fake refuses what the service refuses, with a 400 whose ``param`` names the
field, so code that builds job requests is tested against the real rules:
``method`` shapes and hyperparameter ranges, suffix length, seed range,
metadata limits, wandb integrations, unknown keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from ._config import Limits
from ._core import WireError, bad_request
from ._serverside import MethodType

__all__ = ["JobSpec", "parse_job_request", "parse_metadata"]

_TOP_KEYS = frozenset(
    {
        "model",
        "training_file",
        "validation_file",
        "method",
        "hyperparameters",
        "suffix",
        "seed",
        "metadata",
        "integrations",
    }
)
_COMMON_HP = ("n_epochs", "batch_size", "learning_rate_multiplier")
_HP_BY_METHOD: dict[str, tuple[str, ...]] = {
    "supervised": _COMMON_HP,
    "dpo": (*_COMMON_HP, "beta"),
    "reinforcement": (
        *_COMMON_HP,
        "reasoning_effort",
        "compute_multiplier",
        "eval_interval",
        "eval_samples",
    ),
}
_REASONING_EFFORT = frozenset({"default", "low", "medium", "high"})


@dataclass(frozen=True)
class JobSpec:
    """A job request that passed every check."""

    model: str
    training_file: str
    validation_file: str | None
    method: MethodType
    hyperparameters: dict[str, Any]
    extra_method: dict[str, Any]
    suffix: str | None
    seed: int | None
    metadata: dict[str, str] | None
    integrations: list[dict[str, Any]] | None


def parse_job_request(
    body: Any, *, limits: Limits, extra_hyperparameters: Mapping[str, tuple[str, ...]] | None = None
) -> JobSpec:
    """Check a job-creation body and return its normalised form.

    Args:
        body: the request's JSON body.
        limits: the service's limits (suffix length, metadata sizes).
        extra_hyperparameters: names a provider accepts beyond OpenAI's, by method
            (Azure's dated API: DPO's ``l2_multiplier``); kept only when sent.

    Raises:
        WireError: 400 with ``param`` set to the offending field.
    """
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.")
    unknown = sorted(set(body) - _TOP_KEYS)
    if unknown:
        raise bad_request(f"Unrecognized request argument supplied: {unknown[0]}", param=unknown[0])
    model = _required_str(body, "model")
    training_file = _required_str(body, "training_file")
    validation_file = _optional_str(body, "validation_file")
    method, hyper, extra = _method(body, extra_hyperparameters or {})
    suffix = _optional_str(body, "suffix")
    if suffix is not None and not 1 <= len(suffix) <= limits.suffix_chars:
        raise bad_request(
            f"suffix must be 1 to {limits.suffix_chars} characters long (got {len(suffix)}).",
            param="suffix",
        )
    seed = body.get("seed")
    if seed is not None and (not _is_int(seed) or not 0 <= seed <= 2_147_483_647):
        raise bad_request("seed must be an integer between 0 and 2147483647.", param="seed")
    return JobSpec(
        model=model,
        training_file=training_file,
        validation_file=validation_file,
        method=method,
        hyperparameters=hyper,
        extra_method=extra,
        suffix=suffix,
        seed=seed,
        metadata=parse_metadata(body.get("metadata"), limits),
        integrations=_integrations(body.get("integrations")),
    )


def _required_str(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value:
        raise bad_request(f"Missing required parameter: '{key}'.", param=key)
    return value


def _optional_str(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise bad_request(f"Invalid type for '{key}': expected a string.", param=key)
    return value


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _method(
    body: dict[str, Any], more: Mapping[str, tuple[str, ...]]
) -> tuple[MethodType, dict[str, Any], dict[str, Any]]:
    method = body.get("method")
    legacy = body.get("hyperparameters")
    if method is None:
        # No method: supervised, with the deprecated top-level hyperparameters if any.
        hyper = _hyperparameters(legacy, "supervised", "hyperparameters", more)
        return "supervised", hyper, {}
    if legacy is not None:
        raise bad_request(
            "hyperparameters is deprecated and cannot be combined with method; put them in "
            "method.<type>.hyperparameters.",
            param="hyperparameters",
        )
    if not isinstance(method, dict):
        raise bad_request("method must be an object.", param="method")
    kind = method.get("type")
    if kind not in _HP_BY_METHOD:
        raise bad_request(
            f"Invalid value for method.type: {kind!r}. Expected 'supervised', 'dpo' or "
            "'reinforcement'.",
            param="method.type",
        )
    for key in method:
        if key != "type" and key != kind:
            if key in _HP_BY_METHOD:
                raise bad_request(
                    f"method.{key} does not belong to a method of type {kind!r}.",
                    param=f"method.{key}",
                )
            raise bad_request(f"Unrecognized argument: method.{key}", param=f"method.{key}")
    config = method.get(kind) or {}
    if not isinstance(config, dict):
        raise bad_request(f"method.{kind} must be an object.", param=f"method.{kind}")
    allowed = {"hyperparameters"} | (
        {"grader", "response_format"} if kind == "reinforcement" else set()
    )
    for key in config:
        if key not in allowed:
            raise bad_request(
                f"Unrecognized argument: method.{kind}.{key}", param=f"method.{kind}.{key}"
            )
    hyper = _hyperparameters(
        config.get("hyperparameters"), kind, f"method.{kind}.hyperparameters", more
    )
    extra: dict[str, Any] = {}
    if kind == "reinforcement":
        grader = config.get("grader")
        if not isinstance(grader, dict) or not isinstance(grader.get("type"), str):
            raise bad_request(
                "method.reinforcement.grader is required (an object with a type).",
                param="method.reinforcement.grader",
            )
        extra = {"grader": grader, "response_format": config.get("response_format")}
    return cast(MethodType, kind), hyper, extra


def _hyperparameters(
    value: Any, kind: str, where: str, more: Mapping[str, tuple[str, ...]]
) -> dict[str, Any]:
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise bad_request(f"{where} must be an object.", param=where)
    names = (*_HP_BY_METHOD[kind], *more.get(kind, ()))
    for key in value:
        if key not in names:
            raise bad_request(
                f"Unrecognized hyperparameter for {kind}: {key}", param=f"{where}.{key}"
            )
    out: dict[str, Any] = {
        name: "auto" for name in names if name in _COMMON_HP or name in ("beta",)
    }
    for key, item in value.items():
        if item == "auto":
            out[key] = "auto"
            continue
        _check_range(key, item, f"{where}.{key}")
        out[key] = item
    return out


def _check_range(key: str, value: Any, param: str) -> None:
    def fail(rule: str) -> WireError:
        return bad_request(f"Invalid value for {key}: {value!r}; {rule}, or 'auto'.", param=param)

    if key == "n_epochs" and not (_is_int(value) and 1 <= value <= 50):
        raise fail("expected an integer from 1 to 50")
    if key == "batch_size" and not (_is_int(value) and 1 <= value <= 256):
        raise fail("expected an integer from 1 to 256")
    if key == "learning_rate_multiplier" and not (_is_number(value) and value > 0):
        raise fail("expected a number greater than 0")
    if key == "beta" and not (_is_number(value) and 0 < value <= 2):
        raise fail("expected a number in (0, 2]")
    if key == "l2_multiplier" and not (_is_number(value) and value >= 0):
        raise fail("expected a number of at least 0")
    if key == "reasoning_effort" and value not in _REASONING_EFFORT:
        raise fail("expected default, low, medium or high")
    if key == "compute_multiplier" and not (_is_number(value) and 0.00001 < value <= 10):
        raise fail("expected a number in (0.00001, 10]")
    if key in ("eval_interval", "eval_samples") and not (_is_int(value) and value >= 1):
        raise fail("expected an integer of at least 1")


def parse_metadata(value: Any, limits: Limits) -> dict[str, str] | None:
    """Metadata as the API accepts it (jobs and stored completions alike); 400 otherwise."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise bad_request("metadata must be an object of string keys and values.", param="metadata")
    if len(value) > limits.metadata_pairs:
        raise bad_request(
            f"metadata may hold at most {limits.metadata_pairs} pairs (got {len(value)}).",
            param="metadata",
        )
    for key, item in value.items():
        if not isinstance(item, str):
            raise bad_request(
                f"metadata values must be strings (key {key!r}).", param=f"metadata.{key}"
            )
        if len(key) > limits.metadata_key_chars:
            raise bad_request(
                f"metadata keys may be at most {limits.metadata_key_chars} "
                f"characters (got {len(key)}).",
                param="metadata",
            )
        if len(item) > limits.metadata_value_chars:
            raise bad_request(
                f"metadata values may be at most {limits.metadata_value_chars} "
                f"characters (key {key!r}).",
                param=f"metadata.{key}",
            )
    return dict(value)


def _integrations(value: Any) -> list[dict[str, Any]] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        raise bad_request("integrations must be a list.", param="integrations")
    out = []
    for i, item in enumerate(value):
        param = f"integrations[{i}]"
        if not isinstance(item, dict) or item.get("type") != "wandb":
            raise bad_request("Only 'wandb' integrations are supported.", param=f"{param}.type")
        wandb = item.get("wandb")
        if not isinstance(wandb, dict) or not isinstance(wandb.get("project"), str):
            raise bad_request("wandb.project is required.", param=f"{param}.wandb.project")
        allowed = {"project", "name", "entity", "tags"}
        extra = sorted(set(wandb) - allowed)
        if extra:
            raise bad_request(
                f"Unrecognized argument: wandb.{extra[0]}", param=f"{param}.wandb.{extra[0]}"
            )
        out.append(
            {
                "type": "wandb",
                "wandb": {
                    "project": wandb["project"],
                    "name": wandb.get("name"),
                    "entity": wandb.get("entity"),
                    "tags": wandb.get("tags"),
                },
            }
        )
    return out
