"""The policy schema (``schemas/policy.xsd``) as fast lookup tables, and a walker that uses them.

The tables (:class:`ElementRule`: allowed attributes and their value types, required
attributes, allowed children and how often each may occur, text content) are derived from
the XSD by :mod:`apimsync.validate.policy_schema_build`, which needs xmlschema and about
half a second. That result ships as ``schemas/compiled/policy-rules.json``, stamped with
the XSD's SHA-256: :func:`load_schema` reads it (milliseconds, no xmlschema import) when
the stamp matches the XSD beside it, and compiles the XSD otherwise. A pre-commit hook
validating a few files pays only for those files.

:func:`schema_problems` walks a parsed policy tree against the tables. That is the same
check as validating with xmlschema, except that child order is never enforced (the schema
uses ``xs:all`` wherever order is free anyway) and attributes in a namespace (``xml:``,
``xsi:``) are ignored; and it is fast enough for thousands of files a second.

Values that are policy expressions (``@(...)``, ``@{...}``) or that contain a named value
(``{{name}}``) are never type-checked: they are only known at run time.
"""

from __future__ import annotations

import enum
import functools
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from difflib import get_close_matches
from pathlib import Path
from xml.etree.ElementTree import Element

from apimsync.resources import schemas_dir

SCHEMA_PATH = schemas_dir() / "policy.xsd"
TABLES_PATH = schemas_dir() / "compiled" / "policy-rules.json"
_CACHE_LIMIT = 4096


def is_dynamic(value: str) -> bool:
    """True for a value only known at run time: an expression or a named value reference."""
    return value.lstrip().startswith("@") or "{{" in value


def closest(name: str, candidates: Iterable[str]) -> str | None:
    """The candidate most like name, if one is close enough to be a likely typo."""
    matches = get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return matches[0] if matches else None


class Base(enum.Enum):
    """The built-in XSD types a policy value can derive from (others are refused when the
    tables are built, so a new kind of type in the XSD cannot be checked wrongly)."""

    STRING = "string"
    BOOLEAN = "boolean"
    INTEGER = "integer"
    DECIMAL = "decimal"
    DOUBLE = "double"


_LEXICAL = {
    Base.BOOLEAN: re.compile(r"true|false|1|0"),
    Base.INTEGER: re.compile(r"[+-]?[0-9]+"),
    Base.DECIMAL: re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"),
    Base.DOUBLE: re.compile(
        r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[Ee][+-]?[0-9]+)?|[+-]?INF|NaN"
    ),
}


@dataclass(frozen=True)
class ValueMember:
    """One alternative of a simple type (a union has several): the built-in type it
    restricts, its whitespace handling and the facets that narrow it."""

    base: Base
    white_space: str = "preserve"  # or "replace", "collapse" (XSD whiteSpace facet)
    patterns: tuple[tuple[str, ...], ...] = ()  # one tuple per derivation step: any matches
    enumeration: frozenset[str] | None = None
    minimum: Decimal | None = None  # inclusive
    maximum: Decimal | None = None  # inclusive

    def accepts(self, value: str) -> bool:
        text = _normalized(value, self.white_space)
        if not all(any(_regex(p).match(text) for p in step) for step in self.patterns):
            return False
        if self.enumeration is not None and text not in self.enumeration:
            return False
        lexical = _LEXICAL.get(self.base)
        if lexical is not None and not lexical.fullmatch(text):
            return False
        return self._in_range(text)

    def _in_range(self, text: str) -> bool:
        if self.minimum is None and self.maximum is None:
            return True
        try:
            number = Decimal(text)
        except InvalidOperation:
            return False
        if number.is_nan():
            return False
        return (self.minimum is None or number >= self.minimum) and (
            self.maximum is None or number <= self.maximum
        )


@functools.lru_cache(maxsize=256)
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _normalized(value: str, white_space: str) -> str:
    if white_space == "preserve":
        return value
    replaced = value.replace("\t", " ").replace("\n", " ").replace("\r", " ")
    return " ".join(replaced.split(" ")).strip() if white_space == "collapse" else replaced


class ValueType:
    """A simple type from the schema: checks literal values and says what it expects."""

    def __init__(self, description: str, members: tuple[ValueMember, ...]) -> None:
        self.description = description
        self.members = members
        self._verdicts: dict[str, bool] = {}

    def accepts(self, value: str) -> bool:
        verdict = self._verdicts.get(value)
        if verdict is None:
            verdict = any(member.accepts(value) for member in self.members)
            if len(self._verdicts) >= _CACHE_LIMIT:
                self._verdicts.clear()
            self._verdicts[value] = verdict
        return verdict


@dataclass(frozen=True)
class AttributeRule:
    name: str
    required: bool
    value_type: ValueType | None  # None: any string


@dataclass(frozen=True)
class CountRule:
    """How many children whose names are in ``names`` an element may have in total."""

    names: frozenset[str]
    minimum: int
    maximum: int | None  # None: unbounded


class TextKind(enum.Enum):
    NONE = "none"  # element-only content: whitespace only
    ANY = "any"  # mixed or untyped simple content
    TYPED = "typed"  # simple content of a checked type


@dataclass
class ElementRule:
    """What one element declaration of the schema allows."""

    name: str
    attributes: dict[str, AttributeRule] = field(default_factory=dict)
    required: tuple[str, ...] = ()
    any_attribute: bool = False
    children: dict[str, ElementRule] = field(default_factory=dict)
    counts: tuple[CountRule, ...] = ()
    wildcard: frozenset[str] = frozenset()  # namespace constraints of xs:any, e.g. "##other"
    text: TextKind = TextKind.NONE
    text_type: ValueType | None = None
    holds_policies: bool = False  # content is the policy group: a section or a container

    def allows_foreign(self, tag: str) -> bool:
        if "##any" in self.wildcard:
            return True
        return "##other" in self.wildcard and tag.startswith("{")


@dataclass(frozen=True)
class PolicySchema:
    elements: dict[str, ElementRule]  # the global elements: roots and policies
    policy_names: frozenset[str]


def schema_digest(path: Path = SCHEMA_PATH) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@functools.cache
def load_schema(path: Path = SCHEMA_PATH) -> PolicySchema:
    """The rule tables of the XSD at ``path``: the shipped compiled tables when they were
    built from this very XSD, else compiled now. Cached for the life of the process."""
    from apimsync.validate import policy_tables

    digest = schema_digest(path)
    if path == SCHEMA_PATH:
        shipped = policy_tables.read_tables(TABLES_PATH, digest)
        if shipped is not None:
            return shipped
    from apimsync.validate.policy_schema_build import build_schema

    return build_schema(path)


# ------------------------------------------------------------------------------------ walk


class ProblemKind(enum.Enum):
    UNKNOWN_ELEMENT = "unknown-element"
    UNKNOWN_ATTRIBUTE = "unknown-attribute"
    MISSING_ATTRIBUTE = "missing-attribute"
    INVALID_VALUE = "invalid-value"
    INVALID_TEXT = "invalid-text"
    UNEXPECTED_TEXT = "unexpected-text"
    TOO_FEW = "too-few"
    TOO_MANY = "too-many"


@dataclass(frozen=True)
class SchemaProblem:
    """One schema violation: what, on which element (and attribute), and why."""

    kind: ProblemKind
    element: Element
    parent: Element | None
    message: str
    attribute: str | None = None
    name: str = ""  # the unknown element or attribute, or the missing attribute
    suggestion: str | None = None
    policy_position: bool = False  # an unknown element where policies go


def schema_problems(root: Element, rule: ElementRule | None = None) -> list[SchemaProblem]:
    """Every schema violation in the tree below root (root's own rule looked up by name)."""
    if rule is None:
        rule = load_schema().elements.get(str(root.tag))
        if rule is None:
            return []
    problems: list[SchemaProblem] = []
    _check_element(root, None, rule, problems)
    return problems


def _check_element(
    element: Element, parent: Element | None, rule: ElementRule, out: list[SchemaProblem]
) -> None:
    if element.attrib or rule.required:
        _check_attributes(element, parent, rule, out)
    if rule.text is not TextKind.ANY:
        _check_text(element, parent, rule, out)
    if len(element) or rule.counts:
        _check_children(element, rule, out)


def _check_attributes(
    element: Element, parent: Element | None, rule: ElementRule, out: list[SchemaProblem]
) -> None:
    for name, value in element.attrib.items():
        attribute = rule.attributes.get(name)
        if attribute is None:
            if not rule.any_attribute and not name.startswith("{"):
                out.append(_unknown_attribute(element, parent, rule, name))
            continue
        value_type = attribute.value_type
        if value_type is not None and not is_dynamic(value) and not value_type.accepts(value):
            message = (
                f"'{value}' is not a valid value for '{name}' on <{rule.name}>: "
                f"expected {value_type.description}"
            )
            out.append(
                SchemaProblem(
                    ProblemKind.INVALID_VALUE, element, parent, message, attribute=name, name=name
                )
            )
    for name in rule.required:
        if name not in element.attrib:
            message = f"<{rule.name}> needs the attribute '{name}'; add {name}=\"...\""
            out.append(
                SchemaProblem(ProblemKind.MISSING_ATTRIBUTE, element, parent, message, name=name)
            )


def _unknown_attribute(
    element: Element, parent: Element | None, rule: ElementRule, name: str
) -> SchemaProblem:
    suggestion = closest(name, list(rule.attributes))
    message = f"<{rule.name}> has no attribute '{name}'"
    if suggestion:
        message += f"; did you mean '{suggestion}'?"
    elif rule.attributes:
        message += "; allowed: " + ", ".join(sorted(rule.attributes))
    else:
        message += "; it takes no attributes"
    return SchemaProblem(
        ProblemKind.UNKNOWN_ATTRIBUTE,
        element,
        parent,
        message,
        attribute=name,
        name=name,
        suggestion=suggestion,
    )


def _check_text(
    element: Element, parent: Element | None, rule: ElementRule, out: list[SchemaProblem]
) -> None:
    text = _own_text(element)
    if rule.text is TextKind.NONE:
        if text and not text.isspace():
            message = f"<{rule.name}> cannot contain text; remove '{_excerpt(text)}'"
            out.append(SchemaProblem(ProblemKind.UNEXPECTED_TEXT, element, parent, message))
        return
    value_type = rule.text_type
    if value_type is not None and not is_dynamic(text) and not value_type.accepts(text):
        message = (
            f"'{_excerpt(text)}' is not valid content for <{rule.name}>: "
            f"expected {value_type.description}"
        )
        out.append(SchemaProblem(ProblemKind.INVALID_TEXT, element, parent, message))


def _own_text(element: Element) -> str:
    if not len(element):
        return element.text or ""
    parts = [element.text or ""]
    parts.extend(child.tail or "" for child in element)
    return "".join(parts)


def _excerpt(text: str, limit: int = 40) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def _check_children(element: Element, rule: ElementRule, out: list[SchemaProblem]) -> None:
    seen: dict[str, int] = {}
    children = rule.children
    for child in element:
        tag = child.tag
        if not isinstance(tag, str):
            continue  # comments and processing instructions
        child_rule = children.get(tag)
        if child_rule is None:
            if not rule.allows_foreign(tag):
                out.append(_unknown_element(child, element, rule))
            continue
        seen[tag] = seen.get(tag, 0) + 1
        _check_element(child, element, child_rule, out)
    if rule.counts:
        _check_counts(element, rule, seen, out)


def _unknown_element(child: Element, parent: Element, rule: ElementRule) -> SchemaProblem:
    tag = str(child.tag)
    suggestion = closest(tag, list(rule.children))
    if rule.holds_policies:
        message = f"<{tag}> is not a known policy"
    elif rule.text is not TextKind.NONE and not rule.children:
        message = f"<{rule.name}> holds text only, not elements like <{tag}>"
    else:
        message = f"<{tag}> is not allowed in <{rule.name}>"
        if not suggestion and rule.children:
            message += "; allowed: " + ", ".join(f"<{n}>" for n in sorted(rule.children))
    if suggestion:
        message += f"; did you mean '{suggestion}'?"
    return SchemaProblem(
        ProblemKind.UNKNOWN_ELEMENT,
        child,
        parent,
        message,
        name=tag,
        suggestion=suggestion,
        policy_position=rule.holds_policies,
    )


def _check_counts(
    element: Element, rule: ElementRule, seen: dict[str, int], out: list[SchemaProblem]
) -> None:
    for count in rule.counts:
        total = sum(seen.get(name, 0) for name in count.names)
        names = " or ".join(f"<{n}>" for n in sorted(count.names))
        if total < count.minimum:
            message = f"<{rule.name}> needs at least {count.minimum} {names}; add it"
            out.append(SchemaProblem(ProblemKind.TOO_FEW, element, None, message, name=names))
        elif count.maximum is not None and total > count.maximum:
            offender = _nth_of(element, count.names, count.maximum + 1)
            message = f"<{rule.name}> allows at most {count.maximum} {names}; remove the extra one"
            out.append(SchemaProblem(ProblemKind.TOO_MANY, offender, element, message, name=names))


def _nth_of(element: Element, names: frozenset[str], n: int) -> Element:
    """The n-th child with one of the names (the element itself if there is none)."""
    found = 0
    for child in element:
        if child.tag in names:
            found += 1
            if found == n:
                return child
    return element
