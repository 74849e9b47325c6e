"""A specification document -> API properties, operations and schema, as APIM imports.

The rules are those the real service showed (catalogue §5, [REV20 e3, e6, p@84000],
[OAS20 e3], [REV23 p@140000]):

- API: ``displayName`` = ``info.title``, ``description`` = ``info.description`` (null
  when absent). Swagger 2: ``serviceUrl`` = ``schemes[0]://host + basePath`` and
  ``protocols`` = ``schemes``. OpenAPI 3: ``serviceUrl`` = ``servers[0].url`` but
  ``protocols`` always ``["https"]``.
- Operations: ``operationId`` is the operation's name and its ``displayName``; required
  query parameters move into ``urlTemplate`` (``/path?a={a}``) as template parameters,
  optional ones stay in ``request.queryParameters`` (a query string written into the
  path itself is dropped); a parameter's ``format`` is folded into its description
  (``Format - int64. ID of pet``); the ``default`` response becomes status 500.
- Representations name one schema (``schemaId``, shared by the whole API) and a
  ``typeName``: the definition a ``$ref`` names, ``<name>Array`` for an array of one,
  otherwise a name made of path, method, status and content type
  (``Pets2Get200ApplicationJsonResponse``), whose definition joins the schema. Swagger
  ``formData`` parameters become a ``multipart/form-data`` representation with
  ``formParameters``; a response without a schema still names its content types.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping
from typing import Any

from apimsync.apispec import documents
from apimsync.apispec.types import ApiSpecification, SpecOperation, SpecSchema
from apimsync.apispec.wsdl import parse_wsdl
from apimsync.errors import SpecificationError

IMPORT_FORMATS = ("openapi", "openapi+json", "swagger-json", "wsdl")
"""``format`` values of an inline import (``openapi`` is YAML or JSON)."""
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
SWAGGER_DEFINITIONS = "application/vnd.ms-azure-apim.swagger.definitions+json"
OPENAPI_COMPONENTS = "application/vnd.oai.openapi.components+json"
FORMAT_TEXTS = {
    "date": "date (as full-date in RFC3339)",
    "date-time": "date-time (as date-time in RFC3339)",
}
FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")
_NAME = re.compile(r"^[A-Za-z0-9_.\-~]{1,80}$")


def parse_specification(
    text: str,
    format: str,
    *,
    schema_id: str | None = None,
    wsdl_selector: Mapping[str, Any] | None = None,
) -> ApiSpecification:
    """Map the document ``text`` (an inline import ``format``) as API Management does.

    ``schema_id`` names the schema the representations use (default: a hash of the
    text, so the same document always maps the same way); ``wsdl_selector`` picks the
    service and port of a WSDL. SpecificationError when the document cannot be read or
    is not OpenAPI 3, Swagger 2 or WSDL 1.1.
    """
    if format not in IMPORT_FORMATS:
        raise SpecificationError(f"format '{format}' is not one of {', '.join(IMPORT_FORMATS)}")
    if format == "wsdl":
        return parse_wsdl(text, wsdl_selector, schema_id)
    document = documents.load(text, allow_yaml=format == "openapi")
    chosen_id = schema_id or hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]
    if str(document.get("swagger", "")).startswith("2"):
        if format == "openapi+json":
            raise SpecificationError("is Swagger 2.0; import it as 'swagger-json'")
        return _Mapper(document, chosen_id, swagger=True).specification()
    if str(document.get("openapi", "")).startswith("3"):
        if format == "swagger-json":
            raise SpecificationError("is OpenAPI 3; import it as 'openapi+json'")
        return _Mapper(document, chosen_id, swagger=False).specification()
    raise SpecificationError("has neither 'swagger: 2.0' nor 'openapi: 3.x'")


def _pascal(text: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", text))


def _description(parameter: Mapping[str, Any], fmt: Any) -> str | None:
    text = parameter.get("description")
    text = text if isinstance(text, str) and text else None
    if not isinstance(fmt, str) or not fmt:
        return text
    folded = f"Format - {FORMAT_TEXTS.get(fmt, fmt)}."
    return f"{folded} {text}" if text else folded


class _Mapper:
    """One document's mapping; Swagger 2 and OpenAPI 3 differ only where noted."""

    def __init__(self, document: dict[str, Any], schema_id: str, swagger: bool) -> None:
        self.document = document
        self.schema_id = schema_id
        self.swagger = swagger
        found = document.get("definitions") if swagger else _get(document, "components", "schemas")
        self.types: dict[str, Any] = dict(found) if isinstance(found, Mapping) else {}
        self.names: set[str] = set()

    # -- the API ---------------------------------------------------------------------

    def specification(self) -> ApiSpecification:
        api = self._api()
        paths = self.document.get("paths")
        if not isinstance(paths, Mapping):
            raise SpecificationError("has no 'paths' object")
        operations = tuple(self._operations(paths))
        return ApiSpecification(api, operations, self._schema())

    def _api(self) -> dict[str, Any]:
        info = self.document.get("info")
        info = info if isinstance(info, Mapping) else {}
        title = info.get("title")
        if not isinstance(title, str) or not title.strip():
            raise SpecificationError("has no 'info.title' (the API's display name)")
        description = info.get("description")
        props: dict[str, Any] = {
            "displayName": title,
            "description": description if isinstance(description, str) else None,
        }
        url, protocols = self._service_url()
        if url:
            props["serviceUrl"] = url
        props["protocols"] = protocols
        return props

    def _service_url(self) -> tuple[str | None, list[str]]:
        if not self.swagger:
            servers = self.document.get("servers")
            first = servers[0] if isinstance(servers, list) and servers else None
            url = first.get("url") if isinstance(first, Mapping) else None
            if isinstance(url, str) and isinstance(first, Mapping):
                for name, variable in (first.get("variables") or {}).items():
                    default = variable.get("default") if isinstance(variable, Mapping) else None
                    url = url.replace("{" + str(name) + "}", str(default or ""))
            return (url if isinstance(url, str) and url else None), ["https"]
        schemes = [s for s in self.document.get("schemes") or [] if s in ("http", "https")]
        host = self.document.get("host")
        url = None
        if isinstance(host, str) and host:
            url = f"{(schemes or ['https'])[0]}://{host}{self.document.get('basePath') or ''}"
        order = ("http", "https")
        return url, sorted(set(schemes), key=order.index) or ["https"]

    def _schema(self) -> SpecSchema | None:
        if not self.types:
            return None
        if self.swagger:
            return SpecSchema(self.schema_id, SWAGGER_DEFINITIONS, {"definitions": self.types})
        components = {"components": {"schemas": self.types}}
        return SpecSchema(self.schema_id, OPENAPI_COMPONENTS, components)

    # -- operations ------------------------------------------------------------------

    def _operations(self, paths: Mapping[str, Any]) -> Iterator[SpecOperation]:
        for path, item in paths.items():
            item = documents.resolve(self.document, item)
            if not isinstance(item, Mapping):
                continue
            shared = item.get("parameters") or []
            for method, operation in item.items():
                if method.lower() in METHODS and isinstance(operation, Mapping):
                    yield self._operation(str(path), method.lower(), operation, shared)

    def _name(self, path: str, method: str, operation: Mapping[str, Any]) -> tuple[str, str]:
        operation_id = operation.get("operationId")
        if isinstance(operation_id, str) and _NAME.match(operation_id):
            name, display = operation_id, operation_id
        else:
            slug = re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-")
            name = f"{method}-{slug}"[:80].strip("-") or method
            summary = operation.get("summary")
            display = operation_id or summary or f"{method.upper()} {path}"
        base, suffix = name, 1
        while name.lower() in self.names:
            suffix += 1
            name = f"{base}-{suffix}"
        self.names.add(name.lower())
        return name, str(display)

    def _operation(
        self, path: str, method: str, operation: Mapping[str, Any], shared: Any
    ) -> SpecOperation:
        name, display = self._name(path, method, operation)
        parameters = self._parameters(shared, operation.get("parameters"))
        by_place: dict[str, list[dict[str, Any]]] = {}
        for place, raw in parameters:
            if place in ("path", "query", "header", "formData"):
                by_place.setdefault(place, []).append(self._parameter(raw, place == "path"))
        queries = by_place.get("query", [])
        required_queries = [q for q in queries if q.get("required")]
        template = path.split("?", 1)[0]
        if required_queries:
            template += "?" + "&".join(f"{q['name']}={{{q['name']}}}" for q in required_queries)
        declared = {p["name"] for p in by_place.get("path", [])}
        undeclared = [
            {"name": name, "type": "string", "required": True, "values": []}
            for name in re.findall(r"\{([^{}]+)\}", template.split("?", 1)[0])
            if name not in declared
        ]
        properties: dict[str, Any] = {
            "displayName": display,
            "method": method.upper(),
            "urlTemplate": template,
            "templateParameters": [*by_place.get("path", []), *undeclared, *required_queries],
            "description": operation.get("description") or None,
        }
        request = {
            "queryParameters": [q for q in queries if not q.get("required")],
            "headers": by_place.get("header", []),
            "representations": self._request_representations(
                path, method, operation, by_place, parameters
            ),
        }
        properties["request"] = request
        properties["responses"] = self._responses(path, method, operation)
        return SpecOperation(name, properties)

    def _parameters(self, shared: Any, own: Any) -> list[tuple[str, Mapping[str, Any]]]:
        """(where, parameter) of the path's and the operation's parameters; the
        operation's own win over the path's of the same name and place."""
        merged: dict[tuple[str, str], Mapping[str, Any]] = {}
        for group in (shared, own):
            for node in group if isinstance(group, list) else []:
                parameter = documents.resolve(self.document, node)
                if isinstance(parameter, Mapping) and isinstance(parameter.get("name"), str):
                    merged[(str(parameter.get("in")), parameter["name"])] = parameter
        return [(place, parameter) for (place, _), parameter in merged.items()]

    def _parameter(self, parameter: Mapping[str, Any], in_path: bool) -> dict[str, Any]:
        typed = (
            parameter
            if self.swagger
            else documents.resolve(self.document, parameter.get("schema") or {})
        )
        typed = typed if isinstance(typed, Mapping) else {}
        contract: dict[str, Any] = {
            "name": parameter["name"],
            "description": _description(parameter, typed.get("format")),
            "type": typed.get("type") or "string",
        }
        if "default" in typed:
            contract["defaultValue"] = str(typed["default"])
        if in_path or parameter.get("required") is True:
            contract["required"] = True
        enum = typed.get("enum")
        contract["values"] = [str(v) for v in enum] if isinstance(enum, list) else []
        return {k: v for k, v in contract.items() if v is not None}

    # -- representations -------------------------------------------------------------

    def _type_name(self, schema: Any, generated: str) -> str:
        name = documents.ref_name(schema)
        if name is not None:
            return name
        if isinstance(schema, Mapping) and schema.get("type") == "array":
            item = documents.ref_name(schema.get("items"))
            if item is not None:
                self.types.setdefault(f"{item}Array", dict(schema))
                return f"{item}Array"
        self.types.setdefault(generated, dict(schema) if isinstance(schema, Mapping) else {})
        return generated

    def _representation(
        self, content_type: str, schema: Any, generated: str, media: Mapping[str, Any]
    ) -> dict[str, Any]:
        out: dict[str, Any] = {"contentType": content_type}
        if isinstance(schema, Mapping) and schema:
            out["schemaId"] = self.schema_id
            out["typeName"] = self._type_name(schema, generated)
        example = media.get("example")
        if example is not None:
            out["examples"] = {"default": {"value": example}}
        return out

    def _media(self, operation: Mapping[str, Any], key: str) -> list[str]:
        found = operation.get(key) or self.document.get(key) or ["application/json"]
        return [str(m) for m in found] if isinstance(found, list) else ["application/json"]

    def _generated(self, path: str, method: str, status: str, content_type: str, kind: str) -> str:
        return f"{_pascal(path)}{_pascal(method)}{status}{_pascal(content_type)}{kind}"

    def _request_representations(
        self,
        path: str,
        method: str,
        operation: Mapping[str, Any],
        by_place: Mapping[str, list[dict[str, Any]]],
        parameters: list[tuple[str, Mapping[str, Any]]],
    ) -> list[dict[str, Any]]:
        if self.swagger:
            forms = by_place.get("formData")
            if forms:
                return [{"contentType": "multipart/form-data", "formParameters": forms}]
            body = next((raw for place, raw in parameters if place == "body"), None)
            if body is None:
                return []
            return [
                self._representation(
                    ct, body.get("schema"), self._generated(path, method, "", ct, "Request"), {}
                )
                for ct in self._media(operation, "consumes")
            ]
        request = documents.resolve(self.document, operation.get("requestBody"))
        content = request.get("content") if isinstance(request, Mapping) else None
        return self._content(content, path, method, "", "Request")

    def _form(self, content_type: str, schema: Any) -> dict[str, Any] | None:
        """A form body's representation: its object's properties as ``formParameters``."""
        schema = documents.resolve(self.document, schema)
        properties = schema.get("properties") if isinstance(schema, Mapping) else None
        if content_type not in FORM_TYPES or not isinstance(properties, Mapping):
            return None
        required = set(schema.get("required") or []) if isinstance(schema, Mapping) else set()
        forms = [
            self._parameter(
                {"name": name, "schema": node, "required": name in required}, in_path=False
            )
            for name, node in properties.items()
        ]
        return {"contentType": content_type, "formParameters": forms}

    def _content(
        self, content: Any, path: str, method: str, status: str, kind: str
    ) -> list[dict[str, Any]]:
        out = []
        for content_type, media in (content or {}).items() if isinstance(content, Mapping) else []:
            media = media if isinstance(media, Mapping) else {}
            form = self._form(str(content_type), media.get("schema")) if kind == "Request" else None
            if form is not None:
                out.append(form)
                continue
            generated = self._generated(path, method, status, str(content_type), kind)
            out.append(
                self._representation(str(content_type), media.get("schema"), generated, media)
            )
        return out

    def _responses(self, path: str, method: str, operation: Mapping[str, Any]) -> list[Any]:
        responses = operation.get("responses")
        out = []
        for code, node in (responses or {}).items() if isinstance(responses, Mapping) else []:
            response = documents.resolve(self.document, node)
            response = response if isinstance(response, Mapping) else {}
            status = "500" if str(code) == "default" else str(code)
            if not status.isdigit():
                continue
            entry: dict[str, Any] = {
                "statusCode": int(status),
                "description": response.get("description") or None,
                "representations": self._response_representations(
                    path, method, status, operation, response
                ),
                "headers": [
                    self._parameter({"name": name, **dict(header)}, False)
                    for name, header in (response.get("headers") or {}).items()
                    if isinstance(header, Mapping)
                ],
            }
            out.append({k: v for k, v in entry.items() if v is not None})
        return out

    def _response_representations(
        self,
        path: str,
        method: str,
        status: str,
        operation: Mapping[str, Any],
        response: Mapping[str, Any],
    ) -> list[dict[str, Any]]:
        if not self.swagger:
            return self._content(response.get("content"), path, method, status, "Response")
        schema = response.get("schema")
        examples = response.get("examples")
        out = []
        for content_type in self._media(operation, "produces"):
            example = examples.get(content_type) if isinstance(examples, Mapping) else None
            generated = self._generated(path, method, status, content_type, "Response")
            media = {"example": example} if example is not None else {}
            out.append(self._representation(content_type, schema, generated, media))
        return out


def _get(document: Mapping[str, Any], *keys: str) -> Any:
    node: Any = document
    for key in keys:
        node = node.get(key) if isinstance(node, Mapping) else None
    return node
