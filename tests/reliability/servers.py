"""Real HTTPS servers the reliability tests put in apimsync's way.

:class:`TlsServer` is a threaded HTTPS server with its own CA (made by the emulator's
certificate code, in a folder of the test's) that hands every request to a function and
records what arrived: method, path, host and the ``Authorization`` header, so a test can
check where a bearer token went. The function returns an :class:`Answer`, which may
also misbehave on the wire (a body cut short, a dropped connection).

:func:`faulting_proxy` is such a server in front of an emulator: it forwards every
request unchanged, except those a predicate picks, which it answers itself (a
resource that keeps failing, say).
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from apimsync.emulator.certs import TlsFiles, ensure_tls


@dataclass(frozen=True)
class Seen:
    """One request as the server received it."""

    method: str
    path: str
    host: str
    authorization: str | None
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    """Every header, names in lower case."""


@dataclass
class Answer:
    """What to send back. ``cut_at``: send only that many body bytes, then close;
    ``drop``: close without answering."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    cut_at: int | None = None
    drop: bool = False
    chunks: Iterator[bytes] | None = None
    """A body sent as it is produced (Content-Length must then be in ``headers``)."""


Handler = Callable[[Seen], Answer]


class TlsServer:
    """An HTTPS server on 127.0.0.1 (its own CA under ``folder``, or ``tls``); a context
    manager."""

    def __init__(
        self, folder: Path, handler: Handler, tls: TlsFiles | None = None, port: int = 0
    ) -> None:
        self.tls: TlsFiles = tls or ensure_tls(folder, "127.0.0.1")
        self.handler = handler
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.tls.server_cert, self.tls.server_key)
        self._server = _Server(("127.0.0.1", port), self, context)
        self.port = int(self._server.server_address[1])
        self.url = f"https://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def ca_bundle(self) -> Path:
        return self.tls.ca_cert

    def record(self, seen: Seen) -> None:
        with self._lock:
            self.seen.append(seen)

    def __enter__(self) -> TlsServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], owner: TlsServer, tls: ssl.SSLContext) -> None:
        self.owner = owner
        self.tls = tls
        super().__init__(address, _Handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        request.settimeout(30)
        try:
            connection = self.tls.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return  # a client that does not trust this server's CA
        try:
            _Handler(connection, client_address, self)
        except (ConnectionError, ssl.SSLError, TimeoutError):
            pass
        finally:
            with contextlib.suppress(OSError):
                connection.close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def _any(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        seen = Seen(
            self.command,
            self.path,
            self.headers.get("Host", ""),
            self.headers.get("Authorization"),
            body,
            {k.lower(): v for k, v in self.headers.items()},
        )
        self.server.owner.record(seen)
        answer = self.server.owner.handler(seen)
        if answer.drop:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.send_response(answer.status)
        headers = {"Content-Type": "application/json", **answer.headers}
        if answer.chunks is None:
            headers.setdefault("Content-Length", str(len(answer.body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command == "HEAD":
            return
        if answer.chunks is not None:
            with contextlib.suppress(OSError):
                for chunk in answer.chunks:
                    self.wfile.write(chunk)
            return
        body = answer.body if answer.cut_at is None else answer.body[: answer.cut_at]
        self.wfile.write(body)
        if answer.cut_at is not None:
            self.wfile.flush()
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)

    do_GET = do_PUT = do_PATCH = do_DELETE = do_POST = do_HEAD = _any

    def log_message(self, format: str, *args: Any) -> None:
        pass


# -- a proxy in front of an emulator ---------------------------------------------------

_FORWARDED = ("authorization", "content-type", "if-match", "accept", "x-ms-client-request-id")
_NOT_COPIED = ("content-length", "connection", "transfer-encoding")


class _Upstream:
    """Keep-alive HTTPS connections to the emulator, one per proxy thread."""

    def __init__(self, endpoint: str, ca_bundle: str) -> None:
        parts = urlsplit(endpoint)
        self.endpoint = endpoint
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 443
        self.context = ssl.create_default_context(cafile=ca_bundle)
        self.local = threading.local()

    def send(self, seen: Seen) -> tuple[int, bytes, dict[str, str]] | None:
        """The emulator's answer (None: it dropped the connection)."""
        headers = {k: v for k, v in seen.headers.items() if k in _FORWARDED}
        headers["host"] = f"{self.host}:{self.port}"
        for attempt in (1, 2):
            connection = self._connection()
            try:
                connection.request(seen.method, seen.path, body=seen.body or None, headers=headers)
                response = connection.getresponse()
                body = response.read()
            except (OSError, http.client.HTTPException):
                self.local.connection = None
                with contextlib.suppress(OSError):
                    connection.close()
                if attempt == 2:
                    return None
                continue
            kept = {k: v for k, v in response.getheaders() if k.lower() not in _NOT_COPIED}
            return response.status, body, kept
        raise AssertionError("unreachable")

    def _connection(self) -> http.client.HTTPSConnection:
        connection: http.client.HTTPSConnection | None = getattr(self.local, "connection", None)
        if connection is None:
            connection = http.client.HTTPSConnection(
                self.host, self.port, context=self.context, timeout=120
            )
            self.local.connection = connection
        return connection


def faulting_proxy(
    endpoint: str,
    tls: TlsFiles,
    intercept: Callable[[Seen], Answer | None],
) -> TlsServer:
    """A :class:`TlsServer` (with the emulator's certificate) forwarding to the emulator
    at ``endpoint`` what ``intercept`` leaves alone. Links in answers (``nextLink``,
    ``Location``) are rewritten to point at the proxy, so clients stay behind it."""
    upstream = _Upstream(endpoint, str(tls.ca_cert))
    own: list[str] = []

    def handle(seen: Seen) -> Answer:
        mine = intercept(seen)
        if mine is not None:
            return mine
        answer = upstream.send(seen)
        if answer is None:
            return Answer(drop=True)  # the emulator dropped it: so does the proxy
        status, body, headers = answer
        here = own[0]
        headers = {k: v.replace(upstream.endpoint, here) for k, v in headers.items()}
        return Answer(status, body.replace(upstream.endpoint.encode(), here.encode()), headers)

    server = TlsServer(tls.ca_cert.parent, handle, tls)
    own.append(server.url)
    return server
