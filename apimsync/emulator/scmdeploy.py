"""From a branch of the scm repository to a service's stored state: read, compare, apply.

:func:`read_branch` exports the branch head, checks it with
:func:`apimsync.validate.tree.validate_tree` and keeps the resources of the kinds the scm
layout holds. Built-in groups are the service's own: a built-in group of the branch is
matched with the service's by id or display name (old exports gave them generated ids),
and the ids are translated (``aliases``). :func:`plan` compares the branch with
:func:`apimsync.emulator.modelbridge.instance_state` through
:func:`apimsync.plan.normalize.normalize`; :func:`apply_plan` carries the changes out
through the REST handlers themselves, so deployed resources are shaped, validated and
versioned exactly like ones created through the API. The caller holds one store
transaction around it: a failure leaves the service as it was.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from apimsync.emulator.core import ArmError, Ctx
from apimsync.emulator.modelbridge import (
    PORTAL_KINDS,
    SCM_KINDS,
    InstanceState,
    instance_state,
    request_body,
    write_portal,
)
from apimsync.emulator.resources import SWAGGER_DEFINITIONS, normalise_operation
from apimsync.emulator.scmrepo import Repository
from apimsync.emulator.store import Row
from apimsync.formats.layouts import TreeLayout
from apimsync.formats.scm.kinds import ROOT_CONFIGURATION
from apimsync.formats.scm.layout import Layout
from apimsync.jsonvalue import thaw
from apimsync.model import Configuration, Kind, Resource, last_segment, make_resource
from apimsync.plan.normalize import normalize
from apimsync.validate.findings import Finding
from apimsync.validate.tree import validate_tree

MAX_DETAILS = 20
OBJECT_TYPES: Mapping[Kind, str] = MappingProxyType(
    {
        Kind.PORTAL_SIGNUP: "PortalSignupSettings",
        Kind.PORTAL_DELEGATION: "PortalDelegationSettings",
        Kind.API_VERSION_SET: "ApiVersionSet",
        Kind.BACKEND: "Backend",
        Kind.GROUP: "Group",
        Kind.TAG: "Tag",
        Kind.API: "Api",
        Kind.API_SCHEMA: "Schema",
        Kind.OPERATION: "Operation",
        Kind.API_RELEASE: "ApiRelease",
        Kind.PRODUCT: "Product",
        Kind.PRODUCT_API_LINK: "ProductApi",
        Kind.PRODUCT_GROUP_LINK: "ProductGroup",
        Kind.TAG_API_LINK: "TagApi",
        Kind.TAG_OPERATION_LINK: "TagOperation",
        Kind.TAG_PRODUCT_LINK: "TagProduct",
        Kind.POLICY: "Policy",
    }
)
"""``actionLog`` object types, in the order deploy creates them (it deletes in reverse)."""
APPLY_ORDER = tuple(OBJECT_TYPES)
_LINK_KINDS = frozenset(
    {
        Kind.PRODUCT_API_LINK,
        Kind.PRODUCT_GROUP_LINK,
        Kind.TAG_API_LINK,
        Kind.TAG_OPERATION_LINK,
        Kind.TAG_PRODUCT_LINK,
    }
)


class OperationFailed(Exception):
    """A tenant configuration operation ends ``Failed`` with this error."""

    def __init__(
        self,
        message: str,
        code: str = "ValidationError",
        details: Sequence[Mapping[str, str]] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.details = list(details)

    def error(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            error["details"] = self.details
        return error


@dataclass(frozen=True)
class BranchState:
    """A branch as deploy sees it: the scm kinds, in the service's ids."""

    commit: str
    configuration: Configuration
    files: Mapping[str, str]
    """Resource id -> the file that defines it (for error messages)."""
    aliases: Mapping[str, str]
    """Branch id -> service id of the built-in groups whose ids differ."""


@dataclass(frozen=True)
class Change:
    action: str
    """``Created``, ``Updated`` or ``Deleted``."""
    resource: Resource
    previous: Resource | None = None
    """What an update replaces."""

    def log_item(self) -> dict[str, str]:
        kind = self.resource.kind
        return {
            "objectType": OBJECT_TYPES[kind],
            "action": self.action,
            "objectKey": self.resource.id,
        }


# -- reading a branch ------------------------------------------------------------------


def export_branch(repository: Repository, branch: str, scratch: Path) -> tuple[str, Path]:
    """The head commit of ``branch`` and a folder holding its files."""
    head = repository.head(branch)
    if head is None:
        raise OperationFailed(f"The branch '{branch}' does not exist in the repository.")
    folder = scratch / "tree"
    folder.mkdir()
    repository.export(head, folder, scratch / "index")
    return head, folder


def read_branch(ctx: Ctx, repository: Repository, branch: str, scratch: Path) -> BranchState:
    """The branch's configuration, validated; :class:`OperationFailed` names a bad file."""
    commit, folder = export_branch(repository, branch, scratch)
    if not (folder / ROOT_CONFIGURATION).is_file():
        raise OperationFailed(f"File not found: '{ROOT_CONFIGURATION}'")
    report = validate_tree(folder, layout="scm")
    if report.errors:
        details = [_detail(f) for f in report.errors[:MAX_DETAILS]]
        raise OperationFailed(_where(report.errors[0]), details=details)
    scm = [r for r in report.configuration if r.kind in SCM_KINDS]
    files = defining_files(report.layout)
    aliases = builtin_aliases(ctx, scm, files)
    translated = {r.id: translate(r, aliases) for r in scm}
    located = {new.id: files.get(old, old) for old, new in translated.items()}
    configuration = Configuration(translated.values())
    return BranchState(commit, configuration, MappingProxyType(located), MappingProxyType(aliases))


def _where(finding: Finding) -> str:
    return f"{finding.path}:{finding.line}:{finding.column}: {finding.message}"


def _detail(finding: Finding) -> dict[str, str]:
    return {"code": finding.code, "target": finding.path, "message": _where(finding)}


def defining_files(layout: TreeLayout) -> dict[str, str]:
    units = layout.units.values() if isinstance(layout, Layout) else ()
    files = {rid: unit.main for unit in units for rid in unit.resource_ids}
    files.update(layout.policy_files)
    return files


# -- built-in groups -------------------------------------------------------------------


def is_builtin(resource: Resource) -> bool:
    if resource.kind is not Kind.GROUP:
        return False
    return resource.get("builtIn") is True or resource.get("type") == "system"


def builtin_aliases(
    ctx: Ctx, resources: Iterable[Resource], files: Mapping[str, str]
) -> dict[str, str]:
    """Branch id -> service id of each built-in group of the branch whose id differs."""
    rows = [r for r in ctx.store.of_kind(ctx.service, "group") if r.props.get("builtIn")]
    aliases: dict[str, str] = {}
    for group in resources:
        if not is_builtin(group):
            continue
        row = _matching_builtin(group, rows)
        if row is None:
            raise OperationFailed(
                f"{files.get(group.id, group.id)}: '{group.id}' is a built-in group, and the "
                f"service has no built-in group named '{group.get('displayName')}'."
            )
        if "/" + row.path != group.id:
            aliases[group.id] = "/" + row.path
    return aliases


def _matching_builtin(group: Resource, rows: list[Row]) -> Row | None:
    for row in rows:
        if "/" + row.key == group.id.lower():
            return row
    name = str(group.get("displayName", "")).lower()
    return next((r for r in rows if str(r.props.get("displayName", "")).lower() == name), None)


def translate(resource: Resource, aliases: Mapping[str, str]) -> Resource:
    """``resource`` with the group ids of ``aliases`` replaced (its own, or its link's)."""
    if resource.id in aliases:
        return make_resource(aliases[resource.id], resource.properties)
    target = resource.get("groupId")
    if resource.kind is Kind.PRODUCT_GROUP_LINK and target in aliases:
        group = aliases[str(target)]
        return make_resource(
            f"{resource.parent}/groupLinks/{last_segment(group)}", {"groupId": group}
        )
    return resource


# -- comparing -------------------------------------------------------------------------


def apply_key(resource: Resource) -> tuple[int, bool, bool, str]:
    """Creation order: kinds in :data:`APPLY_ORDER`, single backends and current revisions first."""
    pool = resource.kind is Kind.BACKEND and resource.get("type") == "Pool"
    return APPLY_ORDER.index(resource.kind), pool, ";rev=" in resource.id, resource.id


def as_stored(resource: Resource) -> Resource:
    """``resource`` as a write would store it: the service's own normalisation applied
    (an operation's empty lists filled; a swagger-definitions document as its object's
    JSON), so a branch that differs from the stored state only by it changes nothing."""
    if resource.kind is Kind.OPERATION:
        properties = thaw(resource.properties)
        normalise_operation(properties)
        return make_resource(resource.id, properties)
    definitions = _definitions_object(resource)
    if definitions is not None:
        properties = thaw(resource.properties)
        properties["document"] = {"value": json.dumps(definitions, indent=2)}
        return make_resource(resource.id, properties)
    return resource


def _definitions_object(resource: Resource) -> Any:
    """The object a swagger-definitions schema file holds (``{"definitions": ...}``)."""
    if resource.kind is not Kind.API_SCHEMA or resource.get("contentType") != SWAGGER_DEFINITIONS:
        return None
    document = resource.get("document")
    text = document.get("value") if isinstance(document, Mapping) else None
    try:
        return json.loads(text) if isinstance(text, str) else None
    except json.JSONDecodeError:
        return None


def plan(current: Configuration, desired: Configuration) -> list[Change]:
    """The deletes (children first), then the creates and updates that make current desired."""
    existing = {r.id.lower(): r for r in current}
    wanted = {r.id.lower() for r in desired}
    changes = [
        Change("Deleted", r)
        for r in sorted(current, key=apply_key, reverse=True)
        if r.id.lower() not in wanted and not is_builtin(r)
    ]
    for resource in sorted(desired, key=apply_key):
        old = existing.get(resource.id.lower())
        if old is None:
            changes.append(Change("Created", resource))
        elif normalize(old) != normalize(as_stored(resource)):
            changes.append(Change("Updated", resource, old))
    return changes


# -- applying --------------------------------------------------------------------------


def apply_plan(ctx: Ctx, branch: BranchState, force: bool) -> list[Change]:
    """Make the stored state equal to the branch; the caller holds the store transaction."""
    state = instance_state(ctx)
    changes = plan(state.configuration, branch.configuration)
    check_subscriptions(ctx, changes, state, force)
    for change in changes:
        try:
            apply_change(ctx, change, state.paths)
        except ArmError as exc:
            where = branch.files.get(change.resource.id, change.resource.id)
            raise OperationFailed(f"{where}: {exc.message}", code=exc.code) from exc
    _sweep(ctx, branch.configuration)
    return changes


def check_subscriptions(ctx: Ctx, changes: list[Change], state: InstanceState, force: bool) -> None:
    if force:
        return
    for change in changes:
        resource = change.resource
        if change.action != "Deleted" or resource.kind is not Kind.PRODUCT:
            continue
        path = state.paths.get(resource.id, resource.id.strip("/"))
        subscriptions = ctx.store.referencing(ctx.service, path, "subscription")
        if subscriptions:
            raise OperationFailed(
                f"The product '{resource.id}' has {len(subscriptions)} subscription(s); "
                "deploy with force to delete the product and its subscriptions."
            )


def _sweep(ctx: Ctx, desired: Configuration) -> None:
    """Delete what creating the branch brought along (children a new revision copied)."""
    wanted = {r.id.lower() for r in desired}
    state = instance_state(ctx)
    for resource in sorted(state.configuration, key=apply_key, reverse=True):
        if resource.id.lower() not in wanted and not is_builtin(resource):
            apply_change(ctx, Change("Deleted", resource), state.paths)


def apply_change(ctx: Ctx, change: Change, paths: Mapping[str, str]) -> None:
    resource = change.resource
    deleting = change.action == "Deleted"
    if resource.kind in PORTAL_KINDS:
        write_portal(ctx, resource.id, None if deleting else resource.properties)
    elif deleting:
        stored = paths.get(resource.id) if resource.kind in _LINK_KINDS else None
        send(ctx, "DELETE", stored or resource.id.strip("/"))
    elif is_builtin(resource):
        _update_builtin_group(ctx, resource)
    else:
        send(ctx, "PUT", resource.id.strip("/"), _put_body(ctx, change))


def _put_body(ctx: Ctx, change: Change) -> dict[str, Any]:
    """The PUT body; for an API, whose PUT merges, ``null`` removes what the branch dropped."""
    body = request_body(ctx, change.resource)
    definitions = _definitions_object(change.resource)
    if definitions is not None:  # the file holds the document object, not text to parse
        body["properties"]["document"] = definitions
    previous = change.previous
    if previous is not None and previous.kind is Kind.API:
        for key in previous.properties:
            body["properties"].setdefault(key, None)
    return body


def send(ctx: Ctx, method: str, path: str, body: Any = None) -> None:
    """Run the REST handler of ``method path`` as if a client had sent it."""
    from apimsync.emulator.routes import find_route  # routes registers this package's handlers

    found = find_route(method, path.split("/"))
    if not isinstance(found, tuple):
        raise OperationFailed(f"The emulator cannot {method} '{path}'.", code="NotImplemented")
    route, params = found
    headers = {"if-match": "*"} if method == "DELETE" else {}
    request = dataclasses.replace(
        ctx,
        method=method,
        rel_path=path,
        params=params,
        query={},
        headers=headers,
        body=body,
        _apis={},
    )
    route.handler(request)


def _update_builtin_group(ctx: Ctx, resource: Resource) -> None:
    """Built-in groups have no REST write; their texts change in place, as APIM's own."""
    row = ctx.store.get(ctx.service, resource.id.strip("/"))
    if row is None:
        raise OperationFailed(f"The built-in group '{resource.id}' does not exist.")
    props = dict(row.props)
    for key in ("displayName", "description"):
        value = resource.get(key)
        if value is None:
            props.pop(key, None)
        else:
            props[key] = value
    ctx.store.put(ctx.service, Row("group", row.path, props))
