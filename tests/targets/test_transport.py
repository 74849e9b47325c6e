"""The HTTP session under the SDK client: environment proxies, read once, still apply."""

from __future__ import annotations

import select
import socket
import socketserver
import threading
from collections.abc import Callable, Iterator

import pytest

from apimsync.targets.connection import Target
from apimsync.targets.sdk import read_instance


class _TunnelHandler(socketserver.BaseRequestHandler):
    """Answers ``CONNECT host:port`` and relays bytes both ways (an HTTPS proxy)."""

    def handle(self) -> None:
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.request.recv(4096)
            if not chunk:
                return
            head += chunk
        method, authority = head.split(b" ")[:2]
        self.server.connects.append(authority.decode())  # type: ignore[attr-defined]
        if method != b"CONNECT":
            return
        host, port = authority.decode().rsplit(":", 1)
        with socket.create_connection((host, int(port))) as upstream:
            self.request.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            _relay(self.request, upstream)


def _relay(a: socket.socket, b: socket.socket) -> None:
    while True:
        ready, _, _ = select.select([a, b], [], [], 5)
        if not ready:
            return
        for source in ready:
            data = source.recv(65536)
            if not data:
                return
            (b if source is a else a).sendall(data)


class _Proxy(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _TunnelHandler)
        self.connects: list[str] = []


@pytest.fixture
def proxy() -> Iterator[_Proxy]:
    server = _Proxy()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def no_proxy_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    for name in ("NO_PROXY", "no_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.usefixtures("no_proxy_settings")
def test_every_request_goes_through_the_proxy_the_environment_names(
    fresh: Callable[[], Target], proxy: _Proxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = fresh()
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{proxy.server_address[1]}")

    live = read_instance(target, parallelism=4)

    endpoint_authority = target.endpoint.split("://", 1)[1].rstrip("/")
    assert live.requests > 0
    assert proxy.connects and set(proxy.connects) == {endpoint_authority}


@pytest.mark.usefixtures("no_proxy_settings")
def test_a_host_in_no_proxy_is_reached_directly(
    fresh: Callable[[], Target], proxy: _Proxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = fresh()
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{proxy.server_address[1]}")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")

    live = read_instance(target)

    assert live.requests > 0
    assert proxy.connects == []
