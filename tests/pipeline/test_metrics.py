"""Result files: CSV or base64 CSV, numbers typed, blanks as None, garbage tolerated."""

from __future__ import annotations

import base64

from ftkit.pipeline._core import parse_metrics

CSV = (
    "step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy\n"
    "1,1.52,0.61,,\n"
    "2,1.31,0.66,1.40,0.63\n"
)


def test_csv_rows_are_typed() -> None:
    rows = parse_metrics(CSV.encode())
    assert rows[0] == {
        "step": 1,
        "train_loss": 1.52,
        "train_accuracy": 0.61,
        "valid_loss": None,
        "valid_mean_token_accuracy": None,
    }
    assert rows[1]["valid_loss"] == 1.40


def test_base64_csv_is_decoded() -> None:
    assert parse_metrics(base64.b64encode(CSV.encode())) == parse_metrics(CSV)


def test_unreadable_content_gives_no_rows() -> None:
    assert parse_metrics(b"not csv and not base64 !!!") == []
    assert parse_metrics(b"") == []
