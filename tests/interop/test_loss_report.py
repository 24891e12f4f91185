"""The loss report every conversion returns: counts that add up, and nothing said silently."""

from __future__ import annotations

from ftkit.interop._loss import LossReport, LossTally


def test_a_tally_counts_each_feature_in_order_with_its_first_note() -> None:
    tally = LossTally("train.jsonl", "trl", records=3)
    tally.kept("tools", 2)
    tally.mapped("message weights", 5, "as token labels")
    tally.dropped("tool calls", 1, "the DPO loader keeps role and content")
    tally.dropped("tool calls", 2, "a second note is not kept")
    tally.kept("nothing", 0)  # a feature never met is not listed
    tally.note("hyperparameters do not carry over")
    report = tally.report()
    assert [e.feature for e in report.entries] == ["tools", "message weights", "tool calls"]
    calls = report.entry("tool calls")
    assert calls is not None and (calls.dropped, calls.note) == (
        3,
        "the DPO loader keeps role and content",
    )
    assert not report.lossless and report.dropped == {"tool calls": 3}
    assert report.entry("nothing") is None


def test_the_report_reads_as_text_and_as_json() -> None:
    tally = LossTally("a.jsonl", "axolotl", records=2)
    tally.kept("message weights", 4)
    report = tally.report()
    assert report.lossless
    assert str(report).splitlines() == [
        "a.jsonl -> axolotl: 2 records, nothing lost",
        "  message weights: 4 kept",
    ]
    assert report.to_dict() == {
        "source": "a.jsonl",
        "target": "axolotl",
        "records": 2,
        "lossless": True,
        "entries": [
            {"feature": "message weights", "kept": 4, "mapped": 0, "dropped": 0, "note": ""}
        ],
        "notes": [],
    }
    lossy = LossReport("a.jsonl", "trl", 1, report.entries)
    assert lossy.lossless


def test_a_worker_s_counts_merge_into_the_tally() -> None:
    tally = LossTally("big.jsonl", "trl")
    tally.kept("tools", 1)
    tally.merge({"tools": (2, 0, 0), "images": (0, 0, 3)})
    report = tally.report()
    assert report.entry("tools") is not None and report.entry("tools").kept == 3  # type: ignore[union-attr]
    assert report.dropped == {"images": 3}
    assert "LOSSY: 3 images dropped" in str(report)
