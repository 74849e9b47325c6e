"""Replay the spec's own ``x-ms-examples`` against the emulator.

Each example of an operation the emulator serves is sent as a request: the example's
path parameters, query parameters, ``If-Match`` and body. Before it, the harness makes
the example's world exist, as on a real instance: parents of the addressed resource,
the resource itself (unless the example creates it: an example answering only 201
starts from its absence), resources that ids in the body name (``apiId``, ``loggerId``,
pool members ...) and what a policy names (``{{named values}}``, ``logger-id``). It
creates them with the body of the first example of their own create operation. The
answer must carry a status code the example shows, and (as everywhere in this suite) a
body valid against the operation's response schema.

The emulator for this module runs with the examples' subscription, resource group and
service names, so no id needs rewriting.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from apimsync.emulator import EmulatorProcess
from apimsync.emulator.routes import ROUTES

from .conftest import RawClient, Recorder
from .swagger import Operation, Spec

SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
GROUP = "rg1"
SERVICE = "apimService1"
PREFIX = (
    f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{GROUP}"
    f"/providers/Microsoft.ApiManagement/service/{SERVICE}/"
)
RELATIVE_REF = re.compile(
    r"^/(apis|loggers|backends|products|groups|users|tags|apiVersionSets)/[^/]+"
)
VIEW_TARGETS = ("apis", "groups", "tags", "users")
# Every instance has these; they have no GET or PUT of their own to make them exist.
ALWAYS_PRESENT = frozenset({"tenant/configuration"})
SUPPORTED = {route.operation_id for route in ROUTES}
STATE: dict[str, list[str]] = {"passed": [], "failed": []}


def _parameter(spec: Spec, op: Operation, parameter: dict[str, Any]) -> dict[str, Any]:
    ref = parameter.get("$ref")
    if not ref:
        return parameter
    target, _, pointer = ref.partition("#")
    if "common-types/" in target:
        path = spec.root.parent / "common-types" / target.split("common-types/", 1)[1]
    else:
        path = (op.file.parent / target).resolve() if target else op.file
    node: Any = (
        spec.documents[path.resolve()]
        if path.resolve() in spec.documents
        else json.loads(path.read_text(encoding="utf-8"))
    )
    for key in pointer.strip("/").split("/"):
        node = node[key]
    return dict(node)


def parameters(spec: Spec, op: Operation) -> list[dict[str, Any]]:
    return [_parameter(spec, op, p) for p in op.spec.get("parameters") or []]


def load_examples(spec: Spec) -> list[tuple[Operation, str, Path]]:
    out = []
    for op in spec.operations:
        for name, path in sorted(op.examples.items()):
            out.append((op, name, path))
    return out


class World:
    """Makes the resources an example presumes exist."""

    def __init__(self, spec: Spec, raw: RawClient) -> None:
        self.spec = spec
        self.raw = raw
        self.creating: set[str] = set()
        self.owner = ""

    def exists(self, path: str) -> bool:
        answer = self.raw.call("GET", path)
        if answer.status in (405, 501):
            answer = self.raw.call("HEAD", path)
        return answer.status in (200, 204)

    def fixture_body(self, op: Operation) -> Any:
        body_names = [p["name"] for p in parameters(self.spec, op) if p.get("in") == "body"]
        if not body_names:
            return None
        for _name, path in sorted(op.examples.items()):
            if path.exists():
                example = json.loads(path.read_text(encoding="utf-8"))
                if body_names[0] in example["parameters"]:
                    return example["parameters"][body_names[0]]
        return None

    def ensure(self, path: str) -> None:
        path = path.strip("/")
        if not path or path.lower() in self.creating | ALWAYS_PRESENT or self.exists(path):
            return
        self.creating.add(path.lower())
        try:
            parts = path.split("/")
            if len(parts) > 2:
                self.ensure("/".join(parts[:-2]))
            self.ensure_view_target(parts)
            put = self.spec.find("PUT", "/" + path)
            if put is None and parts[-2] == "subscriptions" and len(parts) == 4:
                self.owner = "/".join(parts[:2])
                parts, path = parts[2:], "/".join(parts[2:])
                put = self.spec.by_id["Subscription_CreateOrUpdate"]
            if put is None:
                return
            body = self.fixture_body(put)
            body = self.adapt_fixture(put.operation_id, parts, body)
            self.ensure_refs(body)
            answer = self.raw.call("PUT", path, body, headers={"If-Match": "*"})
            assert answer.status in (200, 201), (
                f"setting up {path}: {answer.status} {answer.raw[:300]!r}"
            )
        finally:
            self.creating.discard(path.lower())

    def adapt_fixture(self, operation_id: str, parts: list[str], body: Any) -> Any:
        """Make a borrowed example body fit where it is used."""
        if not isinstance(body, dict):
            return body
        props = dict(body.get("properties") or {})
        if operation_id == "Api_CreateOrUpdate":
            props["path"] = parts[1].split(";")[0]
            props.pop("sourceApiId", None)
        elif operation_id == "ApiRelease_CreateOrUpdate":
            props["apiId"] = PREFIX + "apis/" + parts[1]
        elif operation_id == "Subscription_CreateOrUpdate" and self.owner:
            props["ownerId"] = PREFIX + self.owner
        return {**body, "properties": props}

    def ensure_view_target(self, parts: list[str]) -> None:
        if len(parts) > 2 and parts[-2] in VIEW_TARGETS:
            routes = [r.template for r in ROUTES if r.match(parts) is not None]
            owner_kinds = ("products", "apis", "groups")
            if routes and routes[0].startswith(owner_kinds) and not routes[0].startswith(parts[-2]):
                self.ensure(f"{parts[-2]}/{parts[-1]}")
        if len(parts) == 4 and parts[2] == "tagDescriptions":
            self.ensure(f"tags/{parts[3]}")

    def ensure_refs(self, body: Any) -> None:
        for value in _strings(body):
            if value.startswith(PREFIX):
                self.ensure(value[len(PREFIX) :])
            elif RELATIVE_REF.match(value):
                self.ensure(value.strip("/"))
            for name in re.findall(r"\{\{([^{}]+)\}\}", value):
                self.ensure_named_value(name)
            for logger in re.findall(r'logger-id="([^"@{]+)"', value):
                self.ensure(f"loggers/{logger}")

    def ensure_named_value(self, name: str) -> None:
        body = {"properties": {"displayName": name, "value": "1"}}
        if not self.exists(f"namedValues/{name}"):
            self.raw.call("PUT", f"namedValues/{name}", body)

    def clear_path_conflicts(self, api_id: str, body: Any) -> None:
        path = ((body or {}).get("properties") or {}).get("path")
        if not isinstance(path, str):
            return
        listed = self.raw.call("GET", "apis", query={"$filter": f"path eq '{path}'"}).body
        for api in listed["value"]:
            if api["name"].split(";")[0].lower() != api_id.split(";")[0].lower():
                self.raw.call("DELETE", f"apis/{api['name']}", headers={"If-Match": "*"})


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)


def build_request(
    spec: Spec, op: Operation, example: dict[str, Any]
) -> tuple[str, dict[str, str], dict[str, str], Any]:
    values = example["parameters"]
    path = op.path
    query: dict[str, str] = {}
    headers: dict[str, str] = {}
    body = None
    for parameter in parameters(spec, op):
        name, where = parameter["name"], parameter.get("in")
        if name not in values or name in (
            "api-version",
            "subscriptionId",
            "resourceGroupName",
            "serviceName",
        ):
            continue
        value = values[name]
        if where == "path":
            path = path.replace("{" + name + "}", quote(str(value), safe=";="))
        elif where == "query":
            query[name] = str(value).lower() if isinstance(value, bool) else str(value)
        elif where == "header":
            headers[name] = str(value)
        elif where == "body":
            body = value
    return path.strip("/"), query, headers, body


def _resource_of(method: str, path: str) -> str:
    """The resource a request addresses: the path without trailing action/list segments."""
    parts = path.split("/") if path else []
    for route in ROUTES:
        if route.method == method and route.match(parts) is not None:
            segments = route.segments
            while segments and not segments[-1].startswith("{"):
                segments = segments[:-1]
            return "/".join(parts[: len(segments)])
    return path


@pytest.fixture(scope="module")
def example_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorProcess]:
    with EmulatorProcess(
        tmp_path_factory.mktemp("examples"),
        services=(SERVICE,),
        subscription_id=SUBSCRIPTION,
        resource_group=GROUP,
        lro_style="described",  # the examples show the description's statuses, not 202s
    ) as running:
        yield running


@pytest.fixture(scope="module")
def example_raw(example_emulator: EmulatorProcess, recorder: Recorder) -> RawClient:
    return RawClient(example_emulator.connection, recorder)


def _cases() -> list[Any]:
    spec = Spec()
    out = []
    for op, name, path in load_examples(spec):
        marks = [] if op.operation_id in SUPPORTED else [pytest.mark.skip(reason="not emulated")]
        if not path.exists():
            marks = [pytest.mark.skip(reason="example file missing upstream")]
        out.append(
            pytest.param(op.operation_id, name, path, id=f"{op.operation_id}-{name}", marks=marks)
        )
    return out


@pytest.mark.parametrize(("operation_id", "name", "path"), _cases())
def test_example(
    spec: Spec, example_raw: RawClient, operation_id: str, name: str, path: Path
) -> None:
    op = spec.by_id[operation_id]
    example = json.loads(path.read_text(encoding="utf-8"))
    rel, query, headers, body = build_request(spec, op, example)
    shown = set(example["responses"])
    world = World(spec, example_raw)
    resource = _resource_of(op.method, rel)
    if op.method == "PUT" and shown == {"201"}:
        example_raw.call("DELETE", resource, headers={"If-Match": "*"})
        world.ensure("/".join(resource.split("/")[:-2]))
    elif op.method == "PUT":
        world.ensure("/".join(resource.split("/")[:-2]))
        if shown == {"200"}:
            world.ensure(resource)
    else:
        world.ensure(resource)
    world.ensure_view_target(rel.split("/"))
    world.ensure_refs(body)
    if operation_id == "Api_CreateOrUpdate":
        world.clear_path_conflicts(rel.split("/")[1], body)
    answer = example_raw.call(op.method, rel, body, headers=headers, query=query)
    ok = str(answer.status) in shown
    STATE["passed" if ok else "failed"].append(f"{operation_id}/{name}")
    assert ok, f"{op.method} {rel}: {answer.status} not in {sorted(shown)}: {answer.raw[:400]!r}"
