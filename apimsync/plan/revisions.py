"""API revisions in a plan: which revision is current is part of the configuration.

The model names the current revision of an API ``/apis/x`` (its number in ``apiRevision``)
and every other one ``/apis/x;rev=N``. Against a live instance:

* When the files make another revision current, the live side is compared as it will be
  once that revision is released (:meth:`Configuration.with_current_revision`, or
  :meth:`~Configuration.with_current_demoted` when the revision does not exist yet). Writes
  to the revision-to-be go to its own id ``/apis/x;rev=N``, which names it before and after
  the release, and a release of it (``/apis/x/releases/...``) follows them. The revision
  that was current is never deleted to get there.
* A revision the instance lacks is created from the live current one (``sourceApiId``).
  The service copies the source's operations, policies and schemas into it, so the plan
  compares the files' revision with those copies: a copy the files do not hold is deleted
  whether or not the plan prunes (it was never on the instance before).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from apimsync.model import (
    Configuration,
    Kind,
    Resource,
    kind_of,
    make_resource,
    revision_api_id,
    revision_number,
    revision_of,
)
from apimsync.plan.order import identity

REVISION_CHILD_KINDS = frozenset({Kind.OPERATION, Kind.API_SCHEMA, Kind.POLICY})
"""What an API revision holds of its own, and what a new revision is copied with."""

RELEASE_PREFIX = "apimsync-rev-"


@dataclass(frozen=True)
class RevisionView:
    """The live side as the plan compares it, and what that comparison implies."""

    live: Configuration
    copies: frozenset[str] = frozenset()
    """Identities of resources in ``live`` that the service will copy into a new revision."""
    switching: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """Identity of an API whose current revision changes -> the revision it changes to."""
    sources: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """Identity of a revision to create (as planned) -> the API id it is copied from."""
    releases: tuple[Resource, ...] = ()
    """The releases that make the files' current revisions current, applied last."""

    def address(self, resource_id: str) -> str:
        """The id a write of ``resource_id`` goes to: under an API whose current revision
        changes, the revision's own id (``/apis/x/operations/o`` -> ``/apis/x;rev=2/...``)."""
        if revision_of(resource_id) is not None:
            return resource_id  # a revision's own id names it already
        if kind_of(resource_id) not in REVISION_CHILD_KINDS | {Kind.API}:
            return resource_id
        base = "/".join(resource_id.split("/", 3)[:3])  # /apis/x of /apis/x/operations/o
        revision = self.switching.get(identity(base))
        if revision is None or not base.startswith("/apis/"):
            return resource_id
        return revision_api_id(base, revision) + resource_id[len(base) :]


def revision_view(desired: Configuration, live: Configuration) -> RevisionView:
    """How ``live`` compares with ``desired`` once their revisions are lined up."""
    view = live
    by_identity = {identity(r.id): r for r in live.of_kind(Kind.API)}
    copies: list[Resource] = []
    switching: dict[str, str] = {}
    sources: dict[str, str] = {}
    releases: list[Resource] = []
    for wanted in desired.of_kind(Kind.API):
        if revision_of(wanted.id) is not None:
            continue
        current = by_identity.get(identity(wanted.id))
        revisions = [r for r in desired.revisions(wanted.id) if r.id != wanted.id]
        if current is None:
            sources.update({identity(r.id): wanted.id for r in revisions})
            continue
        base = current.id
        live_number, wanted_number = revision_number(current), revision_number(wanted)
        source = revision_api_id(base, live_number)
        own = _revision_children(live, base)
        if wanted_number != live_number:
            switching[identity(base)] = wanted_number
            releases.append(_release(base, wanted_number, live))
            if revision_api_id(base, wanted_number) in live:
                view = view.with_current_revision(base, wanted_number)
            else:
                view = view.with_current_demoted(base)
                sources[identity(revision_api_id(base, wanted_number))] = source
                copies += _copied(own, base, base)
        for revision in revisions:
            if revision.id in view or identity(revision.id) in _identities(view):
                continue
            sources[identity(revision.id)] = source
            copies += _copied(own, base, revision.id)
    if copies:
        view = Configuration([*view, *copies])  # their revision is still to be created
    return RevisionView(
        view,
        frozenset(identity(r.id) for r in copies),
        MappingProxyType(switching),
        MappingProxyType(sources),
        tuple(releases),
    )


def _revision_children(live: Configuration, api_id: str) -> list[Resource]:
    return [r for r in live.children(api_id) if r.kind in REVISION_CHILD_KINDS]


def _copied(children: Iterable[Resource], source: str, target: str) -> list[Resource]:
    return [make_resource(target + r.id[len(source) :], r.properties) for r in children]


def _identities(configuration: Configuration) -> frozenset[str]:
    return frozenset(identity(resource_id) for resource_id in configuration.ids())


def _release(api_id: str, revision: str, live: Configuration) -> Resource:
    """A release making ``revision`` current, under a name no live release has."""
    taken = {identity(r.id) for r in live.of_kind(Kind.API_RELEASE)}
    name = f"{RELEASE_PREFIX}{revision}"
    number = 2
    while identity(f"{api_id}/releases/{name}") in taken:
        name = f"{RELEASE_PREFIX}{revision}-{number}"
        number += 1
    return make_resource(
        f"{api_id}/releases/{name}",
        {
            "apiId": revision_api_id(api_id, revision),
            "notes": f"apimsync: revision {revision} made current",
        },
    )
