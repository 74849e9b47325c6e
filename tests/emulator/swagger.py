"""The management API contract (swagger 2.0) as a test oracle.

- :class:`Spec` loads the spec files under ``/work/shared/specs`` (or ``$APIMSYNC_SPECS``),
  indexes their operations by method and path, and validates response bodies against an
  operation's response schema with ``jsonschema``.
- ``$ref`` strings are rewritten to absolute URIs so that ``./definitions.json#/...`` and
  ``../../../../../../common-types/...`` resolve; ``x-nullable`` admits null; ``readOnly``,
  ``x-ms-*`` and ``discriminator`` are annotations the validator ignores.
- On top of the schema, :meth:`Spec.undeclared` reports object properties a response
  carries that the schema does not declare (where it declares properties and no
  ``additionalProperties``): an emulator must not invent fields.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from jsonschema import Draft4Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

SPECS = Path(os.environ.get("APIMSYNC_SPECS", "/work/shared/specs"))
APIM = SPECS / "apim-2024-05-01"
SERVICE_PREFIX = (
    "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}"
    "/providers/Microsoft.ApiManagement/service/{serviceName}"
)
METHODS = ("get", "put", "patch", "delete", "post", "head")


def _uri(path: Path) -> str:
    return path.resolve().as_uri()


def _absolute_ref(ref: str, base: Path) -> str:
    target, _, pointer = ref.partition("#")
    if not target:
        return f"{_uri(base)}#{pointer}"
    if "common-types/" in target:
        tail = target.split("common-types/", 1)[1]
        return f"{_uri(SPECS / 'common-types' / tail)}#{pointer}"
    return f"{_uri(base.parent / target)}#{pointer}"


def _convert(node: Any, base: Path) -> Any:
    """Swagger schema -> JSON Schema draft 4 (refs absolute, x-nullable as a null type)."""
    if isinstance(node, list):
        return [_convert(v, base) for v in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key == "$ref" and isinstance(value, str):
            out[key] = _absolute_ref(value, base)
        elif key in ("discriminator", "example") or key.startswith("x-ms-examples"):
            continue
        else:
            out[key] = _convert(value, base)
    if out.get("x-nullable") is True and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    if out.get("type") == "file":
        out.pop("type")
    return out


@dataclass(frozen=True)
class Operation:
    """One operation of the spec."""

    operation_id: str
    method: str
    path: str
    spec: dict[str, Any]
    file: Path

    @property
    def segments(self) -> tuple[str, ...]:
        return tuple(s for s in self.path.split("/") if s)

    @property
    def examples(self) -> dict[str, Path]:
        refs = self.spec.get("x-ms-examples") or {}
        return {name: (self.file.parent / r["$ref"]).resolve() for name, r in refs.items()}

    def response_schema(self, status: int) -> dict[str, Any] | None:
        responses = self.spec.get("responses") or {}
        entry = responses.get(str(status)) or (responses.get("default") if status >= 400 else None)
        if entry is None:
            return None
        schema = entry.get("schema")
        return _convert(schema, self.file) if schema is not None else {}

    def declares(self, status: int) -> bool:
        responses = self.spec.get("responses") or {}
        return str(status) in responses or (status >= 400 and "default" in responses)


class Spec:
    """The loaded contract."""

    def __init__(self, root: Path = APIM) -> None:
        self.root = root
        self.files = sorted(p for p in root.glob("*.json"))
        common = sorted((SPECS / "common-types").rglob("*.json"))
        self.documents = {p: json.loads(p.read_text(encoding="utf-8")) for p in self.files + common}

    @cached_property
    def registry(self) -> Registry[Any]:
        resources = [
            (_uri(path), Resource.from_contents(_convert(doc, path), default_specification=DRAFT4))
            for path, doc in self.documents.items()
        ]
        return Registry().with_resources(resources)

    @cached_property
    def operations(self) -> list[Operation]:
        out = []
        for path in self.files:
            for url, methods in (self.documents[path].get("paths") or {}).items():
                relative = url[len(SERVICE_PREFIX) :] if url.startswith(SERVICE_PREFIX) else url
                for method, spec in methods.items():
                    if method in METHODS:
                        out.append(
                            Operation(spec["operationId"], method.upper(), relative, spec, path)
                        )
        return out

    @cached_property
    def by_id(self) -> dict[str, Operation]:
        return {op.operation_id: op for op in self.operations}

    def find(self, method: str, relative_path: str) -> Operation | None:
        """The operation a request (path relative to the service) is an instance of."""
        parts = [p for p in relative_path.split("/") if p]
        best: tuple[int, Operation] | None = None
        for op in self.operations:
            if op.method != method or len(op.segments) != len(parts):
                continue
            literals = 0
            for segment, part in zip(op.segments, parts, strict=True):
                if segment.startswith("{"):
                    continue
                if segment.lower() != part.lower():
                    break
                literals += 1
            else:
                if best is None or literals > best[0]:
                    best = (literals, op)
        return best[1] if best else None

    def validate(self, op: Operation, status: int, body: Any) -> list[str]:
        """Problems of a response body against the operation's schema for that status."""
        if not op.declares(status):
            return [f"{op.operation_id}: status {status} is not declared by the spec"]
        schema = op.response_schema(status)
        if not schema:
            return [] if body in (None, b"", "") else [f"{op.operation_id}: unexpected body"]
        validator = Draft4Validator(schema, registry=self.registry)
        problems = [
            f"{op.operation_id} {status}: {'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator.iter_errors(body)
        ]
        problems += [
            f"{op.operation_id} {status}: {where}: not declared by the schema"
            for where in self.undeclared(body, schema)
        ]
        return problems

    # -- strictness: properties the schema does not declare ---------------------------

    def _resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            resolved = self.registry.resolver().lookup(schema["$ref"]).contents
            schema = resolved if isinstance(resolved, dict) else {}
        return schema

    def _declared(self, schema: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """Declared properties (through allOf) and whether others are allowed."""
        schema = self._resolve(schema)
        props: dict[str, Any] = dict(schema.get("properties") or {})
        open_ended = "additionalProperties" in schema
        for part in schema.get("allOf") or []:
            more, more_open = self._declared(part)
            props.update(more)
            open_ended = open_ended or more_open
        return props, open_ended or not props

    def undeclared(self, instance: Any, schema: dict[str, Any], where: str = "") -> Iterator[str]:
        schema = self._resolve(schema)
        if isinstance(instance, list):
            items = schema.get("items")
            if isinstance(items, dict):
                for i, item in enumerate(instance):
                    yield from self.undeclared(item, items, f"{where}/{i}")
            return
        if not isinstance(instance, dict):
            return
        props, open_ended = self._declared(schema)
        extra = schema.get("additionalProperties")
        for key, value in instance.items():
            if key in props:
                yield from self.undeclared(value, props[key], f"{where}/{key}")
            elif isinstance(extra, dict):
                yield from self.undeclared(value, extra, f"{where}/{key}")
            elif not open_ended:
                yield f"{where}/{key}"
