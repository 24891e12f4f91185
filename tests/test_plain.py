"""``attributes``: the copy every ``to_dict`` shares, in the order its JSON keeps."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from ftkit._plain import attributes


@dataclass(frozen=True)
class _Row:
    name: str
    count: int
    note: str | None = None

    @property
    def empty(self) -> bool:
        return self.count == 0


def test_keys_follow_the_names_given_not_the_fields() -> None:
    data = attributes(_Row("a", 0), "note", "empty", "name")
    assert data == {"note": None, "empty": True, "name": "a"}
    assert json.dumps(data) == '{"note": null, "empty": true, "name": "a"}'


def test_only_the_names_given_are_copied() -> None:
    assert attributes(_Row("a", 2, "x"), "count") == {"count": 2}
    assert attributes(_Row("a", 2)) == {}


def test_a_missing_attribute_is_an_error_not_a_silent_gap() -> None:
    with pytest.raises(AttributeError, match="nmae"):
        attributes(_Row("a", 2), "nmae")
