"""What a policy expression may use, as read from ``schemas/expressions/policy-expressions.json``.

The file is the one source of these facts, each with its origin: the .NET types of the
documentation's table (some with only a few members allowed), the types accepted
policies use although the table lacks them, well-known types outside it, and the model
of the ``context`` variable (its members, their types, and the types' members).
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, cached_property
from typing import Any

from apimsync.resources import schemas_dir

RULES_FILE = "expressions/policy-expressions.json"
DOCUMENTED = "documentation"
"""The ``source`` of what the policy expressions page itself says."""
NOT_NAMED = "none"
"""The ``named`` value of a model type no policy can write by name."""
TYPE_ARGUMENT = "T"
"""A member whose value has the type given as its type argument."""


class TypeStatus(enum.Enum):
    ALLOWED = "allowed"  # in the documentation's table
    IMPLIED = "implied"  # not in the table, but no expression can do without it
    UNDOCUMENTED = "undocumented"  # not in the table; accepted policies use it
    DISALLOWED = "disallowed"  # a .NET type outside the table
    UNKNOWN = "unknown"  # a name none of the above has


@dataclass(frozen=True)
class DotnetType:
    """A .NET type of the table; ``members`` None means all of them."""

    name: str
    members: frozenset[str] | None
    excluded: frozenset[str]
    results: Mapping[str, str]
    base: str | None
    indexer: str | None

    @property
    def restricted(self) -> bool:
        return self.members is not None or bool(self.excluded)


@dataclass(frozen=True)
class ArgumentCounts:
    """Argument counts accepted policies use that the documentation does not give."""

    counts: frozenset[int]
    source: str
    note: str


@dataclass(frozen=True)
class ModelMember:
    """A member of a type of the ``context`` model.

    ``type`` is the type of its value (of its result for a method): a model type, a
    .NET type, :data:`TYPE_ARGUMENT`, or None when its members are not checked.
    ``source`` is :data:`DOCUMENTED`, or where an undocumented member comes from.
    """

    name: str
    type: str | None
    is_method: bool
    arguments: frozenset[int] | None
    undocumented_arguments: tuple[ArgumentCounts, ...]
    type_arguments: frozenset[str] | None
    source: str
    note: str


@dataclass(frozen=True)
class ModelType:
    """A type of the ``context`` model; an open one has members the model does not list."""

    key: str
    named: str
    is_open: bool
    members: Mapping[str, ModelMember]
    note: str


@dataclass(frozen=True)
class ExpressionRules:
    keywords: Mapping[str, str]
    allowed: Mapping[str, DotnetType]
    implied: frozenset[str]
    undocumented: Mapping[str, str]  # full name -> why it is listed
    disallowed: frozenset[str]
    model: Mapping[str, ModelType]
    sources: Mapping[str, Mapping[str, Any]]

    def type_status(self, full_name: str) -> TypeStatus:
        if full_name in self.allowed:
            return TypeStatus.ALLOWED
        if full_name in self.implied:
            return TypeStatus.IMPLIED
        if full_name in self.undocumented:
            return TypeStatus.UNDOCUMENTED
        if full_name in self.disallowed or full_name.split(".")[0] in self.namespace_roots:
            return TypeStatus.DISALLOWED
        return TypeStatus.UNKNOWN

    @cached_property
    def known_types(self) -> frozenset[str]:
        return frozenset([*self.allowed, *self.implied, *self.undocumented, *self.disallowed])

    @cached_property
    def namespaces(self) -> frozenset[str]:
        """Every namespace a known type is in, and the namespaces above them."""
        found: set[str] = set()
        for name in self.known_types:
            parts = name.split(".")
            for end in range(1, len(parts)):
                prefix = ".".join(parts[:end])
                if prefix in self.known_types:
                    break  # a nested type: the rest are types too
                found.add(prefix)
        return frozenset(found)

    @cached_property
    def namespace_roots(self) -> frozenset[str]:
        return frozenset(namespace.split(".")[0] for namespace in self.namespaces)

    @cached_property
    def simple_names(self) -> Mapping[str, str]:
        """The simple name of every known type that is not nested -> its full name
        (the table's first, where two share a name)."""
        names: dict[str, str] = {}
        for name in [*self.allowed, *self.implied, *self.undocumented, *self.disallowed]:
            namespace, _, simple = name.rpartition(".")
            if namespace in self.namespaces:
                names.setdefault(simple, name)
        return names

    @cached_property
    def official_sources(self) -> frozenset[str]:
        """The sources that are Microsoft's documentation (what they name is allowed)."""
        return frozenset(key for key, source in self.sources.items() if source.get("official"))

    def named_model_type(self, name: str) -> ModelType | None:
        """The model type a policy may write as ``name`` (``Jwt``, ``IResponse``)."""
        found = self.model.get(name)
        return None if found is None or found.named == NOT_NAMED else found

    def source_title(self, source: str) -> str:
        return str(self.sources.get(source, {}).get("title", source))


def generic_base(name: str) -> str:
    """``Dictionary<TKey, TValue>`` -> ``Dictionary``."""
    return name.partition("<")[0]


@cache
def load_rules() -> ExpressionRules:
    """The rules of ``schemas/expressions/policy-expressions.json`` (read once)."""
    path = schemas_dir() / RULES_FILE
    return rules_from_document(json.loads(path.read_text(encoding="utf-8")))


def rules_from_document(document: Mapping[str, Any]) -> ExpressionRules:
    """Rules from the parsed data file (which its JSON Schema has checked)."""
    return ExpressionRules(
        keywords=dict(document["keywords"]),
        allowed={
            generic_base(name): _dotnet_type(generic_base(name), entry)
            for name, entry in document["allowed_types"].items()
        },
        implied=frozenset(document["implied_types"]),
        undocumented={
            name: entry["note"] for name, entry in document["undocumented_types"].items()
        },
        disallowed=frozenset(document["disallowed_types"]["types"]),
        model={key: _model_type(key, entry) for key, entry in document["context"]["types"].items()},
        sources={key: dict(entry) for key, entry in document["sources"].items()},
    )


def _dotnet_type(name: str, entry: Any) -> DotnetType:
    if entry == "all":
        return DotnetType(name, None, frozenset(), {}, None, None)
    members = entry.get("members")
    return DotnetType(
        name=name,
        members=None if members is None else frozenset(members),
        excluded=frozenset(entry.get("except", ())),
        results=dict(entry.get("results", {})),
        base=entry.get("base"),
        indexer=entry.get("indexer"),
    )


def _model_type(key: str, entry: Mapping[str, Any]) -> ModelType:
    return ModelType(
        key=key,
        named=entry["named"],
        is_open=bool(entry.get("open", False)),
        members={name: _model_member(name, spec) for name, spec in entry["members"].items()},
        note=entry.get("note", ""),
    )


def _model_member(name: str, spec: Any) -> ModelMember:
    if spec is None or isinstance(spec, str):
        return ModelMember(name, spec, False, None, (), None, DOCUMENTED, "")
    arguments = spec.get("arguments")
    type_arguments = spec.get("type_arguments")
    return ModelMember(
        name=name,
        type=spec["method"] if "method" in spec else spec["type"],
        is_method="method" in spec,
        arguments=None if arguments is None else frozenset(arguments),
        undocumented_arguments=tuple(
            ArgumentCounts(frozenset(use["arguments"]), use["source"], use["note"])
            for use in spec.get("undocumented", ())
        ),
        type_arguments=None if type_arguments is None else frozenset(type_arguments),
        source=spec.get("source", DOCUMENTED),
        note=spec.get("note", ""),
    )
