"""Which changes of a plan need which others: to skip the dependants of a failed change.

A resource needs its owners (an operation its API, a revision its base API), the
resources whose ids its properties hold (a link's API, a diagnostic's logger, a pool's
backends) and what its policy document names (backends, fragments, loggers, named values
by display name). Built-in groups and portal settings exist on every instance: nothing
waits for them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Set
from typing import Any

from apimsync.errors import ModelError
from apimsync.model import Kind, Resource, api_id_without_revision, kind_of, parent_id
from apimsync.plan.changes import Action, Change
from apimsync.plan.order import identity
from apimsync.policy import PolicySyntaxError, parse_policy
from apimsync.policy.references import (
    BACKEND,
    FRAGMENT,
    LOGGER,
    NAMED_VALUE,
    policy_references,
)
from apimsync.targets.endpoints import is_built_in

_COLLECTIONS = {BACKEND: "/backends/", FRAGMENT: "/policyFragments/", LOGGER: "/loggers/"}
_DOCUMENTS = (Kind.POLICY, Kind.POLICY_FRAGMENT)


class Dependencies:
    """For each change of a plan, the changes of the same plan it needs.

    What a change needs is worked out when it is first asked for: only after a change
    has failed, so a deploy without failures never parses its policies for this."""

    def __init__(self, changes: Iterable[Change]) -> None:
        changes = list(changes)
        self._changes = {identity(c.resource_id): c for c in changes}
        self._named_values = _named_values_by_display_name(changes)
        self._needs: dict[str, frozenset[str]] = {}

    def blocked_by(self, change: Change, failed: Set[str]) -> str | None:
        """The id of a failed change (``failed`` holds identities) that ``change`` cannot go
        without; None if there is none.

        A create or update needs what it refers to; a delete waits for the deletes of what
        refers to it (its dependants still hold it).
        """
        if not failed:
            return None
        key = identity(change.resource_id)
        if change.action is not Action.DELETE:
            found = next((need for need in sorted(self._needs_of(key)) if need in failed), None)
        else:
            found = next(
                (
                    other
                    for other in sorted(failed)
                    if other in self._changes
                    and self._changes[other].action is Action.DELETE
                    and key in self._needs_of(other)
                ),
                None,
            )
        return None if found is None else self._changes[found].resource_id

    def _needs_of(self, key: str) -> frozenset[str]:
        """The identities of the plan's changes that the change ``key`` needs."""
        needs = self._needs.get(key)
        if needs is None:  # two threads may both work it out: the same answer
            resource = self._changes[key].resource
            needs = frozenset(
                need
                for need in references(resource, self._named_values)
                if need in self._changes and need != key
            )
            self._needs[key] = needs
        return needs


def references(resource: Resource, named_values: Mapping[str, str]) -> set[str]:
    """Identities of the resources ``resource`` needs (see the module docstring)."""
    found = set(_owners(resource.id))
    found.update(_ids_in(resource.properties))
    if resource.kind in _DOCUMENTS:
        found.update(_document_references(str(resource.get("value", "")), named_values))
    return {identity(i) for i in found if not is_built_in(i)}


def _owners(resource_id: str) -> Iterator[str]:
    current: str | None = resource_id
    while current is not None:
        base = api_id_without_revision(current)
        current = base if base != current and _is_api(current) else parent_id(current)
        if current is not None:
            yield current


def _is_api(resource_id: str) -> bool:
    return _kind(resource_id) is Kind.API


def _kind(value: str) -> Kind | None:
    try:
        return kind_of(value)
    except ModelError:
        return None


def _ids_in(value: Any) -> Iterator[str]:
    if isinstance(value, Mapping):
        for item in value.values():
            yield from _ids_in(item)
    elif isinstance(value, tuple | list):
        for item in value:
            yield from _ids_in(item)
    elif isinstance(value, str) and value.startswith("/") and _kind(value) is not None:
        yield value
        yield api_id_without_revision(value)


def _document_references(text: str, named_values: Mapping[str, str]) -> Iterator[str]:
    try:
        document = parse_policy(text)
    except PolicySyntaxError:
        return
    for reference in policy_references(document):
        if reference.kind == NAMED_VALUE:
            found = named_values.get(reference.name.casefold())
            if found is not None:
                yield found
        elif reference.kind in _COLLECTIONS:
            yield _COLLECTIONS[reference.kind] + reference.name


def _named_values_by_display_name(changes: Iterable[Change]) -> dict[str, str]:
    found: dict[str, str] = {}
    for change in changes:
        if change.kind is Kind.NAMED_VALUE:
            name = str(change.resource.get("displayName") or change.resource.name)
            found[name.casefold()] = change.resource_id
    return found
