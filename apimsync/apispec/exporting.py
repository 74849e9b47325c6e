"""API properties and operations -> a specification document (an export).

The reverse of :mod:`apimsync.apispec.importing`: template parameters of the query part
of ``urlTemplate`` become required query parameters, ``Format - x.`` is unfolded into the
parameter's ``format``, representations refer to the schema's types by ``typeName``.
Importing an export gives the operations back.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit
from xml.etree.ElementTree import Element, SubElement, tostring

from apimsync.apispec import documents
from apimsync.apispec.importing import FORMAT_TEXTS
from apimsync.apispec.types import SpecOperation, SpecSchema
from apimsync.errors import SpecificationError

EXPORT_FORMATS = ("openapi", "openapi+json", "swagger-json", "wadl")
"""``openapi`` is OpenAPI 3 in YAML, ``openapi+json`` in JSON, ``swagger-json`` Swagger 2,
``wadl`` a WADL application (resources, methods, parameters, representations)."""
WADL_NAMESPACE = "http://wadl.dev.java.net/2009/02"
_FOLDED = re.compile(r"^Format - (?P<format>.+?)\.(?: (?P<rest>.*))?$", re.DOTALL)
_UNFOLD = {text: name for name, text in FORMAT_TEXTS.items()}
_TEMPLATE = re.compile(r"\{\*?([^{}]+)\}")


def export_specification(
    api: Mapping[str, Any],
    operations: Iterable[SpecOperation],
    format: str,
    *,
    schemas: Iterable[SpecSchema] = (),
    server_url: str | None = None,
) -> str:
    """The document of ``api`` (its ARM properties) and ``operations`` in ``format``.

    ``schemas`` supply the types representations name; ``server_url`` overrides the
    API's ``serviceUrl`` as the document's server (an export names the gateway).
    """
    if format not in EXPORT_FORMATS:
        raise SpecificationError(f"format '{format}' is not one of {', '.join(EXPORT_FORMATS)}")
    if format == "wadl":
        return _wadl(api, list(operations), server_url)
    swagger = format == "swagger-json"
    writer = _Writer(swagger)
    document = writer.document(api, list(operations), list(schemas), server_url)
    return documents.dump(document, as_yaml=format == "openapi")


def _wadl(api: Mapping[str, Any], operations: list[SpecOperation], server_url: str | None) -> str:
    application = Element("application", {"xmlns": WADL_NAMESPACE})
    SubElement(application, "doc", {"title": str(api.get("displayName") or "API")})
    base = server_url or str(api.get("serviceUrl") or "")
    resources = SubElement(application, "resources", {"base": base})
    by_path: dict[str, Element] = {}
    for operation in sorted(operations, key=lambda o: o.name):
        props = operation.properties
        path, _, query = str(props.get("urlTemplate") or "/").partition("?")
        if path not in by_path:
            by_path[path] = SubElement(resources, "resource", {"path": path})
        method = SubElement(
            by_path[path], "method", {"name": str(props.get("method")), "id": operation.name}
        )
        SubElement(method, "doc", {"title": str(props.get("displayName") or operation.name)})
        request = SubElement(method, "request")
        in_query = set(_TEMPLATE.findall(query))
        request_props = props.get("request") or {}
        for style, parameters in (
            (
                "template",
                [p for p in props.get("templateParameters") or [] if p.get("name") not in in_query],
            ),
            (
                "query",
                [p for p in props.get("templateParameters") or [] if p.get("name") in in_query],
            ),
            ("query", request_props.get("queryParameters") or []),
            ("header", request_props.get("headers") or []),
        ):
            for parameter in parameters:
                required = style == "template" or parameter.get("required") is True
                attributes = {"name": str(parameter.get("name")), "style": style}
                attributes |= {"type": f"xs:{parameter.get('type') or 'string'}"}
                attributes |= {"required": "true" if required else "false"}
                SubElement(request, "param", attributes)
        for representation in request_props.get("representations") or []:
            SubElement(
                request, "representation", {"mediaType": str(representation.get("contentType"))}
            )
        for response in props.get("responses") or []:
            answer = SubElement(method, "response", {"status": str(response.get("statusCode"))})
            for representation in response.get("representations") or []:
                SubElement(
                    answer, "representation", {"mediaType": str(representation.get("contentType"))}
                )
    return '<?xml version="1.0" encoding="utf-8"?>\n' + tostring(application, encoding="unicode")


def _unfold(description: Any) -> tuple[str | None, str | None]:
    """(format, description) of a folded ``Format - int64. Text`` description."""
    if not isinstance(description, str) or not description:
        return None, None
    match = _FOLDED.match(description)
    if match is None:
        return None, description
    fmt = match.group("format")
    return _UNFOLD.get(fmt, fmt), match.group("rest") or None


def _compact(value: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in value.items() if v is not None and v != [] and v != {}}


class _Writer:
    def __init__(self, swagger: bool) -> None:
        self.swagger = swagger
        self.prefix = "#/definitions/" if swagger else "#/components/schemas/"

    def document(
        self,
        api: Mapping[str, Any],
        operations: list[SpecOperation],
        schemas: list[SpecSchema],
        server_url: str | None,
    ) -> dict[str, Any]:
        info = _compact(
            {
                "title": api.get("displayName") or "API",
                "description": api.get("description"),
                "version": api.get("apiVersion") or "1.0",
            }
        )
        paths: dict[str, dict[str, Any]] = {}
        for operation in sorted(operations, key=lambda o: o.name):
            template = str(operation.properties.get("urlTemplate") or "/")
            path = template.split("?", 1)[0] or "/"
            method = str(operation.properties.get("method") or "GET").lower()
            paths.setdefault(path, {})[method] = self.operation(operation)
        types = self.types(schemas)
        url = server_url or api.get("serviceUrl")
        if self.swagger:
            document: dict[str, Any] = {"swagger": "2.0", "info": info}
            document.update(self.swagger_server(url, api.get("protocols")))
            document["paths"] = paths
            if types:
                document["definitions"] = types
            return document
        document = {"openapi": "3.0.1", "info": info}
        if url:
            document["servers"] = [{"url": url}]
        document["paths"] = paths
        if types:
            document["components"] = {"schemas": types}
        return document

    @staticmethod
    def swagger_server(url: Any, protocols: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if isinstance(url, str) and url:
            split = urlsplit(url)
            out["host"] = split.netloc
            out["basePath"] = split.path or "/"
            out["schemes"] = [split.scheme]
        elif isinstance(protocols, list) and protocols:
            out["schemes"] = [p for p in protocols if p in ("http", "https")]
        return out

    def types(self, schemas: list[SpecSchema]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for schema in schemas:
            document = schema.document
            definitions = document.get("definitions")
            components = document.get("components")
            if isinstance(definitions, Mapping):
                found.update(definitions)
            elif isinstance(components, Mapping) and isinstance(components.get("schemas"), Mapping):
                found.update(components["schemas"])
        return {name: self.refs(value) for name, value in found.items()}

    def refs(self, node: Any) -> Any:
        """``node`` with every local type reference in this document's form."""
        if isinstance(node, Mapping):
            out = {k: self.refs(v) for k, v in node.items()}
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/"):
                out["$ref"] = self.prefix + ref.rsplit("/", 1)[-1]
            return out
        if isinstance(node, list):
            return [self.refs(v) for v in node]
        return node

    # -- one operation ---------------------------------------------------------------

    def operation(self, operation: SpecOperation) -> dict[str, Any]:
        props = operation.properties
        template = str(props.get("urlTemplate") or "/")
        query_part = template.partition("?")[2]
        in_query = set(_TEMPLATE.findall(query_part))
        parameters = []
        for parameter in props.get("templateParameters") or []:
            place = "query" if parameter.get("name") in in_query else "path"
            parameters.append(self.parameter(parameter, place, required=True))
        request = props.get("request") or {}
        for parameter in request.get("queryParameters") or []:
            parameters.append(self.parameter(parameter, "query"))
        for parameter in request.get("headers") or []:
            parameters.append(self.parameter(parameter, "header"))
        out: dict[str, Any] = {
            "summary": props.get("displayName"),
            "description": props.get("description"),
            "operationId": operation.name,
            "parameters": parameters,
        }
        representations = list(request.get("representations") or [])
        if self.swagger:
            out.update(self.swagger_body(representations, parameters))
        elif representations:
            out["requestBody"] = {"content": self.content(representations)}
        out["responses"] = {
            str(r.get("statusCode")): self.response(r) for r in props.get("responses") or []
        }
        if self.swagger:
            produced = [
                str(rep["contentType"])
                for r in props.get("responses") or []
                for rep in r.get("representations") or []
            ]
            out["produces"] = list(dict.fromkeys(produced))
        return _compact(out) | {"responses": out["responses"]}

    def parameter(
        self, parameter: Mapping[str, Any], place: str, required: bool = False
    ) -> dict[str, Any]:
        fmt, description = _unfold(parameter.get("description"))
        typed = _compact(
            {
                "type": parameter.get("type") or "string",
                "format": fmt,
                "enum": list(parameter.get("values") or []) or None,
                "default": parameter.get("defaultValue"),
            }
        )
        out: dict[str, Any] = {"name": parameter.get("name"), "in": place}
        if description:
            out["description"] = description
        if required or parameter.get("required") is True or place == "path":
            out["required"] = True
        if self.swagger:
            out.update(typed)
        else:
            out["schema"] = typed
        return out

    def schema_of(self, representation: Mapping[str, Any]) -> dict[str, Any] | None:
        type_name = representation.get("typeName")
        return {"$ref": self.prefix + str(type_name)} if type_name else None

    def content(self, representations: list[Mapping[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for representation in representations:
            media: dict[str, Any] = {}
            forms = representation.get("formParameters")
            schema = self.schema_of(representation)
            if forms:
                media["schema"] = self.form_schema(forms)
            elif schema:
                media["schema"] = schema
            example = (representation.get("examples") or {}).get("default", {}).get("value")
            if example is not None:
                media["example"] = example
            out[str(representation.get("contentType"))] = media
        return out

    def form_schema(self, forms: list[Mapping[str, Any]]) -> dict[str, Any]:
        properties = {}
        for form in forms:
            shaped = self.parameter(form, "formData")
            properties[str(form.get("name"))] = shaped.get("schema") or {"type": "string"}
            if shaped.get("description"):
                properties[str(form.get("name"))]["description"] = shaped["description"]
        required = [str(f.get("name")) for f in forms if f.get("required") is True]
        return _compact({"type": "object", "properties": properties, "required": required})

    def swagger_body(
        self, representations: list[Mapping[str, Any]], parameters: list[dict[str, Any]]
    ) -> dict[str, Any]:
        if not representations:
            return {}
        first = representations[0]
        forms = first.get("formParameters")
        if forms:
            parameters.extend(self.parameter(f, "formData") for f in forms)
        else:
            schema = self.schema_of(first) or {}
            parameters.append({"name": "body", "in": "body", "schema": schema})
        return {"consumes": [str(r.get("contentType")) for r in representations]}

    def response(self, response: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {"description": response.get("description") or ""}
        representations = list(response.get("representations") or [])
        if self.swagger:
            schema = next((self.schema_of(r) for r in representations if self.schema_of(r)), None)
            if schema:
                out["schema"] = schema
            examples = {
                str(r.get("contentType")): r["examples"]["default"]["value"]
                for r in representations
                if isinstance(r.get("examples"), Mapping) and "default" in r["examples"]
            }
            if examples:
                out["examples"] = examples
        elif representations:
            out["content"] = self.content(representations)
        headers = {}
        for header in response.get("headers") or []:
            shaped = self.parameter(header, "header")
            shaped.pop("name")
            shaped.pop("in")
            shaped.pop("required", None)
            headers[str(header.get("name"))] = shaped
        if headers:
            out["headers"] = headers
        return out
