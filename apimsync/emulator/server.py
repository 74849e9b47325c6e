"""HTTP/TLS plumbing: the emulator's server, authentication, faults, latency and counters.

:class:`Emulator` owns the state under DATA (SQLite store, TLS files, bearer token),
listens with a :class:`http.server.ThreadingHTTPServer` (one thread per connection, TLS
handshakes in those threads) and answers ARM requests under
``/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ApiManagement/service/{svc}``.
``GET {endpoint}/_emulator/requests`` reports request counts; ``DELETE`` resets them
(and the fault sequence). Log lines name the method, route template and status only:
never headers, tokens or bodies.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import logging
import os
import random
import socket
import ssl
import struct
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from apimsync.emulator import lro, scm, versions
from apimsync.emulator.actions import service_resource
from apimsync.emulator.certs import ensure_tls
from apimsync.emulator.core import PROVIDER, ArmError, Ctx, Reply
from apimsync.emulator.imports import exported_document
from apimsync.emulator.newinstance import seed_service
from apimsync.emulator.routes import Route, find_route
from apimsync.emulator.store import Store, utc_now
from apimsync.emulator.tokens import load_or_create_token, tokens_match

LOG = logging.getLogger("apimsync.emulator")
_INSTANCES = itertools.count(1)
DEFAULT_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
DEFAULT_RESOURCE_GROUP = "apimsync-emulator"
FAULT_KINDS = ("429", "500", "503", "reset", "conflict")
WRITE_METHODS = ("PUT", "PATCH", "DELETE", "POST")
LOGIN = "https://login.microsoftonline.com/common"
LOCATION_NAME = "westus"
ARM_PREFIX = (
    "subscriptions",
    None,
    "resourcegroups",
    None,
    "providers",
    PROVIDER.lower(),
    "service",
)


@dataclass(frozen=True)
class EmulatorOptions:
    """Everything :func:`serve` takes."""

    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 0
    services: tuple[str, ...] = ("apim-emulator",)
    latency_ms: int = 0
    faults: tuple[str, ...] = ()
    seed: int | None = None
    subscription_id: str | None = None
    resource_group: str | None = None
    lro_style: str = lro.DEFAULT_STYLE
    """Which writes answer 202 Accepted; see :mod:`apimsync.emulator.lro`."""

    def __post_init__(self) -> None:
        lro.check_style(self.lro_style)


@dataclass(frozen=True)
class Connection:
    """What a client needs (the content of ``DATA/connection.json``)."""

    endpoint: str
    ca_bundle: str
    token: str
    subscription_id: str
    resource_group: str
    service: str
    services: tuple[str, ...] = ()
    pid: int = 0

    def to_json(self) -> str:
        data = asdict(self)
        data["services"] = list(self.services)
        return json.dumps(data, indent=2)

    @classmethod
    def from_file(cls, path: Path) -> Connection:
        data = json.loads(path.read_text(encoding="utf-8"))
        data["services"] = tuple(data.get("services") or (data["service"],))
        return cls(**data)


# -- faults ----------------------------------------------------------------------------


@dataclass(frozen=True)
class FaultRule:
    kind: str
    rate: float


def parse_faults(specs: Sequence[str]) -> tuple[FaultRule, ...]:
    """``["429:0.1", "reset:0.05"]`` -> rules; ValueError for anything else."""
    rules = []
    for spec in specs:
        kind, sep, rate_text = spec.partition(":")
        kind = kind.strip().lower()
        if kind not in FAULT_KINDS or not sep:
            raise ValueError(f"fault {spec!r}: expected KIND:RATE with KIND in {FAULT_KINDS}")
        try:
            rate = float(rate_text)
        except ValueError:
            raise ValueError(f"fault {spec!r}: RATE must be a number from 0 to 1") from None
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"fault {spec!r}: RATE must be a number from 0 to 1")
        rules.append(FaultRule(kind, rate))
    return tuple(rules)


class FaultPlan:
    """Decides, repeatably for a seed, which requests fail and how.

    The draw for a request depends on the seed, the fault kind, the method, the path and
    how many times that method and path were seen before, so a given sequence of
    requests meets the same faults on every run (even when other requests interleave).
    """

    def __init__(self, rules: Sequence[FaultRule], seed: int | None) -> None:
        self.rules = tuple(rules)
        self.seed = seed if seed is not None else random.SystemRandom().getrandbits(63)
        self._seen: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()

    def reset(self) -> None:
        with self._lock:
            self._seen.clear()

    def _uniform(self, *parts: object) -> float:
        digest = hashlib.sha256("|".join(str(p) for p in parts).encode("utf-8")).digest()
        return int.from_bytes(digest[:8], "big") / 2**64

    def draw(self, method: str, path: str, api_write: bool) -> str | None:
        if not self.rules:
            return None
        with self._lock:
            nth = self._seen[(method, path)]
            self._seen[(method, path)] += 1
        for rule in self.rules:
            if rule.kind == "conflict" and not api_write:
                continue
            if self._uniform(self.seed, rule.kind, method, path, nth) < rule.rate:
                return rule.kind
        return None


# -- counters --------------------------------------------------------------------------


class Counters:
    """Request counts by route, operation, status and injected fault."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.by_route: Counter[str] = Counter()
            self.by_operation: Counter[str] = Counter()
            self.by_status: Counter[str] = Counter()
            self.faults: Counter[str] = Counter()

    def record(self, route: str, operation: str, status: str, fault: str | None) -> None:
        with self._lock:
            self.by_route[route] += 1
            self.by_operation[operation] += 1
            self.by_status[status] += 1
            if fault:
                self.faults[fault] += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "total": sum(self.by_route.values()),
                "by_route": dict(sorted(self.by_route.items())),
                "by_operation": dict(sorted(self.by_operation.items())),
                "by_status": dict(sorted(self.by_status.items())),
                "faults": dict(sorted(self.faults.items())),
            }


class ApiWriteLocks:
    """Which APIs have a write in flight (API Management lets one write run per API)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._busy: set[tuple[str, str]] = set()

    @contextlib.contextmanager
    def hold(self, key: tuple[str, str]) -> Iterator[bool]:
        with self._lock:
            free = key not in self._busy
            if free:
                self._busy.add(key)
        try:
            yield free
        finally:
            if free:
                with self._lock:
                    self._busy.discard(key)


# -- requests --------------------------------------------------------------------------


@dataclass
class Incoming:
    method: str
    path: str
    parts: list[str]
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    route_name: str = "(unmatched)"
    operation_id: str = "(none)"
    fault: str | None = None
    drop: bool = False


def _arm_error(status: int, code: str, message: str, **headers: str) -> ArmError:
    return ArmError(status, code, message, headers=headers)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "apimsync-emulator/1"
    sys_version = ""
    timeout = 120
    wbufsize = 1 << 16  # headers and body leave in one write (no Nagle/delayed-ACK stall)
    server: _Server

    def _dispatch(self) -> None:
        self.server.emulator.handle(self)

    do_GET = do_PUT = do_PATCH = do_DELETE = do_POST = do_HEAD = _dispatch

    def log_message(self, format: str, *args: Any) -> None:
        self.server.emulator.log.debug("http: " + format, *args)

    def log_error(self, format: str, *args: Any) -> None:
        self.server.emulator.log.info("http error: " + format, *args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], emulator: Emulator, tls: ssl.SSLContext) -> None:
        self.emulator = emulator
        self.tls = tls
        super().__init__(address, _Handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        request.settimeout(30)
        with contextlib.suppress(OSError):
            request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            connection = self.tls.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as exc:
            self.emulator.log.info(
                "TLS handshake with %s failed: %s", client_address[0], type(exc).__name__
            )
            return
        try:
            connection.settimeout(_Handler.timeout)
            _Handler(connection, client_address, self)
        except (ConnectionError, ssl.SSLError, TimeoutError):
            pass
        finally:
            with contextlib.suppress(OSError):
                connection.close()


class Emulator:
    """An emulated API Management management endpoint over HTTPS, state under DATA."""

    def __init__(self, options: EmulatorOptions) -> None:
        if not options.services:
            raise ValueError("at least one service is needed")
        self.options = options
        self.data_dir = Path(options.data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._configure_log()
        self.token = load_or_create_token(self.data_dir / "token")
        self.store = Store(self.data_dir / "state.sqlite3")
        self.subscription_id = self._setting(
            "subscription_id", options.subscription_id, DEFAULT_SUBSCRIPTION
        )
        self.resource_group = self._setting(
            "resource_group", options.resource_group, DEFAULT_RESOURCE_GROUP
        )
        self.services = {s.lower(): s for s in options.services}
        self.faults = FaultPlan(parse_faults(options.faults), options.seed)
        self.counters = Counters()
        self.api_locks = ApiWriteLocks()
        self.tls_files = ensure_tls(self.data_dir / "tls", options.host)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.tls_files.server_cert, self.tls_files.server_key)
        self._server = _Server((options.host, options.port), self, context)
        host = options.host if options.host not in ("", "0.0.0.0", "::") else "127.0.0.1"
        self.endpoint = f"https://{_url_host(host)}:{self._server.server_address[1]}"
        for service in options.services:
            self._seed(service)
        self._thread: threading.Thread | None = None

    def _configure_log(self) -> None:
        """A logger of this instance, writing to ``DATA/emulator.log`` (and up the tree)."""
        self.log = LOG.getChild(f"{next(_INSTANCES)}")
        self.log.setLevel(logging.INFO)
        handler = logging.FileHandler(self.data_dir / "emulator.log", encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        self.log.addHandler(handler)
        self._log_handler: logging.Handler | None = handler

    def _setting(self, name: str, given: str | None, default: str) -> str:
        value = given or self.store.meta(name) or default
        self.store.set_meta(name, value)
        return value

    def _seed(self, service: str) -> None:
        if self.store.meta(f"created:{service}") is None:
            self.store.set_meta(f"created:{service}", utc_now())
            self.store.set_meta(f"etag:{service}", uuid.uuid4().hex)
        seed_service(self._ctx(service, "GET", "", {}, {}, {}))

    # -- lifecycle --------------------------------------------------------------------

    @property
    def connection(self) -> Connection:
        first = self.options.services[0]
        return Connection(
            endpoint=self.endpoint,
            ca_bundle=str(self.tls_files.ca_cert),
            token=self.token,
            subscription_id=self.subscription_id,
            resource_group=self.resource_group,
            service=first,
            services=tuple(self.options.services),
            pid=os.getpid(),
        )

    def _write_connection(self) -> None:
        target = self.data_dir / "connection.json"
        temporary = self.data_dir / f".connection.{os.getpid()}.tmp"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(self.connection.to_json())
        os.replace(temporary, target)
        self.log.info(
            "listening on %s for services %s", self.endpoint, ", ".join(self.services.values())
        )

    def start(self) -> Connection:
        """Serve in a background thread; returns once ``connection.json`` is written."""
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        self._write_connection()
        return self.connection

    def serve_forever(self) -> None:
        """Serve in this thread until interrupted (KeyboardInterrupt), then clean up."""
        self._write_connection()
        try:
            self._server.serve_forever()
        except KeyboardInterrupt:
            self.log.info("interrupted")
        finally:
            self.close()

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=10)
            self._thread = None
        self.close()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._server.server_close()
        with contextlib.suppress(FileNotFoundError):
            (self.data_dir / "connection.json").unlink()
        self.store.close()
        if self._log_handler is not None:
            self.log.removeHandler(self._log_handler)
            self._log_handler.close()
            self._log_handler = None

    # -- one request ------------------------------------------------------------------

    def handle(self, handler: _Handler) -> None:
        started = time.monotonic()
        incoming = self._read(handler)
        if scm.is_scm_request(incoming):
            scm.serve(self, handler, incoming)  # git, not the management API
            return
        try:
            reply = self._answer(incoming)
        except ArmError as exc:
            reply = Reply(exc.status, exc.body(), exc.headers)
        except Exception:
            self.log.exception("%s %s failed", incoming.method, incoming.route_name)
            reply = Reply(500, ArmError(500, "InternalServerError", "Internal error.").body())
        if not incoming.path.startswith("/_emulator/"):
            self.counters.record(
                f"{incoming.method} {incoming.route_name}",
                incoming.operation_id,
                "dropped" if incoming.drop else str(reply.status),
                incoming.fault,
            )
        elapsed = (time.monotonic() - started) * 1000
        status = "dropped" if incoming.drop else str(reply.status)
        self.log.info("%s %s %s %.0fms", incoming.method, incoming.route_name, status, elapsed)
        if incoming.drop:
            _drop(handler)
            return
        _send(handler, reply, incoming.method == "HEAD")

    def _read(self, handler: _Handler) -> Incoming:
        url = urlsplit(handler.path)
        body = _read_body(handler)
        parts = [unquote(p) for p in url.path.strip("/").split("/")] if url.path.strip("/") else []
        headers = {k.lower(): v for k, v in handler.headers.items()}
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        return Incoming(handler.command, url.path, parts, query, headers, body)

    def _authenticate(self, incoming: Incoming) -> None:
        value = incoming.headers.get("authorization", "")
        scheme, _, presented = value.partition(" ")
        if scheme.lower() != "bearer" or not presented:
            message = "Authentication failed. The 'Authorization' header is missing."
        elif not tokens_match(presented.strip(), self.token):
            message = "Authentication failed. The access token is not valid."
        else:
            return
        challenge = f'Bearer authorization_uri="{LOGIN}", error="invalid_token"'
        raise _arm_error(401, "AuthenticationFailed", message, **{"WWW-Authenticate": challenge})

    def _answer(self, incoming: Incoming) -> Reply:
        if incoming.parts[:2] == ["_emulator", "api-export"]:
            return self._exported(incoming)  # a link like a blob SAS URL: no token needed
        if incoming.parts[:1] == ["_emulator"]:
            self._authenticate(incoming)
            return self._admin(incoming)
        scope = self._arm_scope(incoming)
        if scope is not None:
            return scope
        try:
            target = self._classify(incoming)
        finally:
            self._authenticate(incoming)  # a 401 goes before any other answer
        self._check_api_version(incoming, versions.ACCEPTED.__contains__)
        if target is None:
            return self._service_list(incoming)
        service, rest, route, params = target
        return self._run(incoming, service, rest, route, params)

    def _classify(self, incoming: Incoming) -> tuple[str, list[str], Route, dict[str, str]] | None:
        """The service, path and route a request addresses (None: the list of services)."""
        service, rest = self._service_of(incoming)
        if service is None:
            return None
        found = find_route(incoming.method, rest)
        if found is None:
            raise _arm_error(
                501, "NotImplemented", "The emulator does not implement this resource."
            )
        if found == "method":
            raise _arm_error(405, "MethodNotAllowed", f"{incoming.method} is not allowed here.")
        assert not isinstance(found, str)
        route, params = found
        incoming.route_name = "/" + route.template
        incoming.operation_id = route.operation_id
        return service, rest, route, params

    def _service_of(self, incoming: Incoming) -> tuple[str | None, list[str]]:
        parts = incoming.parts
        lowered = [p.lower() for p in parts[: len(ARM_PREFIX)]]
        if len(parts) < len(ARM_PREFIX) or any(
            want is not None and got != want for want, got in zip(ARM_PREFIX, lowered, strict=True)
        ):
            raise _arm_error(404, "NotFound", "No such resource.")
        if parts[1].lower() != self.subscription_id.lower():
            raise _arm_error(
                404, "SubscriptionNotFound", f"The subscription '{parts[1]}' could not be found."
            )
        if parts[3].lower() != self.resource_group.lower():
            raise _arm_error(
                404, "ResourceGroupNotFound", f"Resource group '{parts[3]}' could not be found."
            )
        if len(parts) == len(ARM_PREFIX):
            incoming.route_name = "/(service list)"
            return None, []
        service = self.services.get(parts[len(ARM_PREFIX)].lower())
        if service is None:
            raise _arm_error(
                404,
                "ResourceNotFound",
                f"The Resource '{PROVIDER}/service/{parts[len(ARM_PREFIX)]}' under resource group "
                f"'{self.resource_group}' was not found.",
            )
        return service, parts[len(ARM_PREFIX) + 1 :]

    def _arm_scope(self, incoming: Incoming) -> Reply | None:
        """The subscription or resource-group read a client makes before anything else.

        Only the emulated subscription and group exist; their resources answer in the
        Microsoft.Resources shape, at any well-formed api-version of that provider.
        """
        parts = [p.lower() for p in incoming.parts]
        if parts[:1] != ["subscriptions"] or len(parts) not in (2, 4):
            return None
        if len(parts) == 4 and parts[2] != "resourcegroups":
            return None
        incoming.route_name = "/(subscription)" if len(parts) == 2 else "/(resource group)"
        self._authenticate(incoming)
        if incoming.method not in ("GET", "HEAD"):
            raise _arm_error(405, "MethodNotAllowed", f"{incoming.method} is not allowed here.")
        self._check_api_version(incoming, lambda v: bool(versions.RESOURCES_VERSION.match(v)))
        if parts[1] != self.subscription_id.lower():
            raise _arm_error(
                404,
                "SubscriptionNotFound",
                f"The subscription '{incoming.parts[1]}' could not be found.",
            )
        subscription = f"/subscriptions/{self.subscription_id}"
        if len(parts) == 2:
            found = {
                "id": subscription,
                "subscriptionId": self.subscription_id,
                "displayName": "apimsync emulator",
                "state": "Enabled",
            }
            return Reply(200, found)
        if parts[3] != self.resource_group.lower():
            raise _arm_error(
                404,
                "ResourceGroupNotFound",
                f"Resource group '{incoming.parts[3]}' could not be found.",
            )
        if incoming.method == "HEAD":
            return Reply(204)
        body: dict[str, Any] = {
            "id": f"{subscription}/resourceGroups/{self.resource_group}",
            "name": self.resource_group,
            "type": "Microsoft.Resources/resourceGroups",
            "location": LOCATION_NAME,
            "properties": {"provisioningState": "Succeeded"},
        }
        return Reply(200, body)

    def _check_api_version(self, incoming: Incoming, accepted: Callable[[str], bool]) -> None:
        version = incoming.query.get("api-version")
        if version is None:
            raise _arm_error(
                400,
                "MissingApiVersionParameter",
                "The api-version query parameter (?api-version=) is required for all requests.",
            )
        if not accepted(version):
            raise _arm_error(
                400,
                "InvalidApiVersionParameter",
                f"The api-version '{version}' is invalid. "
                f"The supported versions are '{versions.supported_list()}'.",
            )

    def _ctx(
        self,
        service: str,
        method: str,
        rel_path: str,
        params: dict[str, str],
        query: dict[str, str],
        headers: dict[str, str],
        body: Any = None,
    ) -> Ctx:
        return Ctx(
            self.store,
            service,
            self.subscription_id,
            self.resource_group,
            self.endpoint,
            method,
            rel_path,
            params,
            query,
            headers,
            body,
            lro_style=self.options.lro_style,
        )

    def _run(
        self,
        incoming: Incoming,
        service: str,
        rest: list[str],
        route: Route,
        params: dict[str, str],
    ) -> Reply:
        if any("/" in value for value in params.values()):
            # An id segment that is a URL-encoded ARM id (``apis/%2Fsubscriptions%2F...``):
            # the service answers 404 with no body at all (catalogue §1.5, [POL20 e10]).
            return Reply(404)
        api_key = _api_write_key(incoming.method, rest)
        incoming.fault = self.faults.draw(
            incoming.method, incoming.path.lower(), api_key is not None
        )
        self._raise_fault(incoming)
        body = _parse_body(incoming.body)
        ctx = self._ctx(
            service, incoming.method, "/".join(rest), params, incoming.query, incoming.headers, body
        )
        ctx.api_version = incoming.query["api-version"]
        if api_key is None:
            self._delay()
            return self._dispatch(ctx, route)
        with self.api_locks.hold((service, api_key)) as free:
            if not free or incoming.fault == "conflict":
                incoming.fault = incoming.fault or "conflict"
                raise _arm_error(
                    409, "PessimisticConcurrencyConflict", "Operation on the API is in progress"
                )
            self._delay()
            return self._dispatch(ctx, route)

    def _raise_fault(self, incoming: Incoming) -> None:
        fault = incoming.fault
        if fault == "429":
            raise _arm_error(
                429,
                "TooManyRequests",
                "The request was throttled; retry after 1 second.",
                **{"Retry-After": "1"},
            )
        if fault == "500":
            raise _arm_error(500, "InternalServerError", "Injected fault: internal server error.")
        if fault == "503":
            raise _arm_error(503, "ServiceUnavailable", "Injected fault: service unavailable.")
        if fault == "reset":
            incoming.drop = True
            raise _arm_error(500, "ConnectionReset", "Injected fault: connection reset.")

    def _delay(self) -> None:
        if self.options.latency_ms > 0:
            time.sleep(self.options.latency_ms / 1000.0)

    def _dispatch(self, ctx: Ctx, route: Route) -> Reply:
        if ctx.method == "GET" and "asyncId" in ctx.query:
            return self._async_result(ctx, route)
        return route.handler(ctx)

    def _async_result(self, ctx: Ctx, route: Route) -> Reply:
        """The GET on a 202's Location: the status the write had (``asyncCode``) with the
        resource and its ETag (catalogue §1.3, [NV20 e3]); 204 once a delete is done."""
        operation = self.store.get_operation(ctx.service, ctx.query["asyncId"])
        code = operation.get("_code") if operation is not None else None
        if code == 204:
            return Reply(204)
        reply = route.handler(ctx)
        if reply.status == 200 and code in (200, 201):
            reply.status = code
        return reply

    def _service_list(self, incoming: Incoming) -> Reply:
        self._delay()
        items = [
            service_resource(self._ctx(s, "GET", "", {}, {}, {})) for s in self.services.values()
        ]
        return Reply(200, {"value": items})

    # -- /_emulator -------------------------------------------------------------------

    def _exported(self, incoming: Incoming) -> Reply:
        """The document of an API export link (``imports.export_api``)."""
        incoming.route_name = "/_emulator/api-export"
        service = self.services.get(incoming.parts[2].lower()) if len(incoming.parts) > 3 else None
        token = incoming.query.get("sig", "")
        found = exported_document(self.store, service, token) if service and token else None
        if incoming.method != "GET" or found is None:
            raise _arm_error(404, "BlobNotFound", "The specified blob does not exist.")
        text, content_type = found
        return Reply(200, text.encode("utf-8"), {"Content-Type": content_type})

    def _admin(self, incoming: Incoming) -> Reply:
        incoming.route_name = "/_emulator/requests"
        if incoming.parts != ["_emulator", "requests"]:
            raise _arm_error(404, "NotFound", "No such emulator resource.")
        if incoming.method == "GET":
            return Reply(200, self.counters.snapshot())
        if incoming.method == "DELETE":
            self.counters.reset()
            self.faults.reset()
            return Reply(204)
        raise _arm_error(405, "MethodNotAllowed", f"{incoming.method} is not allowed here.")


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _api_write_key(method: str, rest: list[str]) -> str | None:
    if method not in WRITE_METHODS or len(rest) < 2 or rest[0].lower() != "apis":
        return None
    return rest[1].split(";")[0].lower()


def _read_body(handler: _Handler) -> bytes:
    if "chunked" in (handler.headers.get("Transfer-Encoding") or "").lower():
        chunks: list[bytes] = []
        while True:
            size = int(handler.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while handler.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(chunks)
            chunks.append(handler.rfile.read(size))
            handler.rfile.readline()
    length = int(handler.headers.get("Content-Length") or 0)
    return handler.rfile.read(length) if length > 0 else b""


def _parse_body(raw: bytes) -> Any:
    if not raw.strip():
        return None
    try:
        return json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ArmError(
            400, "InvalidRequestContent", f"The request body is not valid JSON: {exc}"
        ) from exc


def _send(handler: _Handler, reply: Reply, head_only: bool) -> None:
    if isinstance(reply.body, bytes):
        payload = reply.body  # a document, its Content-Type among the reply's headers
    else:
        payload = b"" if reply.body is None else _json(reply.body)
    handler.send_response(reply.status)
    if reply.body is not None and not isinstance(reply.body, bytes):
        handler.send_header("Content-Type", "application/json; charset=utf-8")
    handler.send_header("Content-Length", "0" if head_only else str(len(payload)))
    handler.send_header("x-ms-request-id", str(uuid.uuid4()))
    for name, value in reply.headers.items():
        handler.send_header(name, value)
    handler.end_headers()
    if payload and not head_only:
        handler.wfile.write(payload)


def _json(body: Any) -> bytes:
    """As the service writes JSON: 2-space indentation, CRLF line endings (catalogue §1.1).
    Line breaks inside strings are escaped by the encoder, so only the layout's are CRLF."""
    return json.dumps(body, indent=2).replace("\n", "\r\n").encode("utf-8")


def _drop(handler: _Handler) -> None:
    """Drop the connection without an answer (an RST where the platform allows)."""
    handler.close_connection = True
    with contextlib.suppress(OSError):
        handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def serve(
    data_dir: str | os.PathLike[str] | EmulatorOptions,
    host: str = "127.0.0.1",
    port: int = 0,
    services: Sequence[str] = ("apim-emulator",),
    latency_ms: int = 0,
    faults: Sequence[str] = (),
    seed: int | None = None,
) -> None:
    """Run the emulator until interrupted; ``DATA/connection.json`` appears when it is ready.

    ``data_dir`` may also be a complete :class:`EmulatorOptions`.
    """
    options = (
        data_dir
        if isinstance(data_dir, EmulatorOptions)
        else EmulatorOptions(
            Path(data_dir), host, port, tuple(services), latency_ms, tuple(faults), seed
        )
    )
    Emulator(options).serve_forever()
