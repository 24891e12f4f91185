"""The one exception tree of ftkit.

Every error ftkit raises on purpose derives from :class:`FtkitError`, so a
caller can catch the library's failures in one place and still tell misuse
from runtime failure::

    FtkitError
    ├── UsageError                  the caller asked for something invalid (also a ValueError)
    │   ├── MissingExtra            an optional extra is not installed (also an ImportError)
    │   └── CostLimitExceeded       inference calls would cost (or have cost) over max_cost_usd
    ├── DatasetError                a training file cannot be used
    │   ├── RecordError             one line is malformed (line, path, code)
    │   └── DatasetInvalid          a validation report has errors (carries the report)
    ├── TokenizerUnavailable        no verified vocabulary for the model's encoding
    ├── APIError                    a call to the fine-tuning API failed (translated, chained)
    │   ├── RetryExhausted          retryable failures outlasted the retry policy
    │   └── TrainingUnavailable     the provider refuses training (wind-down, retired model)
    ├── JobFailed                   a job ended ``failed`` or ``cancelled``
    ├── DeploymentFailed            an Azure deployment ended ``Failed`` or ``Canceled``
    ├── WaitTimeout                 the polling policy gave up; the job keeps running
    └── RunConflict                 a run is locked by another process or its config changed

Errors carry their evidence (the line and JSON path, the last job object, the
run id to resume) as attributes, never only inside the message.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = [
    "APIError",
    "CostLimitExceeded",
    "DatasetError",
    "DatasetInvalid",
    "DeploymentFailed",
    "FtkitError",
    "JobFailed",
    "RecordError",
    "RetryExhausted",
    "RunConflict",
    "TokenizerUnavailable",
    "TrainingUnavailable",
    "UsageError",
    "WaitTimeout",
]


class FtkitError(Exception):
    """Root of every error ftkit raises deliberately."""


class UsageError(FtkitError, ValueError):
    """The caller asked for something ftkit cannot do; the message names the fix."""


class CostLimitExceeded(UsageError):
    """Inference calls (an evaluation's, its judge's, a distillation's) would pass ``max_cost_usd``.

    Raised before the first call when the estimate is over the cap (nothing was
    asked), or during the calls when what was billed reaches it (no new call starts;
    the answers already received are kept, so raising the cap and running again
    resumes).

    Attributes:
        limit_usd: the cap.
        estimate_usd: the estimate of the calls still to make, when raised before them.
        spent_usd: what the calls made so far cost, when raised during them.
    """

    def __init__(
        self,
        message: str,
        *,
        limit_usd: float,
        estimate_usd: float | None = None,
        spent_usd: float | None = None,
    ) -> None:
        self.limit_usd = limit_usd
        self.estimate_usd = estimate_usd
        self.spent_usd = spent_usd
        super().__init__(message)


class DatasetError(FtkitError):
    """A dataset cannot be read or used as it is.

    Attributes:
        issues: the findings behind it, each located to its line where known
            (:class:`ftkit.validation.Issue`): a provider's refusal of an uploaded file
            as ``provider_refused`` findings. Empty when the message says it all.
    """

    issues: tuple[Any, ...] = ()


class RecordError(DatasetError):
    """One line of a JSONL file is not a valid record.

    Attributes:
        line: 1-based line number in the source file (``None`` for in-memory data).
        path: JSON path inside the record, e.g. ``messages[3].weight`` ("" for the line).
        code: stable snake_case code of the problem, e.g. ``invalid_json``.
        reason: the plain-language explanation, without the location prefix.
        source: the file the line came from, when known.
    """

    def __init__(
        self,
        reason: str,
        *,
        line: int | None = None,
        path: str = "",
        code: str = "invalid_record",
        source: str | None = None,
    ) -> None:
        self.reason = reason
        self.line = line
        self.path = path
        self.code = code
        self.source = source
        super().__init__(self._render())

    def _render(self) -> str:
        where = []
        if self.source:
            where.append(str(self.source))
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.path:
            where.append(self.path)
        prefix = ", ".join(where)
        return f"{prefix}: {self.reason}" if prefix else self.reason

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only constructor: teach pickle (multiprocessing) how to rebuild it.
        return (_rebuild_record_error, (self.reason, self.line, self.path, self.code, self.source))


def _rebuild_record_error(
    reason: str, line: int | None, path: str, code: str, source: str | None
) -> RecordError:
    return RecordError(reason, line=line, path=path, code=code, source=source)


class DatasetInvalid(DatasetError):
    """A validation report contains errors; ``report`` holds every finding."""

    def __init__(self, message: str, *, report: Any = None) -> None:
        self.report = report
        super().__init__(message)


class TokenizerUnavailable(FtkitError):
    """No hash-verified vocabulary could be found for an encoding.

    ftkit never substitutes another encoding: counts would be silently wrong.
    """

    def __init__(self, encoding: str, tried: Sequence[str] = ()) -> None:
        self.encoding = encoding
        self.tried = tuple(tried)
        lines = [
            f"no verified vocabulary file for tiktoken encoding {encoding!r} is available "
            "and downloading it is disabled or failed.",
            "Fix one of:",
            "  - pip install 'ftkit[offline]'  (bundles o200k_base and cl100k_base);",
            f"  - put {encoding}.tiktoken (or .tiktoken.gz) in a folder and set"
            " FTKIT_TIKTOKEN_DIR;",
            "  - allow tiktoken's one-time download (unset FTKIT_TIKTOKEN_DOWNLOAD=0, open the"
            " network to openaipublic.blob.core.windows.net).",
        ]
        if self.tried:
            lines.append("Looked in: " + "; ".join(self.tried))
        super().__init__("\n".join(lines))


class APIError(FtkitError):
    """A call to the fine-tuning API failed; the openai exception is chained.

    Attributes:
        status_code: HTTP status, or ``None`` for connection errors and timeouts.
        request_id: the provider's ``x-request-id``, for support tickets.
        code: the provider's error code (``error.code``), when it sent one.
        param: the parameter the provider blamed (``error.param``), when it sent one.
        retry_after: seconds the provider asked to wait (``retry-after-ms`` / ``retry-after``).
        retryable: whether the failure is transient (408/409/429/5xx, connection, timeout).
        ambiguous: whether a write may have been applied although the call failed
            (timeouts, connection errors, 5xx): the caller must look before writing again.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        request_id: str | None = None,
        code: str | None = None,
        param: str | None = None,
        retry_after: float | None = None,
        retryable: bool = False,
        ambiguous: bool = False,
    ) -> None:
        self.status_code = status_code
        self.request_id = request_id
        self.code = code
        self.param = param
        self.retry_after = retry_after
        self.retryable = retryable
        self.ambiguous = ambiguous
        super().__init__(message)


class RetryExhausted(APIError):
    """Retryable failures outlasted the retry policy.

    Attributes:
        attempts: how many calls were made.
        last_error: the last translated error.
    """

    def __init__(self, message: str, *, attempts: int, last_error: APIError | None) -> None:
        self.attempts = attempts
        self.last_error = last_error
        super().__init__(
            message,
            status_code=last_error.status_code if last_error else None,
            request_id=last_error.request_id if last_error else None,
            code=last_error.code if last_error else None,
            param=last_error.param if last_error else None,
        )


class TrainingUnavailable(APIError):
    """The provider refuses to train: OpenAI's wind-down, a retired base model, a blocked org."""

    @property
    def hint(self) -> str:
        """The next step, which depends on why training is refused (the CLI prints it)."""
        if self.code in _MODEL_REFUSALS:
            return (
                "the base model is retired or not offered for fine-tuning: pick a current "
                "model (docs/providers.md lists the shutdown dates; `ftkit validate FILE "
                "--model MODEL` checks one before any upload)"
            )
        return (
            "this provider no longer creates fine-tuning jobs for you: the same code runs "
            "on Azure OpenAI with an openai.AzureOpenAI client (see docs/providers.md)"
        )


# Codes of a refusal about the base model, not the account: ftkit's own preflight
# (``model_retired``) and the API's ``model_not_available``.
_MODEL_REFUSALS = frozenset({"model_retired", "model_not_available"})


class JobFailed(FtkitError):
    """A fine-tuning job ended ``failed`` or ``cancelled``.

    Attributes:
        job_id, status, code, error_message, param: what the provider reported
            (``error_message`` is given as ``message=``).
        job: the last job object seen (the evidence).
        run_id: the ftkit run it belongs to, if any.
    """

    def __init__(
        self,
        *,
        job_id: str,
        status: str,
        code: str | None = None,
        message: str | None = None,
        param: str | None = None,
        job: Any = None,
        run_id: str | None = None,
    ) -> None:
        self.job_id = job_id
        self.status = status
        self.code = code
        self.error_message = message
        self.param = param
        self.job = job
        self.run_id = run_id
        detail = f"job {job_id} {status}"
        if code or message:
            detail += f": {code or 'error'}: {message or ''}".rstrip(": ")
        if param:
            detail += f" (param: {param})"
        super().__init__(detail)


class DeploymentFailed(FtkitError):
    """A deployment of a fine-tuned model (Azure, Fireworks) failed, was cancelled, or vanished.

    Attributes:
        name: the deployment's name.
        state: its last ``provisioningState`` (Azure) or ``state`` (Fireworks);
            ``"missing"`` when it disappeared.
        code, error_message: what the provider reported, when it said why
            (``error_message`` is given as ``message=``).
        deployment: the last deployment object seen (its JSON), the evidence.
    """

    def __init__(
        self,
        *,
        name: str,
        state: str,
        code: str | None = None,
        message: str | None = None,
        deployment: Any = None,
    ) -> None:
        self.name = name
        self.state = state
        self.code = code
        self.error_message = message
        self.deployment = deployment
        detail = f"deployment {name} {state}"
        if code or message:
            detail += f": {code or 'error'}: {message or ''}".rstrip(": ")
        super().__init__(detail)


class WaitTimeout(FtkitError):
    """The polling policy gave up waiting; the remote job is left running.

    Attributes:
        job_id: the job still in progress (for ``RunResult.deploy``, the deployment's name).
        last_status: its status when ftkit stopped waiting.
        run_id: the ftkit run to resume with ``ftkit.Run.resume(run_id)``.
    """

    def __init__(
        self, message: str, *, job_id: str, last_status: str | None, run_id: str | None = None
    ) -> None:
        self.job_id = job_id
        self.last_status = last_status
        self.run_id = run_id
        super().__init__(message)


class RunConflict(FtkitError):
    """A run cannot proceed: another process holds it, or its configuration changed."""
