"""TokenStats: true percentiles, mergeable and picklable; CostEstimate figures."""

from __future__ import annotations

import pickle
import statistics

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ftkit.cost import CostEstimate
from ftkit.cost.estimate import estimate_from_mapping
from ftkit.tokens import ExampleTokens, HistogramBin, TokenStats


def _tokens(total: int, *, limit: int | None = None, trained: int = 0) -> ExampleTokens:
    over = limit is not None and total > limit
    billed = min(total, limit) if limit is not None else total
    lost = min(trained, total - limit) if over and limit is not None else 0
    return ExampleTokens(total, trained, billed, over, lost)


def _reference_percentile(values: list[int], q: float) -> float:
    # numpy's default ("linear"), written out: the definition ftkit promises.
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def test_percentiles_are_true_percentiles_not_deciles() -> None:
    stats = TokenStats.of(_tokens(t) for t in range(1, 101))
    assert stats.p5 == pytest.approx(5.95)
    assert stats.p50 == pytest.approx(50.5)
    assert stats.p95 == pytest.approx(95.05)
    # the cookbook's "p5" is the 10th percentile: ours is not
    assert stats.p5 != pytest.approx(statistics.quantiles(range(1, 101), n=10)[0])
    assert (stats.min, stats.max, stats.mean) == (1, 100, 50.5)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(min_value=0, max_value=70_000), min_size=1, max_size=300),
    st.floats(min_value=0, max_value=100),
)
def test_percentile_matches_the_reference_definition(values: list[int], q: float) -> None:
    stats = TokenStats.of(_tokens(v) for v in values)
    assert stats.percentile(q) == pytest.approx(_reference_percentile(values, q))
    if len(values) > 1:
        inclusive = statistics.quantiles(values, n=20, method="inclusive")
        assert stats.p5 == pytest.approx(inclusive[0])
        assert stats.p95 == pytest.approx(inclusive[-1])


@given(
    st.lists(st.integers(min_value=0, max_value=5000), max_size=200),
    st.lists(st.integers(min_value=0, max_value=5000), max_size=200),
)
def test_merge_equals_one_pass(left: list[int], right: list[int]) -> None:
    one = TokenStats.of(_tokens(v, limit=1000, trained=v // 3) for v in left + right)
    a = TokenStats.of(_tokens(v, limit=1000, trained=v // 3) for v in left)
    b = TokenStats.of(_tokens(v, limit=1000, trained=v // 3) for v in right)
    assert a.merge(b) == one
    assert one.examples == len(left) + len(right)
    assert one.over_limit == sum(v > 1000 for v in left + right)
    assert one.billed_tokens == sum(min(v, 1000) for v in left + right)


def test_pickle_round_trip_is_small() -> None:
    stats = TokenStats.of(_tokens(t % 500, limit=400, trained=3) for t in range(100_000))
    clone = pickle.loads(pickle.dumps(stats))
    assert clone == stats
    assert clone.p95 == stats.p95
    assert len(pickle.dumps(stats)) < 20_000  # distinct lengths, not one entry per example


def test_histogram_covers_every_example() -> None:
    values = [10, 11, 12, 50, 99, 100, 100, 400]
    stats = TokenStats.of(_tokens(v) for v in values)
    bins = stats.histogram(bins=4)
    assert sum(b.count for b in bins) == len(values)
    assert bins[0].low == 10 and bins[-1].high == 401
    assert all(b.low < b.high for b in bins)
    assert bins[0] == HistogramBin(10, 108, 7)
    assert TokenStats().histogram() == ()
    assert TokenStats.of([_tokens(7)]).histogram() == (HistogramBin(7, 8, 1),)


def test_empty_stats() -> None:
    stats = TokenStats()
    assert (stats.min, stats.max, stats.mean, stats.p50) == (0, 0, 0.0, 0.0)
    with pytest.raises(ValueError):
        stats.percentile(101)


def test_cost_estimate_figures_and_round_trip() -> None:
    stats = TokenStats.of(
        [_tokens(1000, limit=16_385, trained=400)] * 9
        + [_tokens(20_000, limit=16_385, trained=5_000)]
    )
    est = CostEstimate.from_stats(stats, model="gpt-3.5-turbo-0125")
    assert est.examples == 10
    assert (est.epochs, est.epochs_auto) == (10, True)
    assert est.total_tokens == 29_000
    assert est.trained_tokens == 8_600
    assert est.billed_tokens_per_epoch == 9_000 + 16_385
    assert est.billed_tokens == est.billed_tokens_per_epoch * 10
    assert est.over_limit == 1
    assert est.trained_lost == 3_615
    assert est.limit == 16_385
    assert est.cost_usd == pytest.approx(est.billed_tokens * 8 / 1e6)
    assert est.stats.max == 20_000 and est.stats.p50 == 1000
    text = str(est)
    assert "1 of 10 examples exceed 16,385 tokens" in text
    assert "$2.03" in text
    data = est.to_dict()
    assert data["stats"]["histogram"][0] == [1000, 2901, 9]
    assert estimate_from_mapping(data) == est


def test_unknown_cost_is_explained_in_text() -> None:
    est = CostEstimate.from_stats(TokenStats.of([_tokens(10)]), model="o4-mini-2025-04-16")
    assert est.cost_usd is None
    assert "unknown: " in str(est)


def test_skipped_lines_are_kept_by_reason_merged_and_pickled() -> None:
    first, second = TokenStats(), TokenStats()
    first.add(_tokens(10))
    first.skip("invalid_record")
    second.skip("invalid_record", 2)
    second.skip("other_kind")
    first.merge(pickle.loads(pickle.dumps(second)))
    assert first.skipped == {"invalid_record": 3, "other_kind": 1}
    assert first.skipped_total == 4
    # the lines that never became records are told apart by the findings' counts
    first.explain_skipped(10, {"invalid_json": 2, "not_an_object": 1, "unknown_format": 2})
    assert first.skipped == {
        "invalid_json": 3,
        "unknown_format": 2,
        "other_kind": 1,
        "invalid_record": 3,
    }
    first.explain_skipped(10, {"invalid_json": 2, "not_an_object": 1, "unknown_format": 2})
    assert first.skipped_total == 9  # idempotent
    assert first.skipped_text() == (
        "9 lines not counted (not a JSON object: 3, not an SFT or DPO record: 2, "
        "a record of the other method: 1, a record with errors: 3)"
    )


def test_estimate_from_stats_carries_the_skipped_reasons() -> None:
    stats = TokenStats.of([_tokens(100)] * 3)
    stats.explain_skipped(5, {"multiline_json": 1})
    est = CostEstimate.from_stats(stats, model="gpt-4.1-mini-2025-04-14", epochs=1)
    assert (est.skipped, dict(est.skipped_reasons)) == (2, {"multiline_json": 2})
    assert "(2 lines not counted (part of a record spread over several lines: 2))" in str(est)
    assert estimate_from_mapping(est.to_dict()) == est
    # a count given without its reasons is shown alone
    bare = CostEstimate.from_stats(stats, model="gpt-4.1-mini-2025-04-14", epochs=1, skipped=4)
    assert "(4 lines not counted)" in str(bare)
