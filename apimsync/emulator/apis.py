"""APIs and their revisions.

Each revision is its own row, ``apis/{base};rev={n}``, grouped by ``apis/{base}``; one
of them is current (``isCurrent``) and answers to the plain ``apis/{base}`` id. Creating
``apis/{base};rev={n}`` for an existing API makes a new revision as a copy of
``sourceApiId`` (default: the current revision), children included; a release, or a PUT
or PATCH with ``isCurrent: true``, makes a revision current. Deleting ``apis/{base}``
deletes the whole API; deleting the current revision alone is refused while others exist.

Import (``format`` + ``value``) and export (``?export=true``): see
:mod:`apimsync.emulator.imports`.
"""

from __future__ import annotations

import re
from typing import Any

from apimsync.emulator import imports, lro
from apimsync.emulator.core import Ctx, Reply, not_found, validation_error
from apimsync.emulator.handlers import (
    accepted,
    body_properties,
    check_if_match,
    merge,
    page,
    written,
)
from apimsync.emulator.kinds import KINDS
from apimsync.emulator.odata import rules
from apimsync.emulator.resources import make_current, public, require, resolve_ref, shape
from apimsync.emulator.store import Row

API = KINDS["api"]
API_DEFAULTS: dict[str, Any] = {
    "subscriptionRequired": True,
    "protocols": ["https"],
    "subscriptionKeyParameterNames": {
        "header": "Ocp-Apim-Subscription-Key",
        "query": "subscription-key",
    },
    "authenticationSettings": {"oAuth2": None, "openid": None},
}
PROTOCOL_ORDER = ("http", "https", "ws", "wss")
IMPORT_ONLY = ("format", "value", "wsdlSelector", "apiType", "translateRequiredQueryParameters")


def _revision_target(ctx: Ctx, given: dict[str, Any]) -> tuple[str, str]:
    ref = ctx.api(ctx.params["apiId"])
    rev = ref.rev if ref.explicit else ref.current or str(given.get("apiRevision") or "1")
    if not rev.isdigit():
        raise validation_error("'apiRevision' must be a number.", target="apiRevision")
    return ref.base, rev


def _source_row(ctx: Ctx, given: dict[str, Any], base: str) -> Row | None:
    source_id = given.pop("sourceApiId", None)
    if source_id:
        return resolve_ref(ctx, source_id, "apis", "sourceApiId")
    ref = ctx.api(base)
    return ctx.store.get(ctx.service, f"apis/{ref.base};rev={ref.current}") if ref.exists else None


OWN_REVISION_PROPERTIES = ("apiRevisionDescription",)
"""Not copied into a new revision: the APIOps publisher copies the description itself, and
its users report that as overriding theirs (apiops-layouts.md §1.4, Azure/apiops#866)."""


def _new_props(
    ctx: Ctx, given: dict[str, Any], base: str, rev: str
) -> tuple[dict[str, Any], Row | None]:
    exists = ctx.api(base).exists
    source = _source_row(ctx, given, base)
    props = dict(API_DEFAULTS)
    if source is not None:
        props = {k: v for k, v in public(source.props).items() if k not in OWN_REVISION_PROPERTIES}
    props.update(given)
    props["apiRevision"] = rev
    props["isCurrent"] = not exists
    props.setdefault("displayName", base)
    return props, source


def _check_unique_path(ctx: Ctx, row: Row) -> None:
    path = str(row.props.get("path", "")).strip("/").lower()
    version = str(row.props.get("apiVersion") or "").lower()
    own_group = row.grp.lower()
    for group, other_path, other_version in ctx.store.property_values(
        ctx.service, "api", "path", "apiVersion"
    ):
        if group == own_group:
            continue
        same_path = str(other_path or "").strip("/").lower() == path
        if same_path and str(other_version or "").lower() == version:
            raise validation_error(f"Api with specified path '{path}' already exists", "path")


def _validate(ctx: Ctx, row: Row) -> None:
    props = row.props
    require(props, ("displayName",))
    if not isinstance(props.get("path"), str):
        raise validation_error("'path' is required.", target="path")
    protocols = props.get("protocols") or []
    if not isinstance(protocols, list) or any(p not in PROTOCOL_ORDER for p in protocols):
        raise validation_error("'protocols' may hold http, https, ws and wss.", "protocols")
    if protocols:
        props["protocols"] = sorted(set(protocols), key=PROTOCOL_ORDER.index)  # §3.1
    if props.get("apiVersionSetId"):
        resolve_ref(ctx, props["apiVersionSetId"], "apiVersionSets", "apiVersionSetId")
    _check_unique_path(ctx, row)


def _copy_children(ctx: Ctx, source: Row, target: Row) -> None:
    for child in ctx.store.subtree(ctx.service, source.key):
        if child.key == source.key:
            continue
        path = target.path + child.path[len(source.path) :]
        ctx.store.put(ctx.service, Row(child.kind, path, child.props, ref=child.ref))


def _take_import(props: dict[str, Any]) -> tuple[str | None, Any]:
    fmt, value = props.get("format"), props.get("value")
    api_type = props.get("apiType")
    for key in IMPORT_ONLY:
        props.pop(key, None)
    if api_type:
        props["type"] = api_type
    return (fmt if isinstance(fmt, str) else None), value


def put_api(ctx: Ctx) -> Reply:
    with ctx.store.transaction():
        given = body_properties(ctx, API)
        base, rev = _revision_target(ctx, given)
        path = f"apis/{base};rev={rev}"
        old = ctx.store.get(ctx.service, path)
        check_if_match(ctx, old, required=False)
        selector = given.get("wsdlSelector")
        fmt, document = _take_import(given)
        imported = imports.read_import(ctx, fmt, document, selector)
        make_it_current = given.pop("isCurrent", None) is True
        source: Row | None = None
        if old is None:
            props, source = _new_props(ctx, given, base, rev)
        else:
            props = {k: v for k, v in {**old.props, **given}.items() if v is not None}
            props["apiRevision"], props["isCurrent"] = rev, old.props.get("isCurrent", False)
        row = Row("api", old.path if old else path, props, grp=f"apis/{base}")
        if imported is not None:
            imports.apply_import(row, imported, given)
        _validate(ctx, row)
        ctx.store.put(ctx.service, row)
        if source is not None and old is None:
            _copy_children(ctx, source, row)
        if imported is not None:
            imports.store_imported(ctx, row, imported)
        if make_it_current:
            make_current(ctx, row)
        ctx.forget_apis()
    status = 200 if old else 201
    if imported is not None and lro.answers_accepted(ctx.lro_style, lro.API_IMPORT):
        return accepted(ctx, status)  # §5 [REV20 e2], [OAS20 e2]
    return written(ctx, API, row, status, "put")


def get_api(ctx: Ctx) -> Reply:
    """An API, or with ``export=true`` its export (:mod:`apimsync.emulator.imports`)."""
    ref = ctx.api(ctx.params["apiId"])
    row = ctx.store.get(ctx.service, ref.rev_path) if ref.exists else None
    if row is None:
        raise not_found("Api")
    if ctx.query.get("export", "").lower() == "true":
        return imports.export_api(ctx, row)
    return Reply(200, shape(ctx, API, row), {"ETag": row.etag})


def patch_api(ctx: Ctx) -> Reply:
    with ctx.store.transaction():
        ref = ctx.api(ctx.params["apiId"])
        old = ctx.store.get(ctx.service, ref.rev_path) if ref.exists else None
        if old is None:
            raise not_found("Api")
        check_if_match(ctx, old, required=True)
        given = body_properties(ctx, API)
        make_it_current = given.pop("isCurrent", None) is True
        for key in (*IMPORT_ONLY, "apiRevision", "sourceApiId"):
            given.pop(key, None)
        clears_auth = given.get("authenticationSettings") == {}
        row = Row("api", old.path, merge(old.props, given), grp=old.grp)
        if clears_auth:  # an empty object clears the settings (§3.3 [API20 e11/e8])
            row.props["authenticationSettings"] = dict(API_DEFAULTS["authenticationSettings"])
        _validate(ctx, row)
        ctx.store.put(ctx.service, row)
        if make_it_current:
            make_current(ctx, row)
        ctx.forget_apis()
    return written(ctx, API, row, 200, "patch")


def delete_api(ctx: Ctx) -> Reply:
    with ctx.store.transaction():
        ref = ctx.api(ctx.params["apiId"])
        target = ctx.store.get(ctx.service, ref.rev_path) if ref.exists else None
        if target is None:
            return Reply(204)
        check_if_match(ctx, target, required=True)
        revisions = ctx.store.group(ctx.service, ref.base_path)
        if ref.explicit and len(revisions) > 1:
            if target.props.get("isCurrent"):
                raise validation_error("The current revision of an API cannot be deleted.")
            ctx.store.delete_tree(ctx.service, target.key)
        else:
            for revision in revisions:
                ctx.store.delete_tree(ctx.service, revision.key)
            ctx.store.delete_tree(ctx.service, ref.base_path)
        ctx.forget_apis()
    # Recorded: 200 with no body (§3.4 [API20 e19], [REV20 p@136000]); the 2024-05-01
    # description declares 202/204, which the SDK's begin_delete expects.
    if lro.answers_accepted(ctx.lro_style, lro.API_DELETE):
        return accepted(ctx, 204)
    return Reply(200)


def list_revisions(ctx: Ctx) -> Reply:
    """The non-ARM revision list (§4 [REV20 p@104000], [REV23 p@140000]): relative ids,
    every revision as ``{api};rev={n}`` (the current one too), newest first, the private
    URL of the current revision without ``;rev=n``, and ``"nextLink": null`` at the end."""
    ref = ctx.api(ctx.params["apiId"])
    if not ref.exists:
        raise not_found("Api")
    rows = sorted(ctx.store.group(ctx.service, ref.base_path), key=_revision_number)
    items = [_revision_contract(ref.base, row) for row in reversed(rows)]
    reply = page(ctx, items, rules("apiRevision"), record=lambda item: item)
    reply.body.setdefault("nextLink", None)
    return reply


def _revision_number(row: Row) -> int:
    return int(str(row.props.get("apiRevision", "0")))


def _revision_contract(base: str, row: Row) -> dict[str, Any]:
    rev = str(row.props.get("apiRevision"))
    current = bool(row.props.get("isCurrent"))
    path = str(row.props.get("path", "")).strip("/")
    return {
        "id": f"/apis/{base};rev={rev}/revisions/{base};rev={rev}",
        "apiId": f"/apis/{base};rev={rev}",
        "apiRevision": rev,
        "createdDateTime": trimmed_time(row.created),
        "updatedDateTime": trimmed_time(row.updated),
        "description": row.props.get("apiRevisionDescription"),
        "privateUrl": f"/{path}" if current else f"/{path};rev={rev}",
        "isOnline": True,
        "isCurrent": current,
    }


def trimmed_time(value: str) -> str:
    """``2020-03-25T19:14:47.1Z`` for ``...47.100Z``: fractions without trailing zeros."""
    return re.sub(r"\.?0+Z$", "Z", value) if "." in value else value
