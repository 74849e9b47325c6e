"""Generic handlers: list, get, head, put, patch and delete for any :class:`Kind`.

They share the rules of the management API: a missing parent is a 404, writes honour
``If-Match`` (412 on a mismatch; PATCH and DELETE require it), PUT answers 201 when it
creates and 200 when it replaces, PATCH merges, DELETE of an absent resource is a 204,
lists page with ``$top``/``$skip`` and filter with ``$filter``. Named value and schema
writes answer as :mod:`apimsync.emulator.lro` says; the other writes the spec declares
long-running answer at once, with ``Azure-AsyncOperation``/``Location`` headers.
"""

from __future__ import annotations

import copy
import secrets
from collections.abc import Callable, Mapping
from typing import Any

from apimsync.emulator import lro, odata
from apimsync.emulator.catalog import CATALOG_KINDS
from apimsync.emulator.core import ArmError, Ctx, Reply, not_found, validation_error
from apimsync.emulator.kinds import KINDS, Kind
from apimsync.emulator.resources import GUARD, PREPARE, require, shape
from apimsync.emulator.store import Row, parent_of, utc_now

PAGE_SIZE = 100
Record = Callable[[Mapping[str, Any]], Mapping[str, Any]]

COLLECTION_TITLES: dict[str, str] = {}
for _kind in (*KINDS.values(), *CATALOG_KINDS):
    COLLECTION_TITLES.setdefault(_kind.collection.rsplit("/", 1)[-1].lower(), _kind.title)


# -- addressing ------------------------------------------------------------------------


def fill(ctx: Ctx, template: str, api_level: bool = False) -> str:
    """``template`` with the request's parameters; ``{apiId}`` becomes a revision path."""
    out: list[str] = []
    for segment in template.split("/"):
        if not segment.startswith("{"):
            out.append(segment)
            continue
        name = segment[1:-1]
        value = ctx.params[name]
        if name == "apiId" and out == ["apis"]:
            ref = ctx.api(value)
            value = ref.base if api_level else f"{ref.base};rev={ref.rev}"
        out.append(value)
    return "/".join(out)


def require_owner(ctx: Ctx, owner: str) -> None:
    """404 unless the resource at ``owner`` (a path; "" is the service) exists."""
    if not owner:
        return
    parts = owner.split("/")
    if len(parts) == 2 and parts[0].lower() == "apis" and ";" not in parts[1]:
        if not ctx.api(parts[1]).exists:
            raise not_found("Api")
        return
    if ctx.store.get(ctx.service, owner) is None:
        raise not_found(COLLECTION_TITLES.get(parts[-2].lower(), "Parent resource"))


def item_path(ctx: Ctx, kind: Kind) -> str:
    """The path of the addressed item; 404 when its parent (or a fixed name) does not exist."""
    path = fill(ctx, kind.template, kind.api_level)
    require_owner(ctx, parent_of(path))
    if kind.fixed:
        name = path.rsplit("/", 1)[-1]
        match = [f for f in kind.fixed if f.lower() == name.lower()]
        if not match:
            raise not_found(kind.title)
        path = path.rsplit("/", 1)[0] + "/" + match[0]
    return path


def body_properties(ctx: Ctx, kind: Kind | None = None) -> dict[str, Any]:
    """The request's ``properties`` object, without private or read-only fields."""
    body = ctx.body
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise validation_error("The request body must be a JSON object.")
    props = body.get("properties") or {}
    if not isinstance(props, dict):
        raise validation_error("'properties' must be a JSON object.", target="properties")
    hidden = set(kind.read_only) if kind else set()
    return {k: v for k, v in props.items() if not k.startswith("_") and k not in hidden}


# -- concurrency -----------------------------------------------------------------------


def _bare(etag: str) -> str:
    etag = etag.strip()
    if etag.startswith("W/"):
        etag = etag[2:]
    return etag.strip('"')


def check_if_match(ctx: Ctx, current: Row | None, required: bool, kind: Kind | None = None) -> None:
    """Enforce ``If-Match``: ``*`` or the current ETag; 412 on a mismatch."""
    if kind is not None and not kind.etags:
        return
    value = ctx.header("If-Match")
    if value is None or not value.strip():
        if required:
            raise validation_error("The If-Match header is required.", target="If-Match")
        return
    tags = {_bare(t) for t in value.split(",")}
    if "*" in tags:
        return
    if current is None or _bare(current.etag) not in tags:
        raise ArmError(
            412,
            "PreconditionFailed",
            "The entity's ETag does not match the If-Match header; it was changed or deleted.",
        )


# -- long-running operations -----------------------------------------------------------


def long_running(ctx: Ctx, reply: Reply, code: int, resource_path: str | None = None) -> Reply:
    """Add the headers of an operation that already completed, as ARM pollers expect."""
    op_id = secrets.token_hex(12)
    now = utc_now()
    ctx.store.put_operation(
        op_id,
        ctx.service,
        {
            "id": ctx.arm_id(f"tenant/operationResults/{op_id}"),
            "type": "Microsoft.ApiManagement/service/tenant/operationResults",
            "name": op_id,
            "status": "Succeeded",
            "startTime": now,
            "endTime": now,
            "properties": {"id": op_id, "status": "Succeeded", "started": now, "updated": now},
            "_code": code,
        },
    )
    location = ctx.url(resource_path or ctx.rel_path, asyncId=op_id, asyncCode=str(code))
    reply.headers["Azure-AsyncOperation"] = ctx.url(f"tenant/operationResults/{op_id}")
    reply.headers["Location"] = location
    reply.headers["Retry-After"] = "0"
    return reply


def accepted(ctx: Ctx, code: int, resource_path: str | None = None) -> Reply:
    """A 202 as the service recorded it (pattern A, :mod:`apimsync.emulator.lro`)."""
    op_id = secrets.token_hex(12)
    ctx.store.put_operation(op_id, ctx.service, {"status": "Succeeded", "_code": code})
    location = ctx.url(resource_path or ctx.rel_path, asyncId=op_id, asyncCode=str(code))
    return Reply(202, None, {"Location": location})


LRO_WRITES = {
    ("namedValue", "put"): lro.NAMED_VALUE_PUT,
    ("namedValue", "patch"): lro.NAMED_VALUE_PATCH,
    ("apiSchema", "put"): lro.API_SCHEMA_PUT,
}
"""Writes (kind, verb) that follow the ``--lro-style`` switch."""


def written(ctx: Ctx, kind: Kind, row: Row, status: int, verb: str) -> Reply:
    """The answer to a successful PUT or PATCH."""
    switched = LRO_WRITES.get((kind.name, verb))
    if switched is not None:
        if lro.answers_accepted(ctx.lro_style, switched):
            return accepted(ctx, status)
        return Reply(status, shape(ctx, kind, row), {"ETag": row.etag})
    body = shape(ctx, kind, row)
    reply = Reply(status, body, {"ETag": row.etag})
    if verb in kind.lro:
        if "provisioningState" in body["properties"]:
            body["properties"]["provisioningState"] = "InProgress"
        long_running(ctx, reply, status)
    return reply


# -- lists -----------------------------------------------------------------------------


def _int_param(ctx: Ctx, name: str, minimum: int) -> int | None:
    raw = ctx.query.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError as exc:
        raise validation_error(f"'{name}' must be an integer.", target=name) from exc
    if value < minimum:
        raise validation_error(f"'{name}' must be at least {minimum}.", target=name)
    return value


def resource_record(item: Mapping[str, Any]) -> Mapping[str, Any]:
    props = item.get("properties") or {}
    return {**props, "name": item.get("name")}


def page(
    ctx: Ctx,
    items: list[dict[str, Any]],
    rules: Mapping[str, odata.FieldRule],
    record: Record = resource_record,
    count: bool = True,
) -> Reply:
    """One page of ``items`` after ``$filter``, with ``count`` and a ``nextLink``."""
    try:
        predicate = odata.compile_filter(ctx.query.get("$filter", ""), rules)
    except odata.FilterError as exc:
        raise validation_error(f"Invalid $filter: {exc}", target="$filter") from exc
    matched = [item for item in items if predicate(record(item))]
    order = ctx.query.get("$orderby", "").split()
    if order:
        if (
            len(order) > 2
            or order[0] not in rules
            or order[-1].lower() not in (order[0], "asc", "desc")
        ):
            raise validation_error(
                "$orderby takes one filterable field and asc or desc.", "$orderby"
            )
        matched.sort(
            key=lambda item: str(record(item).get(order[0]) or "").casefold(),
            reverse=order[-1].lower() == "desc",
        )
    top = _int_param(ctx, "$top", 1)
    skip = _int_param(ctx, "$skip", 0) or 0
    size = min(top or PAGE_SIZE, PAGE_SIZE)
    body: dict[str, Any] = {"value": matched[skip : skip + size]}
    if count:
        body["count"] = len(matched)
    if skip + size < len(matched):
        # As the service writes it: the request's query in its order, then ``$skip``.
        query = {k: v for k, v in ctx.query.items() if k != "$skip"}
        query["$skip"] = str(skip + size)
        body["nextLink"] = ctx.absolute(ctx.rel_path, query)
    return Reply(200, body)


# -- generic operations ----------------------------------------------------------------


def list_items(ctx: Ctx, kind: Kind) -> Reply:
    collection = fill(ctx, kind.collection, kind.api_level)
    owner = collection.rsplit("/", 1)[0] if "/" in collection else ""
    require_owner(ctx, owner)
    rows = ctx.store.children(ctx.service, owner, kind.name)
    items = [shape(ctx, kind, r) for r in rows]
    for item in items:
        for name in kind.list_omits:
            item["properties"].pop(name, None)
    return page(ctx, items, kind.filter_rules, count=kind.counted)


def get_row(ctx: Ctx, kind: Kind) -> Row:
    row = ctx.store.get(ctx.service, item_path(ctx, kind))
    if row is None:
        raise not_found(kind.title)
    return row


def get_item(ctx: Ctx, kind: Kind) -> Reply:
    row = get_row(ctx, kind)
    return Reply(200, shape(ctx, kind, row), {"ETag": row.etag})


def head_item(ctx: Ctx, kind: Kind) -> Reply:
    row = get_row(ctx, kind)
    return Reply(200, None, {"ETag": row.etag})


def new_props(ctx: Ctx, kind: Kind) -> dict[str, Any]:
    """Defaults overlaid with the request's properties, with the required ones checked."""
    props = copy.deepcopy(dict(kind.defaults))
    props.update(body_properties(ctx, kind))
    require(props, kind.required)
    return props


def merge(old: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """``old`` updated by ``patch``: objects merge recursively, null leaves a value alone."""
    out = copy.deepcopy(dict(old))
    for key, value in patch.items():
        if value is None:
            continue
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def store_row(ctx: Ctx, kind: Kind, row: Row, old: Row | None) -> Row:
    hook = PREPARE.get(kind.name)
    if hook is not None:
        hook(ctx, kind, row, old)
    return ctx.store.put(ctx.service, row)


def put_item(ctx: Ctx, kind: Kind) -> Reply:
    with ctx.store.transaction():
        path = item_path(ctx, kind)
        old = ctx.store.get(ctx.service, path)
        check_if_match(ctx, old, kind.put_needs_if_match, kind)
        row = Row(kind.name, old.path if old else path, new_props(ctx, kind))
        if old is not None:
            row.props.update({k: v for k, v in old.props.items() if k.startswith("_")})
        store_row(ctx, kind, row, old)
    return written(ctx, kind, row, 200 if old else 201, "put")


def patch_item(ctx: Ctx, kind: Kind) -> Reply:
    with ctx.store.transaction():
        old = get_row(ctx, kind)
        check_if_match(ctx, old, True, kind)
        props = merge(old.props, body_properties(ctx, kind))
        row = Row(kind.name, old.path, props, ref=old.ref, grp=old.grp)
        store_row(ctx, kind, row, old)
    return written(ctx, kind, row, 200, "patch")


def delete_item(ctx: Ctx, kind: Kind) -> Reply:
    with ctx.store.transaction():
        path = item_path(ctx, kind)
        old = ctx.store.get(ctx.service, path)
        if old is None:
            return Reply(204)
        check_if_match(ctx, old, True, kind)
        guard = GUARD.get(kind.name)
        if guard is not None:
            guard(ctx, old)
        ctx.store.delete_tree(ctx.service, old.key)
    if "delete" in kind.lro:
        return long_running(ctx, Reply(202), 204)
    return Reply(200)


GENERIC: dict[str, Callable[[Ctx, Kind], Reply]] = {
    "list": list_items,
    "get": get_item,
    "head": head_item,
    "put": put_item,
    "patch": patch_item,
    "delete": delete_item,
}
