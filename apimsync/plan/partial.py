"""Partial plans: read and plan only the resources the files changed since a commit.

A :class:`PartialPlanner` takes the desired configuration and the one the files held at
the commit last deployed (:mod:`apimsync.changes_since`). The resources it *considers*
are those that differ between the two: changed or added (planned against the instance as
usual; with an API whose specification changed, its operation policies, which the import
drops and deploy writes again) and deleted (a delete with ``--prune``, listed as
unmanaged without). It says what to read (:class:`ReadRequest`): a GET per considered
resource (the ETags come with them), the links of each owner whose considered links may
have another name on the instance (links match by what they link), everything below a
deleted API, product or tag (its delete carries it), and what the plan's checks need
before any write: the resources the changed files name but do not hold (offline-unresolved
references) and the live holders of the paths and display names the
considered resources take. A second, usually empty, round reads the owner of each
considered resource the instance lacks: an owner the files did not change must be there,
or the instance is not at the commit, and the plan refuses.

Everything else is left alone: a partial plan never sees a change made on the instance
outside the considered resources (drift), and ``--prune`` deletes only what the files
deleted.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace

from apimsync.errors import Refused
from apimsync.model import Configuration, Kind, Resource, api_id_without_revision, parent_id
from apimsync.plan.changes import PartialScope, Plan
from apimsync.plan.conflicts import check_unique_values
from apimsync.plan.diff import compute_plan
from apimsync.plan.imports import has_specification, policy_api
from apimsync.plan.normalize import link_target
from apimsync.plan.order import identity
from apimsync.plan.references import RESOLVED_BY, check_references_on_instance
from apimsync.validate.findings import Finding

OWNERS_WITH_CHILDREN = frozenset({Kind.API, Kind.PRODUCT, Kind.TAG})
"""Kinds whose children a delete carries, listed when the files delete one."""


@dataclass(frozen=True)
class ReadRequest:
    """What to read from the instance for a partial plan."""

    ids: tuple[str, ...] = ()
    """Resources to GET (a list below may already hold some)."""
    links: tuple[tuple[str, Kind], ...] = ()
    """(owner id, link kind): list the owner's links of that kind."""
    children: tuple[str, ...] = ()
    """Owners whose every child collection to list."""
    named_values: tuple[str, ...] = ()
    """Display names of named values to find."""
    api_paths: tuple[str, ...] = ()
    """Paths of APIs to find."""

    def __bool__(self) -> bool:
        return bool(self.ids or self.links or self.children or self.named_values or self.api_paths)


LinkKey = tuple[Kind, str, str]


class OwnersMissing(Refused):
    """Considered resources belong to owners the files kept and the instance lacks."""

    def __init__(self, missing: Mapping[str, str], scope: PartialScope) -> None:
        listed = "; ".join(f"'{child}' belongs to '{owner}'" for child, owner in missing.items())
        super().__init__(
            f"{listed}, which the files did not change since {scope.since} and which is not "
            f"on the instance: the instance does not hold what {scope.since} held. Nothing "
            "was changed; plan without --changed-since to see everything that differs"
        )


class PartialPlanner:
    """The considered resources of a change, what to read for them, and their plan."""

    def __init__(self, desired: Configuration, old: Configuration | None) -> None:
        self.desired = desired
        before = {identity(r.id): r for r in old} if old is not None else {}
        self.changed = {
            key: resource
            for resource in desired
            if before.get(key := identity(resource.id)) != resource
        }
        self.changed.update(_rewritten_by_import(desired, self.changed, before))
        kept = {identity(r.id) for r in desired}
        self.deleted = {key: resource for key, resource in before.items() if key not in kept}

    @property
    def considered(self) -> frozenset[str]:
        """The identities of every considered resource."""
        return frozenset(self.changed) | frozenset(self.deleted)

    # -- what to read ---------------------------------------------------------------

    def first_reads(self, unresolved: Iterable[Finding]) -> ReadRequest:
        """The first round: the considered resources, and what the checks need."""
        resources = [*self.changed.values(), *self.deleted.values()]
        resolvers, named_values = _resolvers(unresolved)
        return ReadRequest(
            ids=_unique([r.id for r in resources if link_target(r) is None] + resolvers),
            links=tuple(
                dict.fromkeys(
                    (r.parent, r.kind)
                    for r in resources
                    if link_target(r) is not None and r.parent is not None
                )
            ),
            children=_unique(r.id for r in self.deleted.values() if r.kind in OWNERS_WITH_CHILDREN),
            named_values=_unique(
                [*named_values, *(_display_name(r) for r in self._changed_of(Kind.NAMED_VALUE))]
            ),
            api_paths=_unique(
                str(r.get("path", "")) for r in self._changed_of(Kind.API) if ";rev=" not in r.id
            ),
        )

    def owner_reads(self, live: Configuration) -> ReadRequest:
        """The second round: the owner of each changed resource the instance lacks, where
        the files did not change that owner (so it must exist), unless already read."""
        present = {identity(r.id) for r in live}
        owners = self._unchanged_owners(live).values()
        return ReadRequest(ids=_unique(o for o in owners if identity(o) not in present))

    def check_owners(self, live: Configuration, scope: PartialScope) -> None:
        """Raise :class:`OwnersMissing` for changed resources whose unchanged owner the
        instance lacks (``live``: everything read, both rounds)."""
        present = {identity(r.id) for r in live}
        missing = {
            child: owner
            for child, owner in self._unchanged_owners(live).items()
            if identity(owner) not in present
        }
        if missing:
            raise OwnersMissing(missing, scope)

    def _unchanged_owners(self, live: Configuration) -> dict[str, str]:
        present = {identity(r.id) for r in live}
        found: dict[str, str] = {}
        for key, resource in self.changed.items():
            if key in present or (owner := _owner(resource.id)) is None:
                continue
            if identity(owner) not in self.considered:
                found[resource.id] = owner
        return found

    # -- the plan -------------------------------------------------------------------

    def plan(
        self,
        live: Configuration,
        scope: PartialScope,
        *,
        prune: bool = False,
        etags: Mapping[str, str] | None = None,
        ignore_kinds: frozenset[Kind] = frozenset(),
        unresolved: Iterable[Finding] = (),
    ) -> Plan:
        """The plan of the considered resources against ``live`` (everything read; only
        the considered resources, what a deleted owner holds and the links that match
        considered ones are planned, the rest serves the checks). Raises as a full plan
        does when a reference resolves nowhere or a value is taken."""
        planned = Configuration(r for r in live if self._is_planned(r))
        desired = Configuration(self.changed.values())
        kept = self._kept(planned, desired) if prune else []
        draft = compute_plan(
            Configuration([*desired, *kept]),
            planned,
            prune=prune,
            etags=etags,
            ignore_kinds=ignore_kinds,
        )
        check_references_on_instance(unresolved, live, draft)
        check_unique_values(desired, live, draft.deleted_ids())
        unmanaged = (*draft.unmanaged, *sorted(r.id for r in kept))
        return replace(draft, unmanaged=unmanaged, partial=scope)

    def _is_planned(self, resource: Resource) -> bool:
        key = identity(resource.id)
        if key in self.changed or key in self.deleted:
            return True
        link = _link_key(resource)
        if link is not None and link in self._considered_links():
            return True
        return any(identity(owner) in self.deleted for owner in _owners(resource.id))

    def _kept(self, planned: Configuration, desired: Configuration) -> list[Resource]:
        """Planned live resources the files hold nowhere and did not delete (a second
        link to the same API, say): ``--prune`` would delete them, which a partial plan
        never does. What matches what is the full plan's own matching."""
        unmatched = compute_plan(desired, planned).unmanaged
        deleted_links = {key for r in self.deleted.values() if (key := _link_key(r)) is not None}
        found = (planned.get(resource_id) for resource_id in unmatched)
        return [
            r
            for r in found
            if r is not None
            and identity(r.id) not in self.deleted
            and _link_key(r) not in deleted_links
            and not any(identity(owner) in self.deleted for owner in _owners(r.id))
        ]

    def _considered_links(self) -> set[LinkKey]:
        resources = [*self.changed.values(), *self.deleted.values()]
        return {key for r in resources if (key := _link_key(r)) is not None}

    def _changed_of(self, kind: Kind) -> list[Resource]:
        return [r for r in self.changed.values() if r.kind is kind]


def _rewritten_by_import(
    desired: Configuration, changed: Mapping[str, Resource], before: Mapping[str, Resource]
) -> dict[str, Resource]:
    """The operation policies of each API whose specification changed: deploy imports
    it, which replaces the API's operations and drops their policies, so the plan must
    hold them to write them again (:func:`apimsync.plan.imports.reapplied_policies`)."""
    imported = {
        key
        for key, resource in changed.items()
        if has_specification(resource)
        and _specification(resource) != _specification(before.get(key))
    }
    if not imported:
        return {}
    return {
        identity(policy.id): policy
        for policy in desired.of_kind(Kind.POLICY)
        if policy_api(policy.id) in imported
    }


def _specification(api: Resource | None) -> tuple[object, object]:
    if api is None:
        return (None, None)
    return (api.properties.get("format"), api.properties.get("value"))


def _resolvers(unresolved: Iterable[Finding]) -> tuple[list[str], list[str]]:
    """Ids to GET and named value display names to find, for the offline-unresolved
    references of the changed files."""
    ids: list[str] = []
    names: list[str] = []
    for finding in unresolved:
        resolver = RESOLVED_BY.get(finding.code)
        if resolver is None or not finding.subject or "/" in finding.subject:
            continue
        kind, _, folder = resolver
        if kind is Kind.NAMED_VALUE:
            names.append(finding.subject)
        else:
            ids.append(f"/{folder}/{finding.subject}")
    return ids, names


def _display_name(named_value: Resource) -> str:
    return str(named_value.get("displayName") or named_value.name)


def _link_key(resource: Resource) -> LinkKey | None:
    target = link_target(resource)
    if target is None or resource.parent is None:
        return None
    return resource.kind, identity(resource.parent), identity(target)


def _owner(resource_id: str) -> str | None:
    """The nearest owner: an API revision's is its API, anything else's its parent."""
    base = api_id_without_revision(resource_id)
    if base != resource_id and parent_id(resource_id) is None:
        return base
    return parent_id(resource_id)


def _owners(resource_id: str) -> Iterator[str]:
    current = _owner(resource_id)
    while current is not None:
        yield current
        current = _owner(current)


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in values if v))
