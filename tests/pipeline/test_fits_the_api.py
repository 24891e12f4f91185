"""A run that does not fit its client's API is refused before anything is sent.

Azure's dated API keeps no job metadata and leaves room for a 28-character suffix
(ftkit's run token takes 12 of its 40); training types are Azure's alone; Azure's
v1 API has no Uploads API, so large files are refused with the client to use.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

import ftkit
from ftkit.backend._traits import AZURE_DATED, AZURE_V1, OPENAI
from ftkit.pipeline._config import PipelineConfig, StageConfig
from ftkit.pipeline._fit import check_fits


@pytest.fixture
def train(tmp_path: Path) -> Path:
    path = tmp_path / "train.jsonl"
    path.write_text(ftkit.SFTRecord.single_turn("q", "a").to_json() + "\n")
    return path


def config(train: Path, **changes: object) -> PipelineConfig:
    base = PipelineConfig(
        model="gpt-4.1-mini-2025-04-14", sft=StageConfig.build("supervised", train)
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_what_fits_everywhere_passes(train: Path) -> None:
    for traits in (OPENAI, AZURE_V1, AZURE_DATED):
        check_fits(config(train, suffix="support-bot_2"), traits)


def test_metadata_is_refused_where_jobs_keep_none(train: Path) -> None:
    with_meta = config(train, metadata={"team": "search"})
    check_fits(with_meta, AZURE_V1)
    with pytest.raises(ftkit.UsageError, match=r"keeps no job metadata.*v1 API"):
        check_fits(with_meta, AZURE_DATED)


@pytest.mark.parametrize(("traits", "room"), [(OPENAI, 64), (AZURE_V1, 40), (AZURE_DATED, 28)])
def test_the_suffix_leaves_room_for_the_run_token(train: Path, traits, room: int) -> None:  # type: ignore[no-untyped-def]
    check_fits(config(train, suffix="s" * room), traits)
    with pytest.raises(ftkit.UsageError, match=f"room for {room}"):
        check_fits(config(train, suffix="s" * (room + 1)), traits)


def test_azure_refuses_characters_outside_its_suffix_alphabet(train: Path) -> None:
    check_fits(config(train, suffix="v1.2"), OPENAI)
    with pytest.raises(ftkit.UsageError, match="letters, digits"):
        check_fits(config(train, suffix="v1.2"), AZURE_V1)


def test_a_training_type_is_refused_by_the_plan_where_the_provider_has_none(train: Path) -> None:
    import openai

    client = openai.OpenAI(api_key="sk-x", base_url="https://api.openai.test/v1")
    builder = ftkit.FineTune(client).model("gpt-4.1-mini-2025-04-14").sft(train)
    with pytest.raises(ftkit.UsageError, match="takes no training type"):
        builder.training_type("globalstandard").start()


def test_import_urls_need_an_api_that_imports(train: Path) -> None:
    urls = {str(train.resolve()): "https://blob.test/train.jsonl?sig=SECRET"}
    check_fits(config(train), AZURE_DATED, urls)
    for traits in (OPENAI, AZURE_V1):
        with pytest.raises(ftkit.UsageError, match="cannot import files"):
            check_fits(config(train), traits, urls)
    with pytest.raises(ftkit.UsageError, match="no stage trains on"):
        check_fits(config(train), AZURE_DATED, {"/elsewhere.jsonl": "https://blob.test/x"})


def test_import_urls_must_be_https_and_are_never_echoed(train: Path) -> None:
    builder = ftkit.FineTune(client=object())
    with pytest.raises(ftkit.UsageError, match="https") as caught:
        builder.uploads(content_urls={train: "http://blob.test/x?sig=SECRET"})
    assert "SECRET" not in str(caught.value)
    kept = builder.uploads(content_urls={train: "https://blob.test/x?sig=SECRET"})
    assert "SECRET" not in repr(kept._settings)


def test_v1_refuses_files_it_cannot_upload(train: Path) -> None:
    small = dataclasses.replace(AZURE_V1, max_file_bytes=10)
    with pytest.raises(ftkit.UsageError, match=r"openai\.AzureOpenAI"):
        check_fits(config(train), small)


@pytest.mark.parametrize(
    ("given", "word"),
    [
        ("standard", "standard"),
        ("globalStandard", "globalstandard"),
        ("GlobalStandard", "globalstandard"),
        ("developerTier", "developer"),
        ("developer", "developer"),
    ],
)
def test_training_types_take_microsofts_spellings(train: Path, given: str, word: str) -> None:
    built = ftkit.FineTune(client=object()).model("m").sft(train).training_type(given)
    assert built.config.training_type == word


def test_an_unknown_training_type_is_refused() -> None:
    with pytest.raises(ftkit.UsageError, match="unknown training type"):
        ftkit.FineTune(client=object()).training_type("provisioned")


def test_the_training_type_is_part_of_the_fingerprint_only_when_set(train: Path) -> None:
    digests = {str(train): "0" * 64}
    plain = config(train)
    assert plain.fingerprint(digests) == config(train, training_type=None).fingerprint(digests)
    assert plain.fingerprint(digests) != config(train, training_type="standard").fingerprint(
        digests
    )


def test_provider_builds_that_providers_client_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import openai

    for name in ("AZURE_OPENAI_ENDPOINT", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env-key")
    with pytest.raises(ftkit.UsageError, match="no Azure OpenAI endpoint"):
        ftkit.FineTune(None, provider="azure")
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", "https://res.openai.azure.test")
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "azure-env-key")
    monkeypatch.setenv("OPENAI_API_VERSION", "2025-04-01-preview")
    dated = ftkit.FineTune(None, provider="azure")
    assert isinstance(dated._client, openai.AzureOpenAI)
    assert isinstance(ftkit.AsyncFineTune(None, provider="azure")._client, openai.AsyncAzureOpenAI)
    # provider="openai" ignores Azure's variables.
    plain = ftkit.FineTune(None, provider="openai")._client
    assert type(plain) is openai.OpenAI
    with pytest.raises(ftkit.UsageError, match="client is for openai"):
        ftkit.FineTune(plain, provider="azure")
    with pytest.raises(ftkit.UsageError, match="unknown provider"):
        ftkit.FineTune(None, provider="mistral")
