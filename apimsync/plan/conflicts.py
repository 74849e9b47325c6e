"""Values the service keeps unique across resources, between the files and the instance.

Two current APIs cannot share a path (within one version set, a path and version), and
two named values cannot share a display name. When the files create or change a
resource to take such a value from a live resource of another id, that live resource
must go first: with ``--prune`` its delete runs before the creates (the plan marks it
``early``); without, the deploy would fail at that write, so plan refuses before any.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from apimsync.errors import ApimsyncError
from apimsync.model import Configuration, Kind, Resource
from apimsync.plan.order import identity


@dataclass(frozen=True)
class Conflict:
    """``wanted`` (desired) takes ``value``, which ``holder`` (live, another id) has."""

    wanted: str
    holder: str
    what: str
    value: str


def _api_path(api: Resource) -> str | None:
    if ";rev=" in api.id:
        return None
    path = str(api.properties.get("path", "")).strip("/").casefold()
    version_set = str(api.properties.get("apiVersionSetId") or "").casefold()
    version = str(api.properties.get("apiVersion") or "").casefold() if version_set else ""
    return f"'/{path}'" + (f" (version '{version}')" if version else "")


def _display_name(named_value: Resource) -> str | None:
    name = named_value.properties.get("displayName")
    return f"'{name}'".casefold() if isinstance(name, str) else None


_UNIQUE: Mapping[Kind, tuple[str, Callable[[Resource], str | None]]] = MappingProxyType(
    {Kind.API: ("the path", _api_path), Kind.NAMED_VALUE: ("the display name", _display_name)}
)


def conflicts(desired: Configuration, live: Configuration) -> list[Conflict]:
    """Each desired resource whose unique value a live resource of another id holds,
    where that live resource is not also in the files with another value."""
    found = []
    for kind, (what, value_of) in _UNIQUE.items():
        holders = _by_value(live.of_kind(kind), value_of)
        for wanted in desired.of_kind(kind):
            value = value_of(wanted)
            holder = holders.get(value) if value is not None else None
            if holder is None or identity(holder.id) == identity(wanted.id):
                continue
            twin = desired.get(holder.id)
            if twin is not None and value_of(twin) != value:
                continue  # the files move the holder away; the plan changes it too
            found.append(Conflict(wanted.id, holder.id, what, value or ""))
    return found


def _by_value(
    resources: Iterable[Resource], value_of: Callable[[Resource], str | None]
) -> dict[str, Resource]:
    found: dict[str, Resource] = {}
    for resource in resources:
        value = value_of(resource)
        if value is not None:
            found.setdefault(value, resource)
    return found


class ValueTaken(ApimsyncError):
    """Resources of the files need values live resources hold, and the plan keeps those."""

    def __init__(self, found: Iterable[Conflict]) -> None:
        lines = [
            f"'{c.wanted}' needs {c.what} {c.value}, which '{c.holder}' holds on the instance"
            for c in found
        ]
        super().__init__(
            "the deploy would fail: "
            + "; ".join(lines)
            + ". Remove those from the instance, or run with --prune to delete what the "
            "files do not hold first; nothing was changed"
        )


def check_unique_values(
    desired: Configuration, live: Configuration, deleted: Iterable[str]
) -> None:
    """Raise :class:`ValueTaken` for conflicts whose holder the plan does not delete."""
    gone = {identity(resource_id) for resource_id in deleted}
    blocking = [c for c in conflicts(desired, live) if identity(c.holder) not in gone]
    if blocking:
        raise ValueTaken(blocking)
