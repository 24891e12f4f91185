"""The public surface: the exported names, where they say they live, and a light import."""

from __future__ import annotations

import ast
import dataclasses
import importlib
import inspect
import pickle
import pkgutil
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import ftkit
from ftkit._public import TOP_LEVEL, names_of

PACKAGE = Path(ftkit.__file__).resolve().parent


def test_all_names_resolve() -> None:
    for name in ftkit.__all__:
        assert getattr(ftkit, name) is not None, name


def test_unknown_attribute_is_an_attribute_error() -> None:
    try:
        ftkit.does_not_exist  # type: ignore[attr-defined]  # noqa: B018
    except AttributeError as exc:
        assert "does_not_exist" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("expected AttributeError")


def test_import_does_not_load_openai_or_pydantic() -> None:
    code = (
        "import sys, ftkit; "
        "heavy = ('openai', 'httpx2', 'pydantic', 'tiktoken'); "
        "print(','.join(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_exception_tree_has_one_root() -> None:
    for name in ftkit.__all__:
        obj = getattr(ftkit, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            assert issubclass(obj, ftkit.FtkitError), name
    assert issubclass(ftkit.UsageError, ValueError)
    assert issubclass(ftkit.RecordError, ftkit.DatasetError)
    assert issubclass(ftkit.TrainingUnavailable, ftkit.APIError)


def test_record_error_pickles_for_worker_processes() -> None:
    import pickle

    err = ftkit.RecordError("bad", line=3, path="messages[0]", code="x", source="f.jsonl")
    back = pickle.loads(pickle.dumps(err))
    assert (back.line, back.path, back.code, back.source, str(back)) == (
        3,
        "messages[0]",
        "x",
        "f.jsonl",
        str(err),
    )


def test_no_subpackage_shadows_a_public_function() -> None:
    """Importing every submodule must not replace an exported name (``ftkit.validate``...)."""
    for info in pkgutil.walk_packages(ftkit.__path__, "ftkit."):
        if info.name.endswith("__main__"):
            continue
        importlib.import_module(info.name)
    for name in ("validate", "estimate", "evaluate", "count_tokens", "read_jsonl"):
        assert callable(getattr(ftkit, name)), name
        assert not isinstance(getattr(ftkit, name), type(ftkit)), name


# --------------------------------------------------------------------------- the surface, pinned

#: Every public module's exported names (like httpx's ``test_exported_members``): a name
#: added or removed here is a decision about the public API, not a side effect.
EXPECTED: dict[str, tuple[str, ...]] = {
    "ftkit": names_of(
        "APIError AssistantMessage AsyncFineTune AsyncRun CODES CostEstimate CostLimitExceeded "
        "DPOInput DPORecord "
        "Dataset DatasetError DatasetInvalid Deployment DeploymentFailed DeveloperMessage "
        "EvalReport ExactMatch FineTune "
        "FtkitError FunctionCall FunctionDefinition FunctionMessage ImagePart ImageURL Issue "
        "JobEvent JobFailed JsonFields JsonValid MessageEvent MetricsEvent MissingExtra ModelInfo "
        "Plan PollPolicy RecordError RetryExhausted RetryPolicy Run RunConflict RunEvent "
        "RunResult RunStatus SFTRecord Severity StageResult SystemMessage TextPart "
        "TokenizerUnavailable ToolCall ToolCallMatch ToolDefinition ToolMessage "
        "TrainingUnavailable UsageError UserMessage ValidationReport WaitTimeout __version__ "
        "aevaluate count_tokens encoding_for_model estimate evaluate export import_dataset "
        "model_info read_jsonl validate"
    ),
    "ftkit.backend": names_of(
        "Backend ChatAnswer ChatBackend Checkpoint FireworksBackend FireworksChat Job JobError "
        "JobEvent JobSpec JobStatus "
        "MessageEvent MetricsEvent OpenAIBackend OpenAIChat Page PriceQuote RemoteModel Request "
        "TogetherBackend TogetherChat TrainingFile Traits UploadResult UploadSession UploadState "
        "UploadedPart acreate_job_once "
        "aensure_trainable aupload_file create_job_once ensure_trainable upload_file"
    ),
    "ftkit.cli": names_of("COMMANDS build_parser main"),
    "ftkit.cost": names_of(
        "CostEstimate PlanEstimate Price PriceLookup PriceTable default_epochs estimate_stages "
        "load_prices resolve_epochs"
    ),
    "ftkit.dataset": names_of("Dataset DatasetSplit read_jsonl"),
    "ftkit.distill": names_of(
        "DEFAULT_FILTERS DistillResult JOURNAL_SUFFIX MIGRATION_FILE MigrationReport "
        "ScoreFilter afrom_stored agenerate from_stored generate migrate"
    ),
    "ftkit.evaluation": names_of(
        "AutoScorer DEFAULT_JUDGE_MODEL EditSimilarity EvalProgress EvalReport ExactMatch "
        "ExampleResult GradeResult InferencePrices JsonFields JsonValid JudgeSummary ModelReply "
        "ModelScore PairVerdict PairwiseJudge PairwiseResult REPLIES_FILE REPORT_FILE "
        "RubricJudge SCORERS Scorer SpendEstimate TokenF1 ToolCallData ToolCallMatch Turn "
        "aevaluate choose_scorer evaluate"
    ),
    "ftkit.interop": names_of(
        "ExportResult HF_TARGETS ImportResult InvalidRecords InvalidRows LossEntry LossReport "
        "TARGETS export from_hf import_dataset to_hf"
    ),
    "ftkit.jsonl": names_of(
        "BOM FileProblem RawLine Sniffed atomic_write atomic_write_bytes iter_lines sniff "
        "sniff_file utf8_error"
    ),
    "ftkit.pipeline": names_of(
        "AsyncFineTune AsyncRun Deployment FineTune FireworksDeployment Plan Run RunEvent "
        "RunResult RunStatus StagePlan StageResult adeploy_model deploy_model"
    ),
    "ftkit.plots": names_of("plot_labels plot_metrics plot_token_lengths"),
    "ftkit.polling": names_of(
        "Acceptor AsyncEventFollower DEFAULT_ACCEPTORS EventFollower PollPolicy await_for_job "
        "wait_for_job"
    ),
    "ftkit.providers": names_of(
        "DEFAULT_TRAINING_TYPE FEATURES Feature InferencePrice JOB_LIMITS METHODS Method "
        "ModelInfo TRAINING_TYPES TrainingPrice TrainingType base_model canonical_method "
        "canonical_training_type example_limit find_model lookup_model model_info "
        "model_limits_info models providers register register_file reset"
    ),
    "ftkit.retry": names_of(
        "DEFAULT_MAX_ATTEMPTS RetryEvent RetryPolicy is_retryable wait_backoff wait_retry_after"
    ),
    "ftkit.schema": names_of(
        "AssistantMessage ContentPart DPOInput DPORecord DeveloperMessage FunctionCall "
        "FunctionDefinition FunctionMessage ImagePart ImageURL Message Record RecordKind "
        "SFTRecord SystemMessage TextPart ToolCall ToolDefinition ToolMessage UserMessage "
        "describe_foreign detect_kind parse_record"
    ),
    "ftkit.testing": names_of(
        "ChatBehaviour DEFAULT_START FakeARM FakeClock FakeFineTuningAPI FakeServer Fault "
        "FaultKind FaultScript Limits ROUTE_NAMES RecordedRequest Timings"
    ),
    "ftkit.tokens": names_of(
        "ExampleTokens HFTokenizer HistogramBin OpenModelCounter StandInTokenizer TokenCounter "
        "TokenStats TokenSummary Tokenizer base_model count_tokens encoding_for_model "
        "encoding_name_for_model example_limit get_encoding get_tokenizer is_open_model "
        "open_model_tokenizer register_tokenizer"
    ),
    "ftkit.validation": names_of(
        "CODES CodeInfo Issue MIN_EXAMPLES Severity ValidationReport estimate validate "
        "validate_files"
    ),
}


def _module(name: str) -> ModuleType:
    return importlib.import_module(name)


@pytest.mark.parametrize("module", sorted(EXPECTED))
def test_exported_members(module: str) -> None:
    assert tuple(sorted(_module(module).__all__)) == EXPECTED[module]


def test_every_public_module_is_pinned() -> None:
    """A new public package (or top-level module) gets its list above."""
    public = {
        f"ftkit.{info.name}"
        for info in pkgutil.iter_modules(ftkit.__path__)
        if not info.name.startswith("_")
    }
    assert public == set(EXPECTED) - {"ftkit"}


def _exported_objects() -> Iterator[tuple[str, str, Any]]:
    for module in sorted(EXPECTED):
        for name in EXPECTED[module]:
            obj = getattr(_module(module), name)
            if isinstance(obj, type) or inspect.isfunction(obj):
                yield module, name, obj


def test_exported_classes_and_functions_report_their_public_module() -> None:
    """``ftkit.RunResult``, not ``ftkit.pipeline._result.RunResult``: top level first."""
    wrong = []
    for module, name, obj in _exported_objects():
        top = name in ftkit.__all__ and getattr(ftkit, name) is obj
        home = obj.__module__
        if (top and home != "ftkit") or home not in EXPECTED or name not in EXPECTED[home]:
            wrong.append(f"{module}.{name} says {home}")
        elif getattr(_module(home), name) is not obj:
            wrong.append(f"{module}.{name}: {home}.{name} is another object")
    assert wrong == []


def test_a_reexported_name_keeps_its_home() -> None:
    assert ftkit.tokens.base_model.__module__ == "ftkit.providers"
    assert ftkit.model_info.__module__ == "ftkit"
    assert ftkit.backend.Job.__module__ == "ftkit.backend"
    assert ftkit.JobEvent.__module__ == "ftkit"  # exported by ftkit.backend and at the top


def test_exported_classes_pickle_by_their_public_name() -> None:
    """Pickle finds a class by ``__module__`` and ``__qualname__``: both must lead back to it."""
    for module, name, obj in _exported_objects():
        if isinstance(obj, type):
            assert pickle.loads(pickle.dumps(obj)) is obj, f"{module}.{name}"


def test_published_values_round_trip_through_pickle() -> None:
    policy = ftkit.PollPolicy(initial_delay=2, deadline=60)
    stage = ftkit.StageResult("sft", "supervised", "ftjob-1", "succeeded", "m", "ft:m")
    missing = ftkit.MissingExtra("needs matplotlib")
    for value in (policy, stage, ftkit.RetryPolicy(max_attempts=3)):
        assert pickle.loads(pickle.dumps(value)) == value
    assert str(pickle.loads(pickle.dumps(missing))) == "needs matplotlib"


def _type_checking_imports(path: Path) -> dict[str, str]:
    """The ``name -> module`` of the ``if TYPE_CHECKING:`` imports of a package ``__init__``."""
    package = ".".join(path.relative_to(PACKAGE.parent).parent.parts)
    tree = ast.parse(path.read_text(encoding="utf-8"))
    block = next(
        node
        for node in tree.body
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name)
        if node.test.id == "TYPE_CHECKING"
    )
    found: dict[str, str] = {}
    for node in block.body:
        assert isinstance(node, ast.ImportFrom) and node.level == 1, ast.dump(node)
        for alias in node.names:
            assert alias.asname == alias.name, f"{alias.name}: write 'X as X' (a re-export)"
            found[alias.name] = f"{package}.{node.module}"
    return found


@pytest.mark.parametrize(
    ("init", "table"),
    [
        ("__init__.py", lambda: TOP_LEVEL),
        ("evaluation/__init__.py", lambda: ftkit.evaluation._HOMES),
        ("distill/__init__.py", lambda: ftkit.distill._HOMES),
    ],
)
def test_type_checking_imports_name_the_lazy_table(
    init: str, table: Callable[[], Mapping[str, tuple[str, ...]]]
) -> None:
    """Type checkers read the imports, the loader reads the table: they must agree."""
    expected = {name: module for module, names in table().items() for name in names}
    assert _type_checking_imports(PACKAGE / init) == expected


def test_the_table_is_all_and_the_loader() -> None:
    names = sorted(name for names in TOP_LEVEL.values() for name in names)
    assert ftkit.__all__ == names
    assert set(ftkit.__all__) <= set(dir(ftkit))


def test_missing_extra_is_public_and_both_an_import_and_a_usage_error() -> None:
    assert issubclass(ftkit.MissingExtra, ImportError)
    assert issubclass(ftkit.MissingExtra, ftkit.UsageError)
    assert ftkit.MissingExtra.__module__ == "ftkit"


def test_poll_and_retry_policies_use_the_same_words() -> None:
    """The same idea has the same name, and the same ``with_*`` copies it."""
    shared = {"initial_delay", "multiplier", "max_delay", "deadline"}
    for policy in (ftkit.PollPolicy, ftkit.RetryPolicy):
        assert shared <= {f.name for f in dataclasses.fields(policy)}, policy
        backoff = inspect.signature(policy.with_backoff).parameters
        assert {"initial_delay", "multiplier", "max_delay"} <= set(backoff), policy
        assert list(inspect.signature(policy.with_deadline).parameters) == ["self", "deadline"]
    poll = ftkit.PollPolicy().with_backoff(initial_delay=1, multiplier=2, max_delay=8)
    retry = ftkit.RetryPolicy().with_backoff(initial_delay=1, multiplier=2, max_delay=8)
    for policy in (poll, retry):
        assert (policy.initial_delay, policy.multiplier, policy.max_delay) == (1, 2, 8)
        assert policy.with_deadline(30).deadline == 30


def test_run_status_stages_are_typed_like_run_result_stages() -> None:
    status, result = (cls.__annotations__["stages"] for cls in (ftkit.RunStatus, ftkit.RunResult))
    assert status == result == "list[StageResult]"
