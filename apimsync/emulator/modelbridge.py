"""Stored resources <-> the apimsync model, for the kinds the scm layout holds.

:func:`instance_state` reads a service's stored rows as a
:class:`apimsync.model.Configuration`: ids and the ids inside properties become
service-relative, the current revision of an API loses its ``;rev=N``, policies become
``{"format": "rawxml", "value": ...}`` with ``\\n`` line endings, and links are named after
their target the way :mod:`apimsync.formats.scm.reader` names them (so a tree read from
files and the stored state agree on ids). :func:`request_body` goes the other way: the
body a client would send to create a model resource through the REST API (full ARM ids).

Portal sign-up and delegation settings have no REST resource in the emulator; they are
kept as settings of the store (``portal:{service}:{name}``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from apimsync.emulator import policydocs
from apimsync.emulator.core import Ctx
from apimsync.emulator.kinds import POLICY_KINDS
from apimsync.emulator.resources import public
from apimsync.emulator.store import Row
from apimsync.errors import ModelError
from apimsync.jsonvalue import thaw
from apimsync.model import Configuration, Kind, Resource, last_segment, make_resource

MODEL_KINDS: Mapping[str, Kind] = MappingProxyType(
    {
        "policy": Kind.POLICY,
        "apiPolicy": Kind.POLICY,
        "operationPolicy": Kind.POLICY,
        "productPolicy": Kind.POLICY,
        "api": Kind.API,
        "operation": Kind.OPERATION,
        "apiSchema": Kind.API_SCHEMA,
        "release": Kind.API_RELEASE,
        "versionSet": Kind.API_VERSION_SET,
        "backend": Kind.BACKEND,
        "product": Kind.PRODUCT,
        "productApiLink": Kind.PRODUCT_API_LINK,
        "productGroupLink": Kind.PRODUCT_GROUP_LINK,
        "group": Kind.GROUP,
        "tag": Kind.TAG,
        "tagApiLink": Kind.TAG_API_LINK,
        "tagOperationLink": Kind.TAG_OPERATION_LINK,
        "tagProductLink": Kind.TAG_PRODUCT_LINK,
    }
)
PORTAL_KINDS = frozenset({Kind.PORTAL_SIGNUP, Kind.PORTAL_DELEGATION})
PORTAL_IDS = ("/portalsettings/signup", "/portalsettings/delegation")
SCM_KINDS = frozenset(MODEL_KINDS.values()) | PORTAL_KINDS
"""The model kinds the scm layout holds: what save writes and deploy makes equal."""

LINK_FIELDS: Mapping[str, str] = MappingProxyType(
    {
        "productApiLink": "apiId",
        "productGroupLink": "groupId",
        "tagApiLink": "apiId",
        "tagOperationLink": "operationId",
        "tagProductLink": "productId",
    }
)
ID_FIELDS = ("apiVersionSetId", "apiId", "groupId", "productId", "operationId")
FILE_TEXT_KEYS = frozenset({"description", "value"})
UNMODELLED_KEYS = frozenset({"sample", "generatedSample"})
"""Representation samples: the scm layout keeps them in files the model does not hold."""


@dataclass(frozen=True)
class InstanceState:
    """A service's stored state as the model, and the stored path of each resource."""

    configuration: Configuration
    paths: Mapping[str, str]


def instance_state(ctx: Ctx) -> InstanceState:
    resources: dict[str, Resource] = {}
    paths: dict[str, str] = {}
    for row in ctx.store.of_kind(ctx.service, *MODEL_KINDS):
        resource = to_model(ctx, row)
        if resource is not None and resource.id not in resources:
            resources[resource.id] = resource
            paths[resource.id] = row.path
    for resource in portal_resources(ctx):
        resources[resource.id] = resource
    return InstanceState(Configuration(resources.values()), MappingProxyType(paths))


def to_model(ctx: Ctx, row: Row) -> Resource | None:
    """The model resource of one stored row (None for what the model cannot hold)."""
    field = LINK_FIELDS.get(row.kind)
    if field is None:
        resource_id = "/" + ctx.display_path(row.path)
        properties = _properties(ctx, row)
    else:
        target = _link_target(ctx, row, field)
        if target is None:
            return None
        resource_id = _link_id(ctx, row, target)
        properties = {field: target}
    try:
        return make_resource(resource_id, properties)
    except ModelError:
        return None


def _properties(ctx: Ctx, row: Row) -> dict[str, Any]:
    props = public(row.props)
    if row.kind in POLICY_KINDS:
        stored = str(props.get("format") or "xml")
        text = policydocs.render(str(props.get("value", "")), stored, "rawxml")
        return {"format": "rawxml", "value": text.replace("\r\n", "\n")}
    if row.kind == "apiSchema":
        props["document"] = _schema_document(props.get("document"))
    relative: dict[str, Any] = relative_ids(ctx, file_texts(props))
    return relative


def _schema_document(document: Any) -> Any:
    """A document given as ``definitions``/``components`` is, in files, its JSON text."""
    if isinstance(document, dict) and "value" not in document and document:
        return {"value": json.dumps(document, indent=2)}
    return document


def file_texts(value: Any, key: str = "") -> Any:
    """``value`` with ``\n`` line endings in the texts the scm layout keeps in files
    (descriptions, example and schema values), as :func:`read_tree` gives them back, and
    without the samples it does not read."""
    if isinstance(value, dict):
        return {k: file_texts(v, k) for k, v in value.items() if k not in UNMODELLED_KEYS}
    if isinstance(value, list):
        return [file_texts(v, key) for v in value]
    if isinstance(value, str) and key in FILE_TEXT_KEYS:
        return value.replace("\r\n", "\n")
    return value


def _link_target(ctx: Ctx, row: Row, field: str) -> str | None:
    value = relative_ids(ctx, row.props.get(field))
    if not isinstance(value, str) or not value.startswith("/"):
        return None
    base, separator, _ = row.name.partition(";rev=")
    if field == "apiId" and separator and value.lower() == f"/apis/{base}".lower():
        return f"/apis/{row.name}"  # the link was made to one revision: keep saying so
    return value


def _link_id(ctx: Ctx, row: Row, target: str) -> str:
    owner_path, collection, _ = row.path.rsplit("/", 2)
    owner = "/" + ctx.display_path(owner_path)
    if row.kind.startswith("product"):
        name = last_segment(target)
    else:
        name = "_".join(target.strip("/").split("/")[1::2])
    return f"{owner}/{collection}/{name}"


def relative_ids(ctx: Ctx, value: Any) -> Any:
    """``value`` with every full ARM id of this service made service-relative."""
    if isinstance(value, dict):
        return {k: relative_ids(ctx, v) for k, v in value.items()}
    if isinstance(value, list):
        return [relative_ids(ctx, v) for v in value]
    if isinstance(value, str):
        prefix = ctx.service_id + "/"
        if value.lower().startswith(prefix.lower()):
            return value[len(prefix) - 1 :]
    return value


def absolute_id(ctx: Ctx, value: Any) -> Any:
    """A service-relative id (``/apis/echo``) as a full ARM id; anything else unchanged."""
    relative = isinstance(value, str) and value.startswith("/")
    if relative and not value.lower().startswith("/subscriptions/"):
        return ctx.arm_id(value.strip("/"))
    return value


def request_body(ctx: Ctx, resource: Resource) -> dict[str, Any]:
    """The body of the PUT that creates ``resource`` through the REST API."""
    props: dict[str, Any] = thaw(resource.properties)
    for key in ID_FIELDS:
        if key in props:
            props[key] = absolute_id(ctx, props[key])
    pool = props.get("pool")
    services = pool.get("services") if isinstance(pool, dict) else None
    for entry in services if isinstance(services, list) else []:
        if isinstance(entry, dict) and "id" in entry:
            entry["id"] = absolute_id(ctx, entry["id"])
    return {"properties": props}


# -- portal settings -------------------------------------------------------------------


def _portal_key(ctx: Ctx, resource_id: str) -> str:
    return f"portal:{ctx.service.lower()}:{last_segment(resource_id)}"


def portal_resources(ctx: Ctx) -> list[Resource]:
    found = []
    for resource_id in PORTAL_IDS:
        stored = ctx.store.meta(_portal_key(ctx, resource_id))
        properties = json.loads(stored) if stored else None
        if isinstance(properties, dict):
            found.append(make_resource(resource_id, properties))
    return found


def write_portal(ctx: Ctx, resource_id: str, properties: Mapping[str, Any] | None) -> None:
    """Store (or, with None, remove) one portal settings resource."""
    value = json.dumps(thaw(properties)) if properties is not None else "null"
    ctx.store.set_meta(_portal_key(ctx, resource_id), value)
