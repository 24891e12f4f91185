"""The epochs rule: the cookbook's default for "auto", explicit epochs honoured."""

from __future__ import annotations

import pytest

from ftkit import UsageError
from ftkit.cost import default_epochs, resolve_epochs


@pytest.mark.parametrize(
    ("examples", "epochs"),
    [
        (1, 25),
        (3, 25),
        (4, 25),
        (5, 20),
        (10, 10),
        (20, 5),
        (33, 3),
        (34, 3),
        (8_333, 3),
        (8_334, 2),
        (12_500, 2),
        (12_501, 1),
        (30_000, 1),
        (10**7, 1),
    ],
)
def test_auto_follows_the_documented_rule(examples: int, epochs: int) -> None:
    assert default_epochs(examples) == epochs
    assert resolve_epochs("auto", examples) == (epochs, True)
    assert resolve_epochs(None, examples) == (epochs, True)


def test_explicit_epochs_are_honoured() -> None:
    assert resolve_epochs(7, 10_000) == (7, False)
    assert resolve_epochs(1, 3) == (1, False)
    assert resolve_epochs(50, 3) == (50, False)


@pytest.mark.parametrize("bad", [0, 51, -1, True, 2.0, "3", "AUTO"])
def test_invalid_epochs_are_rejected(bad: object) -> None:
    with pytest.raises(UsageError):
        resolve_epochs(bad, 100)  # type: ignore[arg-type]


def test_empty_dataset_gets_the_target() -> None:
    assert default_epochs(0) == 3
