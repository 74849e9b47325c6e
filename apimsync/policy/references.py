"""What a policy document refers to by name: backends, fragments, loggers and named values.

:func:`policy_references` lists every reference with where it is, so the validator can
check each name against what the repository manages:

* ``backend``: a literal ``backend-id`` of ``set-backend-service`` (not the Dapr form,
  whose ``backend-id="dapr"`` names no backend entity), of ``llm-content-safety``, and the
  ``embeddings-backend-id`` of the semantic cache lookups;
* ``fragment``: the ``fragment-id`` of ``include-fragment``;
* ``logger``: any ``logger-id`` attribute (``log-to-eventhub``);
* ``named-value``: every ``{{Name}}`` in an attribute value or in text, inside
  expressions too. Liquid templates (``template="liquid"``) use the same braces for their
  own variables, so the content of a templated element is not searched.

Values that are expressions, or that hold a ``{{...}}`` themselves, are not literal
backend, fragment or logger names and are skipped for those kinds.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from xml.etree.ElementTree import Element

from apimsync.policy.parser import PolicyDocument, Position

BACKEND = "backend"
FRAGMENT = "fragment"
LOGGER = "logger"
NAMED_VALUE = "named-value"

NAMED_VALUE_PATTERN = re.compile(r"\{\{([A-Za-z0-9._-]{1,256})\}\}")

# (element, attribute) pairs that name an entity; None matches any element.
_ENTITY_ATTRIBUTES: tuple[tuple[str | None, str, str], ...] = (
    ("set-backend-service", "backend-id", BACKEND),
    ("llm-content-safety", "backend-id", BACKEND),
    ("azure-openai-semantic-cache-lookup", "embeddings-backend-id", BACKEND),
    ("llm-semantic-cache-lookup", "embeddings-backend-id", BACKEND),
    ("include-fragment", "fragment-id", FRAGMENT),
    (None, "logger-id", LOGGER),
)


@dataclass(frozen=True)
class PolicyReference:
    kind: str
    name: str
    position: Position


def policy_references(doc: PolicyDocument) -> list[PolicyReference]:
    """Every backend, fragment, logger and named value the document names, in order."""
    found: list[PolicyReference] = []
    _visit(doc, doc.root, found)
    return found


def _visit(doc: PolicyDocument, element: Element, found: list[PolicyReference]) -> None:
    found.extend(_entity_references(doc, element))
    found.extend(_named_values_in_attributes(doc, element))
    if _is_templated(element):
        return  # the content is a liquid template, not policy text
    found.extend(_text_references(doc, element, element.text))
    for child in element:
        if isinstance(child.tag, str):
            _visit(doc, child, found)
        found.extend(_text_references(doc, child, child.tail))


def _entity_references(doc: PolicyDocument, element: Element) -> Iterator[PolicyReference]:
    for tag, attribute, kind in _ENTITY_ATTRIBUTES:
        if tag is not None and element.tag != tag:
            continue
        value = element.get(attribute)
        if value is None or not _is_literal(value):
            continue
        if kind == BACKEND and element.get("dapr-app-id") is not None:
            continue  # the Dapr form: backend-id="dapr" names the sidecar, not a backend
        yield PolicyReference(kind, value.strip(), doc.attribute_position(element, attribute))


def _is_literal(value: str) -> bool:
    stripped = value.strip()
    return bool(stripped) and not stripped.startswith("@") and "{{" not in stripped


def _named_values_in_attributes(doc: PolicyDocument, element: Element) -> Iterator[PolicyReference]:
    for attribute, value in element.attrib.items():
        for name in _named_values(value):
            yield PolicyReference(NAMED_VALUE, name, doc.attribute_position(element, attribute))


def _text_references(
    doc: PolicyDocument, element: Element, text: str | None
) -> Iterator[PolicyReference]:
    """Named values in a run of text, located at the element it belongs to or follows."""
    names = _named_values(text)
    if names and isinstance(element.tag, str):
        position = doc.position(element)
        for name in names:
            yield PolicyReference(NAMED_VALUE, name, position)


def _named_values(text: str | None) -> list[str]:
    if not text or "{{" not in text:
        return []
    return NAMED_VALUE_PATTERN.findall(text)


def _is_templated(element: Element) -> bool:
    return element.get("template", "").strip().lower() == "liquid"
