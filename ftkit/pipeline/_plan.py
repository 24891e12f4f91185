"""What a run would do, computed without the network: reports, estimates, jobs.

``FineTune.plan()`` validates every stage's files exactly as
``ftkit.validate(train, model=..., provider=..., validation=val)`` does (the
same passes and rules, overlap included), estimates each stage's tokens and
cost at the provider's prices for the run's training type, lists the jobs it
would create, and lists what the provider would refuse (:mod:`._refusals`: a
retired model, a model, method or training type it does not train). ``run()``
refuses before any upload when the provider would refuse the run, the plan has
errors, or it costs more than the caller allowed.

A plan also records what it was made from (:class:`PlanBasis`: the
configuration, the provider, the day, the catalog's entry for the model, and
each file's size, mtime and SHA-256), so ``run()`` can start from the plan
``plan()`` just made instead of validating every file a second time, while
:func:`plan_holds` says it still stands for the run.
"""

from __future__ import annotations

import datetime as _dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._plain import attributes
from .._words import plural
from ..providers._names import provider_name
from ..tokens import base_model as _base_model
from ._config import file_digest
from ._refusals import Refusal, find_refusals, run_training_type

if TYPE_CHECKING:
    from ..cost import CostEstimate
    from ..providers import ModelInfo
    from ..validation import Issue, ValidationReport
    from ._config import PipelineConfig, StageConfig

__all__ = ["FileStamp", "Plan", "PlanBasis", "StagePlan", "make_plan", "plan_holds"]


@dataclass(frozen=True)
class FileStamp:
    """One input file as a plan validated it: what later shows it is still that file.

    Attributes:
        source: the path as the configuration holds it.
        resolved: that path with symlinks resolved, when the plan was made.
        size: bytes.
        mtime_ns: the last modification time, in nanoseconds.
        sha256: hex SHA-256 of the content, hashed right after the validation pass,
            with the same size and mtime before the pass and after the hash.
    """

    source: str
    resolved: str
    size: int
    mtime_ns: int
    sha256: str

    def holds(self) -> bool:
        """Whether the file at ``source`` is still this one: same place, size, mtime and hash.

        The size and mtime are compared first (a ``stat``, no read), and the whole
        file is hashed only when they match: on the 50 MB benchmark file a hash takes
        about 0.05 s where validating it takes about 2 s, and the run needs the hash
        for its manifest anyway (:meth:`Plan._digests`). A file that changes while it
        is hashed is caught by a second ``stat``. Trusted: SHA-256 (equal hashes,
        equal bytes).
        """
        before = _stat(Path(self.source))
        if before != (self.resolved, self.size, self.mtime_ns):
            return False
        sha, size = file_digest(Path(self.source))
        return (sha, size) == (self.sha256, self.size) and _stat(Path(self.source)) == before


@dataclass(frozen=True)
class PlanBasis:
    """Everything a plan was computed from; an equal basis gives the same plan.

    :func:`make_plan` reads the configuration, the provider, the day shutdown dates
    are compared with, the catalog's entry for the model (limits, prices, dates,
    tokenizer; Together's limits are refreshed into it before a run) and the files.
    The rest of the process (the tokenizer files, ftkit's code) is trusted to stay
    as it was between ``plan()`` and ``run()``.
    """

    config: PipelineConfig
    provider: str | None
    today: _dt.date
    model: ModelInfo | None
    files: tuple[FileStamp, ...]


@dataclass(frozen=True)
class StagePlan:
    """One stage as it would run.

    Attributes:
        name: ``"sft"`` or ``"dpo"``.
        method: the jobs API method type.
        base_model: what the job starts from (``"<SFT result>"`` for DPO after SFT).
        train: the training file's validation report.
        validation: the validation file's report, if any.
        estimate: tokens and cost of the training file (validation tokens are free).
        job: the ``jobs.create`` parameters, with file ids still unknown.
    """

    name: str
    method: str
    base_model: str
    train: ValidationReport
    validation: ValidationReport | None
    estimate: CostEstimate | None
    job: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Whether both files are free of errors."""
        return self.train.ok and (self.validation is None or self.validation.ok)


@dataclass(frozen=True)
class Plan:
    """The whole run, before it starts.

    Attributes:
        model: the base model (or ``ft:`` model) the first stage trains.
        stages: each stage's reports, estimate and job.
        retired_on: the base model's shutdown date when it has passed (the
            reports then hold a ``model_retired`` error and ``run()`` raises
            ``TrainingUnavailable``); ``None`` otherwise.
        refusals: what the provider would refuse about the run (a retired model,
            a model, method or training type it does not train), each with its
            message; ``run()`` raises the first before any request.
        provider: the provider the plan was made for (``None``: any, ``openai`` first).
        training_type: the training type the jobs train on, where the provider has
            them (Azure's default, ``standard``, when none was chosen); else ``None``.
    """

    model: str
    stages: list[StagePlan]
    retired_on: str | None = None
    refusals: tuple[Refusal, ...] = ()
    provider: str | None = None
    training_type: str | None = None
    # What the plan was made from (:func:`plan_holds` compares it with the present);
    # ``None`` when a file changed while it was validated: such a plan stands for no run.
    _basis: PlanBasis | None = field(default=None, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        """Nothing is refused and no file has an error: the run may start."""
        return not self.refusals and all(s.ok for s in self.stages)

    @property
    def cost_usd(self) -> float | None:
        """Total estimated cost; ``None`` if any stage's price is unknown."""
        costs = [s.estimate.cost_usd if s.estimate else None for s in self.stages]
        if any(c is None for c in costs):
            return None
        return float(sum(c for c in costs if c is not None))

    @property
    def billed_tokens(self) -> int:
        """Tokens all stages will bill (each example capped, times epochs)."""
        return sum(s.estimate.billed_tokens for s in self.stages if s.estimate)

    def _digests(self) -> dict[str, tuple[str, int]]:
        """``(sha256, size)`` of each file as validated, by its path in the configuration.

        A run's manifest records these: the hash the plan took (and :func:`plan_holds`
        checked again) is not read a third time. Empty without a basis.
        """
        files = self._basis.files if self._basis is not None else ()
        return {f.source: (f.sha256, f.size) for f in files}

    def raise_for_refusal(self) -> None:
        """Raise what the provider would answer to the run's first refused setting.

        ``run()`` and ``start()`` call this first, before any request.

        Raises:
            TrainingUnavailable: the base model is retired, or the provider does
                not fine-tune it.
            UsageError: the provider does not train the model with a stage's
                method, or on the run's training type.
        """
        if self.refusals:
            raise self.refusals[0].error()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe summary (reports as their own ``to_dict``)."""
        return {
            **attributes(
                self,
                "model",
                "provider",
                "training_type",
                "ok",
                "retired_on",
                "cost_usd",
                "billed_tokens",
            ),
            "refusals": [r.to_dict() for r in self.refusals],
            "stages": [
                {
                    **attributes(s, "name", "method", "base_model", "ok"),
                    "train": s.train.to_dict(),
                    "validation": s.validation.to_dict() if s.validation else None,
                    "estimate": _estimate_dict(s.estimate),
                    "job": s.job,
                }
                for s in self.stages
            ],
        }

    def _verdict(self) -> str:
        if self.ok:
            return "ready"
        if self.refusals:
            return "BLOCKED: " + "; ".join(r.summary for r in self.refusals)
        return "BLOCKED by dataset errors"

    def __str__(self) -> str:
        # Every number here is the one to_dict() holds: all findings are counted (not
        # only the kept samples), and each code is named with its count.
        # Named where it is not OpenAI's (whose plans read as they always have).
        where = (
            f" on {provider_name(self.provider)}" if self.provider not in (None, "openai") else ""
        )
        tier = f" ({self.training_type} training)" if self.training_type else ""
        lines = [f"plan for {self.model}{where}{tier}: {self._verdict()}"]
        lines += [f"  refused [{r.code}]: {r.message}" for r in self.refusals]
        for s in self.stages:
            est = s.estimate
            cost = "unknown" if est is None or est.cost_usd is None else f"${est.cost_usd:,.2f}"
            tokens = (
                f"{plural(est.examples, 'example')}, "
                f"{plural(est.billed_tokens, 'billed token')} "
                f"({plural(est.epochs, 'epoch')})"
                if est
                else "no token estimate"
            )
            lines.append(f"  {s.name} on {s.base_model}: {tokens}, {cost}")
            if est is not None and est.cost_usd is None and est.cost_reason:
                lines.append(f"    cost unknown: {est.cost_reason}")
            for label, report in (("train", s.train), ("validation", s.validation)):
                if report is not None:
                    lines.extend(_report_lines(label, report))
        total = self.cost_usd
        lines.append(f"  total: {'unknown' if total is None else f'${total:,.2f}'}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        from .._html import html_block, html_table

        rows = []
        for s in self.stages:
            est = s.estimate
            reports = [r for r in (s.train, s.validation) if r is not None]
            rows.append(
                (
                    s.name,
                    s.base_model,
                    "ok" if s.ok else "errors",
                    sum(r.error_count for r in reports),
                    sum(r.warning_count for r in reports),
                    est.examples if est else None,
                    est.epochs if est else None,
                    est.billed_tokens if est else None,
                    None if est is None or est.cost_usd is None else f"${est.cost_usd:,.2f}",
                )
            )
        total = self.cost_usd
        summary = (
            f"for {self.model}: {self._verdict()}, total "
            f"{'unknown' if total is None else f'${total:,.2f}'}"
        )
        table = html_table(
            (
                "stage",
                "base model",
                "data",
                "errors",
                "warnings",
                "examples",
                "epochs",
                "billed tokens",
                "cost",
            ),
            rows,
        )
        return html_block("ftkit plan", summary, table)


_SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


def _report_lines(label: str, report: ValidationReport) -> list[str]:
    """One file of a stage: its counts, then each code with its count and first finding."""
    name = f" {report.source}" if report.source else ""
    lines = [
        f"    {label}{name}: {plural(report.examples, 'example')}; "
        f"{plural(report.error_count, 'error')}, {plural(report.warning_count, 'warning')}, "
        f"{plural(report.info_count, 'info')}"
    ]
    from ..validation import CODES

    codes = sorted(report.counts, key=lambda c: (_SEVERITY_ORDER[CODES[c].severity.value], c))
    for code in codes:
        head = f"      {CODES[code].severity.value} [{code}]"
        lines.append(
            _finding_line(head, report.counts[code], next(iter(report.by_code(code)), None))
        )
    return lines


def _finding_line(head: str, count: int, first: Issue | None) -> str:
    """``warning [code] line 4: message``; several: ``[code] 12 findings, first on line 4: ...``."""
    if first is None:  # counted, none kept (max_per_code=0)
        return f"{head} {plural(count, 'finding')}"
    if count == 1:
        where = f" line {first.line}" if first.line is not None else ""
        return f"{head}{where}: {first.message}"
    where = f", first on line {first.line}" if first.line is not None else ""
    return f"{head} {count:,} findings{where}: {first.message}"


def _estimate_dict(est: CostEstimate | None) -> dict[str, Any] | None:
    if est is None:
        return None
    return attributes(
        est,
        "examples",
        "epochs",
        "total_tokens",
        "trained_tokens",
        "billed_tokens",
        "over_limit",
        "price_per_1m",
        "cost_usd",
        "cost_reason",
    )


def make_plan(
    config: PipelineConfig, *, today: _dt.date | None = None, provider: str | None = None
) -> Plan:
    """Validate and estimate every stage of ``config`` (no network).

    Each stage's files go through ``ftkit.validate(train, validation=val)``'s
    passes (:func:`ftkit.validation.validate_files`), so a plan accepts and
    rejects exactly what ``ftkit validate`` and the service's file check do.
    The plan records its basis (:class:`PlanBasis`): each file is stated before
    its pass and hashed after it, so :func:`plan_holds` can later tell whether
    the plan still stands for the run; the hash adds about 2% to the pass.

    Args:
        config: the pipeline to plan.
        today: the day shutdown dates are compared with (UTC today by default; the
            builder passes a fake's virtual day for a fake's client).
        provider: the provider that will train it (the builder passes its client's):
            its catalog table decides the refusals, limits and prices. ``None``: the
            first provider that lists the model (``openai`` first).

    Raises:
        UsageError: the configuration is incomplete, or the catalog has no table
            for ``provider``.
    """
    from ..cost import CostEstimate
    from ..providers import find_model
    from ..providers._model import utc_today
    from ..validation import validate_files

    model = config.require_complete()
    today = today or utc_today()  # one date for every stage and for the refusal
    # Stated before the pass: a file written while it is validated leaves no basis.
    before = {str(p): _stat(p) for p in _files(config)}
    given = config.training_type
    refusals = find_refusals(
        model,
        ["dpo" if s.method == "dpo" else "sft" for s in config.stages],
        provider=provider,
        training_type=given,
        today=today,
    )
    retired_on = next((r.shutdown for r in refusals if r.code == "model_retired"), None)
    training_type = run_training_type(find_model(model, provider), given)
    stages: list[StagePlan] = []
    for stage in config.stages:
        after_sft = stage.method == "dpo" and config.sft is not None
        # Counting and prices follow the base snapshot, also for DPO on the SFT model.
        counting_model = _base_model(model)
        method = "dpo" if stage.method == "dpo" else "sft"
        train, validation = validate_files(
            stage.train,
            model=counting_model,
            method=method,
            provider=provider,
            validation=stage.validation,
            today=today,
        )
        estimate = None
        if train.tokens is not None:
            estimate = CostEstimate.from_stats(
                train.tokens,
                model=counting_model,
                epochs=None if stage.epochs == "auto" else stage.epochs,
                method=stage.method,
                provider=provider,
                training_type=training_type,
            )
        stages.append(
            StagePlan(
                name=stage.name,
                method=stage.method,
                base_model="<SFT result>" if after_sft else model,
                train=train,
                validation=validation,
                estimate=estimate,
                job=_job_preview(config, stage, after_sft),
            )
        )
    stamps = _stamps(config, before)
    return Plan(
        model=model,
        stages=stages,
        retired_on=retired_on,
        refusals=refusals,
        provider=provider,
        training_type=training_type,
        _basis=None
        if stamps is None
        else PlanBasis(config, provider, today, find_model(model, provider), stamps),
    )


def plan_holds(
    plan: Plan, config: PipelineConfig, *, today: _dt.date | None, provider: str | None
) -> bool:
    """Whether ``plan`` is what :func:`make_plan` would compute for ``config`` now.

    True when the configuration, the provider, the day (``None``: UTC today, as
    :func:`make_plan` takes it) and the catalog's entry for the model are equal to
    the plan's, and every file holds (:meth:`FileStamp.holds`: same path, size,
    mtime and SHA-256). The cheap comparisons come first; files are hashed last,
    and only while everything else matched. Never true for a plan without a basis.
    """
    from ..providers import find_model
    from ..providers._model import utc_today

    basis = plan._basis
    if basis is None or basis.config != config or basis.provider != provider:
        return False
    if basis.today != (today or utc_today()):
        return False
    if basis.model != find_model(config.require_complete(), provider):
        return False
    return all(stamp.holds() for stamp in basis.files)


def _files(config: PipelineConfig) -> list[Path]:
    """Each file of the configuration once, in stage order (training, then validation)."""
    paths = [p for s in config.stages for p in (s.train, s.validation) if p is not None]
    return list({str(p): p for p in paths}.values())


def _stat(path: Path) -> tuple[str, int, int] | None:
    """``(resolved path, size, mtime_ns)`` of a file; ``None`` when it cannot be read."""
    try:
        resolved = path.resolve()
        info = os.stat(resolved)
    except OSError:
        return None
    return str(resolved), info.st_size, info.st_mtime_ns


def _stamps(
    config: PipelineConfig, before: dict[str, tuple[str, int, int] | None]
) -> tuple[FileStamp, ...] | None:
    """Each file's stamp, hashed after its pass; ``None`` if one moved since ``before``.

    The hash is read after the validation pass (which leaves the file in the page
    cache) and the file stated again after it: a file whose size or mtime moved
    between the ``stat`` before the pass and this one was written while it was
    read, so nothing proves the reports describe the bytes hashed.
    """
    stamps = []
    for path in _files(config):
        stated = before.get(str(path))
        if stated is None:
            return None
        sha, size = file_digest(path)
        if size != stated[1] or _stat(path) != stated:
            return None
        stamps.append(FileStamp(str(path), stated[0], size, stated[2], sha))
    return tuple(stamps)


def _job_preview(config: PipelineConfig, stage: StageConfig, after_sft: bool) -> dict[str, Any]:
    job: dict[str, Any] = {
        "model": "<SFT result>" if after_sft else config.model,
        "training_file": f"<upload of {stage.train.name}>",
        "method": stage.method_object(),
    }
    if stage.validation:
        job["validation_file"] = f"<upload of {stage.validation.name}>"
    if config.suffix:
        job["suffix"] = config.suffix
    if config.seed is not None:
        job["seed"] = config.seed
    return job
