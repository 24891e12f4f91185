"""The public surface: every exported name resolves, and importing ftkit stays light."""

from __future__ import annotations

import subprocess
import sys

import ftkit


def test_all_names_resolve() -> None:
    for name in ftkit.__all__:
        assert getattr(ftkit, name) is not None, name


def test_unknown_attribute_is_an_attribute_error() -> None:
    try:
        ftkit.does_not_exist  # type: ignore[attr-defined]  # noqa: B018
    except AttributeError as exc:
        assert "does_not_exist" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("expected AttributeError")


def test_import_does_not_load_openai_or_pydantic() -> None:
    code = (
        "import sys, ftkit; "
        "heavy = ('openai', 'httpx2', 'pydantic', 'tiktoken'); "
        "print(','.join(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_exception_tree_has_one_root() -> None:
    for name in ftkit.__all__:
        obj = getattr(ftkit, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            assert issubclass(obj, ftkit.FtkitError), name
    assert issubclass(ftkit.UsageError, ValueError)
    assert issubclass(ftkit.RecordError, ftkit.DatasetError)
    assert issubclass(ftkit.TrainingUnavailable, ftkit.APIError)


def test_record_error_pickles_for_worker_processes() -> None:
    import pickle

    err = ftkit.RecordError("bad", line=3, path="messages[0]", code="x", source="f.jsonl")
    back = pickle.loads(pickle.dumps(err))
    assert (back.line, back.path, back.code, back.source, str(back)) == (
        3,
        "messages[0]",
        "x",
        "f.jsonl",
        str(err),
    )


def test_no_subpackage_shadows_a_public_function() -> None:
    """Importing every submodule must not replace an exported name (``ftkit.validate``...)."""
    import importlib
    import pkgutil

    for info in pkgutil.walk_packages(ftkit.__path__, "ftkit."):
        if info.name.endswith("__main__"):
            continue
        importlib.import_module(info.name)
    for name in ("validate", "estimate", "evaluate", "count_tokens", "read_jsonl"):
        assert callable(getattr(ftkit, name)), name
        assert not isinstance(getattr(ftkit, name), type(ftkit)), name
