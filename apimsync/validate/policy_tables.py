"""The policy rule tables as plain JSON, and back.

The compiled tables (``schemas/compiled/policy-rules.json``) are a graph of element rules:
each rule is stored once, in a list, and children name rules by their index in that list
(the policy group is recursive: ``<choose>`` holds ``<when>`` holds policies). Value types
are stored once too. JSON, not pickle: the file is data, never code.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from apimsync.validate.policy_schema import (
    AttributeRule,
    Base,
    CountRule,
    ElementRule,
    PolicySchema,
    TextKind,
    ValueMember,
    ValueType,
)

FORMAT = 1
"""Bumped whenever the layout below changes, so older tables are not misread."""


def dump_tables(schema: PolicySchema, digest: str) -> dict[str, Any]:
    """``schema`` as a JSON document stamped with the SHA-256 of the XSD it came from.

    Rules, attributes and children are visited in name order, so equal tables give equal
    documents however they were built."""
    rules: list[ElementRule] = []
    rule_index: dict[int, int] = {}
    types: list[ValueType] = []
    type_index: dict[int, int] = {}

    def rule_ref(rule: ElementRule) -> int:
        if id(rule) not in rule_index:
            rule_index[id(rule)] = len(rules)
            rules.append(rule)
            for _, child in sorted(rule.children.items()):
                rule_ref(child)
        return rule_index[id(rule)]

    def type_ref(value_type: ValueType | None) -> int | None:
        if value_type is None:
            return None
        if id(value_type) not in type_index:
            type_index[id(value_type)] = len(types)
            types.append(value_type)
        return type_index[id(value_type)]

    elements = {name: rule_ref(rule) for name, rule in sorted(schema.elements.items())}
    dumped_rules = [_dump_rule(rule, rule_ref, type_ref) for rule in rules]
    return {
        "format": FORMAT,
        "xsd_sha256": digest,
        "policy_names": sorted(schema.policy_names),
        "elements": elements,
        "rules": dumped_rules,
        "types": [_dump_type(value_type) for value_type in types],
    }


def _dump_rule(rule: ElementRule, rule_ref: Any, type_ref: Any) -> dict[str, Any]:
    return {
        "name": rule.name,
        "attributes": [
            [a.name, a.required, type_ref(a.value_type)] for _, a in sorted(rule.attributes.items())
        ],
        "required": list(rule.required),
        "any_attribute": rule.any_attribute,
        "children": {name: rule_ref(child) for name, child in sorted(rule.children.items())},
        "counts": [[sorted(c.names), c.minimum, c.maximum] for c in rule.counts],
        "wildcard": sorted(rule.wildcard),
        "text": rule.text.value,
        "text_type": type_ref(rule.text_type),
        "holds_policies": rule.holds_policies,
    }


def _dump_type(value_type: ValueType) -> dict[str, Any]:
    return {
        "description": value_type.description,
        "members": [
            {
                "base": m.base.value,
                "white_space": m.white_space,
                "patterns": [list(step) for step in m.patterns],
                "enumeration": None if m.enumeration is None else sorted(m.enumeration),
                "minimum": None if m.minimum is None else str(m.minimum),
                "maximum": None if m.maximum is None else str(m.maximum),
            }
            for m in value_type.members
        ],
    }


def read_tables(path: Path, digest: str) -> PolicySchema | None:
    """The tables at ``path`` if they exist, are of this :data:`FORMAT` and were built from
    the XSD whose SHA-256 is ``digest``; None otherwise (the caller compiles the XSD)."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(document, dict):
        return None
    if document.get("format") != FORMAT or document.get("xsd_sha256") != digest:
        return None
    return load_tables(document)


def load_tables(document: dict[str, Any]) -> PolicySchema:
    types = [_load_type(entry) for entry in document["types"]]
    raw_rules = document["rules"]
    rules = [ElementRule(name=entry["name"]) for entry in raw_rules]
    for rule, entry in zip(rules, raw_rules, strict=True):
        _fill_rule(rule, entry, rules, types)
    return PolicySchema(
        elements={name: rules[index] for name, index in document["elements"].items()},
        policy_names=frozenset(document["policy_names"]),
    )


def _fill_rule(
    rule: ElementRule, entry: dict[str, Any], rules: list[ElementRule], types: list[ValueType]
) -> None:
    def value_type(index: int | None) -> ValueType | None:
        return None if index is None else types[index]

    rule.attributes = {
        name: AttributeRule(name, required, value_type(index))
        for name, required, index in entry["attributes"]
    }
    rule.required = tuple(entry["required"])
    rule.any_attribute = entry["any_attribute"]
    rule.children = {name: rules[index] for name, index in entry["children"].items()}
    rule.counts = tuple(
        CountRule(frozenset(names), minimum, maximum) for names, minimum, maximum in entry["counts"]
    )
    rule.wildcard = frozenset(entry["wildcard"])
    rule.text = TextKind(entry["text"])
    rule.text_type = value_type(entry["text_type"])
    rule.holds_policies = entry["holds_policies"]


def _load_type(entry: dict[str, Any]) -> ValueType:
    members = tuple(
        ValueMember(
            base=Base(m["base"]),
            white_space=m["white_space"],
            patterns=tuple(tuple(step) for step in m["patterns"]),
            enumeration=None if m["enumeration"] is None else frozenset(m["enumeration"]),
            minimum=None if m["minimum"] is None else Decimal(m["minimum"]),
            maximum=None if m["maximum"] is None else Decimal(m["maximum"]),
        )
        for m in entry["members"]
    )
    return ValueType(entry["description"], members)
