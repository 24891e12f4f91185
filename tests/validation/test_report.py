"""The report in every form: verdict, dict, text, HTML, exception."""

from __future__ import annotations

import json

import pytest
from validate_support import assistant, sft, system, user

import ftkit
from ftkit.validation import CODES, Issue, Severity, ValidationReport, validate


def _report(**kwargs: object) -> ValidationReport:
    items = [sft(system(), user(f"{i}?"), assistant(str(i))) for i in range(12)]
    items += [sft(user("<b>x</b>")), sft(user("Q"), assistant("A", weight=3))]
    return validate(items, **kwargs)  # type: ignore[arg-type]


def test_verdict_and_partitions() -> None:
    report = _report()
    assert not report.ok
    assert {i.code for i in report.errors} == {"no_assistant_message", "invalid_weight"}
    assert {i.code for i in report.warnings} == {"few_examples", "system_prompt_varies"}
    assert report.infos == []
    # one system_prompt_varies for both lines without the shared prompt
    assert (report.error_count, report.warning_count, report.info_count) == (2, 2, 0)
    assert all(isinstance(i.severity, Severity) for i in report.issues)
    assert all(i.severity is CODES[i.code].severity for i in report.issues)


def test_issues_are_ordered_errors_warnings_infos_then_by_line_and_code() -> None:
    items = [sft(user(f"{i}?"), assistant(str(i))) for i in range(12)]
    items[3] = sft(user("a"), assistant("b", weight=3), user("c"))  # error + warning, line 4
    items[7] = sft(user("x"), assistant("y" * 5000))  # info (long_response), line 8
    items[9] = sft(user())  # error, line 10
    items.append(items[0])  # warning (duplicate_example), line 13
    report = validate(items)
    order = [(i.severity.value, i.line, i.code) for i in report.issues]
    assert order == [
        ("error", 4, "invalid_weight"),
        ("error", 10, "no_assistant_message"),
        ("warning", None, "few_examples"),
        ("warning", 4, "ends_on_non_assistant"),
        ("warning", 13, "duplicate_example"),
        ("info", 8, "long_response"),
    ]
    assert [(i["severity"], i["line"], i["code"]) for i in report.to_dict()["issues"]] == order
    text = str(report)
    assert [text.index(f"[{code}]") for _, _, code in order] == sorted(
        text.index(f"[{code}]") for _, _, code in order
    )
    page = report._repr_html_()
    assert [page.index(code) for _, _, code in order] == sorted(
        page.index(code) for _, _, code in order
    )


def test_to_dict_is_json_safe_and_stable() -> None:
    data = _report().to_dict()
    assert json.loads(json.dumps(data)) == data
    assert list(data) == [
        "source",
        "ok",
        "kind",
        "examples",
        "lines",
        "blank_lines",
        "size_bytes",
        "model",
        "method",
        "error_count",
        "warning_count",
        "info_count",
        "counts",
        "omitted",
        "max_per_code",
        "issues",
        "stats",
        "tokens",
        "notes",
        "cost",
        "validation",
    ]
    assert data["issues"][2] == {
        "code": "few_examples",
        "severity": "warning",
        "line": None,
        "path": "",
        "message": "14 examples; at least 50 are recommended",
        "hint": CODES["few_examples"].hint,
        "file": None,
    }
    assert _report().to_dict() == data


def test_omitted_counts() -> None:
    items = [sft(user())] * 12
    data = validate(items, max_per_code=2).to_dict()
    assert data["omitted"] == {"no_assistant_message": 10, "duplicate_example": 9}
    assert len(data["issues"]) == 2 + 2 + 1


def test_text_form_lists_findings_with_fixes() -> None:
    text = str(_report())
    assert (
        text.splitlines()[0] == "dataset: INVALID - SFT, 14 examples; 2 errors, 2 warnings, 0 info"
    )
    assert (
        "line 14, messages[1].weight: error [invalid_weight] weight must be 0 or 1, got 3" in text
    )
    assert "fix: use 0 (context only)" in text
    assert "messages by role:" in text
    more = str(validate([sft(user())] * 12, max_per_code=1))
    assert "... and 11 more [no_assistant_message]" in more


def test_text_form_shows_a_repeated_finding_once_with_its_lines() -> None:
    lonely = sft(user())
    records = [lonely] * 3 + [sft(user(), assistant("ok"))] + [lonely] * 2 + [lonely]
    text = str(validate(records))
    repeated = [line for line in text.splitlines() if "[no_assistant_message]" in line]
    assert len(repeated) == 1
    assert repeated[0].startswith(
        "  lines 1-3, 5-7, messages: error [no_assistant_message] "
        "messages has no assistant message, so there is nothing to train"
    )
    assert text.count("fix: add the reply the model should learn") == 1
    assert "  lines 2-3, 5-7: warning [duplicate_example] this example repeats line 1" in text
    # Findings that differ in anything but the line stay apart.
    weights = [sft(user(), assistant("a", weight=3)), sft(user(), assistant("b", weight=4))]
    mixed = str(validate(weights))
    for line, weight in ((1, 3), (2, 4)):
        assert (
            f"line {line}, messages[1].weight: error [invalid_weight] "
            f"weight must be 0 or 1, got {weight}"
        ) in mixed


def test_line_ranges() -> None:
    from ftkit.validation._report import _line_ranges

    assert _line_ranges([1, 2, 3, 7, 9, 10]) == "1-3, 7, 9-10"
    assert _line_ranges([4]) == "4"
    assert _line_ranges([5, 5, 6]) == "5-6"


def test_html_form_escapes_text() -> None:
    page = _report()._repr_html_()
    assert "<table>" in page and "invalid_weight" in page
    assert "<b>x</b>" not in page


def test_html_form_shows_a_repeated_finding_once_with_its_lines() -> None:
    lonely = sft(user())
    records = [lonely] * 3 + [sft(user(), assistant("ok"))] + [lonely] * 3
    page = validate(records)._repr_html_()
    assert page.count("no_assistant_message") == 1
    assert ">1-3, 5-7</td>" in page
    assert ">2-3, 5-7</td>" in page  # duplicate_example


def test_counts_are_singular_for_one() -> None:
    report = validate([sft(user())])
    assert report.summary_line() == (
        "dataset: INVALID - SFT, 1 example; 2 errors, 0 warnings, 0 info"
    )
    assert [i.message for i in report.by_code("too_few_examples")] == [
        "1 example; the minimum for fine-tuning is 10"
    ]
    one = validate([sft(user(f"{i}"), assistant(str(i))) for i in range(11)] + [sft(user())])
    assert "1 error, 1 warning, 0 info" in one.summary_line()
    with pytest.raises(ftkit.DatasetInvalid, match="dataset: 1 error, first: line 12"):
        one.raise_for_errors()


def test_raise_for_errors() -> None:
    report = _report()
    with pytest.raises(ftkit.DatasetInvalid) as caught:
        report.raise_for_errors()
    assert caught.value.report is report
    assert "2 errors, first: line 13" in str(caught.value)
    good = validate([sft(user(f"{i}"), assistant("x" + str(i))) for i in range(60)])
    assert good.raise_for_errors() is good


def test_issue_value_semantics() -> None:
    issue = Issue(
        "invalid_weight", Severity.ERROR, 3, "messages[1].weight", "bad", "fix", "a.jsonl"
    )
    assert str(issue) == "a.jsonl, line 3, messages[1].weight: error [invalid_weight] bad"
    assert issue == Issue(**{**issue.to_dict(), "severity": Severity.ERROR})
    assert str(Severity.WARNING) == "warning"
    with pytest.raises(AttributeError):
        issue.code = "x"  # type: ignore[misc]


def test_codes_registry_is_well_formed() -> None:
    assert all(code == info.code for code, info in CODES.items())
    assert all(code.isidentifier() and code == code.lower() for code in CODES)
    assert all(info.hint and info.title for info in CODES.values())
    with pytest.raises(TypeError):
        CODES["x"] = CODES["blank_line"]  # type: ignore[index]


def test_validate_is_exported_from_the_package() -> None:
    import ftkit.validation as package

    assert set(package.__all__) >= {"validate", "Issue", "Severity", "ValidationReport", "CODES"}
