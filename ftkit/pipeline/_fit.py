"""Whether a run's configuration fits the API it is about to run on, checked before any upload.

The builder checks each setting against the widest API (OpenAI's); the client's
API surface decides the rest: Azure's dated API keeps no job metadata and leaves
a shorter suffix (ftkit's run token takes part of it), only it imports files from
a URL, and Azure's v1 API has no Uploads API for large files. (What the provider
trains — models, methods, training types — is the plan's, read from the catalog.)
A run that does not fit is refused with the fix named, not started and failed
half-way.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from .._exceptions import UsageError
from ..backend._jobs import run_token, suffix_with_token
from ..backend._traits import Traits
from ._config import PipelineConfig

__all__ = ["check_fits"]

#: What the run token takes of a suffix: the token and the hyphen before it.
RUN_TOKEN_ROOM = len(suffix_with_token("x", run_token({}))) - 1

#: The characters Azure OpenAI allows in a suffix.
_AZURE_SUFFIX = re.compile(r"[A-Za-z0-9_-]+")

_MB = 1024 * 1024


def check_fits(
    config: PipelineConfig, traits: Traits, content_urls: Mapping[str, str] | None = None
) -> None:
    """Refuse what ``traits``' API cannot take, before anything is sent.

    ``content_urls`` are the files to import from a URL instead of uploading
    (resolved path -> URL): only an API with file import takes them, and each must
    be one of the run's files.

    Raises:
        UsageError: the first setting that does not fit, with what to do instead.
    """
    # A training type where the provider has none is the plan's refusal (the catalog's).
    where = traits.describe()
    if config.metadata and not traits.job_metadata:
        raise UsageError(
            f"{where} keeps no job metadata: drop .metadata(...), or use Azure's v1 API "
            "(openai.OpenAI(base_url='https://<resource>.openai.azure.com/openai/v1/')), "
            "which keeps it"
        )
    _check_suffix(config.suffix, traits)
    _check_imports(config, traits, content_urls or {})
    _check_options(config, traits)
    for stage in config.stages:
        for path in (stage.train, stage.validation):
            imported = path is not None and str(path.resolve()) in (content_urls or {})
            if path is not None and not imported and path.stat().st_size > traits.max_file_bytes:
                raise UsageError(_too_big(path.name, path.stat().st_size, traits))


#: The providers whose jobs take options, and the module that builds their job bodies
#: (its ``JOB_OPTIONS`` and ``job_body``).
_OPTION_MODULES = {"together": "ftkit.backend._together", "fireworks": "ftkit.backend._fireworks"}


def _check_options(config: PipelineConfig, traits: Traits) -> None:
    where = _OPTION_MODULES.get(traits.provider)
    if where is None and not config.options:
        return
    if where is None:
        raise UsageError(
            f"{traits.describe()} takes no provider options ({sorted(config.options)}): "
            "use .sft(...)/.dpo(...) hyperparameters, or a Together or Fireworks client"
        )
    import importlib

    from ..backend import JobSpec

    module = importlib.import_module(where)
    unknown = sorted(set(config.options) - module.JOB_OPTIONS)
    if unknown:
        raise UsageError(
            f"{traits.describe()} takes no job option {unknown}; it takes "
            f"{sorted(module.JOB_OPTIONS)}"
        )
    # An option that names one job's result (Fireworks' output_model) cannot serve two.
    single = sorted(set(config.options) & getattr(module, "ONE_JOB_OPTIONS", frozenset()))
    if single and len(config.stages) > 1:
        raise UsageError(
            f"{single} name one job's model, and this run has {len(config.stages)} stages: "
            "drop it (each model is then named after its job, which carries the suffix)"
        )
    # Values and combinations too (LoRA settings without a rank, an unknown scheduler, a
    # learning-rate multiplier where the rate is absolute, a validation file where a method
    # takes none...): each stage's job body is built now, as its create will build it,
    # before anything is uploaded.
    for index, stage in enumerate(config.stages):
        module.job_body(
            JobSpec(
                model=str(config.model),
                training_file="file-check",
                validation_file="file-check" if stage.validation is not None else None,
                method=stage.method_object(),
                seed=config.seed,
                options=config.options,
                parent_job="job-check" if index > 0 else None,
            )
        )


def _check_suffix(suffix: str | None, traits: Traits) -> None:
    if suffix is None:
        return
    room = traits.max_suffix - (RUN_TOKEN_ROOM if traits.run_token_in_suffix else 0)
    if len(suffix) > room:
        why = (
            f" (it takes {traits.max_suffix} and ftkit adds a {RUN_TOKEN_ROOM}-character run "
            "token that finds the job again, since the API keeps no job metadata)"
            if traits.run_token_in_suffix
            else ""
        )
        raise UsageError(
            f"the suffix {suffix!r} has {len(suffix)} characters; {traits.describe()} leaves "
            f"room for {room}{why}"
        )
    if traits.provider == "azure" and not _AZURE_SUFFIX.fullmatch(suffix):
        raise UsageError(
            f"the suffix {suffix!r} has characters Azure OpenAI refuses: use letters, digits, "
            "'-' and '_'"
        )


def _check_imports(config: PipelineConfig, traits: Traits, urls: Mapping[str, str]) -> None:
    if not urls:
        return
    if not traits.file_import:
        raise UsageError(
            f"{traits.describe()} cannot import files from a URL: drop content_urls, or use "
            "an openai.AzureOpenAI client (Azure's dated API imports them)"
        )
    files = {str(p.resolve()) for s in config.stages for p in (s.train, s.validation) if p}
    for path in urls:
        if path not in files:
            raise UsageError(f"content_urls names {Path(path).name}, which no stage trains on")


def _too_big(name: str, size: int, traits: Traits) -> str:
    message = (
        f"{name} is {size / _MB:,.0f} MB; {traits.describe()} takes files up to "
        f"{traits.max_file_bytes / _MB:,.0f} MB"
    )
    if not traits.uploads_api:
        message += (
            " (it has no Uploads API, and its Files API fails on larger files): use an "
            "openai.AzureOpenAI client, whose dated API uploads in parts"
        )
    return message
