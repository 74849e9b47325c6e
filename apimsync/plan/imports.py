"""Specification imports in a plan.

An API read from a layout that keeps specifications (APIOps) carries its specification
as the ARM import properties ``format`` and ``value``, and its operations as the service
creates them from it. The service never returns ``format`` and ``value``, so the plan
compares the operations; when some of them change while the API's other properties do
not, this adds an update of the API itself, so that deploy imports the specification
(one write) instead of writing the operations one by one. An import replaces the API's
operations, and with them their policies: the policies the files keep for an existing
API's operations are written again after its import.

The service names the schema an import creates itself (real APIM: a random id), and the
operations refer to it by that id. So a schema the files' specification defines matches
the live schema of its API with the same content, whatever the two ids
(:func:`with_live_schema_ids`), and the operations are compared with that id.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from apimsync.jsonvalue import thaw
from apimsync.model import Configuration, Kind, Resource, last_segment, make_resource
from apimsync.plan.changes import MISSING, Action, Change, FieldChange
from apimsync.plan.normalize import comparable
from apimsync.plan.order import identity

SPECIFICATION_FIELD = "/value"


def with_live_schema_ids(desired: Configuration, live: Configuration) -> Configuration:
    """``desired`` where each schema of an API with a specification that has a live twin
    (same API, same content) takes the twin's id, and its operations refer to it so."""
    renames: dict[str, str] = {}
    for api in desired.of_kind(Kind.API):
        if has_specification(api):
            renames.update(_twin_ids(desired, live, api.id))
    if not renames:
        return desired
    return Configuration(_renamed(resource, renames) for resource in desired)


def _twin_ids(desired: Configuration, live: Configuration, api_id: str) -> dict[str, str]:
    """Desired schema id -> the id of the live schema of the same API with its content."""
    live_api = next(
        (r.id for r in live.of_kind(Kind.API) if identity(r.id) == identity(api_id)), None
    )
    if live_api is None:
        return {}
    by_content = {_content(r): r.id for r in _schemas(live, live_api)}
    found = {}
    for schema in _schemas(desired, api_id):
        twin = by_content.get(_content(schema))
        if twin is not None and identity(twin) != identity(schema.id):
            found[schema.id] = f"{api_id}/schemas/{last_segment(twin)}"
    return found


def _schemas(configuration: Configuration, api_id: str) -> list[Resource]:
    return [r for r in configuration.children(api_id) if r.kind is Kind.API_SCHEMA]


def _content(schema: Resource) -> str:
    return json.dumps(comparable(schema), sort_keys=True)


def _renamed(resource: Resource, renames: Mapping[str, str]) -> Resource:
    if resource.id in renames:
        return make_resource(renames[resource.id], resource.properties)
    if resource.kind is not Kind.OPERATION:
        return resource
    names = {
        last_segment(old): last_segment(new)
        for old, new in renames.items()
        if old.startswith(f"{resource.parent}/schemas/")
    }
    if not names:
        return resource
    return make_resource(resource.id, _with_schema_ids(thaw(resource.properties), names))


def _with_schema_ids(value: Any, names: Mapping[str, str]) -> Any:
    if isinstance(value, dict):
        return {
            key: names.get(item, item)
            if key == "schemaId" and isinstance(item, str)
            else _with_schema_ids(item, names)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_with_schema_ids(item, names) for item in value]
    return value


def has_specification(resource: Resource | None) -> bool:
    """True for an API that carries a specification to import."""
    return (
        resource is not None
        and resource.kind is Kind.API
        and isinstance(resource.properties.get("format"), str)
        and isinstance(resource.properties.get("value"), str)
    )


DEFINED_KINDS = frozenset({Kind.OPERATION, Kind.API_SCHEMA})
"""What importing a specification creates in its API."""


def api_of(change: Change) -> str:
    """The identity of the API an operation or schema change belongs to."""
    return identity(change.resource_id.rsplit("/", 2)[0])


def changed_operation_owners(changes: Iterable[Change]) -> set[str]:
    """Identities of the APIs whose operations (or schemas) ``changes`` create or update."""
    return {
        api_of(change)
        for change in changes
        if change.kind in DEFINED_KINDS and change.action is not Action.DELETE
    }


def imported_apis(changes: Iterable[Change]) -> set[str]:
    """Identities of the APIs deploy imports: created, or with operations that change,
    and carrying a specification."""
    changes = list(changes)
    owners = changed_operation_owners(changes)
    return {
        identity(change.resource_id)
        for change in changes
        if change.kind is Kind.API
        and change.action is not Action.DELETE
        and has_specification(change.after)
        and (change.action is Action.CREATE or identity(change.resource_id) in owners)
    }


REAPPLIED = "(written again: the import of the API's specification replaces its operations)"


def reapplied_policies(
    changes: list[Change], desired: Configuration, live: Configuration, etags: Mapping[str, str]
) -> list[Change]:
    """Updates that write again the unchanged policies of the operations of each existing
    API that is imported (deploy sends them without ``If-Match``: the import replaced
    them; their ETag still tells a saved plan whether they changed since)."""
    existing = {
        identity(c.resource_id) for c in changes if c.kind is Kind.API and c.action is Action.UPDATE
    }
    again = imported_apis(changes) & existing
    planned = {identity(c.resource_id) for c in changes}
    current = {identity(r.id): r for r in live.of_kind(Kind.POLICY)}
    found = []
    for policy in desired.of_kind(Kind.POLICY):
        key = identity(policy.id)
        before = current.get(key)
        if policy_api(policy.id) in again and key not in planned and before is not None:
            field = FieldChange("", MISSING, REAPPLIED)
            found.append(
                Change(
                    Action.UPDATE,
                    before.id,
                    Kind.POLICY,
                    before,
                    policy,
                    (field,),
                    etags.get(before.id),
                )
            )
    return found


def policy_api(policy_id: str) -> str | None:
    """The identity of the API whose operation a policy belongs to (None for others)."""
    key = identity(policy_id)
    return key.rsplit("/operations/", 1)[0] if "/operations/" in key else None


def import_updates(
    changes: list[Change],
    desired: Configuration,
    live: Configuration,
    etags: Mapping[str, str],
) -> list[Change]:
    """Updates of the APIs whose operations ``changes`` change but which have no change
    of their own, for those that carry a specification."""
    touched = {identity(c.resource_id) for c in changes if c.kind is Kind.API}
    wanted = {identity(r.id): r for r in desired.of_kind(Kind.API)}
    current = {identity(r.id): r for r in live.of_kind(Kind.API)}
    updates = []
    for key in sorted(changed_operation_owners(changes) - touched):
        api, before = wanted.get(key), current.get(key)
        if before is None or api is None or not has_specification(api):
            continue
        count = sum(1 for c in changes if c.kind is Kind.OPERATION and api_of(c) == key)
        note = f"({api.properties['format']} specification: imported, {count} operations change)"
        field = FieldChange(SPECIFICATION_FIELD, MISSING, note)
        updates.append(
            Change(Action.UPDATE, before.id, Kind.API, before, api, (field,), etags.get(before.id))
        )
    return updates
