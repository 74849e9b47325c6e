"""References the files leave to the instance, checked against it before any write.

Offline, a policy that names a named value, backend, fragment or logger of a kind the
repository does not manage can only be warned about (:mod:`apimsync.validate.references`):
the thing may exist on the instance. Plan knows the instance, so each such reference
must resolve against the files or the live resources the plan keeps; one that resolves
nowhere would fail the deploy half-way, after every resource before it was written.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from types import MappingProxyType

from apimsync.errors import ApimsyncError
from apimsync.model import Configuration, Kind, Resource
from apimsync.plan.changes import Plan
from apimsync.plan.order import identity
from apimsync.validate.findings import Finding, Severity

RESOLVED_BY: Mapping[str, tuple[Kind, str, str]] = MappingProxyType(
    {
        "unknown-named-value": (Kind.NAMED_VALUE, "named value", "namedValues"),
        "unknown-backend": (Kind.BACKEND, "backend", "backends"),
        "unknown-fragment": (Kind.POLICY_FRAGMENT, "policy fragment", "policyFragments"),
        "unknown-logger": (Kind.LOGGER, "logger", "loggers"),
    }
)
"""Finding code -> the kind that resolves it, how to call it, its folder."""


class MissingOnInstance(ApimsyncError):
    """References that resolve neither in the files nor on the instance."""

    def __init__(self, findings: Iterable[Finding]) -> None:
        self.findings = tuple(findings)
        lines = [finding.render() for finding in self.findings]
        super().__init__(
            f"{len(lines)} reference(s) name what exists neither in the files nor on the "
            "instance; nothing was changed:\n" + "\n".join(lines)
        )


def check_references_on_instance(
    findings: Iterable[Finding], live: Configuration, plan: Plan
) -> None:
    """Raise :class:`MissingOnInstance` for each offline-unresolved reference that the live
    instance does not resolve either, once the plan's deletes are done."""
    missing = missing_on_instance(findings, live, plan)
    if missing:
        raise MissingOnInstance(missing)


def missing_on_instance(
    findings: Iterable[Finding], live: Configuration, plan: Plan
) -> list[Finding]:
    """The unresolved references (warnings with a ``subject``) the instance lacks too,
    as errors."""
    deleted = {identity(resource_id) for resource_id in plan.deleted_ids()}
    kept = [r for r in live if identity(r.id) not in deleted]
    missing = []
    for finding in findings:
        resolver = RESOLVED_BY.get(finding.code)
        if resolver is None or finding.subject is None or finding.is_error:
            continue
        kind, label, folder = resolver
        name = finding.subject.casefold()
        if name in _names(kind, kept):
            continue
        deleting = " (the plan deletes it)" if name in _names(kind, live) else ""
        home = "api-management" if kind is Kind.BACKEND else "api-management-extras"
        message = (
            f"names {label} '{finding.subject}', which exists neither in the files nor on the "
            f"instance{deleting}; add it to {home}/{folder}/ or create it on the instance"
        )
        missing.append(dataclasses.replace(finding, severity=Severity.ERROR, message=message))
    return missing


def _names(kind: Kind, resources: Iterable[Resource]) -> frozenset[str]:
    """The names a reference may use for a live resource of ``kind``, case folded: a
    ``{{named value}}`` is resolved by display name, everything else by its id."""
    found = set()
    for resource in resources:
        if resource.kind is not kind:
            continue
        name = resource.name
        if kind is Kind.NAMED_VALUE:
            name = str(resource.properties.get("displayName") or name)
        found.add(name.casefold())
    return frozenset(found)
