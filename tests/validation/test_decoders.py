"""Both JSON decoders give the same reports: msgspec first (where installed) or the stdlib.

``FTKIT_JSON_DECODER`` picks the decoder (``ftkit.validation._decoding``). Every
real third-party file, every file the repository ships, and a fuzz corpus of
lines where the two libraries part ways (NaN, 1e400, lone surrogates, a BOM,
huge integers, duplicate keys, control characters, deep nesting, broken UTF-8,
records spread over lines) are validated both ways and the reports compared
whole.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ftkit
from ftkit.validation import validate
from ftkit.validation._decoding import UNDECODED, fast_decoder, msgspec_first

pytest.importorskip("msgspec")

REPO = Path(__file__).resolve().parents[2]
SHIPPED = sorted(
    [*(REPO / "examples" / "data").glob("*.jsonl"), *(REPO / "tests" / "data").rglob("*.jsonl")]
)


def _both(monkeypatch: pytest.MonkeyPatch, path: Path, **options: Any) -> tuple[Any, Any]:
    reports = []
    for choice in ("stdlib", "msgspec"):
        monkeypatch.setenv("FTKIT_JSON_DECODER", choice)
        reports.append(validate(path, max_per_code=10_000, **options).to_dict())
    return reports[0], reports[1]


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(REPO)))
def test_every_shipped_and_real_file_gets_the_same_report(
    monkeypatch: pytest.MonkeyPatch, path: Path
) -> None:
    stdlib, fast = _both(monkeypatch, path)
    assert fast == stdlib
    assert stdlib["lines"] > 0


@pytest.mark.parametrize("method", ["sft", "dpo"])
def test_real_files_as_the_other_method_too(
    monkeypatch: pytest.MonkeyPatch, real_datasets: Path, method: str
) -> None:
    for path in sorted(real_datasets.glob("*.jsonl"))[:4]:
        stdlib, fast = _both(monkeypatch, path, method=method)
        assert fast == stdlib, path.name


GOOD = json.dumps(
    {
        "messages": [
            {"role": "user", "content": "Capital of France?"},
            {"role": "assistant", "content": "Paris."},
        ]
    }
)

# Where msgspec and the standard library disagree, or either refuses.
TRICKY = [
    '{"messages": NaN}',
    '{"messages": [{"role": "user", "content": "x"}], "n": 1e400}',
    '{"messages": [{"role": "user", "content": "\\ud800"}, {"role": "assistant", "content": "y"}]}',
    "\ufeff" + GOOD,
    GOOD.replace('"Paris."', "123456789012345678901234567890123"),
    GOOD[:-1] + ', "messages": []}',
    GOOD.replace("Paris.", "Par\tis."),
    "[" * 5000 + "]" * 5000,
    '{"a": ' * 3000 + "1" + "}" * 3000,
    "{",
    '{"messages": [',
    "  " + GOOD + "  ",
    GOOD + " x",
    '{"messages": [{"role": "user", "content": "-0.0"}, {"role": "assistant", "content": -0.0}]}',
    "",
    "null",
    "[]",
    '"just a string"',
]


def _write(path: Path, lines: list[str | bytes]) -> Path:
    with open(path, "wb") as handle:
        for line in lines:
            handle.write(line if isinstance(line, bytes) else line.encode("utf-8", "surrogatepass"))
            handle.write(b"\n")
    return path


def test_the_lines_where_the_libraries_part_ways(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    lines: list[str | bytes] = [GOOD] * 10 + TRICKY + [b'{"messages": "\xff\xfe"}', b"\xc3"]
    lines += ['{"messages": [', '  {"role": "user", "content": "spread"},', "  {}]}"]
    stdlib, fast = _both(monkeypatch, _write(tmp_path / "tricky.jsonl", lines))
    assert fast == stdlib
    assert {"invalid_json", "invalid_utf8", "not_an_object"} <= set(stdlib["counts"])


texts = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12
) | st.sampled_from(["\ud800", "\x00", "\t", "\ufeff", "<|im_end|>", "sk-" + "a" * 40])
values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | texts,
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(["messages", "role", "content", "weight", "x"]) | texts,
            children,
            max_size=3,
        )
    ),
    max_leaves=12,
)


def _line(value: Any, cut: int | None) -> str:
    text = json.dumps(value, ensure_ascii=False, allow_nan=True)
    return text if cut is None else text[:cut]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.tuples(values, st.none() | st.integers(0, 30)), min_size=1, max_size=12))
def test_fuzz_corpus_gets_the_same_report(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory, rows: list[Any]
) -> None:
    folder = tmp_path_factory.mktemp("fuzz")
    lines: list[str | bytes] = [_line(value, cut) for value, cut in rows] + [GOOD] * 10
    stdlib, fast = _both(monkeypatch, _write(folder / "f.jsonl", lines))
    assert fast == stdlib


def test_msgspec_leaves_what_it_refuses_to_the_standard_library() -> None:
    assert msgspec_first(GOOD.encode()) == json.loads(GOOD)
    for line in ('{"a": NaN}', '{"a": 1e400}', '{"a": "\\ud800"}', "\ufeff{}", "{"):
        assert msgspec_first(line.encode("utf-8")) is UNDECODED, line


def test_the_choice_of_decoder(monkeypatch: pytest.MonkeyPatch) -> None:
    assert fast_decoder("stdlib") is None
    assert fast_decoder("auto") is msgspec_first is fast_decoder("msgspec")
    monkeypatch.setenv("FTKIT_JSON_DECODER", "stdlib")
    assert fast_decoder() is None
    with pytest.raises(ftkit.UsageError, match="expected one of auto, msgspec, stdlib"):
        fast_decoder("orjson")
    monkeypatch.setitem(sys.modules, "msgspec", None)  # as if it were not installed
    assert fast_decoder("auto") is None
    with pytest.raises(ftkit.UsageError, match=r"pip install 'ftkit\[fast\]'"):
        fast_decoder("msgspec")
