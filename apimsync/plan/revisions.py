"""Matching API revisions by number when the files make another revision current.

Both the files and the instance name an API's current revision ``/apis/x`` and every
other ``/apis/x;rev=N``. When the files make another revision current (the root
folder's ``apiRevision`` differs from the instance's), matching by id would pair the
wrong revisions: the plan would rewrite one revision with another's content and create
and delete the rest. Instead, for those APIs both sides name every revision explicitly
(``/apis/x;rev=2/...``), the current one marked ``isCurrent: true``: revisions then
match by number, and making one current is one update of its ``isCurrent``, which
deploy applies as a release, as the APIOps publisher does. Nothing changes for APIs
whose current revision stays.
"""

from __future__ import annotations

from collections.abc import Iterable

from apimsync.model import Configuration, Kind, Resource, api_id_without_revision, make_resource

REVISION = ";rev="


def with_explicit_revisions(
    desired: Configuration, live: Configuration
) -> tuple[Configuration, Configuration]:
    """``desired`` and ``live`` with every revision of an API whose current revision the
    files change named explicitly; both unchanged when no API's current revision moves."""
    wanted, current = _currents(desired), _currents(live)
    switched = {
        base for base, number in wanted.items() if base in current and current[base] != number
    }
    if not switched:
        return desired, live
    return _explicit(desired, switched, wanted), _explicit(live, switched, current)


def _currents(configuration: Configuration) -> dict[str, str]:
    """Base API id (case-folded) -> the number of its current revision."""
    return {
        api.id.casefold(): str(api.properties.get("apiRevision") or "1")
        for api in configuration.of_kind(Kind.API)
        if REVISION not in api.id
    }


def _explicit(
    configuration: Configuration, switched: set[str], currents: dict[str, str]
) -> Configuration:
    return Configuration(_renamed(configuration, switched, currents))


def _renamed(
    resources: Iterable[Resource], switched: set[str], currents: dict[str, str]
) -> Iterable[Resource]:
    for resource in resources:
        base = _base_of(resource.id)
        if base is None or base.casefold() not in switched or resource.kind is Kind.API_RELEASE:
            yield resource
            continue
        rest = resource.id[len(base) :]
        if rest.startswith(REVISION):
            yield resource
            continue
        explicit = f"{base}{REVISION}{currents[base.casefold()]}{rest}"
        properties = dict(resource.properties)
        if resource.kind is Kind.API:
            properties["isCurrent"] = True
        yield make_resource(explicit, properties)


def _base_of(resource_id: str) -> str | None:
    """``/apis/x`` for any id below API ``x`` (any revision); None for other ids."""
    parts = resource_id.split("/")
    if len(parts) < 3 or parts[1] != "apis":
        return None
    return api_id_without_revision(f"/apis/{parts[2]}")


def makes_current(resource: Resource | None) -> bool:
    """True for an explicitly named revision the plan makes the current one."""
    return (
        resource is not None
        and resource.kind is Kind.API
        and REVISION in resource.id
        and resource.properties.get("isCurrent") is True
    )
