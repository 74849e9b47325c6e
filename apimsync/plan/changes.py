"""A plan as data: typed changes, each a create, update or delete of one resource.

Renderers (:mod:`apimsync.plan.render`), saved plans (:mod:`apimsync.plan.saved`) and the
deployer all read the same :class:`Plan`; nothing here formats or applies anything.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Final

from apimsync.model import Kind, Resource


class Action(enum.Enum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


class _Missing:
    """The value of a field that is absent on one side of a change."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Final = _Missing()


@dataclass(frozen=True)
class FieldChange:
    """One changed value: ``path`` is a JSON pointer inside ``properties`` (``/url``)."""

    path: str
    before: Any
    after: Any


@dataclass(frozen=True)
class Change:
    """A create, update or delete of one resource.

    ``before`` is the live resource, ``after`` the desired one. ``fields`` holds the
    changed values of the comparable (normalized) forms for an update, and every
    top-level field for a create or delete. ``cascade`` lists the live resources that go
    with a deleted one (its children, links into it) and are not changes of their own.
    ``withheld`` lists the pointers of ``after`` whose values a saved plan left out
    (secrets): the deployer supplies them.
    """

    action: Action
    resource_id: str
    kind: Kind
    before: Resource | None
    after: Resource | None
    fields: tuple[FieldChange, ...] = ()
    etag: str | None = None
    cascade: tuple[str, ...] = ()
    withheld: tuple[str, ...] = ()
    early: bool = False
    """A delete that runs before the creates: the resource holds a value a created or
    changed one needs (an API path; see :mod:`apimsync.plan.conflicts`)."""

    @property
    def resource(self) -> Resource:
        """The desired resource, or the live one for a delete."""
        resource = self.after if self.after is not None else self.before
        assert resource is not None, "a change has a resource on at least one side"
        return resource


_SUMMARY_KEYS: Final = {Action.CREATE: "add", Action.UPDATE: "change", Action.DELETE: "destroy"}


@dataclass(frozen=True)
class PartialScope:
    """A partial plan's scope: only the resources the files changed since ``since`` (as
    the user named it; ``commit`` is the commit it named) were read and planned."""

    since: str
    commit: str


@dataclass(frozen=True)
class Plan:
    """The changes that make a live instance match a configuration, in apply order."""

    changes: tuple[Change, ...] = ()
    unmanaged: tuple[str, ...] = ()
    unknown: tuple[str, ...] = ()
    """``<resource id><pointer>`` of the values the instance hides behind placeholders
    (logger credentials): not compared, so a change to them cannot be seen."""
    partial: PartialScope | None = None
    """Set for a partial plan (``--changed-since``); None: the whole instance was read."""

    def summary(self) -> dict[str, int]:
        """``{"add": n, "change": m, "destroy": k}`` (cascaded deletes are not counted)."""
        counts = Counter(change.action for change in self.changes)
        return {key: counts[action] for action, key in _SUMMARY_KEYS.items()}

    @property
    def is_empty(self) -> bool:
        return not self.changes

    def with_etags(self, etags: Mapping[str, str]) -> Plan:
        """The same plan, each update and delete carrying the ETag ``etags`` holds for
        its resource (what planning again with ``etags`` gives, without diffing again)."""
        changes = tuple(
            change
            if change.action is Action.CREATE
            else replace(change, etag=etags.get(change.resource_id))
            for change in self.changes
        )
        return replace(self, changes=changes)

    def deleted_ids(self) -> frozenset[str]:
        """Every live id the plan removes: its deletes and what goes with them."""
        return frozenset(
            resource_id
            for change in self.changes
            if change.action is Action.DELETE
            for resource_id in (change.resource_id, *change.cascade)
        )
