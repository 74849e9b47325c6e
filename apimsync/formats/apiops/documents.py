"""Information files (``*Information.json``) and the ARM properties they hold.

Every generation wraps the ARM ``properties`` in ``{"properties": {...}}``; apiops-cli
adds ``id``, ``type`` and ``name`` and keeps nulls; the v7 pre-releases' link files add
the link's ``name``. Reading drops nulls and makes the ids one resource holds of another
service-relative (v6 wrote them in full, with the source instance's subscription and
name: ``apiVersionSetId``, ``loggerId``, a pool's backends...). Writing merges the
properties into the original document, so key order, the keys the model does not hold,
nulls and the full form of an unchanged id survive.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from apimsync.jsonvalue import thaw
from apimsync.plan.normalize import service_relative

REDACTED = "*** REDACTED ***"
"""What apiops-cli writes instead of a secret value."""


def properties_of(document: Any) -> dict[str, Any] | None:
    """The ARM properties of an information document; None if it has none."""
    if not isinstance(document, Mapping):
        return None
    found = document.get("properties", {})
    if not isinstance(found, Mapping):
        return None
    return _without_nulls(found)


def relative_ids(value: Any) -> Any:
    """``value`` with every full ARM id of a resource of a service made service-relative."""
    return _clean(value)


def _without_nulls(value: Mapping[str, Any]) -> dict[str, Any]:
    return {key: _clean(item) for key, item in value.items() if item is not None}


def _clean(value: Any) -> Any:
    if isinstance(value, Mapping):
        return _without_nulls(value)
    if isinstance(value, list):
        return [_clean(item) for item in value]
    if isinstance(value, str):
        return service_relative(value)  # an id in the source instance (v6), any depth
    return value


def document_name(document: Any) -> str | None:
    """The resource name a document states (apiops-cli, hand-written), if any."""
    if isinstance(document, Mapping):
        name = document.get("name")
        if isinstance(name, str) and name and "/" not in name and name not in (".", ".."):
            return name
    return None


def with_properties(original: Any, properties: Mapping[str, Any]) -> dict[str, Any]:
    """The document holding ``properties``: merged into ``original`` where there is one
    (its keys and their order kept), else ``{"properties": ...}``."""
    wanted = thaw(properties)
    if not isinstance(original, Mapping):
        return {"properties": wanted}
    result = dict(original)
    result["properties"] = merge(original.get("properties"), wanted)
    return result


def merge(original: Any, wanted: Any) -> Any:
    """``wanted``, shaped like ``original``: object keys in their original order (new ones
    after them), nulls the model drops kept, an id kept in its full form while it names
    the same resource."""
    if isinstance(wanted, Mapping):
        base = original if isinstance(original, Mapping) else {}
        result: dict[str, Any] = {}
        for key, old in base.items():
            if key in wanted:
                result[key] = merge(old, wanted[key])
            elif old is None:
                result[key] = None
        for key, value in wanted.items():
            if key not in result:
                result[key] = merge(None, value)
        return result
    if isinstance(wanted, list):
        previous = original if isinstance(original, list) else []
        return [
            merge(previous[index] if index < len(previous) else None, item)
            for index, item in enumerate(wanted)
        ]
    is_full_form = (
        isinstance(original, str) and isinstance(wanted, str) and original != wanted
    ) and service_relative(original) == wanted
    return original if is_full_form else wanted
