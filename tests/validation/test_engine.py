"""The pass: line numbering, file-level findings, bounded samples, and parallel == serial."""

from __future__ import annotations

import itertools
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from validate_support import assistant, dpo, sft, system, user, write_jsonl

import ftkit
from ftkit.validation import Severity, _scheduler, _text_scans, validate
from ftkit.validation._engine import scan


def _examples(n: int, start: int = 0) -> list[dict]:  # type: ignore[type-arg]
    return [
        sft(system(), user(f"What is {i}+{i}?"), assistant(str(2 * i)))
        for i in range(start, start + n)
    ]


def test_clean_file(tmp_path: Path) -> None:
    report = validate(write_jsonl(tmp_path / "t.jsonl", _examples(60)))
    assert report.ok and report.issues == ()
    assert (report.kind, report.examples, report.lines) == ("sft", 60, 60)
    assert report.stats["roles"] == {"assistant": 60, "system": 60, "user": 60}


def test_line_numbers_count_blank_lines_bom_and_crlf(tmp_path: Path) -> None:
    good = json.dumps(sft(user(), assistant()))
    path = tmp_path / "t.jsonl"
    path.write_bytes(
        b"\xef\xbb\xbf" + good.encode() + b"\r\n\r\n" + b'{"messages": 3}\r\n' + good.encode()
    )
    report = validate(path)
    assert [(i.line, i.code) for i in report.issues if i.line] == [
        (3, "wrong_type"),  # errors first
        (1, "utf8_bom"),  # accepted, with one warning for the file
        (2, "blank_line"),
        (4, "duplicate_example"),
    ]
    assert report.lines == 4 and report.blank_lines == 1


def test_undecodable_lines(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_bytes(
        b'{"messages": [{"role": "user", "content": "caf\xe9"}]}\n'
        b'{"messages": [\n'
        b'{"messages": NaN}\n'
        b'"just a string"\n'
        b"[1, 2]\n"
        b'{"question": "q", "answer": "a"}\n'
    )
    report = validate(path)
    by_line = {i.line: i for i in report.issues if i.line}
    assert by_line[1].code == "invalid_utf8" and "0xe9" in by_line[1].message
    assert by_line[2].code == "invalid_json" and "column" in by_line[2].message
    assert by_line[3].code == "invalid_json" and "NaN" in by_line[3].message
    assert by_line[4].code == "not_an_object" and "a string" in by_line[4].message
    assert by_line[5].code == "not_an_object"
    assert by_line[6].code == "unknown_format" and "question/answer" in by_line[6].message
    assert report.kind is None and report.examples == 0 and not report.ok


def test_deeply_nested_json_is_a_finding_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text("[" * 100_000 + "]" * 100_000 + "\n")
    assert validate(path).by_code("invalid_json")


def test_empty_files(tmp_path: Path) -> None:
    (tmp_path / "e.jsonl").write_bytes(b"")
    (tmp_path / "b.jsonl").write_bytes(b"\n  \n")
    for name in ("e.jsonl", "b.jsonl"):
        report = validate(tmp_path / name)
        assert "empty_file" in report.counts and not report.ok
    assert validate([]).counts == {"empty_file": 1}


def test_example_count_thresholds(tmp_path: Path) -> None:
    assert "too_few_examples" in validate(_examples(9)).counts
    assert set(validate(_examples(10)).counts) == {"few_examples"}
    assert validate(_examples(10)).ok
    assert validate(_examples(50)).counts == {}


def test_mixed_kinds_follow_the_first_record() -> None:
    items = [*_examples(10), dpo(), *_examples(1, start=50)]
    report = validate(items)
    assert report.kind == "sft" and report.examples == 11
    (issue,) = report.by_code("mixed_kinds")
    assert issue.line == 11 and "line 1" in issue.message
    first_dpo = validate([dpo(), *_examples(10)])
    assert first_dpo.kind == "dpo" and first_dpo.counts["mixed_kinds"] == 10


def test_method_mismatch_and_unknown_method() -> None:
    report = validate(_examples(12), method="dpo")
    assert report.kind == "dpo" and report.counts["method_mismatch"] == 12
    assert validate(_examples(12), method="supervised").ok
    with pytest.raises(ftkit.UsageError):
        validate(_examples(1), method="reinforcement")


def test_max_per_code_keeps_the_first_and_counts_the_rest() -> None:
    items = [sft(user())] * 30
    report = validate(items, max_per_code=4)
    kept = report.by_code("no_assistant_message")
    assert [i.line for i in kept] == [1, 2, 3, 4]
    assert (
        report.counts["no_assistant_message"] == 30 and report.omitted("no_assistant_message") == 26
    )
    # 29 duplicates of line 1, and few_examples (30 < 50)
    assert report.error_count == 30 and report.warning_count == 30
    assert validate(items, max_per_code=0).issues == ()


def test_usage_errors(tmp_path: Path) -> None:
    with pytest.raises(ftkit.UsageError, match="no such file"):
        validate(tmp_path / "missing.jsonl")
    with pytest.raises(ftkit.UsageError):
        validate(tmp_path)
    with pytest.raises(ftkit.UsageError):
        validate(42)  # type: ignore[arg-type]
    with pytest.raises(ftkit.UsageError):
        validate([], max_per_code=-1)
    with pytest.raises(ftkit.UsageError):
        validate([], workers=0)
    with pytest.raises(ftkit.UsageError):
        validate([], model="  ")


def test_in_memory_items_of_every_kind() -> None:
    record = ftkit.SFTRecord.single_turn("Hi", "Hello")
    items = [
        record,
        sft(user(), assistant("x")),
        json.dumps(sft(user(), assistant("y"))),
        json.dumps(sft(user(), assistant("z"))).encode(),
        3.5,
        {"a": {1, 2}},
    ]
    report = validate(items)
    assert [(i.line, i.code) for i in report.issues if i.line] == [
        (5, "not_an_object"),
        (6, "invalid_json"),
    ]
    assert report.examples == 4 and report.source is None


def test_duplicates_name_the_first_occurrence() -> None:
    items = [*_examples(10), _examples(1, start=3)[0], _examples(1, start=3)[0]]
    report = validate(items)
    assert [(i.line, i.message) for i in report.by_code("duplicate_example")] == [
        (11, "this example repeats line 4"),
        (12, "this example repeats line 4"),
    ]


def test_system_prompt_variation() -> None:
    items = [*_examples(9), sft(system("You are a poet."), user(), assistant())]
    (issue,) = validate(items).by_code("system_prompt_varies")
    assert issue.line == 10 and "9 of 10" in issue.message
    # No dominant prompt: prompts vary by design, nothing is reported.
    varied = [sft(system(f"Persona {i}"), user(), assistant(str(i))) for i in range(10)]
    assert "system_prompt_varies" not in validate(varied).counts


def test_secrets_are_reported_without_repeating_them() -> None:
    key = "sk-proj-" + "A1b2C3d4E5f6G7h8I9j0K1l2"
    pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEow..."
    items = [*_examples(10), sft(user(f"my key is {key}"), assistant(pem))]
    report = validate(items)
    found = {(i.path, i.message) for i in report.by_code("possible_secret")}
    assert {path for path, _ in found} == {"messages[0].content", "messages[1].content"}
    assert all(key not in message and "MIIE" not in message for _, message in found)
    assert key not in str(report) and key not in json.dumps(report.to_dict())
    assert (
        "possible_secret"
        not in validate([sft(user("the task-runner risk-free"), assistant())]).counts
    )


def test_long_responses_are_pointed_out() -> None:
    items = [*_examples(10), sft(user(), assistant("word " * 1000))]
    (issue,) = validate(items).by_code("long_response")
    assert issue.line == 11 and issue.severity is Severity.INFO


def test_validation_file_overlap(tmp_path: Path) -> None:
    train = write_jsonl(tmp_path / "train.jsonl", _examples(20))
    val = write_jsonl(tmp_path / "val.jsonl", _examples(3, start=18) + _examples(2, start=90))
    report = validate(train, validation=val)
    assert report.validation is not None
    overlap = report.validation.by_code("train_validation_overlap")
    assert [(i.line, i.file) for i in overlap] == [(1, str(val)), (2, str(val))]
    assert "line 19" in overlap[0].message
    assert "too_few_examples" not in report.validation.counts  # a small validation file is fine
    assert report.ok  # overlap is a warning


def test_model_findings() -> None:
    items = _examples(10)
    assert "unknown_model" in validate(items, model="gpt-9-turbo").counts
    assert "model_not_fine_tunable" in validate(items, model="gpt-4-0613").counts
    assert "model_not_fine_tunable" in validate(items, model="babbage-002").counts
    assert "method_not_supported" in validate([dpo()] * 10, model="gpt-3.5-turbo-0125").counts
    assert "method_not_supported" in validate(items, model="o4-mini-2025-04-16").counts
    tuned = validate(items, model="ft:gpt-4.1-mini-2025-04-14:acme::abc123")
    assert tuned.ok and "unknown_model" not in tuned.counts


def test_tokens_cost_and_truncation() -> None:
    long = sft(user("Summarise: " + "lorem ipsum " * 9000), assistant("short " * 900))
    report = validate([*_examples(10), long], model="gpt-3.5-turbo-0125")
    (issue,) = report.by_code("example_too_long")
    assert issue.line == 11 and "16,385" in issue.message and "trained tokens" in issue.message
    assert report.tokens is not None and report.tokens.examples == 11
    assert report.tokens.over_limit == 1 and report.tokens.trained_lost > 0
    assert report.cost is not None and report.cost.cost_usd is not None
    assert report.to_dict()["tokens"]["examples"] == 11


def test_invalid_examples_are_not_counted() -> None:
    report = validate([*_examples(10), sft(user())], model="gpt-4o-mini-2024-07-18")
    assert report.tokens is not None and report.tokens.examples == 10


def test_scan_for_estimates_skips_quality_checks() -> None:
    items = [_examples(1)[0]] * 12
    result = scan(items, model="gpt-4o-mini-2024-07-18", checks=False, max_per_code=0)
    assert "duplicate_example" not in result.counts and result.issues == []
    assert result.tokens is not None and result.tokens.examples == 12


# ---------------------------------------------------------------- parallel


def _messy_file(path: Path) -> Path:
    lines: list[str] = []
    for i in range(400):
        if i % 37 == 5:
            lines.append("")
        if i % 41 == 7:
            lines.append('{"messages": [')
        if i % 53 == 11:
            lines.append(json.dumps(dpo()))
        if i % 29 == 3:
            lines.append(json.dumps(sft(user(f"What is {i}+{i}?"))))
        if i % 31 == 0:
            lines.append(json.dumps(sft(system(), user("What is 1+1?"), assistant("2"))))
        lines.append(json.dumps(sft(system(), user(f"What is {i}+{i}?"), assistant(str(2 * i)))))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_parallel_chunks_give_the_serial_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _messy_file(tmp_path / "messy.jsonl")
    monkeypatch.setattr(_scheduler, "_CHUNK_MIN", 1)  # many small chunks
    bounds = _scheduler._chunk_bounds(path, path.stat().st_size, 8)
    assert len(bounds) >= 6
    serial = validate(path, model="gpt-4o-mini-2024-07-18", workers=1, max_per_code=3)
    parallel = validate(path, model="gpt-4o-mini-2024-07-18", workers=2, max_per_code=3)
    assert parallel.to_dict() == serial.to_dict()
    assert serial.counts["duplicate_example"] >= 10 and serial.counts["blank_line"] >= 10


def test_chunk_bounds_start_on_line_starts(tmp_path: Path) -> None:
    path = _messy_file(tmp_path / "messy.jsonl")
    data = path.read_bytes()
    bounds = _scheduler._chunk_bounds(path, len(data), 10)
    assert bounds[0][0] == 0 and bounds[-1][1] == len(data)
    for (_, end), (start, _) in itertools.pairwise(bounds):
        assert end == start and data[start - 1 : start] == b"\n"


def test_automatic_workers_stay_in_process_for_small_files(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "t.jsonl", _examples(12))
    assert scan(path).workers == 1
    assert _scheduler.worker_count(None, _scheduler.PARALLEL_MIN_BYTES) >= 1


# -- the fast paths give the same answers -------------------------------------------------------

_SECRET_PIECES = [
    "sk-", "sk-proj-", "xoxb-", "ghp_", "gho_", "github_pat_", "sk_live_", "rk_live_", "AKIA",
    "ASIA", "AIza", "-----BEGIN RSA PRIVATE KEY-----", "PRIVATE KEY-----", "a", "Z", "0", "_",
    "-", " ", "\\n", "\\u0041", "\\ud83d", "\\uDC00", "<|", "|>", "<|endoftext|>", "<|im_start|>",
    "abcdefghijklmnopqrstuvwxyz0123", "ABCDEFGHIJKLMNOP", "9" * 36, "é", "\"",
]  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_SECRET_PIECES) | st.text(max_size=6), max_size=30))
def test_line_prefilters_match_their_plain_definitions(pieces: list[str]) -> None:
    data = "".join(pieces).encode("utf-8", "surrogatepass")
    patterns = [re.compile(pattern.encode()) for _, _, pattern in _text_scans._SECRET_PATTERNS]
    assert _text_scans.line_has_secret(data) == any(p.search(data) for p in patterns)
    assert _text_scans.line_has_special_token(data) == bool(_text_scans._SPECIAL_BYTES.search(data))
    assert _text_scans.line_has_surrogate_escape(data) == (b"\\ud" in data or b"\\uD" in data)


def test_every_secret_kind_passes_the_line_prefilter() -> None:
    samples = [
        "sk-proj-" + "a1" * 12,
        "AKIA" + "ABCDEFGHIJ234567",
        "ASIA" + "ABCDEFGHIJ234567",
        "-----BEGIN OPENSSH PRIVATE KEY-----",
        "ghp_" + "a" * 36,
        "github_pat_" + "b" * 40,
        "xoxb-" + "1234567890ab",
        "AIza" + "c" * 35,
        "sk_live_" + "d" * 24,
    ]
    for text in samples:
        line = json.dumps({"messages": [{"role": "user", "content": f"key: {text}"}]})
        assert _text_scans.line_has_secret(line.encode()), text
        assert _text_scans.find_secrets(text), text


def test_the_parent_works_and_progress_reaches_the_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _messy_file(tmp_path / "messy.jsonl")
    monkeypatch.setattr(_scheduler, "_CHUNK_MIN", 1)
    serial = validate(path, model="gpt-4o-mini-2024-07-18", workers=1, max_per_code=3)
    seen: list[tuple[int, int]] = []
    for workers in (2, 3):
        seen.clear()
        result = scan(
            path,
            model="gpt-4o-mini-2024-07-18",
            workers=workers,
            max_per_code=3,
            progress=lambda done, examples: seen.append((done, examples)),
        )
        assert result.workers == workers
        assert result.counts == serial.counts and result.tokens == serial.tokens
        assert len(seen) >= 6  # one report per chunk
        assert seen == sorted(seen) and seen[-1][0] == path.stat().st_size


@pytest.mark.skipif(not _scheduler._can_fork(), reason="workers are forked only on Linux")
def test_forked_workers_inherit_the_tokenizer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only the parent builds a tokenizer; helpers use the one they inherit."""
    from ftkit.tokens import counting

    path = _messy_file(tmp_path / "messy.jsonl")
    log = tmp_path / "builds.log"
    original = counting.get_tokenizer

    def logged(name: str) -> Any:
        with open(log, "a") as handle:
            handle.write(f"{os.getpid()}\n")
        return original(name)

    monkeypatch.setattr(counting, "get_tokenizer", logged)
    monkeypatch.setattr(_scheduler, "_CHUNK_MIN", 1)
    monkeypatch.setattr(_scheduler, "_COUNTERS", {})
    result = scan(path, model="gpt-4o-mini-2024-07-18", workers=2)
    assert result.workers == 2 and result.tokens is not None and result.tokens.examples > 300
    assert log.read_text().split() == [str(os.getpid())]


def test_json_escapes_do_not_hide_special_tokens_or_keys() -> None:
    import json

    content = "say <|endoftext|> then sk-proj-" + "A1b2C3d4E5f6G7h8I9j0" * 3
    line = json.dumps(
        {"messages": [{"role": "user", "content": content}, {"role": "assistant", "content": "ok"}]}
    )
    escaped = line.replace("<", "\\u003c").replace("sk-", "sk\\u002d")
    assert json.loads(escaped) == json.loads(line)
    codes = {issue.code for issue in validate([escaped]).issues}
    assert {"special_token", "possible_secret"} <= codes


def test_a_line_of_millions_of_values_is_reported_without_parsing(tmp_path: Path) -> None:
    good = '{"messages":[{"role":"user","content":"q"},{"role":"assistant","content":"a"}]}'
    flood = '{"messages": [' + "1," * 600_000 + "1]}"
    path = tmp_path / "flood.jsonl"
    path.write_text(good + "\n" + flood + "\n")
    report = validate(path)
    assert [(i.code, i.line) for i in report.issues if i.code == "line_too_complex"] == [
        ("line_too_complex", 2)
    ]
    assert report.examples == 1
