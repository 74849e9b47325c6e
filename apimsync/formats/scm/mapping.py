"""Translation between scm-repository JSON documents and ARM ``properties``.

Reading turns a document into properties: top-level keys are renamed (``name`` ->
``displayName``), ``$ref-X`` keys become ``X`` holding the referenced file's text, and
``null`` means absent. Writing merges properties *into the original document*, so key
order, keys the model does not hold (``__GitModuleVersion``, legacy ``sample`` fields) and
the file-or-inline choice of every text survive; only what changed is touched.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from apimsync.jsonvalue import thaw

REF = "$ref-"
REFS = "$refs-"


@dataclass(frozen=True)
class Codec:
    """Converts one top-level value between its scm and its ARM form."""

    to_arm: Callable[[Any], Any]
    to_scm: Callable[[Any], Any]


@dataclass(frozen=True)
class KindSpec:
    """How one kind of document maps to ARM properties."""

    renames: Mapping[str, str] = field(default_factory=dict)
    """Top-level scm key -> ARM key."""
    structural: frozenset[str] = frozenset()
    """Top-level keys the unit writer owns (ids, nested resources, policy links)."""
    unmodelled: frozenset[str] = frozenset(
        {"__GitModuleVersion", "$ref-sample", "sample", "generatedSample"}
    )
    """Keys at any depth that stay in the files but not in the model."""
    file_fields: frozenset[str] = frozenset({"description"})
    """ARM keys that a *new* document stores in a file (``$ref-<key>``) instead of inline."""
    codecs: Mapping[str, Codec] = field(default_factory=dict)
    """ARM key -> value codec, top level only."""
    fixed: Mapping[str, Any] = field(default_factory=dict)
    """ARM properties every resource of this kind has, not stored in files."""

    def arm_key(self, scm_key: str, depth: int) -> str:
        return self.renames.get(scm_key, scm_key) if depth == 0 else scm_key

    def scm_key(self, arm_key: str, depth: int) -> str:
        if depth == 0:
            for scm, arm in self.renames.items():
                if arm == arm_key:
                    return scm
        return arm_key

    def skips(self, scm_key: str, depth: int) -> bool:
        return (
            (depth == 0 and scm_key in self.structural)
            or scm_key in self.unmodelled
            or (scm_key.startswith(REFS))
        )


TextLoader = Callable[[str, str], str | None]
"""(reference, JSON pointer) -> the referenced file's text, or None."""

TextSink = Callable[[Any, str | None, str], Any]
"""(existing reference, text, JSON pointer) -> the new value of the ``$ref-`` key."""


def to_arm(document: Mapping[str, Any], spec: KindSpec, load: TextLoader) -> dict[str, Any]:
    """ARM properties of an scm document (without the structural keys)."""
    properties = _dict_to_arm(document, spec, load, 0, "")
    for key, codec in spec.codecs.items():
        if key in properties:
            properties[key] = codec.to_arm(properties[key])
    properties.update(spec.fixed)
    return properties


def _dict_to_arm(
    document: Mapping[str, Any], spec: KindSpec, load: TextLoader, depth: int, pointer: str
) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in document.items():
        if spec.skips(key, depth):
            continue
        if key.startswith(REF):
            name = spec.arm_key(key[len(REF) :], depth)
            text = load(value, f"{pointer}/{key}") if isinstance(value, str) and value else None
            if text is not None:
                result[name] = text
        elif value is not None:
            result[spec.arm_key(key, depth)] = _value_to_arm(
                value, spec, load, depth + 1, f"{pointer}/{key}"
            )
    return result


def _value_to_arm(value: Any, spec: KindSpec, load: TextLoader, depth: int, pointer: str) -> Any:
    if isinstance(value, Mapping):
        return _dict_to_arm(value, spec, load, depth, pointer)
    if isinstance(value, list):
        return [
            _value_to_arm(item, spec, load, depth, f"{pointer}/{index}")
            for index, item in enumerate(value)
        ]
    return value


def to_scm(
    original: Mapping[str, Any] | None,
    properties: Mapping[str, Any],
    spec: KindSpec,
    store: TextSink,
) -> dict[str, Any]:
    """The document that holds ``properties``, shaped like ``original`` where there is one."""
    wanted = {k: v for k, v in thaw(properties).items() if k not in spec.fixed}
    for key, codec in spec.codecs.items():
        if key in wanted:
            wanted[key] = codec.to_scm(wanted[key])
    return _merge_dict(original or {}, wanted, spec, store, 0, "")


def _merge_dict(
    original: Mapping[str, Any],
    wanted: Mapping[str, Any],
    spec: KindSpec,
    store: TextSink,
    depth: int,
    pointer: str,
) -> dict[str, Any]:
    result: dict[str, Any] = {}
    placed: set[str] = set()
    for key, old in original.items():
        if spec.skips(key, depth):
            result[key] = old
            continue
        is_ref = key.startswith(REF)
        name = spec.arm_key(key[len(REF) :] if is_ref else key, depth)
        placed.add(name)
        if is_ref:
            result[key] = store(old, wanted.get(name), f"{pointer}/{key}")
        elif name in wanted:
            result[key] = _merge_value(
                old, wanted[name], spec, store, depth + 1, f"{pointer}/{key}"
            )
        else:
            result[key] = None
    for name, value in wanted.items():
        if name in placed:
            continue
        key = spec.scm_key(name, depth)
        if name in spec.file_fields and isinstance(value, str):
            result[REF + key] = store(None, value, f"{pointer}/{REF}{key}")
        else:
            result[key] = _merge_value(None, value, spec, store, depth + 1, f"{pointer}/{key}")
    return result


def _merge_value(
    old: Any, new: Any, spec: KindSpec, store: TextSink, depth: int, pointer: str
) -> Any:
    if isinstance(new, Mapping):
        base = old if isinstance(old, Mapping) else {}
        return _merge_dict(base, new, spec, store, depth, pointer)
    if isinstance(new, list):
        previous = old if isinstance(old, list) else []
        return [
            _merge_value(
                previous[index] if index < len(previous) else None,
                item,
                spec,
                store,
                depth,
                f"{pointer}/{index}",
            )
            for index, item in enumerate(new)
        ]
    return new
