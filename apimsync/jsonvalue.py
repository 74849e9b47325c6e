"""Immutable JSON values, so that resources can be frozen, hashed and compared.

``freeze`` turns parsed JSON (dicts, lists, scalars) into :class:`FrozenMap` and tuples;
``thaw`` turns it back. A FrozenMap keeps its key order (writers need it) but compares
like a dict: key order never makes two values different.
"""

from __future__ import annotations

from collections.abc import ItemsView, Iterator, KeysView, Mapping, ValuesView
from typing import Any, TypeAlias

JSONScalar: TypeAlias = str | int | float | bool | None
FrozenJSON: TypeAlias = "JSONScalar | FrozenMap | tuple[FrozenJSON, ...]"


class FrozenMap(Mapping[str, Any]):
    """A read-only, hashable mapping of str to frozen JSON."""

    __slots__ = ("_data", "_hash")

    def __init__(self, items: Mapping[str, Any] | None = None) -> None:
        self._data: dict[str, Any] = {k: freeze(v) for k, v in (items or {}).items()}
        self._hash: int | None = None

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    # The dict's own views and lookups: Mapping's generic ones go through __getitem__.
    def __contains__(self, key: object) -> bool:
        return key in self._data

    def get(self, key: str, default: Any = None) -> Any:
        return self._data.get(key, default)

    def keys(self) -> KeysView[str]:
        return self._data.keys()

    def values(self) -> ValuesView[Any]:
        return self._data.values()

    def items(self) -> ItemsView[str, Any]:
        return self._data.items()

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(frozenset(self._data.items()))
        return self._hash

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FrozenMap):
            return self._data == other._data
        if isinstance(other, Mapping):
            return self._data == dict(other)
        return NotImplemented

    def __repr__(self) -> str:
        return f"FrozenMap({self._data!r})"

    def set(self, key: str, value: Any) -> FrozenMap:
        """A copy with ``key`` set (kept in place if present, appended if new)."""
        data = dict(self._data)
        data[key] = value
        return FrozenMap(data)

    def drop(self, *keys: str) -> FrozenMap:
        return FrozenMap({k: v for k, v in self._data.items() if k not in keys})


_SCALARS = frozenset({str, int, float, bool, type(None)})
"""The types of JSON scalars as parsed: recognised by type first, as checks against
``Mapping`` (an ABC) cost more than the rest of freezing a value."""


def freeze(value: Any) -> Any:
    kind = type(value)
    if kind in _SCALARS or kind is FrozenMap:
        return value
    if kind is dict:
        return FrozenMap(value)
    if kind is list or kind is tuple:
        return tuple([freeze(v) for v in value])
    if isinstance(value, FrozenMap):
        return value
    if isinstance(value, Mapping):
        return FrozenMap(value)
    if isinstance(value, list | tuple):
        return tuple(freeze(v) for v in value)
    if isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"not a JSON value: {type(value).__name__}")


def thaw(value: Any) -> Any:
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is FrozenMap or kind is dict:
        return {k: thaw(v) for k, v in value.items()}
    if kind is tuple or kind is list:
        return [thaw(v) for v in value]
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [thaw(v) for v in value]
    return value
