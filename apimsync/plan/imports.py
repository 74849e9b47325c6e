"""Specification imports in a plan.

An API read from a layout that keeps specifications (APIOps) carries its specification
as the ARM import properties ``format`` and ``value``, and its operations as the service
creates them from it. The service never returns ``format`` and ``value``, so the plan
compares the operations; when some of them change while the API's other properties do
not, this adds an update of the API itself, so that deploy imports the specification
(one write) instead of writing the operations one by one. An import replaces the API's
operations, and with them their policies: the policies the files keep for an existing
API's operations are written again after its import.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from apimsync.model import Configuration, Kind, Resource
from apimsync.plan.changes import MISSING, Action, Change, FieldChange
from apimsync.plan.order import identity

SPECIFICATION_FIELD = "/value"


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
    changes: list[Change], desired: Configuration, live: Configuration
) -> list[Change]:
    """Updates that write again the unchanged policies of the operations of each existing
    API that is imported."""
    existing = {
        identity(c.resource_id) for c in changes if c.kind is Kind.API and c.action is Action.UPDATE
    }
    again = imported_apis(changes) & existing
    planned = {identity(c.resource_id) for c in changes}
    current = {identity(r.id): r for r in live.of_kind(Kind.POLICY)}
    found = []
    for policy in desired.of_kind(Kind.POLICY):
        key = identity(policy.id)
        owner = key.rsplit("/operations/", 1)[0] if "/operations/" in key else None
        before = current.get(key)
        if owner in again and key not in planned and before is not None:
            # No ETag: the import replaces the policy, so the one read now would not match.
            field = FieldChange("", MISSING, REAPPLIED)
            found.append(Change(Action.UPDATE, before.id, Kind.POLICY, before, policy, (field,)))
    return found


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
