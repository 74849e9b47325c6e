"""Policy documents as the management API takes and returns them.

``xml`` documents are well-formed XML, their expressions entity-escaped; ``rawxml``
documents carry expressions as-is (raw ``"``, ``<``, ``&``). The emulator keeps each
document in the format it was sent in, re-serialised as the service writes policies
(:mod:`apimsync.emulator.policyxml`), and converts only when a reader asks for the other
format: expression spans (found by :mod:`apimsync.policy.expressions`) are decoded to
their meaning and, for ``xml``, escaped again; text outside expressions is never touched.

Validation: the document must be well-formed once its expressions are escaped, with the
expected root (``policies`` or ``fragment``) and only the four sections in a scope
document. When ``apimsync.policy.parser.parse_policy`` exists, scope documents also pass
through it (its ``PolicySyntaxError`` becomes a 400 ValidationError).
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as DefusedET
from defusedxml import DefusedXmlException

from apimsync.policy.expressions import PolicySyntaxError, find_expressions

SECTIONS = ("inbound", "backend", "outbound", "on-error")
INLINE_FORMATS = ("xml", "rawxml")
LINK_FORMATS = ("xml-link", "rawxml-link")

_REFERENCE = re.compile(r"&(?:(lt|gt|amp|quot|apos)|#([0-9]{1,7})|#x([0-9a-fA-F]{1,6}));")
_PREDEFINED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}
_NAMED_VALUE = re.compile(r"\{\{([^{}]+)\}\}")
_ATTRIBUTE_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;"}
_TEXT_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}

# (element, attribute) pairs whose literal value names another resource.
REFERENCE_ATTRIBUTES = {
    ("include-fragment", "fragment-id"): "fragment",
    ("set-backend-service", "backend-id"): "backend",
    ("log-to-eventhub", "logger-id"): "logger",
}


class PolicyDocumentError(ValueError):
    """The document is not a policy document the service would accept."""


@dataclass
class References:
    """What a policy document names: named values, fragments, backends, loggers."""

    named_values: set[str] = field(default_factory=set)
    by_kind: dict[str, set[str]] = field(default_factory=dict)


def _decode(match: re.Match[str]) -> str:
    name, decimal, hexadecimal = match.groups()
    if name:
        return _PREDEFINED[name]
    code = int(decimal) if decimal else int(hexadecimal, 16)
    try:
        return chr(code)
    except (ValueError, OverflowError):
        return match.group(0)


def _rewrite_expressions(text: str, rewrite: Callable[[str, bool], str]) -> str:
    spans = find_expressions(text)
    if not spans:
        return text
    out: list[str] = []
    last = 0
    for span in spans:
        out.append(text[last : span.start])
        out.append(rewrite(text[span.start : span.end], span.in_attribute))
        last = span.end
    out.append(text[last:])
    return "".join(out)


def _meaning(expression: str) -> str:
    return _REFERENCE.sub(_decode, expression) if "&" in expression else expression


def _escape(expression: str, in_attribute: bool) -> str:
    table = _ATTRIBUTE_ESCAPES if in_attribute else _TEXT_ESCAPES
    meaning = _meaning(expression)
    return "".join(table.get(ch, ch) for ch in meaning)


def to_xml(text: str) -> str:
    """The ``xml`` form of a document: every expression entity-escaped."""
    return _rewrite_expressions(text, _escape)


def to_rawxml(text: str) -> str:
    """The ``rawxml`` form of a document: every expression as its raw meaning."""
    return _rewrite_expressions(text, lambda expr, _attr: _meaning(expr))


def render(text: str, stored_format: str, wanted_format: str) -> str:
    """The document in ``wanted_format``; unchanged when that is the format it was sent in."""
    if stored_format == wanted_format:
        return text
    return to_rawxml(text) if wanted_format == "rawxml" else to_xml(text)


def _parse(xml_text: str) -> Element:
    try:
        root: Element = DefusedET.fromstring(xml_text)
    except ParseError as exc:
        line, column = getattr(exc, "position", (0, 0))
        raise PolicyDocumentError(
            f"the policy document is not well-formed XML (line {line}, column {column + 1})"
        ) from exc
    except DefusedXmlException as exc:
        raise PolicyDocumentError("the policy document may not declare a DTD or entities") from exc
    return root


def _check_sections(root: Element) -> None:
    seen: set[str] = set()
    for child in root:
        tag = child.tag
        if not isinstance(tag, str):
            continue
        if tag not in SECTIONS:
            raise PolicyDocumentError(
                f"'{tag}' is not a section of a policy document (allowed: {', '.join(SECTIONS)})"
            )
        if tag in seen:
            raise PolicyDocumentError(f"the section '{tag}' appears more than once")
        seen.add(tag)


def _external_parser() -> Callable[[str], Any] | None:
    try:
        module = importlib.import_module("apimsync.policy.parser")
    except ImportError:
        return None
    parse = getattr(module, "parse_policy", None)
    return parse if callable(parse) else None


def validate(text: str, fmt: str, root_name: str) -> Element:
    """Check a document sent in ``fmt``; return its parsed (escaped) form."""
    if not isinstance(text, str) or not text.strip():
        raise PolicyDocumentError("the policy document is empty")
    try:
        xml_text = text if fmt == "xml" else to_xml(text)
    except PolicySyntaxError as exc:
        raise PolicyDocumentError(exc.detail) from exc
    root = _parse(xml_text)
    if root.tag != root_name:
        raise PolicyDocumentError(f"the root element must be <{root_name}>, not <{root.tag}>")
    if root_name == "policies":
        _check_sections(root)
        parse = _external_parser()
        if parse is not None:
            try:
                parse(text)
            except PolicySyntaxError as exc:
                raise PolicyDocumentError(exc.detail) from exc
    return root


def _literal(value: str) -> bool:
    stripped = value.strip()
    return bool(stripped) and not stripped.startswith("@") and "{{" not in stripped


def _without_liquid(root: Element) -> str:
    """The document's attribute values and text, leaving out liquid templates, whose
    ``{{body.x}}`` placeholders use the named-value braces for another purpose."""
    parts: list[str] = []

    def visit(element: Element) -> None:
        parts.extend(element.attrib.values())
        if element.get("template", "").strip().lower() == "liquid":
            return
        parts.append(element.text or "")
        for child in element:
            if isinstance(child.tag, str):
                visit(child)
            parts.append(child.tail or "")

    visit(root)
    return "\n".join(parts)


def references(text: str, root: Element) -> References:
    """The named values (``{{name}}``) and literal resource ids a document uses."""
    refs = References(named_values={m.strip() for m in _NAMED_VALUE.findall(_without_liquid(root))})
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        for (tag, attribute), kind in REFERENCE_ATTRIBUTES.items():
            value = element.get(attribute) if element.tag == tag else None
            if value is not None and _literal(value):
                refs.by_kind.setdefault(kind, set()).add(value.strip())
    return refs
