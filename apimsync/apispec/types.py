"""What a specification maps to: API properties, operations and the schema they use."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class SpecOperation:
    """One operation: its name (the id under ``/operations``) and ARM ``properties``."""

    name: str
    properties: Mapping[str, Any]


@dataclass(frozen=True)
class SpecSchema:
    """The API schema an import creates: the document's type definitions, under the id
    every representation's ``schemaId`` names."""

    schema_id: str
    content_type: str
    document: Mapping[str, Any]


@dataclass(frozen=True)
class ApiSpecification:
    """A specification as API Management maps it.

    ``api_properties`` holds what the document decides of the API (``displayName``,
    ``description``, ``serviceUrl``, ``protocols``); the caller's own values (``path``,
    a ``serviceUrl`` it sent) take precedence over them.
    """

    api_properties: Mapping[str, Any]
    operations: tuple[SpecOperation, ...]
    schema: SpecSchema | None = None
    warnings: tuple[str, ...] = field(default=())
