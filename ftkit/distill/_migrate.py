"""Carry a fine-tune to another provider: teacher answers → SFT there → how close the student is.

An OpenAI fine-tune stops serving when its base model retires, and none can be
trained after 2027-01-06. :func:`migrate` turns one into a model the user keeps
elsewhere, as one resumable recipe made of ftkit's own parts:

1. the teacher answers every prompt (:func:`~ftkit.distill.generate`: one
   journaled, filtered run under one cost cap) into ``teacher.jsonl``; or, with
   ``data=``, records that already hold the teacher's answers (stored traffic,
   :func:`~ftkit.distill.from_stored`) are taken as they are;
2. the answered records are split into ``train.jsonl`` and ``holdout.jsonl``
   (atomically) by a hash of each conversation and the seed, so a record lands on
   the same side on every run and machine, whatever the order of the file;
3. the student's :class:`~ftkit.FineTune` trains on ``train.jsonl`` (validated
   before anything is uploaded, like every run), its manifest kept in
   ``<workdir>/state``;
4. the student (deployed first by ``serve``, where the provider serves a
   fine-tune only once deployed) and its base model answer the held-out
   prompts, scored against the teacher's answers (:func:`~ftkit.evaluate`,
   results in ``<workdir>/eval``);
5. :class:`MigrationReport` says how close the student came, and is written to
   ``<workdir>/migration.json``.

Every step resumes: a re-run with the same ``workdir`` asks the teacher only what
it has not answered, resumes the student's run instead of starting another (the
newest run in ``<workdir>/state`` of the same configuration and data), and asks
for evaluation replies only where none is stored. Training waits for a complete
training set: when teacher calls failed, nothing is trained and the error says
to run again.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._exceptions import RunConflict, UsageError
from .._process_lock import ProcessLock
from .._words import plural
from ..jsonl import atomic_write
from ._filters import DEFAULT_FILTERS, FilterArg
from ._prompts import PromptSource, _dicts, _prompt, load_prompts

if TYPE_CHECKING:
    from ..evaluation import EvalProgress, EvalReport, ModelScore, PairwiseResult
    from ..evaluation._choosing import ScorerArg
    from ..evaluation._prices import InferencePricesArg
    from ..pipeline import FineTune, RunResult
    from ..retry import RetryPolicy
    from ._generate import DistillResult

__all__ = ["MIGRATION_FILE", "MigrationReport", "migrate"]

MIGRATION_FILE = "migration.json"
"""The report's name in the work folder (``MigrationReport.to_dict()`` as JSON)."""


@dataclass(frozen=True)
class MigrationReport:
    """How close a student trained on a teacher's answers came to that teacher.

    The held-out prompts were never trained on. Each was answered by the teacher
    (the reference), by the student and by the student's base model; each reply is
    scored against the teacher's, so a score of 1 means "answered as the teacher did".

    Attributes:
        teacher: the model the answers came from (``None`` with ``data=``: unknown).
        student: the fine-tuned model on the new provider.
        base: the student's base model.
        provider: where the student was trained (``"together"``, ``"fireworks"``...).
        workdir: the folder holding every file of the migration.
        train_records, holdout_records: records trained on, and held out.
        distilled: the teacher's answers to every prompt (``None`` with ``data=``:
            nothing was asked).
        run: the student's training run.
        evaluation: the student and its base scored against the teacher.
    """

    teacher: str | None
    student: str
    base: str
    provider: str
    workdir: Path
    train_records: int
    holdout_records: int
    distilled: DistillResult | None
    run: RunResult
    evaluation: EvalReport

    @property
    def closeness(self) -> ModelScore:
        """The student's mean score against the teacher's answers, with its 95 % interval."""
        return self.evaluation.scores["fine-tuned"]

    @property
    def base_closeness(self) -> ModelScore:
        """The base model's: how close the student was before training."""
        return self.evaluation.scores["base"]

    @property
    def versus_base(self) -> PairwiseResult:
        """Held-out prompts where the student came closer to the teacher than its base did."""
        return next(p for p in self.evaluation.pairs if p.a == "fine-tuned")

    @property
    def cost_usd(self) -> float | None:
        """What the teacher's answers and the evaluation cost (training: ``run``'s plan)."""
        parts = [self.distilled.cost_usd] if self.distilled is not None else []
        parts += [s.cost_usd for s in self.evaluation.scores.values()]
        return None if any(p is None for p in parts) else sum(p for p in parts if p is not None)

    def __str__(self) -> str:
        score, base, pair = self.closeness, self.base_closeness, self.versus_base
        teacher = self.teacher or "the teacher"
        lines = [
            f"migrated {teacher} to {self.student} ({self.provider}, from {self.base})",
            f"  trained on {plural(self.train_records, 'teacher answer')}; "
            f"{plural(self.holdout_records, 'held-out prompt')} scored against the "
            f"teacher's answers ({self.evaluation.scorer})",
            f"  student: {_interval(score)}   base: {_interval(base)}",
            f"  closer than its base on {pair.wins} of {plural(pair.compared, 'prompt')}, "
            f"as close on {pair.ties}, further on {pair.losses}",
        ]
        errors = score.errors + base.errors
        if errors:
            lines.append(f"  {plural(errors, 'reply', 'replies')} failed (not scored)")
        cost = self.cost_usd
        if cost is not None:
            lines.append(f"  inference cost: ${cost:,.4f} (training not included)")
        lines.append(f"  files: {self.workdir}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the figures, the run and the evaluation's summary."""
        return {
            "teacher": self.teacher,
            "student": self.student,
            "base": self.base,
            "provider": self.provider,
            "workdir": str(self.workdir),
            "run_id": self.run.run_id,
            "train_records": self.train_records,
            "holdout_records": self.holdout_records,
            "scorer": self.evaluation.scorer,
            "closeness": self.closeness.to_dict(),
            "base_closeness": self.base_closeness.to_dict(),
            "versus_base": self.versus_base.to_dict(),
            "distilled": None if self.distilled is None else self.distilled.to_dict(),
            "cost_usd": self.cost_usd,
        }


def _interval(score: ModelScore) -> str:
    if score.mean is None:
        return "no score"
    return f"{score.mean:.3f} (95% CI {score.ci_low:.3f}-{score.ci_high:.3f}, n={score.n})"


def migrate(
    student: FineTune,
    *,
    workdir: str | os.PathLike[str],
    prompts: PromptSource | None = None,
    teacher_client: Any = None,
    teacher: str | None = None,
    data: PromptSource | None = None,
    holdout: float | int = 0.1,
    seed: int = 0,
    teacher_max_cost_usd: float | None = None,
    max_cost_usd: float | None = None,
    scorer: ScorerArg = "auto",
    temperature: float | None = None,
    max_tokens: int | None = None,
    filters: Sequence[FilterArg] | None = DEFAULT_FILTERS,
    concurrency: int = 8,
    retry: int | RetryPolicy | None = None,
    progress: bool | Callable[[EvalProgress], object] = False,
    prices: InferencePricesArg = None,
    serve: Callable[[RunResult], str] | None = None,
    base_as: str | None = None,
) -> MigrationReport:
    """Train ``student`` on ``teacher``'s answers, then measure how close it came.

    Args:
        student: the student's :class:`~ftkit.FineTune`: its client (Together,
            Fireworks, Azure OpenAI...), base model and settings, without data;
            ``migrate`` adds the SFT stage (``train.jsonl``) and the state folder
            (``<workdir>/state``).
        workdir: the migration's folder; a re-run with the same one resumes every step.
        prompts: what the teacher answers (a JSONL path, a Dataset, records or dicts;
            a final assistant turn is removed, as :func:`~ftkit.distill.generate` does).
        teacher_client: the teacher's client (``openai.OpenAI`` / ``AzureOpenAI``...;
            None: OpenAI from the environment).
        teacher: the teacher model, e.g. an ``ft:`` model about to be lost.
        data: instead of ``prompts``, SFT records whose final assistant turns are
            already the teacher's (:func:`~ftkit.distill.from_stored`'s), as a JSONL
            path, a Dataset or records; ``teacher`` then only names it in the report.
        holdout: the held-out share (a fraction in (0, 1)) or count of the records.
        seed: picks the held-out records (by a hash of each conversation and the seed).
        teacher_max_cost_usd: a hard cap on the teacher's calls of this call of
            ``migrate`` (checked on the estimate before the first one; answers an
            earlier call paid for are reused, not counted again).
        max_cost_usd: the training run's cap (``FineTune.run(max_cost_usd=...)``).
        scorer: how a reply is scored against the teacher's (``"auto"``: chosen from
            the teacher's answers; see :func:`~ftkit.evaluate`).
        temperature, max_tokens, filters: the teacher's generation, as
            :func:`~ftkit.distill.generate` takes them.
        concurrency: calls in flight, for the teacher and for the evaluation.
        retry: the per-call :class:`~ftkit.RetryPolicy` for the teacher and the
            evaluation (the student's run keeps its builder's).
        progress: as :func:`~ftkit.distill.generate` and :func:`~ftkit.evaluate`.
        prices: inference price overrides, ``{model: {"input": x, "output": y}}``.
        serve: where a fine-tune answers only once it is deployed (Fireworks, Azure
            OpenAI; Together on a dedicated endpoint), called with the trained run
            before the evaluation and returning the name to call the student by, e.g.
            ``lambda run: run.deploy(client=fw).call_as`` on Fireworks or
            ``lambda run: run.deploy(subscription=..., ...).name`` on Azure. A rerun
            calls it again, so it must adopt what an earlier call made (``deploy``
            does). None: the student is called by its model name.
        base_as: the name to call the student's base model by (on Azure, its
            deployment); None: its model id.

    Returns:
        A :class:`MigrationReport`, also written to ``<workdir>/migration.json``.

    Raises:
        UsageError: bad arguments; a student builder that already has data; teacher
            calls failed (nothing was trained: run again to ask them).
        RunConflict: another process is running a migration in ``workdir``.
        CostLimitExceeded: the teacher's answers would cost more than
            ``teacher_max_cost_usd`` (nothing was asked).
        DatasetInvalid: the training set has errors (nothing was uploaded).
        ftkit.APIError, JobFailed: as :func:`~ftkit.distill.generate`,
            :meth:`FineTune.run` and :func:`~ftkit.evaluate` raise them.
    """
    folder = Path(workdir)
    ft = _student(student, folder, served=serve is not None)
    if (prompts is None) == (data is None):
        raise UsageError("give prompts= (with teacher=) or data= (the teacher's answers)")
    _split_size(holdout)
    folder.mkdir(parents=True, exist_ok=True)
    # One migration per workdir at a time: between finding no run of this configuration
    # in state/ and creating one, a second process would start a second paid job.
    # One migration per workdir at a time: between finding no run of this configuration
    # in state/ and creating one, a second process would start a second paid job.
    lock = ProcessLock(
        folder / "migration.lock",
        lambda holder: RunConflict(
            f"the migration in {folder} is being run by {holder}; wait for it to finish "
            "(a rerun then resumes every step)"
        ),
    )
    with lock:
        distilled = None
        asked: set[str] | None = None  # the prompts' fingerprints, when the teacher is asked
        if prompts is not None:
            if not teacher:
                raise UsageError("teacher= names the model whose answers the student learns")
            rows = [dict(row) for row, _ in _dicts(prompts)]  # read once: any iterable will do
            asked = {p.fingerprint for p in load_prompts(rows)}
            # Refused before the teacher is paid when the prompts alone cannot be split.
            _held_count(len(asked), holdout)
            distilled = _ask_teacher(
                teacher_client,
                teacher,
                rows,
                folder / "teacher.jsonl",
                max_cost_usd=teacher_max_cost_usd,
                temperature=temperature,
                max_tokens=max_tokens,
                filters=filters,
                concurrency=concurrency,
                retry=retry,
                progress=progress,
                prices=prices,
            )
        answered: PromptSource = distilled.dataset if distilled is not None else data or ()
        train_path, holdout_path = folder / "train.jsonl", folder / "holdout.jsonl"
        # With prompts, only theirs: teacher.jsonl also keeps the answers to prompts an
        # earlier call of the same workdir gave (a rerun never asks them again).
        train_count, held_count = _write_split(
            answered, holdout, seed, train_path, holdout_path, only=asked
        )

        from ..evaluation import evaluate

        result = _train(ft.sft(train_path), folder / "state", max_cost_usd)
        base = str(result.stages[0].base_model)
        served = serve(result) if serve is not None else str(result.fine_tuned_model)
        evaluation = evaluate(
            {"base": base_as or base, "fine-tuned": served},
            holdout_path,
            client=result.client,
            scorer=scorer,
            out=folder / "eval",
            concurrency=concurrency,
            retry=retry,
            progress=progress,
            prices=prices,
        )
        report = MigrationReport(
            teacher=teacher,
            student=str(result.fine_tuned_model),
            base=base,
            provider=result.provider,
            workdir=folder,
            train_records=train_count,
            holdout_records=held_count,
            distilled=distilled,
            run=result,
            evaluation=evaluation,
        )
        with atomic_write(folder / MIGRATION_FILE) as handle:
            json.dump(report.to_dict(), handle, indent=2, ensure_ascii=False)
            handle.write("\n")
        return report


#: Where a fine-tune answers only once deployed (``RunResult.deploy``), and how it bills.
_DEPLOYED_ONLY = {
    "fireworks": "on a dedicated deployment (billed per GPU-second while a replica runs)",
    "azure": "once deployed (a deployment bills hosting hours)",
}


def _student(student: FineTune, folder: Path, *, served: bool) -> FineTune:
    """The student's builder with the migration's state folder; refused if it has data.

    Also refused, before the teacher is paid, on a provider whose fine-tunes answer
    only once deployed when ``serve`` is missing: the evaluation could not call it.
    """
    from ..backend._clients import provider_of
    from ..pipeline import FineTune

    if not isinstance(student, FineTune):
        raise UsageError(
            "student must be a FineTune (e.g. ftkit.FineTune(together.Together()).model(...)), "
            f"got {type(student).__name__}"
        )
    if student._config.stages:
        raise UsageError("give the student without data: migrate adds its SFT stage")
    if student._config.model is None:
        raise UsageError("the student needs its base model: FineTune(client).model(...)")
    provider = provider_of(student._client)
    if not served and provider in _DEPLOYED_ONLY:
        call = "call_as" if provider == "fireworks" else "name"
        raise UsageError(
            f"a fine-tune on {provider} answers only {_DEPLOYED_ONLY[provider]}: pass "
            f"serve=lambda run: run.deploy(...).{call} to deploy the student before it "
            "is evaluated"
        )
    return student.state_dir(folder / "state")


def _ask_teacher(
    client: Any, teacher: str, prompts: PromptSource, out: Path, **options: Any
) -> DistillResult:
    """The teacher's answers to every prompt; refused if a call failed for good."""
    from ._generate import generate

    result = generate(client, prompts, model=teacher, out=out, **options)
    failed = result.dropped.get("error", 0)
    if failed:
        raise UsageError(
            f"{plural(failed, 'teacher call')} failed; nothing was trained: run the "
            "migration again to ask them (the answers received are kept)"
        )
    return result


def _split_size(holdout: float | int) -> None:
    if isinstance(holdout, bool) or not isinstance(holdout, (int, float)):
        raise UsageError("holdout must be a fraction in (0, 1) or a whole number of records")
    if isinstance(holdout, float) and not 0.0 < holdout < 1.0:
        raise UsageError(f"holdout={holdout} must be in (0, 1) as a fraction")
    if isinstance(holdout, int) and holdout < 1:
        raise UsageError(f"holdout={holdout} must hold at least one record")


def _held_count(n: int, holdout: float | int) -> int:
    """How many of ``n`` conversations are held out; refused if a side would be empty."""
    count = max(1, round(n * holdout)) if isinstance(holdout, float) else holdout
    if not 0 < count < n:
        raise UsageError(
            f"holdout={holdout} of {plural(n, 'distinct conversation')} leaves a side "
            "empty; a training set and a held-out set are both needed"
        )
    return count


def _write_split(
    data: PromptSource,
    holdout: float | int,
    seed: int,
    train_path: Path,
    holdout_path: Path,
    *,
    only: set[str] | None = None,
) -> tuple[int, int]:
    """Split answered records by conversation; write both files atomically; their sizes.

    ``only``: the prompt fingerprints to keep (None: every record).

    The held-out records are those whose conversation (without its answer) hashes
    lowest with the seed, so a record lands on the same side whatever the order of
    the file, and the teacher's answers to a re-run land as before. Each
    conversation is kept once: a prompt on both sides would leak its answer.
    """
    from ..dataset import Dataset

    keyed = _answered_rows(_dicts(data))
    if only is not None:
        keyed = {key: row for key, row in keyed.items() if key in only}
    n = len(keyed)
    count = _held_count(n, holdout)
    rank = {key: hashlib.sha256(f"{seed}:{key}".encode()).hexdigest() for key in keyed}
    held = set(sorted(keyed, key=rank.__getitem__)[:count])
    Dataset([row for key, row in keyed.items() if key not in held]).write(train_path)
    Dataset([row for key, row in keyed.items() if key in held]).write(holdout_path)
    return n - count, count


def _answered_rows(items: Iterable[tuple[Mapping[str, Any], str]]) -> dict[str, dict[str, Any]]:
    """Each answered conversation once, by its prompt's fingerprint, in order."""
    rows: dict[str, dict[str, Any]] = {}
    for index, (row, where) in enumerate(items):
        prompt = _prompt(row, index, where)
        if prompt.reference is None:
            raise UsageError(
                f"{where} does not end with an assistant answer; give prompts= and "
                "teacher= to have the teacher answer"
            )
        rows.setdefault(prompt.fingerprint, dict(row))
    return rows


def _train(ft: FineTune, state: Path, max_cost_usd: float | None) -> RunResult:
    """The student's run: the newest one of this configuration in ``state``, else a new one.

    Only the migration writes in ``state``, so a run found there of the same
    configuration and data is this migration's, started by an earlier attempt;
    it is resumed (waited for, or picked up where a crash left it), never repeated.
    A run that failed or was cancelled is not: the next attempt trains anew.
    """
    from ..pipeline._manifest import Manifest

    runs = state / "runs"
    manifests = sorted(runs.glob("ftr-*.json"), reverse=True) if runs.is_dir() else []
    for manifest in manifests:  # run ids sort by their start time
        if Manifest.load(manifest).status in ("failed", "cancelled"):
            continue  # ended without a model: a new run trains again
        try:
            run = ft.resume(manifest)
        except RunConflict:
            continue  # another configuration or other data: an older attempt's
        return run.wait()
    return ft.run(max_cost_usd=max_cost_usd)
