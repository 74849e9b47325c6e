"""API schema documents in their two forms: the text files hold, the object the service keeps.

A schema of content type ``application/vnd.ms-azure-apim.swagger.definitions+json`` is, in
an scm export, a ``.document`` file holding ``{"definitions": {...}}``. The service keeps it
as ``document.definitions`` (the inner object) and parses ``document.value`` text into
that property wholesale, so sending the file's text would nest it twice
(real-service-behaviour.md §6, [SCH20 e8]). The model keeps the file's form
(``document.value`` text); these functions give the other one, and the form both sides
compare in. Other content types keep their text as it is (§6, [SCH20 e9]).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from apimsync.jsonvalue import thaw

SWAGGER_DEFINITIONS = "application/vnd.ms-azure-apim.swagger.definitions+json"


def definitions_of(properties: Mapping[str, Any]) -> Any | None:
    """The definitions object of a swagger-definitions schema, from either form; None for
    another content type or a document that is not JSON."""
    if properties.get("contentType") != SWAGGER_DEFINITIONS:
        return None
    document = properties.get("document")
    if not isinstance(document, Mapping):
        return None
    if "definitions" in document and not isinstance(document.get("value"), str):
        return thaw(document["definitions"])
    try:
        parsed = json.loads(str(document.get("value")))
    except (TypeError, ValueError):
        return None
    if isinstance(parsed, dict) and set(parsed) == {"definitions"}:
        return parsed["definitions"]
    return parsed


def as_sent(properties: Mapping[str, Any]) -> dict[str, Any]:
    """``properties`` as the service must be sent them: the definitions as an object."""
    result = dict(properties)
    definitions = definitions_of(properties)
    if definitions is not None:
        result["document"] = {"definitions": definitions}
    return result


def as_file(properties: Mapping[str, Any]) -> dict[str, Any]:
    """``properties`` as files hold them: the definitions as ``{"definitions": ...}`` text,
    indented as the scm export writes it."""
    result = dict(properties)
    definitions = definitions_of(properties)
    document = properties.get("document")
    if definitions is not None and isinstance(document, Mapping) and "value" not in document:
        result["document"] = {"value": json.dumps({"definitions": definitions}, indent=2)}
    return result
