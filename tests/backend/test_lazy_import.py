"""Importing the policies and the backend package must not load the openai client."""

from __future__ import annotations

import subprocess
import sys


def test_openai_is_not_imported_eagerly() -> None:
    code = (
        "import sys, ftkit.retry, ftkit.polling, ftkit.backend, ftkit.backend._uploads; "
        "print('openai' in sys.modules, 'httpx2' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
