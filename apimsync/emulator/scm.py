"""The scm git endpoint: each service's repository over HTTPS smart HTTP.

``{endpoint}/scm/{service}`` (the service's ``properties.scmUrl``) answers the three
requests of git's smart HTTP protocol (``info/refs``, ``git-upload-pack``,
``git-receive-pack``) by running ``git http-backend`` as a CGI against the service's bare
repository (:mod:`apimsync.emulator.scmrepo`), so the stock ``git`` client can clone,
fetch and push. Every request needs Basic authentication as user ``apim`` with a git
password minted by ``POST .../users/git/token``; anything else gets 401 with a
``WWW-Authenticate: Basic`` challenge.

This endpoint is not the management API: no bearer token, no fault injection, no
latency, no request counters. Log lines name the method, the git path and the status,
never a header or a password.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import re
import subprocess
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from apimsync.emulator.actions import verify_git_password
from apimsync.emulator.scmrepo import Repository, git_environment
from apimsync.emulator.store import Store

if TYPE_CHECKING:
    from apimsync.emulator.server import Emulator, Incoming

PREFIX = "scm"
USER = "apim"
GIT_PATHS = re.compile(r"^(info/refs|git-upload-pack|git-receive-pack)$")
BACKEND_TIMEOUT = 300
_FORWARDED = (("git-protocol", "GIT_PROTOCOL"), ("content-encoding", "HTTP_CONTENT_ENCODING"))
_DROPPED = frozenset({"status", "content-length", "transfer-encoding", "connection"})


@dataclass
class GitReply:
    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)


def is_scm_request(incoming: Incoming) -> bool:
    return incoming.parts[:1] == [PREFIX]


def serve(emulator: Emulator, handler: BaseHTTPRequestHandler, incoming: Incoming) -> None:
    """Answer one request under ``/scm/`` (the body is already read)."""
    started = time.monotonic()
    route = _route_name(incoming.parts)
    try:
        reply = answer(emulator, incoming)
    except Exception:
        emulator.log.exception("%s %s failed", incoming.method, route)
        reply = _text(500, "The git endpoint failed; see the emulator log.")
    elapsed = (time.monotonic() - started) * 1000
    emulator.log.info("%s %s %s %.0fms", incoming.method, route, reply.status, elapsed)
    _send(handler, reply, incoming.method == "HEAD")


def answer(emulator: Emulator, incoming: Incoming) -> GitReply:
    parts = incoming.parts
    service = emulator.services.get(parts[1].lower()) if len(parts) > 2 else None
    rest = "/".join(parts[2:])
    if service is None or not GIT_PATHS.match(rest):
        return _text(404, "Repository not found.")
    if not authorized(emulator.store, service, incoming.headers.get("authorization")):
        reply = _text(401, "Authentication failed.")
        reply.headers.append(("WWW-Authenticate", f'Basic realm="{service}"'))
        return reply
    repository = Repository.open(emulator.data_dir, service)
    return run_backend(repository, incoming, rest)


def authorized(store: Store, service: str, header: str | None) -> bool:
    """Whether ``header`` is Basic auth as ``apim`` with a live git password of ``service``."""
    credentials = basic_credentials(header)
    if credentials is None:
        return False
    user, password = credentials
    return user.lower() == USER and verify_git_password(store, service, password)


def basic_credentials(header: str | None) -> tuple[str, str] | None:
    scheme, _, encoded = (header or "").strip().partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    user, separator, password = decoded.partition(":")
    return (user, password) if separator else None


def run_backend(repository: Repository, incoming: Incoming, rest: str) -> GitReply:
    """Run ``git http-backend`` for one request and turn its CGI answer into a reply."""
    done = subprocess.run(
        ["git", "http-backend"],
        input=incoming.body,
        env=cgi_environment(repository, incoming, rest),
        capture_output=True,
        timeout=BACKEND_TIMEOUT,
        check=False,
    )
    if not done.stdout:
        return _text(500, "git http-backend gave no answer.")
    return parse_cgi(done.stdout)


def cgi_environment(repository: Repository, incoming: Incoming, rest: str) -> dict[str, str]:
    """The CGI variables of one request (never its ``Authorization`` header)."""
    env = git_environment(
        {
            "GIT_PROJECT_ROOT": str(repository.path.parent),
            "GIT_HTTP_EXPORT_ALL": "1",
            "PATH_INFO": f"/{repository.path.name}/{rest}",
            "REQUEST_METHOD": incoming.method,
            "QUERY_STRING": urlencode(incoming.query),
            "CONTENT_TYPE": incoming.headers.get("content-type", ""),
            "CONTENT_LENGTH": str(len(incoming.body)),
            "REMOTE_USER": USER,
            "REMOTE_ADDR": "127.0.0.1",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "GATEWAY_INTERFACE": "CGI/1.1",
        }
    )
    for header, variable in _FORWARDED:
        if header in incoming.headers:
            env[variable] = incoming.headers[header]
    return env


def parse_cgi(output: bytes) -> GitReply:
    """A CGI answer (header lines, a blank line, the body) as a reply."""
    ends = [(output.find(mark), mark) for mark in (b"\r\n\r\n", b"\n\n") if mark in output]
    if not ends:
        return _text(500, "git http-backend gave a malformed answer.")
    at, mark = min(ends)
    reply = GitReply(200, output[at + len(mark) :])
    for line in output[:at].decode("latin-1").splitlines():
        name, _, value = line.partition(":")
        name, value = name.strip(), value.strip()
        if name.lower() == "status":
            with contextlib.suppress(ValueError):
                reply.status = int(value.split()[0])
        elif name and name.lower() not in _DROPPED:
            reply.headers.append((name, value))
    return reply


def _route_name(parts: list[str]) -> str:
    rest = "/".join(parts[2:])
    return f"/scm/{{service}}/{rest}" if GIT_PATHS.match(rest) else "/scm/(unmatched)"


def _text(status: int, message: str) -> GitReply:
    return GitReply(status, (message + "\n").encode("utf-8"), [("Content-Type", "text/plain")])


def _send(handler: BaseHTTPRequestHandler, reply: GitReply, head_only: bool) -> None:
    handler.send_response(reply.status)
    for name, value in reply.headers:
        handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(reply.body)))
    handler.end_headers()
    if reply.body and not head_only:
        handler.wfile.write(reply.body)
