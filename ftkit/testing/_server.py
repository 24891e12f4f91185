"""A loopback HTTP server in front of a fake, for clients in other processes or languages.

It binds 127.0.0.1 only and serves in a background thread. Every request is
turned into an ``httpx2.Request`` and answered by the same router as the
in-process clients, so both ways in behave alike. Transport faults become
socket behaviour: ``reset`` closes the connection with a TCP reset before
answering; ``applied_but_lost`` and a timed-out ``slow`` answer close it
without a response (the client sees a disconnect rather than its own timeout).

A ``latency`` makes every request wait that many real seconds before it is
answered, as the round trip to a distant API does, so a client's speed can be
measured against a realistic one (``ftkit fake-server --latency-ms``): loopback
answers in microseconds and would reward sending many small requests.
"""

from __future__ import annotations

import logging
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, Protocol

import httpx2

if TYPE_CHECKING:
    from types import TracebackType

__all__ = ["FakeServer"]

log = logging.getLogger("ftkit.testing")

LOOPBACK = "127.0.0.1"

_sleep = time.sleep  # the wait of ``latency``; tests replace it to count the waits


class Answers(Protocol):
    """What the server fronts: anything that answers an ``httpx2.Request`` (a fake)."""

    def handle(self, request: httpx2.Request, /) -> httpx2.Response: ...


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def _serve(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        host = self.headers.get("host") or f"{LOOPBACK}:{self.server.server_address[1]}"
        request = httpx2.Request(
            self.command,
            f"http://{host}{self.path}",
            headers=[(k, v) for k, v in self.headers.items() if k.lower() != "host"]
            + [("host", host)],
            content=body,
        )
        if self.server.latency:
            # Real time, not the fake's clock: it stands for the network, which a
            # benchmark measures; the body is read first, as a server would.
            _sleep(self.server.latency)
        try:
            response = self.server.fake.handle(request)
        except httpx2.ConnectError:
            self._reset()
            return
        except httpx2.TransportError:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        content = response.content
        self.send_response(response.status_code)
        for key, value in response.headers.items():
            if key.lower() not in ("content-length", "transfer-encoding", "connection"):
                self.send_header(key, value)
        self.send_header("content-length", str(len(content)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(content)

    def _reset(self) -> None:
        # SO_LINGER with a zero timeout makes close() send RST: a real connection reset.
        self.close_connection = True
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()

    do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = _serve

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("fake server: " + format, *args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int, fake: Answers, latency: float) -> None:
        self.fake = fake
        self.latency = latency
        super().__init__((LOOPBACK, port), _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that vanished mid-answer (as after a reset) is not a server error.
        log.debug("fake server: connection from %s ended abruptly", client_address)


class FakeServer:
    """A running loopback server; a context manager that stops it on exit.

    Attributes:
        port: the TCP port bound on 127.0.0.1.
        base_url: ``http://127.0.0.1:<port>/v1``, for ``openai.OpenAI(base_url=...)`` or
            ``OPENAI_BASE_URL``.
        azure_endpoint: ``http://127.0.0.1:<port>``, for ``openai.AzureOpenAI(azure_endpoint=...)``.
        origin: ``http://127.0.0.1:<port>``, for ``together.Together(base_url=...)`` and
            ``fireworks.Fireworks(base_url=...)`` (an origin: those SDKs' paths start with
            ``/v1/``).
        latency: real seconds every request waits before its answer (0: none).

    Raises:
        ValueError: a negative ``latency``.
    """

    def __init__(self, fake: Answers, port: int = 0, *, latency: float = 0.0) -> None:
        if latency < 0:
            raise ValueError(f"latency must not be negative, got {latency}")
        self.latency = latency
        self._server = _Server(port, fake, latency)
        self.port: int = self._server.server_address[1]
        self.base_url = f"http://{LOOPBACK}:{self.port}/v1"
        self.azure_endpoint = f"http://{LOOPBACK}:{self.port}"
        self.origin = f"http://{LOOPBACK}:{self.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"ftkit-fake-server-{self.port}",
            daemon=True,
        )
        self._thread.start()
        log.info("fake fine-tuning API listening on %s", self.base_url)

    def serve_forever(self) -> None:
        """Block the calling thread until :meth:`close` is called (or Ctrl-C)."""
        self._thread.join()

    def close(self) -> None:
        """Stop serving and release the port (idempotent)."""
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()

    def __enter__(self) -> FakeServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"FakeServer({self.base_url})"
