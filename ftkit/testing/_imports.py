"""Files imported from a URL (Azure's ``POST /files/import``), and the fake's stand-in for the web.

The fake fetches nothing. A test says what a URL serves with
``fake.serve_url(url, content)``; importing that URL makes a file like an
upload does (``pending`` for ``Timings.file_processing`` virtual seconds, then
``processed``). Importing any other URL makes a file that ends in ``error`` with
a ``status_details`` message, as Azure reports an import it could not download
(its ``fileImportFailed``); so does content over the file size limit.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from ._core import Core, bad_request
from ._files import FileRecord, FileStore, check_jsonl_name

__all__ = ["ImportStore"]


class ImportStore:
    """The URLs a fake can "download", and the imports made from them."""

    def __init__(self, core: Core, files: FileStore) -> None:
        self._core = core
        self._files = files
        self._sources: dict[str, bytes] = {}

    def serve(self, url: str, content: bytes) -> None:
        """Make ``url`` answer with ``content`` to the imports that follow."""
        self._sources[url] = content

    def import_file(
        self, *, purpose: Any, filename: Any, content_url: Any, expires_in: int | None
    ) -> FileRecord:
        """A new file holding what ``content_url`` serves (or failing to, later).

        Raises:
            WireError: 400 for a body the service refuses at once (no URL, no file name).
        """
        if not isinstance(content_url, str) or not content_url:
            raise bad_request("Missing required parameter: 'content_url'.", param="content_url")
        if urlsplit(content_url).scheme not in ("http", "https"):
            raise bad_request(
                f"Invalid content_url {content_url!r}: expected an http(s) URL.",
                param="content_url",
            )
        if not isinstance(filename, str) or not filename:
            raise bad_request("Missing required parameter: 'filename'.", param="filename")
        check_jsonl_name(filename, str(purpose), param="filename")
        content = self._sources.get(content_url)
        failure: str | None = None
        if content is None:
            failure = (
                "Import of file failed: the content could not be downloaded from the "
                "given content_url. (The fake downloads nothing: register the URL's content "
                "with fake.serve_url(url, content).)"
            )
        elif len(content) > self._core.limits.file_bytes:
            failure = (
                f"Import of file failed: the file is {len(content)} bytes; the maximum is "
                f"{self._core.limits.file_bytes} bytes."
            )
        record = self._files.add(
            filename,
            str(purpose),
            b"" if failure else (content or b""),
            int(self._core.now()),
            expires_in,
        )
        record.failure = failure
        return record
