"""Specification imports in a plan.

An API read from a layout that keeps specifications (APIOps) carries its specification
as the ARM import properties ``format`` and ``value``, and its operations as the service
creates them from it. The service never returns ``format`` and ``value``, so the plan
compares the operations; when some of them change while the API's other properties do
not, this adds an update of the API itself, so that deploy imports the specification
(one write) instead of writing the operations one by one.
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


def changed_operation_owners(changes: Iterable[Change]) -> set[str]:
    """Identities of the APIs whose operations ``changes`` create or update."""
    return {
        identity(change.resource_id.rsplit("/operations/", 1)[0])
        for change in changes
        if change.kind is Kind.OPERATION and change.action is not Action.DELETE
    }


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
        count = sum(
            1
            for c in changes
            if c.kind is Kind.OPERATION and identity(c.resource_id).startswith(key + "/")
        )
        note = f"({api.properties['format']} specification: imported, {count} operations change)"
        field = FieldChange(SPECIFICATION_FIELD, MISSING, note)
        updates.append(
            Change(Action.UPDATE, before.id, Kind.API, before, api, (field,), etags.get(before.id))
        )
    return updates
