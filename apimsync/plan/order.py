"""The order in which a plan's changes are applied.

Creates and updates go first, stage by stage (:data:`STAGES`): what others refer to
before what refers to it. Within a stage, a backend pool comes after the backends it
lists and an API revision after its base API. Deletes come last, in the reverse order,
except the ``early`` ones: they free a value a create needs, so they go before all.

:func:`dependency_levels` groups the changes into levels whose changes do not depend on
each other and may run in parallel; :func:`apply_order` is the levels one after another.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType

from apimsync.model import Kind, Resource, api_id_without_revision, kind_of
from apimsync.plan.changes import Action, Change
from apimsync.plan.normalize import service_relative

PRODUCT_POLICY = "product-policy"
"""A stage selector of its own: product policies need their product."""

STAGES: tuple[tuple[Kind | str, ...], ...] = (
    (Kind.NAMED_VALUE,),
    (Kind.LOGGER,),
    (Kind.BACKEND,),
    (Kind.API_VERSION_SET,),
    (Kind.POLICY_FRAGMENT,),
    (Kind.API,),
    (Kind.API_SCHEMA,),
    (Kind.OPERATION,),
    (Kind.POLICY,),
    (Kind.GROUP,),
    (Kind.PRODUCT,),
    (Kind.PRODUCT_API_LINK, Kind.PRODUCT_GROUP_LINK),
    (PRODUCT_POLICY,),
    (Kind.TAG,),
    (Kind.TAG_API_LINK, Kind.TAG_OPERATION_LINK, Kind.TAG_PRODUCT_LINK),
    (Kind.API_RELEASE,),
    (Kind.DIAGNOSTIC,),
    (Kind.PORTAL_SIGNUP, Kind.PORTAL_DELEGATION),
)

_STAGE_OF: Mapping[Kind | str, int] = MappingProxyType(
    {selector: index for index, stage in enumerate(STAGES) for selector in stage}
)


def stage_of(resource_id: str) -> int:
    """The stage a resource is created in (lower first)."""
    kind = kind_of(resource_id)
    if kind is Kind.POLICY and resource_id.startswith("/products/"):
        return _STAGE_OF[PRODUCT_POLICY]
    return _STAGE_OF[kind]


def identity(resource_id: str) -> str:
    """The key that identifies a resource: API Management ids ignore letter case."""
    return resource_id.casefold()


def _pool_members(resource: Resource) -> list[str]:
    pool = resource.properties.get("pool")
    services = pool.get("services", ()) if isinstance(pool, Mapping) else ()
    return [
        service_relative(str(item.get("id")))
        for item in services
        if isinstance(item, Mapping) and item.get("id")
    ]


def _revision_base(resource: Resource) -> list[str]:
    base = api_id_without_revision(resource.id)
    return [base] if base != resource.id else []


_SAME_STAGE_DEPENDENCIES: Mapping[Kind, Callable[[Resource], list[str]]] = MappingProxyType(
    {Kind.BACKEND: _pool_members, Kind.API: _revision_base}
)


def same_stage_dependencies(resource: Resource) -> list[str]:
    """Ids of resources of the same stage that ``resource`` needs to exist first."""
    finder = _SAME_STAGE_DEPENDENCIES.get(resource.kind)
    return finder(resource) if finder is not None else []


def _depths(changes: Iterable[Change]) -> dict[str, int]:
    """Longest chain of same-stage dependencies among ``changes`` below each change."""
    by_key = {identity(c.resource_id): c for c in changes}
    depths: dict[str, int] = {}

    def depth(key: str, visiting: frozenset[str]) -> int:
        if key in depths:
            return depths[key]
        needs = [identity(i) for i in same_stage_dependencies(by_key[key].resource)]
        below = [
            depth(need, visiting | {key}) + 1
            for need in needs
            if need in by_key and need not in visiting and need != key
        ]
        depths[key] = max(below, default=0)
        return depths[key]

    for key in by_key:
        depth(key, frozenset())
    return depths


def dependency_levels(changes: Iterable[Change]) -> list[list[Change]]:
    """The changes in levels: every change depends only on changes of earlier levels."""
    changes = list(changes)
    early = [c for c in changes if c.action is Action.DELETE and c.early]
    forward = [c for c in changes if c.action is not Action.DELETE]
    backward = [c for c in changes if c.action is Action.DELETE and not c.early]
    return (
        _levels(early, reverse=True)
        + _levels(forward, reverse=False)
        + _levels(backward, reverse=True)
    )


def _levels(changes: list[Change], *, reverse: bool) -> list[list[Change]]:
    depths = _depths(changes)
    sign = -1 if reverse else 1
    levels: dict[tuple[int, int], list[Change]] = {}
    for change in changes:
        key = identity(change.resource_id)
        level = (sign * stage_of(change.resource_id), sign * depths[key])
        levels.setdefault(level, []).append(change)
    return [
        sorted(levels[level], key=lambda c: identity(c.resource_id)) for level in sorted(levels)
    ]


def apply_order(changes: Iterable[Change]) -> list[Change]:
    """The changes one after another, in an order that respects every dependency."""
    return [change for level in dependency_levels(changes) for change in level]
