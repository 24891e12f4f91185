"""Dataset: load, kind, deterministic split, deduplication, atomic write."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import ftkit
from ftkit import Dataset, DPORecord, SFTRecord


def make(n: int) -> list[SFTRecord]:
    return [SFTRecord.single_turn(f"q{i}", f"a{i}") for i in range(n)]


def test_load_real_file(real_datasets: Path) -> None:
    ds = Dataset.load(real_datasets / "foundry_sft_gsm8k_train.jsonl")
    assert len(ds) == 449
    assert ds.kind == "sft"
    assert ds[0].line == 1
    assert isinstance(ds[:10], Dataset) and len(ds[:10]) == 10


def test_split_is_deterministic_and_partitions() -> None:
    ds = Dataset(make(100))
    train, test = ds.split(test_size=0.2, seed=7)
    assert (len(train), len(test)) == (80, 20)
    again_train, again_test = ds.split(test_size=0.2, seed=7)
    assert train == again_train and test == again_test
    other_train, _ = ds.split(test_size=0.2, seed=8)
    assert other_train != train
    together = sorted(r.to_json() for r in [*train, *test])
    assert together == sorted(r.to_json() for r in ds)


def test_split_by_count_and_without_shuffle() -> None:
    ds = Dataset(make(10))
    train, test = ds.split(test_size=3, shuffle=False)
    assert [r.to_json() for r in test] == [r.to_json() for r in ds[7:]]
    assert len(train) == 7


def test_split_parts_are_named_and_unpackable() -> None:
    ds = Dataset(make(20))
    parts = ds.split(test_size=0.25, seed=3)
    assert isinstance(parts, ftkit.dataset.DatasetSplit)
    train, test = parts
    assert (parts.train, parts.test) == (train, test)
    assert parts[0] == train and len(parts.test) == 5


def test_train_test_split_is_split_under_the_datasets_name() -> None:
    ds = Dataset(make(30))
    parts = ds.train_test_split(test_size=0.2, seed=11)
    assert parts == ds.split(test_size=0.2, seed=11)
    assert (len(parts.train), len(parts.test)) == (24, 6)
    train, test = ds.train_test_split(test_size=4, shuffle=False)
    assert list(test) == list(ds[26:]) and len(train) == 26
    with pytest.raises(ftkit.UsageError):
        ds.train_test_split(test_size=1.0)


@pytest.mark.parametrize("size", [0.0, 1.0, 0, 10, -1, True])
def test_split_refuses_empty_sides(size: float) -> None:
    with pytest.raises(ftkit.UsageError):
        Dataset(make(10)).split(test_size=size)


def test_duplicates_and_deduplicate_keep_first() -> None:
    records = make(3)
    ds = Dataset([records[0], records[1], records[0], records[2], records[1]])
    assert ds.duplicates() == [(2, 0), (4, 1)]
    assert [r.to_json() for r in ds.deduplicate()] == [r.to_json() for r in records]


def test_key_order_does_not_hide_a_duplicate() -> None:
    a = {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}
    b = {"messages": [{"content": "q", "role": "user"}, {"content": "a", "role": "assistant"}]}
    assert Dataset([a, b]).duplicates() == [(1, 0)]


def test_mixed_kinds_are_refused() -> None:
    with pytest.raises(ftkit.UsageError, match="separate datasets"):
        Dataset([SFTRecord.single_turn("q", "a"), DPORecord.pair("q", "a", "b")])


def test_bad_dict_names_item_and_path() -> None:
    with pytest.raises(ftkit.RecordError) as info:
        Dataset(
            [
                {
                    "messages": [
                        {"role": "user", "content": "q"},
                        {"role": "assistant", "content": "a", "weight": 3},
                    ]
                }
            ]
        )
    assert info.value.path == "messages[1].weight"
    assert info.value.source == "item 0"


def test_write_round_trips(tmp_path: Path, real_datasets: Path) -> None:
    src = real_datasets / "foundry_dpo_orca_pairs_validation.jsonl"
    ds = Dataset.load(src)
    out = ds.write(tmp_path / "copy.jsonl")
    assert Dataset.load(out) == ds
    first = json.loads(out.read_text(encoding="utf-8").splitlines()[0])
    assert first == json.loads(src.read_text(encoding="utf-8").splitlines()[0])
