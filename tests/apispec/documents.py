"""Specification documents shaped like the ones the real service imported (catalogue §5)."""

from __future__ import annotations

import json

SWAGGER_PETSTORE = json.dumps(
    {
        "swagger": "2.0",
        "info": {
            "title": "Swagger Petstore Extensive",
            "description": "A sample API",
            "version": "1.0.0",
        },
        "host": "petstore.swagger.wordnik.com",
        "basePath": "/api",
        "schemes": ["http"],
        "consumes": ["application/json"],
        "produces": ["application/json"],
        "paths": {
            "/pets": {
                "get": {
                    "operationId": "findPets",
                    "description": "Returns all pets",
                    "parameters": [
                        {
                            "name": "tags",
                            "in": "query",
                            "description": "tags to filter by",
                            "required": False,
                            "type": "array",
                            "items": {"type": "string"},
                        },
                        {
                            "name": "limit",
                            "in": "query",
                            "description": "maximum number of results",
                            "required": False,
                            "type": "integer",
                            "format": "int32",
                        },
                    ],
                    "responses": {
                        "200": {
                            "description": "pet response",
                            "schema": {"type": "array", "items": {"$ref": "#/definitions/pet"}},
                        },
                        "default": {
                            "description": "unexpected error",
                            "schema": {"$ref": "#/definitions/errorModel"},
                        },
                    },
                },
                "post": {
                    "operationId": "addPet",
                    "parameters": [
                        {
                            "name": "pet",
                            "in": "body",
                            "required": True,
                            "schema": {"$ref": "#/definitions/newPet"},
                        }
                    ],
                    "responses": {
                        "200": {
                            "description": "pet response",
                            "schema": {"$ref": "#/definitions/pet"},
                        }
                    },
                },
            },
            "/pets/{id}": {
                "parameters": [
                    {
                        "name": "id",
                        "in": "path",
                        "required": True,
                        "type": "integer",
                        "format": "int64",
                        "description": "ID of pet to delete",
                    }
                ],
                "delete": {
                    "operationId": "deletePet",
                    "responses": {"204": {"description": "pet deleted"}},
                },
            },
            "/mySamplePath?willbeignored={willbeignored}": {
                "post": {
                    "operationId": "dummyid1",
                    "consumes": ["multipart/form-data"],
                    "parameters": [
                        {
                            "name": "dummyReqQueryParam",
                            "in": "query",
                            "required": True,
                            "type": "string",
                        },
                        {
                            "name": "dummyNotReqQueryParam",
                            "in": "query",
                            "required": False,
                            "type": "string",
                        },
                        {
                            "name": "dummyDateHeaderParam",
                            "in": "header",
                            "required": True,
                            "type": "string",
                            "format": "date",
                            "description": "dummyDateHeaderParam description",
                        },
                        {
                            "name": "dummyFormDataParam",
                            "in": "formData",
                            "required": True,
                            "type": "string",
                        },
                    ],
                    "responses": {"200": {"description": "OK"}},
                }
            },
        },
        "definitions": {
            "pet": {
                "type": "object",
                "required": ["id", "name"],
                "properties": {
                    "id": {"type": "integer", "format": "int64"},
                    "name": {"type": "string"},
                },
            },
            "newPet": {
                "type": "object",
                "required": ["name"],
                "properties": {"name": {"type": "string"}},
            },
            "errorModel": {
                "type": "object",
                "properties": {"code": {"type": "integer"}, "message": {"type": "string"}},
            },
        },
    },
    indent=2,
)

OPENAPI_PETSTORE_YAML = """\
openapi: "3.0.0"
info:
  version: 1.0.0
  title: Swagger Petstore
  license:
    name: MIT
servers:
  - url: http://petstore.swagger.io/v1
paths:
  /pets:
    get:
      summary: List all pets
      operationId: listPets
      tags: [pets]
      parameters:
        - name: limit
          in: query
          description: How many items to return at one time (max 100)
          required: false
          schema:
            type: integer
            format: int32
      responses:
        '200':
          description: A paged array of pets
          headers:
            x-next:
              description: A link to the next page of responses
              schema:
                type: string
          content:
            application/json:
              schema:
                $ref: "#/components/schemas/Pets"
        default:
          description: unexpected error
          content:
            application/json:
              schema:
                $ref: "#/components/schemas/Error"
    post:
      summary: Create a pet
      operationId: createPets
      requestBody:
        content:
          application/json:
            schema:
              type: object
              properties:
                name: {type: string}
            example: {name: Rex}
      responses:
        '201':
          description: Null response
  /pets/{petId}:
    get:
      summary: Info for a specific pet
      operationId: showPetById
      parameters:
        - name: petId
          in: path
          required: true
          description: The id of the pet to retrieve
          schema:
            type: string
      responses:
        '200':
          description: Expected response to a valid request
          content:
            application/json:
              schema:
                $ref: "#/components/schemas/Pet"
components:
  schemas:
    Pet:
      type: object
      required: [id, name]
      properties:
        id: {type: integer, format: int64}
        name: {type: string}
    Pets:
      type: array
      items:
        $ref: "#/components/schemas/Pet"
    Error:
      type: object
      properties:
        code: {type: integer, format: int32}
        message: {type: string}
"""

CALCULATOR_WSDL = """<?xml version="1.0" encoding="utf-8"?>
<wsdl:definitions xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/"
    xmlns:soap12="http://schemas.xmlsoap.org/wsdl/soap12/" xmlns:tns="http://tempuri.org/"
    xmlns:s="http://www.w3.org/2001/XMLSchema" xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/"
    targetNamespace="http://tempuri.org/">
  <wsdl:types>
    <s:schema elementFormDefault="qualified" targetNamespace="http://tempuri.org/">
      <s:element name="Add"><s:complexType><s:sequence>
        <s:element minOccurs="1" maxOccurs="1" name="intA" type="s:int" />
        <s:element minOccurs="1" maxOccurs="1" name="intB" type="s:int" />
      </s:sequence></s:complexType></s:element>
      <s:element name="AddResponse"><s:complexType><s:sequence>
        <s:element minOccurs="1" maxOccurs="1" name="AddResult" type="s:int" />
      </s:sequence></s:complexType></s:element>
    </s:schema>
  </wsdl:types>
  <wsdl:message name="AddSoapIn"><wsdl:part name="parameters" element="tns:Add" /></wsdl:message>
  <wsdl:message name="AddSoapOut">
    <wsdl:part name="parameters" element="tns:AddResponse" />
  </wsdl:message>
  <wsdl:portType name="CalculatorSoap">
    <wsdl:operation name="Add">
      <wsdl:documentation>Adds two integers.</wsdl:documentation>
      <wsdl:input message="tns:AddSoapIn" /><wsdl:output message="tns:AddSoapOut" />
    </wsdl:operation>
  </wsdl:portType>
  <wsdl:binding name="CalculatorSoap" type="tns:CalculatorSoap">
    <soap:binding transport="http://schemas.xmlsoap.org/soap/http" />
    <wsdl:operation name="Add">
      <soap:operation soapAction="http://tempuri.org/Add" style="document" />
      <wsdl:input><soap:body use="literal" /></wsdl:input>
      <wsdl:output><soap:body use="literal" /></wsdl:output>
    </wsdl:operation>
  </wsdl:binding>
  <wsdl:binding name="CalculatorSoap12" type="tns:CalculatorSoap">
    <soap12:binding transport="http://schemas.xmlsoap.org/soap/http" />
    <wsdl:operation name="Add">
      <soap12:operation soapAction="http://tempuri.org/Add" style="document" />
      <wsdl:input><soap12:body use="literal" /></wsdl:input>
      <wsdl:output><soap12:body use="literal" /></wsdl:output>
    </wsdl:operation>
  </wsdl:binding>
  <wsdl:service name="Calculator">
    <wsdl:port name="CalculatorSoap" binding="tns:CalculatorSoap">
      <soap:address location="http://www.dneonline.com/calculator.asmx" />
    </wsdl:port>
    <wsdl:port name="CalculatorSoap12" binding="tns:CalculatorSoap12">
      <soap12:address location="http://www.dneonline.com/calculator.asmx" />
    </wsdl:port>
  </wsdl:service>
</wsdl:definitions>
"""
