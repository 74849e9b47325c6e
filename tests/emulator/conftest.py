"""Fixtures: one emulator for the session, the real SDK client and a raw HTTPS client.

Every response either client receives is checked against the spec (``swagger.py``) as it
arrives; a test that provoked a non-conforming response fails afterwards
(``conformance_guard``).

Azure AD sign-in cannot run here (no network, no tenant), so :class:`StaticTokenCredential`
hands the SDK the emulator's bearer token. It is the only stand-in in these tests.
"""

from __future__ import annotations

import http.client
import json
import re
import ssl
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlencode, urlsplit

import pytest
from azure.core.credentials import AccessToken
from azure.mgmt.apimanagement import ApiManagementClient

from apimsync.emulator import Connection, EmulatorProcess

sys.path.insert(0, str(Path(__file__).parent))

from swagger import Operation, Spec

API_VERSION = "2024-05-01"
CONFIGURATION_RESULT = re.compile(r"^/tenant/operationResults/[^/]+$", re.IGNORECASE)
SERVICES = ("apim-emulator", "apim-second")


class StaticTokenCredential:
    """Returns the emulator's token (stands in for Azure AD; see the module docstring)."""

    def __init__(self, token: str) -> None:
        self.token = token

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken(self.token, int(time.time()) + 3600)


@dataclass
class Recorder:
    """Checks responses against the spec; remembers which operations and statuses it saw."""

    spec: Spec
    problems: list[str] = field(default_factory=list)
    covered: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    unmatched: set[str] = field(default_factory=set)

    def check(self, method: str, url: str, status: int, raw: bytes) -> None:
        split = urlsplit(url)
        path = split.path
        if "asyncId=" in split.query:
            return  # the final GET of a long-running operation, not the resource's GET
        if "export=true" in split.query.lower():
            return  # ApiExport_Get: its spec file is not in the local copy of the spec
        marker = "/providers/Microsoft.ApiManagement/service/"
        if marker not in path:
            return
        rest = path.split(marker, 1)[1]
        relative = rest[len(rest.split("/", 1)[0]) :]
        op = self.spec.find(method, unquote(relative))
        if op is None:
            self.unmatched.add(f"{method} {relative}")
            self.check_configuration_result(method, relative, status, raw)
            return
        try:
            body = json.loads(raw) if raw else None
        except json.JSONDecodeError:
            self.problems.append(f"{op.operation_id} {status}: body is not JSON")
            return
        body = _without_recorded_nulls(body)
        error = body.get("error") if status >= 400 and isinstance(body, dict) else None
        if isinstance(error, dict) and "details" in error and error["details"] is None:
            # The service writes "details": null (catalogue §1.5); the spec's error schema
            # only knows a list, and the recording wins.
            error.pop("details")
        if status == 500 and b"Internal error." in raw:
            self.problems.append(f"{method} {relative}: the emulator failed (see its log)")
        if method == "HEAD":
            body = None  # a HEAD answer has no body, whatever the schema for GET
            found = [] if op.declares(status) else [f"{op.operation_id}: {status} undeclared"]
        elif (op.operation_id, status) in RECORDED_STATUSES:
            found = [] if body is None else [f"{op.operation_id}: {status} with a body"]
        else:
            found = [p for p in self.spec.validate(op, status, body) if not _recorded_undeclared(p)]
        self.problems.extend(f"{method} {relative}: {p}" for p in found)
        if not found:
            self.covered[op.operation_id].add(status)

    def check_configuration_result(
        self, method: str, relative: str, status: int, raw: bytes
    ) -> None:
        """The result of a tenant configuration operation (save, deploy, validate).

        Its ``Location`` is ``tenant/operationResults/{id}``, a path the spec does not
        describe; the body is the ``OperationResultContract`` the operations' 200 declares.
        Other long-running operations answer the same path in the Azure-AsyncOperation
        shape (a top-level ``status``), which this leaves alone.
        """
        if method != "GET" or status != 200 or not CONFIGURATION_RESULT.match(relative):
            return
        body = json.loads(raw) if raw else None
        if not isinstance(body, dict) or "status" in body:
            return
        deploy = self.spec.by_id["TenantConfiguration_Deploy"]
        self.problems.extend(f"GET {relative}: {p}" for p in self.spec.validate(deploy, 200, body))


RECORDED_NULLS = frozenset(
    {
        "description",  # APIs, loggers [API20 e3], [DIAG19 e3]
        "oAuth2",  # authenticationSettings [API20 e3]
        "openid",
        "terms",  # product unlimited [PRD20 e2]
        "externalId",  # groups [GRP20 e2]
        "resourceId",  # loggers [LOG20 e2]
        "title",  # backends [BE20 e2]
        "versionQueryName",  # version sets [AVS20 e3]
        "versionHeaderName",
        "alwaysLog",  # diagnostics [ADIAG23 p@14000]
        "sampling",
        "headers",
        "body",
        "response",
        "request",
        "tags",  # named values [NV20 e3]
        "identityClientId",  # key vault named values [NV23 p@60000]
        "defaultValue",  # operation parameters
        "policies",  # operations [REV20 p@68000]
        "protocols",  # product-API link PUT [PRDA e8]
        "authenticationSettings",  # product-API link PUT [PRDA e8]
        "subscriptionKeyParameterNames",
        "apiRevisionDescription",
        "notes",
        "nextLink",  # non-ARM lists [REV20 p@104000], [TAG19 e6]
    }
)
"""Properties the real service answered with ``null`` where the spec declares a type
without ``x-nullable``: the recording wins (catalogue §3, §8, §10, §11, §12, §14, §15)."""


RECORDED_STATUSES = {
    ("Api_Delete", 200): "§3.4 [API20 e19]: a delete that deleted is 200, empty",
    ("Api_CreateOrUpdate", 202): "§5 [REV20 e2], [OAS20 e2]: an import is 202, empty",
    ("ApiSchema_CreateOrUpdate", 202): "§6 [SCH20 e6, e7]: a schema PUT is 202, empty",
    ("NamedValue_CreateOrUpdate", 202): "§12 [NV23 p@9000]: 202, empty (--lro-style async)",
}
"""Statuses the real service answered that the spec does not declare (with no body)."""
RECORDED_UNDECLARED = (
    ("Product_CreateOrUpdate", "/groups"),  # §8.1 [PRD20 e3]
    ("Product_Update", "/groups"),  # §8.1 [PRD23 p@15000]
    ("ApiRevision_ListByService", "/id"),  # §4 [REV20 p@104000]
    ("GraphQLApiResolver_", "/internalId"),  # §16 [GQL23 p@29000]
    ("GraphQLApiResolver_", "/publicId"),
)
"""Properties the real service returned that the spec does not declare."""


def _recorded_undeclared(problem: str) -> bool:
    where, _, what = problem.rpartition(": ")
    operation = where.split(" ", 1)[0]
    return what == "not declared by the schema" and any(
        operation.startswith(op) and where.endswith(suffix) for op, suffix in RECORDED_UNDECLARED
    )


def _without_recorded_nulls(node: Any) -> Any:
    if isinstance(node, list):
        return [_without_recorded_nulls(item) for item in node]
    if not isinstance(node, dict):
        return node
    return {
        key: _without_recorded_nulls(value)
        for key, value in node.items()
        if not (value is None and key in RECORDED_NULLS)
    }


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    raw: bytes

    @property
    def body(self) -> Any:
        return json.loads(self.raw) if self.raw else None

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


class RawClient:
    """Plain HTTPS calls to the emulator (for what the SDK hides: status codes, headers)."""

    def __init__(self, conn: Connection, recorder: Recorder | None) -> None:
        self.conn = conn
        self.recorder = recorder
        self.context = ssl.create_default_context(cafile=conn.ca_bundle)
        split = urlsplit(conn.endpoint)
        self.host, self.port = split.hostname or "", split.port or 443

    def service_path(self, relative: str = "", service: str | None = None) -> str:
        base = (
            f"/subscriptions/{self.conn.subscription_id}/resourceGroups/"
            f"{self.conn.resource_group}/providers/Microsoft.ApiManagement/service/"
            f"{service or self.conn.service}"
        )
        return base + ("/" + relative if relative else "")

    def call(
        self,
        method: str,
        relative: str,
        body: Any = None,
        *,
        headers: dict[str, str] | None = None,
        query: dict[str, str] | None = None,
        auth: bool = True,
        service: str | None = None,
        api_version: str | None = API_VERSION,
        absolute: str | None = None,
    ) -> Response:
        if absolute is not None:
            split = urlsplit(absolute)
            target = split.path + ("?" + split.query if split.query else "")
        else:
            params = dict(query or {})
            if api_version is not None:
                params = {"api-version": api_version, **params}
            target = self.service_path(relative, service) + (
                "?" + urlencode(params) if params else ""
            )
        sent = {"Content-Type": "application/json", **(headers or {})}
        if auth:
            sent.setdefault("Authorization", f"Bearer {self.conn.token}")
        payload = None if body is None else json.dumps(body).encode("utf-8")
        connection = http.client.HTTPSConnection(
            self.host, self.port, context=self.context, timeout=30
        )
        try:
            connection.request(method, target, body=payload, headers=sent)
            answer = connection.getresponse()
            raw = answer.read()
            result = Response(answer.status, {k.lower(): v for k, v in answer.getheaders()}, raw)
        finally:
            connection.close()
        if self.recorder is not None:
            self.recorder.check(method, target, result.status, raw)
        return result


@pytest.fixture(scope="session")
def spec() -> Spec:
    return Spec()


@pytest.fixture(scope="session")
def recorder(spec: Spec) -> Recorder:
    return Recorder(spec)


@pytest.fixture(scope="session")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorProcess]:
    with EmulatorProcess(tmp_path_factory.mktemp("emulator"), services=SERVICES) as running:
        yield running


@pytest.fixture(scope="session")
def conn(emulator: EmulatorProcess) -> Connection:
    return emulator.connection


def make_client(conn: Connection, recorder: Recorder | None, **kwargs: Any) -> ApiManagementClient:
    def hook(response: Any) -> None:
        if recorder is None:
            return
        http_response = response.http_response
        request = http_response.request
        recorder.check(request.method, request.url, http_response.status_code, http_response.body())

    return ApiManagementClient(
        StaticTokenCredential(conn.token),
        conn.subscription_id,
        base_url=conn.endpoint,
        connection_verify=conn.ca_bundle,
        raw_response_hook=hook,
        **kwargs,
    )


@pytest.fixture(scope="session")
def client(conn: Connection, recorder: Recorder) -> ApiManagementClient:
    return make_client(conn, recorder, retry_total=0)


@pytest.fixture(scope="session")
def raw(conn: Connection, recorder: Recorder) -> RawClient:
    return RawClient(conn, recorder)


@pytest.fixture(scope="session")
def rg(conn: Connection) -> str:
    return conn.resource_group


@pytest.fixture(scope="session")
def svc(conn: Connection) -> str:
    return conn.service


@pytest.fixture
def uid() -> str:
    """A fresh id prefix, so tests sharing the session emulator never collide."""
    return "t" + uuid.uuid4().hex[:10]


@pytest.fixture(autouse=True)
def conformance_guard(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail a test whose requests got responses that do not conform to the spec."""
    if not {"recorder", "client", "raw"} & set(request.fixturenames):
        yield
        return
    recorder: Recorder = request.getfixturevalue("recorder")
    before = len(recorder.problems)
    yield
    new = recorder.problems[before:]
    assert not new, "responses that do not conform to the spec:\n" + "\n".join(new[:20])


__all__ = ["Operation", "RawClient", "Recorder", "Response", "make_client"]
