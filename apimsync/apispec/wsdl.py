"""A WSDL 1.1 document -> a SOAP pass-through API, as API Management imports one.

Read from the real exports in ``shared/corpus`` (``blank-v14`` ``calculator``): the API
gets ``type: soap`` and the ``soap:address`` of the chosen port as ``serviceUrl``; each
operation of the port's binding becomes ``POST /?soapAction={action}`` named after the
operation, with a ``SOAPAction`` header whose value is the action, request and response
representations typed by the message elements (``application/soap+xml`` for a SOAP 1.2
binding, ``text/xml`` for 1.1), and the document's XML schema as the API schema.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any
from xml.etree.ElementTree import Element, ParseError, tostring

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from apimsync.apispec.types import ApiSpecification, SpecOperation, SpecSchema
from apimsync.errors import SpecificationError

WSDL = "{http://schemas.xmlsoap.org/wsdl/}"
SOAP11 = "{http://schemas.xmlsoap.org/wsdl/soap/}"
SOAP12 = "{http://schemas.xmlsoap.org/wsdl/soap12/}"
XSD = "{http://www.w3.org/2001/XMLSchema}"
XSD_CONTENT_TYPE = "application/vnd.ms-azure-apim.xsd+xml"


def _local(qualified: str | None) -> str:
    return (qualified or "").rsplit(":", 1)[-1]


def parse_wsdl(
    text: str, selector: Mapping[str, Any] | None = None, schema_id: str | None = None
) -> ApiSpecification:
    """Map a WSDL document; ``selector`` is the import's ``wsdlSelector``
    (``wsdlServiceName``, ``wsdlEndpointName``), the first service and port otherwise."""
    try:
        root = SafeET.fromstring(text.lstrip("\ufeff"))
    except ParseError as error:
        raise SpecificationError(f"is not well-formed XML ({error})") from None
    except DefusedXmlException:
        raise SpecificationError("declares a DTD or entities, which are refused") from None
    if root.tag != f"{WSDL}definitions":
        raise SpecificationError("is not a WSDL 1.1 document (no wsdl:definitions)")
    service, port = _port(root, selector or {})
    address = _first(port, "address")
    binding = _named(root, "binding", _local(port.get("binding")))
    soap12 = binding.find(f"{SOAP12}binding") is not None
    chosen_id = schema_id or hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]
    messages = {m.get("name"): m for m in root.iter(f"{WSDL}message")}
    port_type = _named(root, "portType", _local(binding.get("type")))
    operations = tuple(
        _operation(op, port_type, messages, soap12, chosen_id)
        for op in binding.iter(f"{WSDL}operation")
    )
    api = {
        "displayName": service.get("name"),
        "description": _documentation(service),
        "serviceUrl": address.get("location") if address is not None else None,
        "protocols": ["https"],
        "type": "soap",
    }
    return ApiSpecification(api, operations, _schema(root, chosen_id))


def _first(element: Element, tag: str) -> Element | None:
    """The SOAP 1.2 or 1.1 child ``tag`` (an Element without children is falsy: no ``or``)."""
    found = element.find(f"{SOAP12}{tag}")
    return found if found is not None else element.find(f"{SOAP11}{tag}")


def _named(root: Element, tag: str, name: str) -> Element:
    for element in root.iter(f"{WSDL}{tag}"):
        if element.get("name") == name:
            return element
    raise SpecificationError(f"names a {tag} '{name}' it does not define")


def _port(root: Element, selector: Mapping[str, Any]) -> tuple[Element, Element]:
    wanted_service = selector.get("wsdlServiceName")
    wanted_port = selector.get("wsdlEndpointName")
    for service in root.iter(f"{WSDL}service"):
        if wanted_service and service.get("name") != wanted_service:
            continue
        for port in service.iter(f"{WSDL}port"):
            if not wanted_port or port.get("name") == wanted_port:
                return service, port
    raise SpecificationError("has no service and port matching 'wsdlSelector'")


def _documentation(element: Element) -> str | None:
    found = element.find(f"{WSDL}documentation")
    text = found.text.strip() if found is not None and found.text else ""
    return text or None


def _element_of(messages: Mapping[str | None, Element], reference: str | None) -> str | None:
    message = messages.get(_local(reference))
    part = message.find(f"{WSDL}part") if message is not None else None
    if part is None:
        return None
    return _local(part.get("element") or part.get("type") or part.get("name"))


def _operation(
    operation: Element,
    port_type: Element,
    messages: Mapping[str | None, Element],
    soap12: bool,
    schema_id: str,
) -> SpecOperation:
    name = str(operation.get("name"))
    soap = _first(operation, "operation")
    action = (soap.get("soapAction") if soap is not None else None) or name
    abstract = next((o for o in port_type.iter(f"{WSDL}operation") if o.get("name") == name), None)
    content_type = "application/soap+xml" if soap12 else "text/xml"

    def representation(kind: str) -> list[dict[str, Any]]:
        message = abstract.find(f"{WSDL}{kind}") if abstract is not None else None
        element = _element_of(messages, message.get("message")) if message is not None else None
        if element is None:
            return [{"contentType": content_type}]
        return [{"contentType": content_type, "schemaId": schema_id, "typeName": element}]

    header = {
        "name": "SOAPAction",
        "type": "string",
        "defaultValue": action,
        "values": [action],
    }
    properties = {
        "displayName": name,
        "method": "POST",
        "urlTemplate": f"/?soapAction={action}",
        "templateParameters": [],
        "description": _documentation(abstract) if abstract is not None else None,
        "request": {
            "queryParameters": [],
            "headers": [header],
            "representations": representation("input"),
        },
        "responses": [
            {"statusCode": 200, "representations": representation("output"), "headers": []}
        ],
    }
    return SpecOperation(name, properties)


def _schema(root: Element, schema_id: str) -> SpecSchema | None:
    types = root.find(f"{WSDL}types")
    schemas = list(types.iter(f"{XSD}schema")) if types is not None else []
    if not schemas:
        return None
    text = "\n".join(tostring(s, encoding="unicode") for s in schemas)
    return SpecSchema(schema_id, XSD_CONTENT_TYPE, {"value": text})
