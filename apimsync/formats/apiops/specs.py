"""Specification files: what an API's ``specification.*`` is imported as.

APIOps keeps an API's operations only in its specification. Reading turns the file into
the ARM import properties ``format`` and ``value`` of the API (GraphQL SDL into the
API's ``graphql`` schema instead, as the toolkit publishes it); the operations the
service creates from it come from :mod:`apimsync.apispec`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import yaml

from apimsync.apispec import IMPORT_FORMATS, parse_specification
from apimsync.errors import SpecificationError

GRAPHQL_SCHEMA = "graphql"
GRAPHQL_CONTENT_TYPE = "application/vnd.ms-azure-apim.graphql.schema"

OPENAPI_YAML = "openapi"
OPENAPI_JSON = "openapi+json"
SWAGGER_JSON = "swagger-json"
WSDL = "wsdl"
WADL = "wadl-xml"

EXTENSION_OF_FORMAT = {
    OPENAPI_YAML: "yaml",
    OPENAPI_JSON: "json",
    SWAGGER_JSON: "json",
    WSDL: "wsdl",
    WADL: "wadl",
}


class SpecificationProblem(ValueError):
    """A specification file cannot be imported; the message says why."""


@dataclass(frozen=True)
class Imported:
    """What a specification file is sent as: ``format`` None means a GraphQL schema."""

    format: str | None
    value: str
    document: Any = None
    """The parsed OpenAPI document (None for the other formats)."""


def read_specification(extension: str, text: str) -> Imported:
    """The import form of a ``specification.<extension>`` file's text."""
    if extension == "graphql":
        return Imported(None, text)
    if extension == "wsdl":
        return Imported(WSDL, text)
    if extension == "wadl":
        return Imported(WADL, text)
    document = _parse(extension, text)
    if not isinstance(document, dict):
        raise SpecificationProblem("is not an OpenAPI or Swagger document (no object at the top)")
    if isinstance(document.get("openapi"), str):
        return Imported(OPENAPI_JSON if extension == "json" else OPENAPI_YAML, text, document)
    if str(document.get("swagger")) == "2.0":
        # ARM imports Swagger 2 only as JSON; a YAML one is sent converted, as APIOps does.
        value = text if extension == "json" else json.dumps(document, indent=2)
        return Imported(SWAGGER_JSON, value, document)
    raise SpecificationProblem(
        "names neither 'openapi' (3.x) nor 'swagger: \"2.0\"'; APIM cannot import it"
    )


def _parse(extension: str, text: str) -> Any:
    try:
        if extension == "json":
            return json.loads(text)
        return yaml.load(text, Loader=_Loader)
    except (ValueError, yaml.YAMLError) as error:
        detail = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise SpecificationProblem(f"is not valid {extension.upper()}: {detail}") from None


class _Loader(yaml.CSafeLoader if hasattr(yaml, "CSafeLoader") else yaml.SafeLoader):  # type: ignore[misc]
    """Safe YAML; timestamps stay text, as JSON-minded OpenAPI tools read them."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


TAKEN_FROM_DOCUMENT = ("displayName", "description", "serviceUrl", "protocols")
"""What an import takes from the document where the API's own properties do not say it."""


@dataclass(frozen=True)
class Derived:
    """What importing a specification into an API creates, as apimsync.apispec maps it."""

    api_properties: dict[str, Any]
    """The API properties the document decides (where the API's own do not)."""
    resources: list[tuple[str, dict[str, Any]]]
    """(id, properties) of the operations and the schema."""


def derive(api_id: str, imported: Imported) -> Derived:
    """What the service creates when it imports ``imported`` into ``api_id``: nothing for
    the formats the mapping does not read (WSDL, WADL), as the emulator imports them.
    :class:`SpecificationProblem` if the document cannot be mapped."""
    if imported.format not in IMPORT_FORMATS:
        return Derived({}, [])
    try:
        spec = parse_specification(imported.value, imported.format)
    except SpecificationError as error:
        raise SpecificationProblem(error.problem) from None
    resources = [
        (f"{api_id}/operations/{operation.name}", _plain(operation.properties))
        for operation in spec.operations
    ]
    if spec.schema is not None:
        schema = {"contentType": spec.schema.content_type, "document": spec.schema.document}
        resources.append((f"{api_id}/schemas/{spec.schema.schema_id}", _plain(schema)))
    taken = {
        key: _plain(value)
        for key, value in spec.api_properties.items()
        if key in TAKEN_FROM_DOCUMENT and value is not None
    }
    return Derived(taken, resources)


def _plain(value: Any) -> Any:
    """JSON data (what the document's YAML may hold as dates or numbers stays text-safe)."""
    return json.loads(json.dumps(value, default=str))
