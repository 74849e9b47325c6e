"""API import (``format`` + ``value`` on an API PUT) and export (``?export=true``).

Both go through :mod:`apimsync.apispec`, the mapping the real service applies (catalogue
§5). An import creates the operations and the schema the document describes, replacing
the revision's operations; the document's title, description, server and schemes fill
what the request did not say itself. A ``*-link`` import can only be fetched from the
emulator's own export links (it has no network): any other URL is refused.

An export answers the non-ARM ``{"id", "format", "value": {"link"}}`` (§5 [OAS20 e5]) with
the API's ETag; the link is an HTTPS URL of this emulator, valid without a token (as a
blob SAS URL is), named after the API's display name, serving the exported document.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote, urlsplit

from apimsync.apispec import (
    IMPORT_FORMATS,
    ApiSpecification,
    SpecOperation,
    SpecSchema,
    export_specification,
    parse_specification,
)
from apimsync.emulator.core import ArmError, Ctx, Reply, validation_error
from apimsync.emulator.resources import normalise_operation, public
from apimsync.emulator.store import Row, Store
from apimsync.errors import SpecificationError

LINK_IMPORTS = {
    "openapi-link": "openapi",
    "openapi+json-link": "openapi+json",
    "swagger-link-json": "swagger-json",
    "wsdl-link": "wsdl",
}
EXPORTS = {
    # requested format: (document format, answered format, file extension)
    "openapi-link": ("openapi", "openapi-link", "yaml"),
    "openapi+json-link": ("openapi+json", "openapi+json-link", "json"),
    "swagger-link": ("swagger-json", "swagger-link-json", "json"),
    "wadl-link": ("wadl", "wadl-link-json", "wadl"),
}
EXPORT_PATH = "_emulator/api-export"
TAKEN_FROM_DOCUMENT = ("displayName", "description", "serviceUrl", "protocols", "type")


# -- import ----------------------------------------------------------------------------


def read_import(
    ctx: Ctx, fmt: str | None, value: Any, selector: Any = None
) -> ApiSpecification | None:
    """The specification an API PUT imports; 400 if it cannot be read.

    None when there is nothing the emulator can read: no import, a format it does not map
    (WSDL, WADL, GraphQL, gRPC, OData) or a link to another host, which the real service
    would fetch. The API is then created without operations, as before the import.
    """
    if fmt is None or value is None:
        return None
    text = value if isinstance(value, str) else json.dumps(value)
    if fmt in LINK_IMPORTS:
        own = _own_link(ctx, text)
        if own is None:
            return None
        text, fmt = own, LINK_IMPORTS[fmt]
    if fmt not in IMPORT_FORMATS:
        return None
    try:
        chosen = selector if isinstance(selector, dict) else None
        return parse_specification(text, fmt, wsdl_selector=chosen)
    except SpecificationError as error:
        raise validation_error(f"Parsing error(s): {error.message}", target="value") from None


def _own_link(ctx: Ctx, link: str) -> str | None:
    """The document behind an export link of this emulator; None for other hosts."""
    split = urlsplit(link.strip())
    own = urlsplit(ctx.endpoint)
    parts = unquote(split.path).strip("/").split("/")
    if split.netloc.lower() != own.netloc.lower() or "/".join(parts[:2]) != EXPORT_PATH:
        return None
    token = dict(p.split("=", 1) for p in split.query.split("&") if "=" in p).get("sig", "")
    stored = ctx.store.get_operation(ctx.service, token) if token else None
    if stored is None or "_export" not in stored:
        raise validation_error(f"Nothing can be read from '{link}'.", target="value")
    return str(stored["_export"])


def apply_import(row: Row, spec: ApiSpecification, given: Mapping[str, Any]) -> None:
    """Fill what the request did not say from the document (§5)."""
    for key in TAKEN_FROM_DOCUMENT:
        if given.get(key) is None and key in spec.api_properties:
            row.props[key] = spec.api_properties[key]
    row.props = {k: v for k, v in row.props.items() if v is not None or k == "description"}


def store_imported(ctx: Ctx, api: Row, spec: ApiSpecification) -> None:
    """Replace the revision's operations (and add the schema) with the document's."""
    for old in ctx.store.children(ctx.service, api.key, "operation"):
        ctx.store.delete_tree(ctx.service, old.key)
    for operation in spec.operations:
        props = json.loads(json.dumps(operation.properties))
        normalise_operation(props)
        ctx.store.put(
            ctx.service, Row("operation", f"{api.path}/operations/{operation.name}", props)
        )
    if spec.schema is not None:
        schema = {"contentType": spec.schema.content_type, "document": dict(spec.schema.document)}
        path = f"{api.path}/schemas/{spec.schema.schema_id}"
        ctx.store.put(ctx.service, Row("apiSchema", path, json.loads(json.dumps(schema))))


# -- export ----------------------------------------------------------------------------


def export_api(ctx: Ctx, api: Row) -> Reply:
    """``GET apis/{id}?export=true&format=...``: the non-ARM export result (§5)."""
    wanted = ctx.query.get("format", "")
    if wanted not in EXPORTS:
        raise ArmError(
            400,
            "ValidationError",
            f"'{wanted}' is not an export format this API can be exported in "
            f"({', '.join(EXPORTS)}).",
        )
    document_format, answered, extension = EXPORTS[wanted]
    text = export_specification(
        public(api.props),
        _operations(ctx, api),
        document_format,
        schemas=_schemas(ctx, api),
        server_url=_gateway_url(ctx, api),
    )
    token = secrets.token_hex(24)
    ctx.store.put_operation(token, ctx.service, {"_export": text, "_type": extension})
    name = str(api.props.get("displayName") or api.name)
    where = f"{ctx.endpoint}/{EXPORT_PATH}/{ctx.service}/{name}.{extension}"
    link = f"{where}?sv=2017-04-17&sr=b&sig={token}"  # the name unencoded, as recorded
    body = {"id": ctx.display_id(api), "format": answered, "value": {"link": link}}
    return Reply(200, body, {"ETag": api.etag})


def _operations(ctx: Ctx, api: Row) -> list[SpecOperation]:
    rows = ctx.store.children(ctx.service, api.key, "operation")
    return [SpecOperation(row.name, public(row.props)) for row in rows]


def _schemas(ctx: Ctx, api: Row) -> list[SpecSchema]:
    rows = ctx.store.children(ctx.service, api.key, "apiSchema")
    found = []
    for row in rows:
        document = row.props.get("document")
        if isinstance(document, dict):
            found.append(SpecSchema(row.name, str(row.props.get("contentType")), document))
    return found


def _gateway_url(ctx: Ctx, api: Row) -> str:
    path = str(api.props.get("path") or "").strip("/")
    return f"https://{ctx.service}.azure-api.net" + (f"/{path}" if path else "")


def exported_document(store: Store, service: str, token: str) -> tuple[str, str] | None:
    """(text, content type) of an export link's document, or None."""
    stored = store.get_operation(service, token)
    if not isinstance(stored, dict) or "_export" not in stored:
        return None
    types = {"yaml": "application/yaml", "wadl": "application/vnd.sun.wadl+xml"}
    content_type = types.get(str(stored.get("_type")), "application/json")
    return str(stored["_export"]), content_type
