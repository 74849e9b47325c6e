"""Saved plans: a file that lets a later deploy apply exactly the plan that was reviewed.

The file is JSON::

    {
      "format": "apimsync-saved-plan",
      "format_version": "1",
      "target": {"subscription": ..., "resource_group": ..., "service": ..., "endpoint": ...},
      "changes": [                                   # in apply order
        {
          "action": "create" | "update" | "delete",
          "type": "backend",                         # kind label
          "id": "/backends/openaione",
          "desired": {...} | null,                   # the properties to PUT, secrets withheld
          "desired_fingerprint": "sha256:..." | null,
          "withheld": {"/value": "environment"},     # pointer -> where deploy gets the value
          "before": {...} | null,                    # live properties at plan time, masked
          "live": {"etag": "..." | null, "fingerprint": "sha256:..."} | null,
          "fields": [{"path": "/url", "before": ..., "after": ...}],  # absent side omitted
          "cascade": ["/apis/x/operations/y", ...],
          "early": true                              # deletes run before creates (optional)
        }
      ],
      "unmanaged": [...],
      "changed_since": {"since": "REF", "commit": "<sha>"},   # a partial plan only
      "checksum": "sha256:..."                       # of everything else in the file
    }

Secrets never enter the file (:mod:`apimsync.plan.secrets`): a secret named value's
``value`` is left out and ``withheld`` says it comes from the ``environment``; other
sensitive values read ``"(sensitive)"`` and come from the ``configuration`` at deploy
time (``desired_fingerprint``, over the masked normalized form, tells the deployer the
configuration still says what was planned). ``live`` is ``null`` for a create (the
resource must still be absent); otherwise ``fingerprint`` is :func:`fingerprint` of the
live resource, so a deploy can refuse a plan the instance has moved away from.
``checksum`` makes an edited file fail to load; it is an integrity check, not a signature.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Final, TypeVar

from apimsync.errors import ApimsyncError, ModelError
from apimsync.jsonvalue import freeze, thaw
from apimsync.model import Kind, Resource, kind_of, make_resource
from apimsync.plan.changes import MISSING, Action, Change, FieldChange, PartialScope, Plan
from apimsync.plan.normalize import comparable
from apimsync.plan.pointer import escape
from apimsync.plan.secrets import SENSITIVE, is_secret, mask_properties, mask_value

T = TypeVar("T")

FORMAT: Final = "apimsync-saved-plan"
FORMAT_VERSION: Final = "1"
FROM_ENVIRONMENT: Final = "environment"
FROM_CONFIGURATION: Final = "configuration"


class PlanFileError(ApimsyncError):
    """A saved plan cannot be read: malformed, of another format version, or edited (a
    usage error: nothing was written)."""

    exit_code = 2

    def __init__(self, path: str | os.PathLike[str], problem: str) -> None:
        super().__init__(f"{os.fspath(path)}: {problem}")
        self.path = os.fspath(path)


def fingerprint(resource: Resource) -> str:
    """``sha256:<hex>`` of the normalized properties: what a deploy compares against."""
    return digest(comparable(resource))


# -- saving ----------------------------------------------------------------------------


def save_plan(plan: Plan, path: str | os.PathLike[str], *, target: Mapping[str, str]) -> None:
    """Write ``plan`` for the instance ``target`` names to ``path`` (replaced atomically)."""
    document: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "target": dict(target),
        "changes": [_save_change(change) for change in plan.changes],
        "unmanaged": list(plan.unmanaged),
    }
    if plan.partial is not None:
        document["changed_since"] = {"since": plan.partial.since, "commit": plan.partial.commit}
    document["checksum"] = digest(document)
    _write_atomically(Path(path), json.dumps(document, indent=2, ensure_ascii=False) + "\n")


def _save_change(change: Change) -> dict[str, Any]:
    secret = is_secret(change.before) or is_secret(change.after)
    desired, withheld = _withhold(change.after, secret)
    return {
        "action": change.action.value,
        "type": change.kind.label,
        "id": change.resource_id,
        "desired": desired,
        "desired_fingerprint": _desired_fingerprint(change.after, secret),
        "withheld": withheld,
        "before": mask_properties(change.before, secret=secret),
        "live": _live(change),
        "fields": [_save_field(change, field, secret) for field in change.fields],
        "cascade": list(change.cascade),
        **({"early": True} if change.early else {}),
    }


def _withhold(resource: Resource | None, secret: bool) -> tuple[Any, dict[str, str]]:
    """The properties to store, and where each value left out comes from."""
    if resource is None:
        return None, {}
    properties = thaw(resource.properties)
    withheld: dict[str, str] = {}
    if resource.kind is Kind.NAMED_VALUE and secret:
        properties.pop("value", None)
        if "keyVault" not in properties:
            withheld["/value"] = FROM_ENVIRONMENT
    masked = mask_value(resource.kind, "", properties, secret=secret)
    withheld.update(dict.fromkeys(_placeholders(masked, properties, ""), FROM_CONFIGURATION))
    return masked, withheld


def _placeholders(masked: Any, original: Any, at: str) -> list[str]:
    """Pointers where ``masked`` holds the placeholder and ``original`` did not."""
    if isinstance(masked, dict):
        pairs = [(key, value, original[key]) for key, value in masked.items()]
    elif isinstance(masked, list):
        pairs = [(index, value, original[index]) for index, value in enumerate(masked)]
    else:
        return [at] if masked == SENSITIVE and original != SENSITIVE else []
    return [
        found
        for key, value, before in pairs
        for found in _placeholders(value, before, f"{at}/{escape(key)}")
    ]


def _desired_fingerprint(resource: Resource | None, secret: bool) -> str | None:
    if resource is None:
        return None
    return digest(mask_value(resource.kind, "", comparable(resource), secret=secret))


def _live(change: Change) -> dict[str, Any] | None:
    if change.before is None:
        return None
    return {"etag": change.etag, "fingerprint": fingerprint(change.before)}


def _save_field(change: Change, field: FieldChange, secret: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {"path": field.path}
    for side, value in (("before", field.before), ("after", field.after)):
        if value is not MISSING:
            entry[side] = mask_value(change.kind, field.path, thaw(value), secret=secret)
    return entry


def _write_atomically(path: Path, text: str) -> None:
    try:
        descriptor, temporary = tempfile.mkstemp(prefix=".plan-", dir=path.parent)
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8", newline="\n") as stream:
                stream.write(text)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError as error:
        raise PlanFileError(path, f"cannot write the plan: {error.strerror or error}") from None


# -- loading ---------------------------------------------------------------------------


def load_plan(path: str | os.PathLike[str]) -> tuple[Plan, dict[str, str]]:
    """The plan saved at ``path`` and its target; :class:`PlanFileError` if unusable."""
    document = _read_document(path)
    try:
        target = _string_map(document.get("target"), "target")
        changes = tuple(_items(document, "changes", "plan", _load_change))
        unmanaged = tuple(_items(document, "unmanaged", "plan", _string))
        partial = _partial(document.get("changed_since"))
    except _Invalid as problem:
        raise PlanFileError(path, f"is not a valid saved plan: {problem}") from None
    return Plan(changes, unmanaged, partial=partial), target


def _partial(value: Any) -> PartialScope | None:
    if value is None:
        return None
    scope = _string_map(value, "changed_since")
    if set(scope) != {"since", "commit"}:
        raise _Invalid("changed_since: expected 'since' and 'commit'")
    return PartialScope(scope["since"], scope["commit"])


def _read_document(path: str | os.PathLike[str]) -> dict[str, Any]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise PlanFileError(path, f"cannot read the plan: {error}") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise PlanFileError(
            path, f"is not JSON (line {error.lineno}, column {error.colno}: {error.msg})"
        ) from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise PlanFileError(path, "is not an apimsync saved plan (run 'apimsync plan --out')")
    version = document.get("format_version")
    if version != FORMAT_VERSION:
        raise PlanFileError(
            path,
            f"is a saved plan of format version {version!r}; this apimsync reads version "
            f"{FORMAT_VERSION!r} (plan again with this version)",
        )
    checksum = document.pop("checksum", None)
    if checksum != digest(document):
        raise PlanFileError(path, "was changed after it was saved (checksum mismatch); plan again")
    return document


class _Invalid(Exception):
    """A part of a saved plan has the wrong shape; the message says which."""


def _load_change(entry: Any, where: str) -> Change:
    entry = _dict(entry, where)
    resource_id = _string(entry.get("id"), f"{where}.id")
    try:
        kind = kind_of(resource_id)
        action = Action(entry.get("action"))
    except (ModelError, ValueError) as error:
        raise _Invalid(f"{where}: {error}") from None
    if entry.get("type") != kind.label:
        raise _Invalid(f"{where}.type: {entry.get('type')!r} does not match the id")
    change = Change(
        action,
        resource_id,
        kind,
        before=_resource(resource_id, entry.get("before"), f"{where}.before"),
        after=_resource(resource_id, entry.get("desired"), f"{where}.desired"),
        fields=tuple(_items(entry, "fields", where, _load_field)),
        etag=_etag(entry.get("live"), f"{where}.live"),
        cascade=tuple(_items(entry, "cascade", where, _string)),
        withheld=tuple(sorted(_string_map(entry.get("withheld"), f"{where}.withheld"))),
        early=entry.get("early") is True,
    )
    _check_sides(change, where)
    return change


def _items(entry: dict[str, Any], key: str, where: str, load: Callable[[Any, str], T]) -> list[T]:
    return [
        load(item, f"{where}.{key}[{index}]")
        for index, item in enumerate(_list(entry.get(key), f"{where}.{key}"))
    ]


def _etag(live: Any, where: str) -> str | None:
    if live is None:
        return None
    return _optional_string(_dict(live, where).get("etag"), f"{where}.etag")


def _check_sides(change: Change, where: str) -> None:
    expected = {
        Action.CREATE: (False, True),
        Action.UPDATE: (True, True),
        Action.DELETE: (True, False),
    }[change.action]
    if ((change.before is not None), (change.after is not None)) != expected:
        raise _Invalid(f"{where}: a {change.action.value} with the wrong sides (before/desired)")


def _resource(resource_id: str, properties: Any, where: str) -> Resource | None:
    if properties is None:
        return None
    try:
        return make_resource(resource_id, _dict(properties, where))
    except ModelError as error:
        raise _Invalid(f"{where}: {error}") from None


def _load_field(entry: Any, where: str) -> FieldChange:
    entry = _dict(entry, where)
    return FieldChange(
        _string(entry.get("path"), f"{where}.path"),
        freeze(entry["before"]) if "before" in entry else MISSING,
        freeze(entry["after"]) if "after" in entry else MISSING,
    )


def _dict(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _Invalid(f"{where}: expected an object")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise _Invalid(f"{where}: expected a list")
    return value


def _string(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise _Invalid(f"{where}: expected a string")
    return value


def _optional_string(value: Any, where: str) -> str | None:
    return None if value is None else _string(value, where)


def _string_map(value: Any, where: str) -> dict[str, str]:
    return {key: _string(item, f"{where}.{key}") for key, item in _dict(value, where).items()}


def digest(value: Any) -> str:
    """``sha256:<hex>`` of a JSON value in its canonical text (sorted keys, no spaces)."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()
