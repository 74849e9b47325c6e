"""Derive the policy rule tables from ``schemas/policy.xsd`` with xmlschema.

apimsync ships the result as ``schemas/compiled/policy-rules.json`` (see
:mod:`apimsync.validate.policy_schema`). After changing the XSD, write it again with::

    python -m apimsync.validate.policy_schema_build

(a test fails while the shipped tables and the XSD disagree).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import xmlschema
from xmlschema.validators import XsdAnyElement, XsdGroup

from apimsync.errors import ApimsyncError
from apimsync.validate.policy_schema import (
    SCHEMA_PATH,
    TABLES_PATH,
    AttributeRule,
    Base,
    CountRule,
    ElementRule,
    PolicySchema,
    TextKind,
    ValueMember,
    ValueType,
    schema_digest,
)
from apimsync.validate.policy_tables import dump_tables

POLICY_GROUP = "policy"
_XS = "{http://www.w3.org/2001/XMLSchema}"
_XSD_STRING_TYPES = frozenset({f"{_XS}string", f"{_XS}anySimpleType"})
_BUILTIN_BASES = {
    f"{_XS}integer": Base.INTEGER,
    f"{_XS}decimal": Base.DECIMAL,
    f"{_XS}double": Base.DOUBLE,
    f"{_XS}boolean": Base.BOOLEAN,
    f"{_XS}string": Base.STRING,
}
"""Built-in types a value type may restrict, most specific first."""
_UNDERSTOOD_BUILTINS = frozenset(
    {*_BUILTIN_BASES, f"{_XS}nonNegativeInteger", f"{_XS}anySimpleType", f"{_XS}anyAtomicType"}
)
_UNDERSTOOD_FACETS = frozenset(
    f"{_XS}{name}"
    for name in ("whiteSpace", "pattern", "enumeration", "minInclusive", "maxInclusive")
)


class UnsupportedSchemaType(ApimsyncError):
    """The XSD uses a simple type the rule tables cannot express."""

    def __init__(self, type_name: str, what: str) -> None:
        super().__init__(
            f"{SCHEMA_PATH}: the simple type '{type_name}' uses {what}, which the policy "
            "rule tables do not support; extend apimsync/validate/policy_schema.py"
        )


@functools.cache
def compile_xsd(path: Path = SCHEMA_PATH) -> Any:
    """The XSD compiled by xmlschema (without the meta-schema check: a test does that)."""
    return xmlschema.XMLSchema11(str(path), validation="skip")


def build_schema(path: Path = SCHEMA_PATH) -> PolicySchema:
    xsd = compile_xsd(path)
    builder = _RuleBuilder(xsd)
    elements = {name: builder.element(decl) for name, decl in xsd.elements.items()}
    names = frozenset(p.name for p in _leaf_particles(xsd.groups[POLICY_GROUP]))
    return PolicySchema(elements=elements, policy_names=names)


def write_tables(path: Path = TABLES_PATH, xsd_path: Path = SCHEMA_PATH) -> None:
    document = dump_tables(build_schema(xsd_path), schema_digest(xsd_path))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n", encoding="utf-8")


# ------------------------------------------------------------------------- value types


def value_type_of(xsd_type: Any) -> ValueType:
    members = getattr(xsd_type, "member_types", None) or [xsd_type]
    return ValueType(_describe(xsd_type), tuple(_member(m) for m in members))


def _member(xsd_type: Any) -> ValueMember:
    chain = list(_derivation_chain(xsd_type))
    name = xsd_type.local_name or "an anonymous type"
    base = _base_of(chain, name)
    patterns: list[tuple[str, ...]] = []
    for step in chain:
        if step.is_global() and step.name in _UNDERSTOOD_BUILTINS:
            continue
        unknown = set(step.facets) - _UNDERSTOOD_FACETS - {None}
        if unknown:
            raise UnsupportedSchemaType(name, "the facet " + ", ".join(sorted(unknown)))
        facet = step.facets.get(f"{_XS}pattern")
        if facet is not None:
            patterns.append(tuple(p.pattern for p in facet.patterns))
    enumeration = xsd_type.enumeration
    if enumeration is not None and base is not Base.STRING:
        raise UnsupportedSchemaType(name, "an enumeration of non-string values")
    return ValueMember(
        base=base,
        white_space=xsd_type.white_space or "preserve",
        patterns=tuple(patterns),
        enumeration=None if enumeration is None else frozenset(str(e) for e in enumeration),
        minimum=_decimal(getattr(xsd_type, "min_value", None)),
        maximum=_decimal(getattr(xsd_type, "max_value", None)),
    )


def _derivation_chain(xsd_type: Any) -> Iterator[Any]:
    step = xsd_type
    while step is not None:
        yield step
        step = getattr(step, "base_type", None)


def _base_of(chain: list[Any], name: str) -> Base:
    builtins = [step.name for step in chain if step.is_global() and step.name.startswith(_XS)]
    strange = [b for b in builtins if b not in _UNDERSTOOD_BUILTINS]
    if strange:
        raise UnsupportedSchemaType(name, "the built-in type " + strange[0].removeprefix(_XS))
    for builtin, base in _BUILTIN_BASES.items():
        if builtin in builtins:
            return base
    raise UnsupportedSchemaType(name, "no built-in base type")


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _describe(xsd_type: Any) -> str:
    annotation = getattr(xsd_type, "annotation", None)
    if annotation is not None and annotation.documentation:
        text = annotation.documentation[0].text
        if text:
            return " ".join(text.split())
    return f"a valid {getattr(xsd_type, 'local_name', None) or 'value'}"


# ---------------------------------------------------------------------------- elements


class _RuleBuilder:
    def __init__(self, xsd: Any) -> None:
        self._rules: dict[int, ElementRule] = {}
        self._value_types: dict[int, ValueType] = {}
        self._policy_group = xsd.groups[POLICY_GROUP]

    def element(self, decl: Any) -> ElementRule:
        target = decl.ref if getattr(decl, "ref", None) is not None else decl
        rule = self._rules.get(id(target))
        if rule is None:
            rule = self._rules[id(target)] = ElementRule(name=target.local_name)
            self._fill(rule, target.type)
        return rule

    def value_type(self, xsd_type: Any) -> ValueType | None:
        if xsd_type is None or xsd_type.name in _XSD_STRING_TYPES:
            return None
        found = self._value_types.get(id(xsd_type))
        if found is None:
            found = self._value_types[id(xsd_type)] = value_type_of(xsd_type)
        return found

    def _fill(self, rule: ElementRule, xsd_type: Any) -> None:
        if xsd_type.is_simple():
            self._set_text(rule, xsd_type)
            return
        self._fill_attributes(rule, xsd_type.attributes)
        if xsd_type.has_simple_content():
            self._set_text(rule, xsd_type.content)
            return
        rule.text = TextKind.ANY if xsd_type.mixed else TextKind.NONE
        content = xsd_type.content
        if not isinstance(content, XsdGroup):
            return
        counts: list[CountRule] = []
        self._collect(rule, content, counts)
        rule.counts = tuple(c for c in counts if c.minimum > 0 or c.maximum is not None)

    def _set_text(self, rule: ElementRule, xsd_type: Any) -> None:
        rule.text_type = self.value_type(xsd_type)
        rule.text = TextKind.TYPED if rule.text_type is not None else TextKind.ANY

    def _fill_attributes(self, rule: ElementRule, attributes: Any) -> None:
        required: list[str] = []
        for name, attribute in attributes.items():
            if name is None:
                rule.any_attribute = True
                continue
            is_required = attribute.use == "required"
            rule.attributes[name] = AttributeRule(
                name, is_required, self.value_type(attribute.type)
            )
            if is_required:
                required.append(name)
        rule.required = tuple(required)

    def _collect(self, rule: ElementRule, group: Any, counts: list[CountRule]) -> None:
        """Read a model group: allowed children and the counts they must respect."""
        if group is self._policy_group or getattr(group, "ref", None) is self._policy_group:
            rule.holds_policies = True
        if group.model == "choice":
            self._collect_choice(rule, group, counts)
            return
        for particle in group:
            if isinstance(particle, XsdGroup):
                self._collect(rule, particle, counts)
            elif self._add_particle(rule, particle):
                counts.append(
                    CountRule(
                        frozenset({particle.local_name}),
                        particle.min_occurs * group.min_occurs,
                        _times(particle.max_occurs, group.max_occurs),
                    )
                )

    def _collect_choice(self, rule: ElementRule, group: Any, counts: list[CountRule]) -> None:
        names: set[str] = set()
        least: int | None = None
        most: int | None = 0
        for particle in _leaf_particles(group, include_wildcards=True):
            if self._add_particle(rule, particle):
                names.add(particle.local_name)
            least = particle.min_occurs if least is None else min(least, particle.min_occurs)
            most = None if most is None else _max(most, particle.max_occurs)
        if names:
            minimum = (least or 0) * group.min_occurs
            counts.append(CountRule(frozenset(names), minimum, _times(most, group.max_occurs)))

    def _add_particle(self, rule: ElementRule, particle: Any) -> bool:
        """Record an element (True) or a wildcard (False) particle."""
        if isinstance(particle, XsdAnyElement):
            rule.wildcard = rule.wildcard | frozenset(particle.namespace)
            return False
        if particle.local_name not in rule.children:
            rule.children[particle.local_name] = self.element(particle)
        return True


def _leaf_particles(group: Any, include_wildcards: bool = False) -> Iterator[Any]:
    for particle in group:
        if isinstance(particle, XsdGroup):
            yield from _leaf_particles(particle, include_wildcards)
        elif include_wildcards or not isinstance(particle, XsdAnyElement):
            yield particle


def _times(a: int | None, b: int | None) -> int | None:
    return None if a is None or b is None else a * b


def _max(a: int, b: int | None) -> int | None:
    return None if b is None else max(a, b)


if __name__ == "__main__":
    write_tables()
    print(f"wrote {TABLES_PATH}")
