"""Compare a desired configuration with a live one and plan the changes between them.

Resources are matched by id (ignoring letter case, as API Management does); a link
(product/tag link) the other side has under another name matches when it links the same
owner to the same target. Matched resources are compared in their normalized form
(:mod:`apimsync.plan.normalize`); the changed values are found with DeepDiff.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from apimsync.jsonvalue import freeze
from apimsync.model import (
    Configuration,
    Kind,
    Resource,
    api_id_without_revision,
    kind_of,
    make_resource,
    parent_id,
)
from apimsync.plan import pointer
from apimsync.plan.changes import MISSING, Action, Change, FieldChange, Plan
from apimsync.plan.conflicts import conflicts
from apimsync.plan.imports import import_updates, reapplied_policies, with_live_schema_ids
from apimsync.plan.normalize import comparable, comparable_pair, hidden_by_service, link_target
from apimsync.plan.order import apply_order, identity, stage_of
from apimsync.plan.revisions import RELEASE_PREFIX, RevisionView, revision_view

UNDELETABLE_KINDS = frozenset({Kind.PORTAL_SIGNUP, Kind.PORTAL_DELEGATION})
"""Singletons of the service: they can be changed, never deleted."""


def compute_plan(
    desired: Configuration,
    live: Configuration,
    *,
    prune: bool = False,
    etags: Mapping[str, str] | None = None,
    ignore_kinds: frozenset[Kind] = frozenset(),
) -> Plan:
    """The changes that make ``live`` match ``desired``, in apply order.

    Live resources the configuration lacks are deleted when ``prune`` is set (a parent's
    delete carries its children in ``cascade``) and listed as ``unmanaged`` otherwise.
    Built-in groups are never changed or deleted, portal settings never deleted.
    ``etags`` maps live ids to the ETags read with them; ``ignore_kinds`` leaves whole
    kinds out of the plan.
    """
    live_etags = etags or {}
    desired = with_live_schema_ids(desired, live)
    view = revision_view(desired, live)
    matching = _match(
        [r for r in desired if r.kind not in ignore_kinds],
        [r for r in view.live if r.kind not in ignore_kinds],
    )

    def etag_of(resource_id: str) -> str | None:
        return live_etags.get(view.address(resource_id))

    changes = [_create(resource) for resource in matching.desired_only]
    for wanted, current in matching.pairs:
        update = _update(wanted, current, etag_of(current.id))
        if update is not None:
            changes.append(update)
    changes += import_updates(changes, desired, view.live, live_etags)
    changes += reapplied_policies(changes, desired, view.live, live_etags)
    live_only = [r for r in matching.live_only if not _kept_as_is(r)]
    copies = [r for r in live_only if identity(r.id) in view.copies]
    deletable = [r for r in live_only if _deletable(r) and r not in copies]
    kept = [r for r in live_only if not _deletable(r)]
    early = {identity(c.holder) for c in conflicts(desired, live)} if prune else set()
    doomed = copies + deletable if prune else copies
    changes.extend(_deletes(doomed, view.live, matching, etag_of, early))
    if not prune:
        kept.extend(deletable)
    changes = [_addressed(change, view) for change in changes]
    changes += [_create(release) for release in view.releases]
    unmanaged = sorted(kept, key=lambda r: (stage_of(r.id), identity(r.id)))
    unknown = tuple(
        f"{current.id}{at}" for _, current in matching.pairs for at in hidden_by_service(current)
    )
    return Plan(tuple(apply_order(changes)), tuple(r.id for r in unmanaged), unknown)


def _addressed(change: Change, view: RevisionView) -> Change:
    """``change`` sent where the write must go (see :mod:`apimsync.plan.revisions`), and a
    revision the instance lacks created from its source."""
    target = view.address(change.resource_id)
    creates_revision = change.action is Action.CREATE and change.kind is Kind.API
    source = view.sources.get(identity(target)) if creates_revision else None
    if target == change.resource_id and source is None:
        return change
    after = change.after
    if after is not None and after.kind is Kind.API:
        # A revision is made current by its release, not by what its body says.
        after = after.with_properties(isCurrent=None, sourceApiId=source)
    return dataclasses.replace(
        change,
        resource_id=target,
        before=_moved(change.before, target),
        after=_moved(after, target),
        cascade=tuple(view.address(resource_id) for resource_id in change.cascade),
    )


def _moved(resource: Resource | None, resource_id: str) -> Resource | None:
    if resource is None or resource.id == resource_id:
        return resource
    return make_resource(resource_id, resource.properties)


# -- matching --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Matching:
    pairs: list[tuple[Resource, Resource]]  # (desired, live)
    desired_only: list[Resource]
    live_only: list[Resource]

    @property
    def matched_live(self) -> set[str]:
        return {identity(current.id) for _, current in self.pairs}


def _match(desired: list[Resource], live: list[Resource]) -> _Matching:
    remaining = {identity(r.id): r for r in live}
    pairs: list[tuple[Resource, Resource]] = []
    unmatched: list[Resource] = []
    for wanted in desired:
        current = remaining.pop(identity(wanted.id), None)
        if current is None:
            unmatched.append(wanted)
        else:
            pairs.append((wanted, current))
    by_link: dict[tuple[Kind, str, str] | None, Resource] = {}
    for current in remaining.values():
        by_link.setdefault(_link_key(current), current)
    desired_only: list[Resource] = []
    for wanted in unmatched:
        key = _link_key(wanted)
        current = by_link.pop(key, None) if key is not None else None
        if current is None:
            desired_only.append(wanted)
        else:
            pairs.append((wanted, current))
            del remaining[identity(current.id)]
    return _Matching(pairs, desired_only, list(remaining.values()))


def _link_key(resource: Resource) -> tuple[Kind, str, str] | None:
    """A link's identity: its kind, owner and what it links to (None: not a link)."""
    target = link_target(resource)
    owner = resource.parent
    if target is None or owner is None:
        return None
    return resource.kind, identity(owner), identity(target)


# -- changes ---------------------------------------------------------------------------


def _create(resource: Resource) -> Change:
    fields = tuple(
        FieldChange(pointer.join([key]), MISSING, freeze(value))
        for key, value in comparable(resource).items()
    )
    return Change(Action.CREATE, resource.id, resource.kind, None, resource, fields)


def _update(wanted: Resource, current: Resource, etag: str | None) -> Change | None:
    after, before = comparable_pair(wanted, current)
    if before == after or _is_built_in(current):
        return None
    fields = field_changes(before, after) or (FieldChange("", freeze(before), freeze(after)),)
    return Change(Action.UPDATE, current.id, wanted.kind, current, wanted, fields, etag)


def field_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[FieldChange, ...]:
    """The changed values between two JSON objects, one per JSON pointer, in path order."""
    from deepdiff import DeepDiff  # here: a plan without changes never needs it (start-up)

    diff = DeepDiff(dict(before), dict(after), ignore_order=False, view="tree")
    found = [
        FieldChange(
            pointer.join(level.path(output_format="list")), _value(level.t1), _value(level.t2)
        )
        for levels in diff.values()
        for level in levels
    ]
    return tuple(sorted(found, key=lambda f: pointer.sort_key(f.path)))


def _value(value: Any) -> Any:
    from deepdiff.helper import NotPresent

    return MISSING if isinstance(value, NotPresent) else freeze(value)


# -- deletes ---------------------------------------------------------------------------


def _is_built_in(resource: Resource) -> bool:
    """Built-in groups belong to the service: it neither changes nor deletes them."""
    return resource.kind is Kind.GROUP and (
        resource.properties.get("builtIn") is True or resource.properties.get("type") == "system"
    )


ADMINISTRATORS = "/groups/administrators"


def is_service_owned(resource: Resource) -> bool:
    """A live resource the service makes on its own, which the files need not hold: the
    link of a new product to Administrators (§8.1, [PRD20 e3], [PRD23 p@15000]). A plan
    never deletes it nor lists it as unmanaged; the files may still hold it."""
    return resource.kind is Kind.PRODUCT_GROUP_LINK and (
        identity(link_target(resource) or "") == ADMINISTRATORS
    )


def _kept_as_is(resource: Resource) -> bool:
    """Service-owned resources, and the releases apimsync made to switch revisions (the
    API's change log): neither pruned nor reported as unmanaged."""
    return is_service_owned(resource) or (
        resource.kind is Kind.API_RELEASE and resource.name.startswith(RELEASE_PREFIX)
    )


def _deletable(resource: Resource) -> bool:
    return resource.kind not in UNDELETABLE_KINDS and not _is_built_in(resource)


def _deletes(
    doomed: list[Resource],
    live: Configuration,
    matching: _Matching,
    etag_of: Callable[[str], str | None],
    early: set[str],
) -> list[Change]:
    """One delete per doomed resource whose ancestors stay; the rest ride in ``cascade``."""
    doomed_keys = {identity(r.id) for r in doomed}
    cascades: dict[str, list[str]] = {identity(r.id): [] for r in doomed}
    matched = matching.matched_live
    for resource in live:
        key = identity(resource.id)
        if key in matched:
            continue
        top = _topmost_doomed_ancestor(resource.id, doomed_keys)
        if top is not None:
            cascades[top].append(resource.id)
    return [
        Change(
            Action.DELETE,
            resource.id,
            resource.kind,
            resource,
            None,
            _delete_fields(resource),
            etag_of(resource.id),
            tuple(sorted(cascades[identity(resource.id)], key=_cascade_key)),
            early=identity(resource.id) in early,
        )
        for resource in doomed
        if _topmost_doomed_ancestor(resource.id, doomed_keys) is None
    ]


def _ancestors(resource_id: str) -> Iterable[str]:
    """The owners of a resource, nearest first; an API revision's owner is its base API."""
    current: str | None = resource_id
    while current is not None:
        is_revision = kind_of(current) is Kind.API and ";rev=" in current
        current = api_id_without_revision(current) if is_revision else parent_id(current)
        if current is not None:
            yield current


def _topmost_doomed_ancestor(resource_id: str, doomed: set[str]) -> str | None:
    found = None
    for ancestor in _ancestors(resource_id):
        if identity(ancestor) in doomed:
            found = identity(ancestor)
    return found


def _cascade_key(resource_id: str) -> tuple[int, str]:
    return stage_of(resource_id), identity(resource_id)


def _delete_fields(resource: Resource) -> tuple[FieldChange, ...]:
    return tuple(
        FieldChange(pointer.join([key]), freeze(value), MISSING)
        for key, value in comparable(resource).items()
    )
