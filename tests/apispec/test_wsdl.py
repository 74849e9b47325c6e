"""WSDL imports map as the real service's SOAP pass-through APIs (shared/corpus blank-v14)."""

from __future__ import annotations

import pytest

from apimsync.apispec import parse_specification
from apimsync.errors import SpecificationError

from .documents import CALCULATOR_WSDL


def test_a_wsdl_becomes_a_soap_api_with_one_operation_per_binding_operation() -> None:
    selector = {"wsdlServiceName": "Calculator", "wsdlEndpointName": "CalculatorSoap12"}
    spec = parse_specification(CALCULATOR_WSDL, "wsdl", wsdl_selector=selector, schema_id="s1")
    assert dict(spec.api_properties) == {
        "displayName": "Calculator",
        "description": None,
        "serviceUrl": "http://www.dneonline.com/calculator.asmx",
        "protocols": ["https"],
        "type": "soap",
    }
    (add,) = spec.operations
    assert add.name == "Add"
    properties = dict(add.properties)
    assert (properties["method"], properties["urlTemplate"]) == (
        "POST",
        "/?soapAction=http://tempuri.org/Add",
    )
    assert properties["description"] == "Adds two integers."
    assert properties["request"]["headers"] == [
        {
            "name": "SOAPAction",
            "type": "string",
            "defaultValue": "http://tempuri.org/Add",
            "values": ["http://tempuri.org/Add"],
        }
    ]
    request = properties["request"]["representations"]
    response = properties["responses"][0]["representations"]
    assert request == [{"contentType": "application/soap+xml", "schemaId": "s1", "typeName": "Add"}]
    assert response[0]["typeName"] == "AddResponse"
    assert spec.schema is not None
    assert spec.schema.content_type == "application/vnd.ms-azure-apim.xsd+xml"
    assert 'name="AddResponse"' in spec.schema.document["value"]


def test_a_soap11_port_answers_text_xml() -> None:
    spec = parse_specification(CALCULATOR_WSDL, "wsdl")  # the first port: SOAP 1.1
    representation = spec.operations[0].properties["request"]["representations"][0]
    assert representation["contentType"] == "text/xml"


@pytest.mark.parametrize(
    ("text", "selector", "problem"),
    [
        ("<definitions", None, "not well-formed XML"),
        ("<root/>", None, "not a WSDL 1.1 document"),
        (CALCULATOR_WSDL, {"wsdlServiceName": "Other"}, "no service and port matching"),
        ('<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>', None, "DTD or entities"),
    ],
)
def test_bad_wsdl_documents_say_what_is_wrong(
    text: str, selector: dict[str, str] | None, problem: str
) -> None:
    with pytest.raises(SpecificationError, match=problem):
        parse_specification(text, "wsdl", wsdl_selector=selector)
