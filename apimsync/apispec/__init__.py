"""API specifications (OpenAPI 3, Swagger 2) and the model, both ways.

API Management turns an imported specification into API properties, operations and a
schema, and turns them back into a specification on export. This package does the same
mapping, the way the real service does it (``shared/docs/real-service-behaviour.md`` §5),
for every layer that meets specifications: the emulator's import and export, and the
APIOps layout, which keeps an API's operations only as a specification file.

>>> spec = parse_specification(text, "openapi")                 # doctest: +SKIP
>>> spec.api_properties["displayName"], [op.name for op in spec.operations]
>>> export_specification(api_properties, operations, "openapi+json")

It knows nothing of HTTP, the emulator or click; YAML support (``pyyaml``) is imported
only when a YAML document is read or written.
"""

from __future__ import annotations

from apimsync.apispec.exporting import EXPORT_FORMATS, export_specification
from apimsync.apispec.importing import IMPORT_FORMATS, parse_specification
from apimsync.apispec.types import ApiSpecification, SpecOperation, SpecSchema

__all__ = [
    "EXPORT_FORMATS",
    "IMPORT_FORMATS",
    "ApiSpecification",
    "SpecOperation",
    "SpecSchema",
    "export_specification",
    "parse_specification",
]
