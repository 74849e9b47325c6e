"""The policy schema (``schemas/policy.xsd``) as fast lookup tables, and a walker that uses them.

xmlschema compiles the XSD once per process; its element declarations are then turned into
:class:`ElementRule` tables (allowed attributes and their types, required attributes,
allowed children and how often each may occur, text content). :func:`schema_problems`
walks a parsed policy tree against these tables. That is the same check as validating
with xmlschema, except that child order is never enforced (the schema uses ``xs:all``
wherever order is free anyway) and attributes in a namespace (``xml:``, ``xsi:``) are
ignored; and it is fast enough for thousands of files a second.

Values that are policy expressions (``@(...)``, ``@{...}``) or that contain a named value
(``{{name}}``) are never type-checked: they are only known at run time.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from difflib import get_close_matches
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element

import xmlschema
from xmlschema.validators import XsdAnyElement, XsdGroup

from apimsync.resources import schemas_dir

SCHEMA_PATH = schemas_dir() / "policy.xsd"
POLICY_GROUP = "policy"
_XSD_STRING_TYPES = frozenset(
    {"{http://www.w3.org/2001/XMLSchema}string", "{http://www.w3.org/2001/XMLSchema}anySimpleType"}
)
_CACHE_LIMIT = 4096


def is_dynamic(value: str) -> bool:
    """True for a value only known at run time: an expression or a named value reference."""
    return value.lstrip().startswith("@") or "{{" in value


def closest(name: str, candidates: Iterable[str]) -> str | None:
    """The candidate most like name, if one is close enough to be a likely typo."""
    matches = get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return matches[0] if matches else None


class ValueType:
    """A simple type from the schema: checks literal values and says what it expects."""

    def __init__(self, xsd_type: Any) -> None:
        self._xsd_type = xsd_type
        self.description = _describe(xsd_type)
        self._verdicts: dict[str, bool] = {}

    def accepts(self, value: str) -> bool:
        verdict = self._verdicts.get(value)
        if verdict is None:
            verdict = bool(self._xsd_type.is_valid(value))
            if len(self._verdicts) >= _CACHE_LIMIT:
                self._verdicts.clear()
            self._verdicts[value] = verdict
        return verdict


def _describe(xsd_type: Any) -> str:
    annotation = getattr(xsd_type, "annotation", None)
    if annotation is not None and annotation.documentation:
        text = annotation.documentation[0].text
        if text:
            return " ".join(text.split())
    return f"a valid {getattr(xsd_type, 'local_name', None) or 'value'}"


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
    xsd: Any  # the compiled xmlschema.XMLSchema11, for a full reference validation


@functools.cache
def load_schema(path: Path = SCHEMA_PATH) -> PolicySchema:
    """Compile the XSD and build the rule tables; cached for the life of the process.

    The XSD ships with apimsync and a test checks it against the XSD meta-schema, so it is
    not checked again here: that check is most of the compile time, which every
    ``validate`` (and every pre-commit hook) would pay."""
    xsd = xmlschema.XMLSchema11(str(path), validation="skip")
    builder = _RuleBuilder(xsd)
    elements = {name: builder.element(decl) for name, decl in xsd.elements.items()}
    names = frozenset(p.name for p in _leaf_particles(xsd.groups[POLICY_GROUP]))
    return PolicySchema(elements=elements, policy_names=names, xsd=xsd)


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
            found = self._value_types[id(xsd_type)] = ValueType(xsd_type)
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
