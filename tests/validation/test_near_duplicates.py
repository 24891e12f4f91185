"""Near-duplicate search: found when one word changed, not found otherwise, the same every run."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from validate_support import assistant, dpo, sft, user, write_jsonl

from ftkit import UsageError
from ftkit.cli import main
from ftkit.validation import _near_duplicates as nd
from ftkit.validation import validate

_SYLLABLES = ["ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "be", "do", "fu", "gi", "ha"]
VOCABULARY = sorted(
    {a + b + c for a in _SYLLABLES for b in _SYLLABLES for c in _SYLLABLES[:6]}
)  # ~1,000 distinct words


def _text(rng: random.Random, words: int = 12) -> str:
    return " ".join(rng.choice(VOCABULARY) for _ in range(words))


def _records(count: int, seed: int = 0) -> list[dict[str, Any]]:
    """``count`` unrelated examples: 12 words (about 80 characters) of prompt and of answer."""
    rng = random.Random(seed)
    return [sft(user(_text(rng)), assistant(_text(rng))) for _ in range(count)]


def _one_word_changed(record: dict[str, Any], position: int = 7) -> dict[str, Any]:
    words = record["messages"][0]["content"].split()
    words[position] = "zzzzzz"
    return sft(user(" ".join(words)), assistant(record["messages"][1]["content"]))


def _near(report: Any) -> list[tuple[int | None, str]]:
    return [(i.line, i.message) for i in report.issues if i.code == "near_duplicate"]


def test_one_word_changed_is_found_with_its_pair_and_similarity() -> None:
    records = _records(40)
    records.append(_one_word_changed(records[5]))  # line 41 nearly repeats line 6
    report = validate(records)
    assert report.counts.get("near_duplicate") == 1, str(report)
    [(line, message)] = _near(report)
    assert line == 41
    assert "nearly repeats line 6 (estimated similarity 0." in message
    near = report.stats["near_duplicates"]
    assert near["threshold"] == 0.8 and near["compared"] == 41 and near["pairs"] == 1
    assert near["top"] == [{"line": 41, "other": 6, "similarity": near["top"][0]["similarity"]}]
    assert "near-duplicates (estimated similarity >= 0.8" in str(report)
    assert "line 41 ~ line 6" in str(report)


def test_the_middle_of_a_long_text_is_not_sampled() -> None:
    rng = random.Random(2)
    records = _records(20, seed=2)
    long_prompt = _text(rng, 60)
    records.append(sft(user(long_prompt), assistant("An answer of a few words.")))
    records.append(_one_word_changed(records[-1], position=30))
    [(line, message)] = _near(validate(records))
    assert line == 22 and message.endswith("(estimated similarity 1.00)")


def test_unrelated_examples_and_a_shared_template_are_not_near_duplicates() -> None:
    rng = random.Random(1)
    records = _records(200, seed=1)
    # The same instruction opens every prompt; what follows differs (like a classifier's file).
    instruction = "Classify the sentiment of the review below as positive or negative. Review: "
    records += [
        sft(user(instruction + _text(rng, 20)), assistant(rng.choice(["positive", "negative"])))
        for _ in range(50)
    ]
    report = validate(records)
    assert "near_duplicate" not in report.counts, str(report)
    assert report.stats["near_duplicates"]["pairs"] == 0


def test_threshold_is_respected() -> None:
    records = _records(30)
    records.append(_one_word_changed(records[0]))
    records.append(_one_word_changed(_one_word_changed(records[1], 3), 9))  # two words
    scores = {
        line: float(message.rsplit(" ", 1)[1].rstrip(")"))
        for line, message in _near(validate(records, near_duplicates=0.5))
    }
    assert set(scores) == {31, 32} and scores[31] > scores[32]
    for threshold in (scores[32], (scores[31] + scores[32]) / 2, scores[31], 1.0):
        found = {line for line, _ in _near(validate(records, near_duplicates=threshold))}
        assert found == {line for line, score in scores.items() if score >= threshold}


def test_exact_duplicates_are_reported_once_as_exact() -> None:
    records = _records(20)
    records.append(records[3])
    report = validate(records)
    assert report.counts.get("duplicate_example") == 1
    assert "near_duplicate" not in report.counts


def test_off_and_bad_values() -> None:
    records = _records(20)
    records.append(_one_word_changed(records[2]))
    for off in (None, False):
        report = validate(records, near_duplicates=off)
        assert "near_duplicate" not in report.counts and "near_duplicates" not in report.stats
    assert validate(records, near_duplicates=True).counts.get("near_duplicate") == 1
    for bad in (0.3, 1.5, "0.9", "yes"):
        with pytest.raises(UsageError, match="near_duplicates must be a similarity"):
            validate(records, near_duplicates=bad)  # type: ignore[arg-type]


def test_auto_skips_large_files_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = _records(20)
    records.append(_one_word_changed(records[2]))
    path = write_jsonl(tmp_path / "train.jsonl", records)
    monkeypatch.setattr("ftkit.validation._engine.AUTO_NEAR_MAX_BYTES", 1024)
    report = validate(path)
    assert "near_duplicate" not in report.counts
    assert report.stats["near_duplicates"]["skipped"] == "the file is over 0 MiB"
    assert "near-duplicates: not searched" in str(report)
    assert validate(path, near_duplicates=0.8).counts.get("near_duplicate") == 1


def test_short_texts_are_not_compared() -> None:
    records = [sft(user(f"{i}+{i}?"), assistant(f"{2 * i}")) for i in range(20)]
    near = validate(records).stats["near_duplicates"]
    assert near["compared"] == 0 and near["not_compared"] == 20


def test_examples_with_images_are_not_compared() -> None:
    image = {"type": "image_url", "image_url": {"url": "https://example.com/chart-1.png"}}
    question = "What is the rightmost value of the orange graph in this chart? Short answer."
    records = [
        sft(user([{"type": "text", "text": question}, image]), assistant("The answer is 51."))
        for _ in range(2)
    ]
    records += _records(20)
    records[1]["messages"][0]["content"][1] = {
        "type": "image_url",
        "image_url": {"url": "https://example.com/chart-2.png"},
    }
    near = validate(records).stats["near_duplicates"]
    assert near["pairs"] == 0 and near["not_compared"] == 2


def test_dpo_pairs() -> None:
    rng = random.Random(3)
    records = [
        dpo([user(_text(rng))], [assistant(_text(rng))], [assistant(_text(rng))]) for _ in range(20)
    ]
    copy = json.loads(json.dumps(records[4]))
    words = copy["input"]["messages"][0]["content"].split()
    words[5] = "zzzzzz"
    copy["input"]["messages"][0]["content"] = " ".join(words)
    copy["non_preferred_output"][0]["content"] = "something else entirely"
    report = validate([*records, copy])
    assert [line for line, _ in _near(report)] == [21]


def test_signatures_do_not_depend_on_the_hash_seed() -> None:
    # hash() of a str is salted per process; the sketch must not use it.
    prompt, answer = _text(random.Random(4), 16), _text(random.Random(5), 16)
    here = nd.sketch(prompt, answer)
    assert here is not None
    code = (
        "import sys; from ftkit.validation._near_duplicates import sketch; "
        f"sys.stdout.write(sketch({prompt!r}, {answer!r}).hex())"
    )
    for seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        assert out.stdout == here.hex()


def test_workers_find_what_one_process_finds(tmp_path: Path) -> None:
    records = _records(6000, seed=6)  # about 1.5 MB: several chunks
    for source, line in ((10, 3000), (4000, 5990), (2999, 3001)):
        records[line - 1] = _one_word_changed(records[source - 1])
    path = write_jsonl(tmp_path / "big.jsonl", records)
    one = validate(path, workers=1)
    two = validate(path, workers=2)
    assert [i for i in one.issues if i.code == "near_duplicate"] == [
        i for i in two.issues if i.code == "near_duplicate"
    ]
    assert [line for line, _ in _near(one)] == [3000, 3001, 5990]
    assert one.stats["near_duplicates"] == two.stats["near_duplicates"]


def test_the_index_is_capped_and_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(nd, "MAX_INDEXED", 25)
    records = _records(30)
    records.append(_one_word_changed(records[0]))  # past the cap: not compared
    report = validate(records)
    near = report.stats["near_duplicates"]
    assert near["compared"] == 25 and near["not_indexed"] == 6
    assert "near_duplicate" not in report.counts
    assert "the index is full: 6 later examples were not compared" in str(report)


def test_many_near_copies_are_each_reported_once() -> None:
    base = _records(1)[0]
    records = [base] + [_one_word_changed(base, position) for position in range(12)]
    report = validate(records, max_per_code=100)
    lines = [line for line, _ in _near(report)]
    # LSH finds most, not always all, pairs at the threshold; each line is named once.
    assert lines == sorted(set(lines)) and len(lines) >= 10 and set(lines) <= set(range(2, 14))


def test_train_validation_near_overlap(tmp_path: Path) -> None:
    train = _records(30, seed=7)
    val = _records(10, seed=8)
    val[2] = _one_word_changed(train[11])  # near: validation line 3 ~ training line 12
    val[5] = train[20]  # exact: reported as train_validation_overlap only
    report = validate(
        write_jsonl(tmp_path / "train.jsonl", train),
        validation=write_jsonl(tmp_path / "val.jsonl", val),
    )
    assert report.validation is not None
    checked = report.validation
    assert checked.counts.get("train_validation_overlap") == 1
    assert checked.counts.get("train_validation_near_overlap") == 1, str(report)
    [issue] = checked.by_code("train_validation_near_overlap")
    assert issue.line == 3 and "nearly repeats line 12 of" in issue.message
    assert checked.stats["near_duplicates"]["training_pairs"] == 1
    assert "near-duplicates of training examples: 1" in str(report)


def test_cli_flag(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    records = _records(60)
    records.append(_one_word_changed(records[2]))
    path = write_jsonl(tmp_path / "train.jsonl", records)
    assert main(["validate", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["reports"][0]["counts"]["near_duplicate"] == 1
    assert main(["validate", str(path), "--json", "--near-duplicates", "off"]) == 0
    assert "near_duplicate" not in json.loads(capsys.readouterr().out)["reports"][0]["counts"]
    assert main(["validate", str(path), "--near-duplicates", "0.99"]) == 0
    assert "near_duplicate" not in capsys.readouterr().out
    with pytest.raises(SystemExit) as exited:
        main(["validate", str(path), "--near-duplicates", "0.2"])
    assert exited.value.code == 2
    assert "from 0.5 to 1" in capsys.readouterr().err


def test_similarity_estimate() -> None:
    prompt, answer = _text(random.Random(9)), _text(random.Random(10))
    a = nd.sketch(prompt, answer)
    assert a is not None and len(a) == nd.SIGNATURE_BYTES
    assert nd.similarity(a, a) == 1.0
    other = nd.sketch(_text(random.Random(11)), _text(random.Random(12)))
    assert other is not None and nd.similarity(a, other) < 0.2
    assert nd.sketch("two words", "only") is None
