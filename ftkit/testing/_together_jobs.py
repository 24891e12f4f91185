"""Together AI's job requests in the fake: the body, ``from_checkpoint``, limits and prices.

``POST /v1/fine-tunes`` takes the body the together SDK builds
(``FinetuneRequest.model_dump(exclude_none=True)``): ``model`` *or*
``from_checkpoint`` (both or neither: 400), an absolute ``learning_rate``,
``batch_size`` as a number or ``"max"``, ``training_type`` (LoRA unless told, or the
checkpoint's) and ``training_method`` (``sft`` or ``dpo``). :func:`parse_request`
checks it against the model's limits (:func:`model_limits`, also served at
``GET /v1/fine-tunes/models/limits``) and turns it into the shared job store's
(OpenAI-shaped) body, keeping the Together request on the job for its view.

``from_checkpoint`` names a completed job of this fake, as ``<job id>``, ``<job
id>:<step>``, its ``model_output_name`` or ``<model_output_name>:<step>``; the new job
trains the same base model.

Prices (``POST /v1/fine-tunes/estimate-price``) are the fake's own, not Together's:
:data:`FAKE_RATES_PER_1M` dollars per million processed tokens (epochs x training
tokens + n_evals x validation tokens, as Together bills). A test makes the estimate
refuse with ``fake.set_credit_limit(usd)``: a price above it is not ``allowed_to_proceed``.
The limits are the fake's own too, except the context lengths, which are the model
catalog's (``ftkit/providers/together.json``).
"""

from __future__ import annotations

import json
import math
import weakref
from dataclasses import dataclass
from typing import Any

from ..providers import ModelInfo
from ._core import WireError, bad_request
from ._files import FileRecord
from ._job_record import JobRecord
from ._serverside import count_example_tokens
from ._service import FakeService
from ._together_files import together_file
from ._together_shapes import checkpoints, processing_status, together_status

__all__ = [
    "FAKE_RATES_PER_1M",
    "Billing",
    "billing",
    "estimate_price",
    "find_base",
    "model_limits",
    "parse_request",
]

FAKE_RATES_PER_1M: dict[tuple[str, str], float] = {
    ("sft", "Lora"): 0.50,
    ("sft", "Full"): 0.60,
    ("dpo", "Lora"): 1.25,
    ("dpo", "Full"): 1.50,
}
"""The fake's price in USD per million processed tokens, by method and training type.

Not Together's rates (which depend on the model's size bracket and are not recorded
in ftkit's catalog): a fixed, documented figure so estimates are deterministic.
"""

SUFFIX_CHARS = 40
_MAX_EPOCHS = 20
_MAX_CHECKPOINTS = 20
_MAX_EVALS = 100
_LORA_RANK = 64
_BATCH = {"min": 8, "sft": 32, "dpo": 16}
_LEARNING_RATES = (1e-8, 1e-2)
_MIN_SEQ = 1024
_TARGET_MODULES = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
_CREDENTIALS = frozenset({"wandb_key", "wandb_api_key", "hf_api_token"})


@dataclass
class Billing:
    """What the fake's account may spend: ``credit_limit`` USD (None: no limit)."""

    credit_limit: float | None = None


_BILLING: weakref.WeakKeyDictionary[FakeService, Billing] = weakref.WeakKeyDictionary()


def billing(service: FakeService) -> Billing:
    """The account of one fake (made on first use)."""
    found = _BILLING.get(service)
    if found is None:
        found = _BILLING[service] = Billing()
    return found


# ------------------------------------------------------------------ limits
def model_limits(info: ModelInfo) -> dict[str, Any]:
    """``FinetuneModelLimits`` of a base model: the catalog's context lengths, else the fake's."""
    sft = info.example_limits.get("sft") or 8192
    dpo = info.example_limits.get("dpo") or max(_MIN_SEQ, sft // 2)
    batches = {
        "max_batch_size": _BATCH["sft"],
        "max_batch_size_dpo": _BATCH["dpo"],
        "min_batch_size": _BATCH["min"],
    }
    return {
        "model_name": info.name,
        "default_gradient_accumulation_steps": 1,
        "lora_training": {
            "default_rank": _LORA_RANK,
            "max_rank": _LORA_RANK,
            "target_modules": list(_TARGET_MODULES),
            **batches,
        },
        "full_training": dict(batches),
        "max_learning_rate": _LEARNING_RATES[1],
        "min_learning_rate": _LEARNING_RATES[0],
        "max_num_checkpoints": _MAX_CHECKPOINTS,
        "max_num_epochs": _MAX_EPOCHS,
        "max_num_evals": _MAX_EVALS,
        "max_seq_length_sft": sft,
        "max_seq_length_dpo": dpo,
        "min_max_seq_length": _MIN_SEQ,
        "merge_output_lora": True,
        "supports_full_training": True,
        "supports_reasoning": False,
        "supports_tools": "tools" in info.features,
        "supports_vision": "vision" in info.features,
    }


def find_base(service: FakeService, name: str) -> ModelInfo | None:
    """The base model ``name`` is, or that the job or output model ``name`` trained."""
    resolved = service.models.resolve(name)
    if resolved is not None:
        return resolved[1]
    head = name.split(":")[0]
    for job in service.jobs.all():
        if head in (job.id, job.fine_tuned_name):
            return job.base
    return None


# ---------------------------------------------------------------- requests
def _parent(service: FakeService, value: str) -> tuple[JobRecord, int | None]:
    """The completed job ``from_checkpoint`` names, and the step it asks for."""
    name, step = value, None
    head, sep, tail = value.rpartition(":")
    if sep and tail.isdigit():
        name, step = head, int(tail)
    job = next((j for j in service.jobs.all() if name in (j.id, j.fine_tuned_name)), None)
    if job is None:
        raise bad_request(
            f"from_checkpoint {value!r} names no fine-tuning job of this account.",
            param="from_checkpoint",
        )
    status = together_status(job)
    if status != "completed":
        raise bad_request(
            f"Cannot continue from {job.id}: the job is {status}; only completed jobs "
            "can be continued.",
            param="from_checkpoint",
        )
    if step is not None and step not in {c["step"] for c in checkpoints(job)}:
        raise bad_request(
            f"Job {job.id} has no checkpoint at step {step}.", param="from_checkpoint"
        )
    return job, step


def _number(
    body: dict[str, Any], key: str, default: Any, low: float, high: float, *, integer: bool = False
) -> Any:
    value = body.get(key, default)
    if value is None:
        return None
    number = isinstance(value, int) or (not integer and isinstance(value, float))
    if isinstance(value, bool) or not number or not low <= value <= high:
        kind = "an integer" if integer else "a number"
        raise bad_request(
            f"{key} must be {kind} from {low:g} to {high:g} (got {value!r}).", param=key
        )
    return value


def _training_type(body: dict[str, Any], parent: JobRecord | None) -> dict[str, Any]:
    value = body.get("training_type")
    if value is None:
        if parent is not None:
            inherited: dict[str, Any] = parent.options["together"]["training_type"]
            return dict(inherited)
        value = {"type": "Lora"}
    if not isinstance(value, dict) or value.get("type") not in ("Lora", "Full"):
        raise bad_request(
            "training_type must be {'type': 'Lora', ...} or {'type': 'Full'}.",
            param="training_type",
        )
    if value["type"] == "Full":
        return {"type": "Full"}
    rank = _number(value, "lora_r", _LORA_RANK, 1, _LORA_RANK, integer=True)
    alpha = _number(value, "lora_alpha", rank * 2, 1, 10_000, integer=True)
    dropout = _number(value, "lora_dropout", 0.0, 0.0, 0.999)
    modules = value.get("lora_trainable_modules", "all-linear")
    if not isinstance(modules, str) or not modules:
        raise bad_request("lora_trainable_modules must be a string.", param="training_type")
    return {
        "type": "Lora",
        "lora_r": rank,
        "lora_alpha": alpha,
        "lora_dropout": float(dropout),
        "lora_trainable_modules": modules,
    }


def _training_method(body: dict[str, Any]) -> dict[str, Any]:
    value = body.get("training_method", {"method": "sft"})
    if not isinstance(value, dict) or value.get("method") not in ("sft", "dpo"):
        raise bad_request("training_method.method must be 'sft' or 'dpo'.", param="training_method")
    if value["method"] == "sft":
        inputs = value.get("train_on_inputs", "auto")
        if inputs not in (True, False, "auto"):
            raise bad_request(
                "train_on_inputs must be true, false or 'auto'.", param="training_method"
            )
        return {"method": "sft", "train_on_inputs": inputs}
    keys = (
        "dpo_beta",
        "dpo_normalize_logratios_by_length",
        "dpo_reference_free",
        "rpo_alpha",
        "simpo_gamma",
    )
    return {"method": "dpo", **{k: value[k] for k in keys if k in value}}


def _check_file(record: FileRecord, param: str, method: str) -> None:
    status = processing_status(record)
    if status in ("FAILED", "INVALID_FORMAT"):
        error = record.options.get("report", {}).get("error") or record.failure
        raise bad_request(f"The {param} {record.id} failed validation: {error}", param=param)
    if status == "PENDING":
        raise bad_request(
            f"The {param} {record.id} has not been processed: upload its bytes and call "
            f"POST /v1/files/{record.id}/preprocess first.",
            param=param,
        )
    found = record.options.get("report", {}).get("dataset_format")
    if found is not None and (found == "PREFERENCE_OPENAI") != (method == "dpo"):
        raise bad_request(
            f"The {param} {record.id} is in {found} format, which {method.upper()} "
            "training does not take.",
            param=param,
        )


def parse_request(
    service: FakeService, body: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The shared store's body for a Together job request, and the request as the job keeps it.

    Raises:
        WireError: 400 with ``param`` naming the field Together refuses.
    """
    training_file = body.get("training_file")
    if not isinstance(training_file, str) or not training_file:
        raise bad_request("Missing required parameter: 'training_file'.", param="training_file")
    model, start = body.get("model"), body.get("from_checkpoint")
    if model and start:
        raise bad_request(
            "Specify either model or from_checkpoint, not both.", param="from_checkpoint"
        )
    if not model and not start:
        raise bad_request("Specify model or from_checkpoint.", param="model")
    if body.get("from_hf_model"):
        raise bad_request(
            "The fake does not train from Hugging Face models.", param="from_hf_model"
        )
    parent: JobRecord | None = None
    if start:
        if not isinstance(start, str):
            raise bad_request("from_checkpoint must be a string.", param="from_checkpoint")
        parent, _ = _parent(service, start)
        base_name = parent.model
        info = parent.base
    else:
        if not isinstance(model, str):
            raise bad_request("model must be a string.", param="model")
        resolved = service.models.resolve(model)
        if resolved is None:
            raise bad_request(
                f"Model {model} is not available for fine-tuning.",
                param="model",
                code="model_not_available",
            )
        base_name, info = resolved
    limits = model_limits(info)
    method = _training_method(body)
    kind = method["method"]
    validation_file = body.get("validation_file") or None
    for param, file_id in (("training_file", training_file), ("validation_file", validation_file)):
        if file_id is not None:
            try:
                record = together_file(service, file_id)
            except WireError:
                raise bad_request(f"The {param} {file_id} does not exist.", param=param) from None
            _check_file(record, param, kind)
    training_type = _training_type(body, parent)
    batch = body.get("batch_size", "max")
    top = _BATCH[kind]
    if batch == "max":
        batch = top
    else:
        batch = _number(body, "batch_size", top, _BATCH["min"], top, integer=True)
    suffix = body.get("suffix")
    if suffix is not None and (not isinstance(suffix, str) or len(suffix) > SUFFIX_CHARS):
        raise bad_request(
            f"suffix must be a string of at most {SUFFIX_CHARS} characters.", param="suffix"
        )
    n_evals = _number(body, "n_evals", 0, 0, _MAX_EVALS, integer=True)
    if n_evals and validation_file is None:
        raise bad_request("n_evals needs a validation_file.", param="n_evals")
    seq_high = limits["max_seq_length_sft" if kind == "sft" else "max_seq_length_dpo"]
    request: dict[str, Any] = {
        key: value for key, value in body.items() if key not in _CREDENTIALS and value is not None
    }
    request.update(
        model=base_name,
        training_file=training_file,
        n_epochs=_number(body, "n_epochs", 1, 1, _MAX_EPOCHS, integer=True),
        n_checkpoints=_number(body, "n_checkpoints", 1, 1, _MAX_CHECKPOINTS, integer=True),
        n_evals=n_evals,
        batch_size=batch,
        learning_rate=_number(body, "learning_rate", 1e-5, *_LEARNING_RATES),
        warmup_ratio=_number(body, "warmup_ratio", 0.0, 0.0, 1.0),
        max_grad_norm=_number(body, "max_grad_norm", 1.0, 0.0, math.inf),
        weight_decay=_number(body, "weight_decay", 0.0, 0.0, math.inf),
        max_seq_length=_number(body, "max_seq_length", None, _MIN_SEQ, seq_high, integer=True),
        training_type=training_type,
        training_method=method,
        training_file_size=len(together_file(service, training_file).content),
    )
    if not start:
        request.pop("from_checkpoint", None)
    seed = body.get("random_seed")
    store_body: dict[str, Any] = {
        "model": base_name,
        "training_file": training_file,
        "validation_file": validation_file,
        "suffix": suffix or None,
        "seed": seed if isinstance(seed, int) and 0 <= seed <= 2_147_483_647 else None,
        "method": {
            "type": "supervised" if kind == "sft" else "dpo",
            ("supervised" if kind == "sft" else "dpo"): {
                "hyperparameters": {"n_epochs": request["n_epochs"], "batch_size": batch}
            },
        },
    }
    json.dumps(request)  # the job keeps plain JSON: refuse nothing later when shown
    return store_body, request


# ------------------------------------------------------------------ prices
def _file_tokens(record: FileRecord, model: str) -> int:
    """Tokens of one pass over a file, counted as the shared Trainer counts them (cached)."""
    key = f"tokens:{model}"
    cached = record.options.get(key)
    if isinstance(cached, int):
        return cached
    total = 0
    for line in record.content.decode("utf-8", "replace").split("\n"):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError:
            continue
        total += count_example_tokens(row if isinstance(row, dict) else {}, model=model)
    record.options[key] = total
    return total


def _unavailable(reason: str) -> dict[str, Any]:
    return {"estimation_available": False, "unavailable_reason": reason}


def estimate_price(service: FakeService, body: dict[str, Any]) -> dict[str, Any]:
    """``FineTuningEstimatePriceResponse``: the fake's price of a job, or why there is none.

    Raises:
        WireError: 400 for a request naming neither a model nor a checkpoint, or an
            unknown model, file or checkpoint.
    """
    model, start = body.get("model") or None, body.get("from_checkpoint") or None
    parent: JobRecord | None = None
    if start:
        parent, _ = _parent(service, str(start))
        info: ModelInfo | None = parent.base
    elif model:
        resolved = service.models.resolve(str(model))
        info = resolved[1] if resolved else None
        if info is None:
            raise bad_request(f"Model {model} is not available for fine-tuning.", param="model")
    else:
        raise bad_request("Specify model or from_checkpoint.", param="model")
    assert info is not None
    counts: dict[str, int] = {}
    for param, file_id, prefix in (
        ("training_file", body.get("training_file"), "train"),
        ("validation_file", body.get("validation_file") or None, "eval"),
    ):
        if file_id is None:
            if param == "training_file":
                raise bad_request("Missing required parameter: 'training_file'.", param=param)
            continue
        try:
            record = together_file(service, str(file_id))
        except WireError:
            raise bad_request(f"The {param} {file_id} does not exist.", param=param) from None
        status = processing_status(record)
        if status in ("FAILED", "INVALID_FORMAT"):
            return _unavailable(f"{prefix}_file_invalid")
        if status != "COMPLETED":
            return _unavailable(f"{prefix}_file_not_validated")
        if record.options.get("report", {}).get("dataset_is_multimodal"):
            return _unavailable("multimodal_dataset")
        counts[prefix] = _file_tokens(record, info.name)
    epochs = _number(body, "n_epochs", 1, 1, _MAX_EPOCHS, integer=True)
    evals = _number(body, "n_evals", 0, 0, _MAX_EVALS, integer=True)
    method = (body.get("training_method") or {}).get("method", "sft")
    kind = (body.get("training_type") or {}).get("type")
    if kind is None:
        kind = parent.options["together"]["training_type"]["type"] if parent else "Lora"
    rate = FAKE_RATES_PER_1M.get((method, kind), FAKE_RATES_PER_1M[("sft", "Lora")])
    train = counts["train"] * epochs
    evaluated = counts.get("eval", 0) * evals
    price = round((train + evaluated) / 1_000_000 * rate, 6)
    limit = billing(service).credit_limit
    estimate: dict[str, Any] = {
        "estimation_available": True,
        "allowed_to_proceed": limit is None or price <= limit,
        "estimated_total_price": price,
        "estimated_train_token_count": float(train),
        "estimated_eval_token_count": float(evaluated),
    }
    if limit is not None:  # an account with no limit has none to report (never null)
        estimate["user_limit"] = limit
    return estimate
