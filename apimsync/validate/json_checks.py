"""Schema checks of the configuration JSON files.

Two families of files are checked against the JSON Schemas (draft 2020-12) in
``schemas/``: the scm export under ``api-management/`` (``schemas/scm``: tolerant,
unknown keys allowed) and the files apimsync owns under ``api-management-extras/``
(``schemas/extras``: strict, unknown keys are errors). Every violation becomes a
finding at the line and column of the offending value, so one run reports them all.

Each document is first checked by jsonschema-rs (compiled, some 70 times faster), which
only says valid or not; the few that are not are checked again by jsonschema, whose
errors carry the paths and reasons the findings are made of.

Codes: ``json-syntax``, ``invalid-enum``, ``missing-property``, ``unknown-property``
and ``schema`` for any other violation.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema_rs

from apimsync import resources
from apimsync.formats.jsonpos import (
    JsonPositions,
    JsonSyntaxError,
    json_pointer,
    locate_json,
    parse_json,
)
from apimsync.validate.findings import Finding, Findings, Severity

if TYPE_CHECKING:  # jsonschema is imported only to explain an invalid document
    from jsonschema import Draft202012Validator, ValidationError

SCM_FOLDER = "api-management"
EXTRAS_FOLDER = "api-management-extras"
ROOT_KIND = "root-configuration"

JSON_SYNTAX = "json-syntax"
INVALID_ENUM = "invalid-enum"
MISSING_PROPERTY = "missing-property"
UNKNOWN_PROPERTY = "unknown-property"
SCHEMA = "schema"

_SCM_KINDS = {
    "apis": "api",
    "apiReleases": "api-release",
    "apiVersionSets": "api-version-set",
    "backends": "backend",
    "groups": "group",
    "identity-providers": "identity-provider",
    "products": "product",
    "tags": "tag",
}
_EXTRAS_KINDS = {
    "namedValues": "named-value",
    "policyFragments": "policy-fragment",
    "loggers": "logger",
    "diagnostics": "diagnostic",
}
_JSON_TYPES = {
    dict: "object",
    list: "array",
    str: "string",
    bool: "boolean",
    int: "integer",
    float: "number",
    type(None): "null",
}
_TYPE_WORDS = {
    "object": "an object",
    "array": "an array",
    "string": "a string",
    "boolean": "a boolean",
    "integer": "an integer",
    "number": "a number",
    "null": "null",
}
_LIMITS = {
    "pattern": "must match the pattern {}",
    "minLength": "must be at least {} characters long",
    "maxLength": "must be at most {} characters long",
    "minimum": "must be at least {}",
    "maximum": "must be at most {}",
    "minItems": "must hold at least {} items",
    "maxItems": "must hold at most {} items",
    "uniqueItems": "must not repeat an item",
    "const": "must be {}",
    "not": "is not allowed here",
}


def schemas_dir() -> Path:
    """The folder that holds ``scm/`` and ``extras/`` schemas."""
    return resources.schemas_dir()


def json_file_kind(path: str) -> str | None:
    """The schema name for a repository-relative path, or None when it is not checked.

    The first ``api-management`` or ``api-management-extras`` folder of the path anchors
    it, so an export kept below a sub-folder is recognised too. Legacy developer-portal
    files (portalStyles, portalTemplates, templates) are not checked.
    """
    parts = path.split("/")
    for index, part in enumerate(parts):
        if part == SCM_FOLDER:
            return _scm_kind(parts[index + 1 :])
        if part == EXTRAS_FOLDER:
            return _extras_kind(parts[index + 1 :])
    return None


def _scm_kind(rest: list[str]) -> str | None:
    if rest == ["configuration.json"]:
        return ROOT_KIND
    if len(rest) == 3 and rest[2] == "configuration.json" and rest[1]:
        return _SCM_KINDS.get(rest[0])
    return None


def _extras_kind(rest: list[str]) -> str | None:
    if len(rest) == 2 and rest[1].endswith(".json") and len(rest[1]) > len(".json"):
        return _EXTRAS_KINDS.get(rest[0])
    return None


ENVIRONMENT_KIND = "environment"


def schema_path(kind: str) -> Path:
    if "/" in kind:  # a family of its own: "apiops/api" is schemas/apiops/api.schema.json
        return schemas_dir() / f"{kind}.schema.json"
    if kind == ENVIRONMENT_KIND:
        return schemas_dir() / "environments" / f"{kind}.schema.json"
    family = "extras" if kind in _EXTRAS_KINDS.values() else "scm"
    return schemas_dir() / family / f"{kind}.schema.json"


@functools.cache
def _fast_validator(kind: str) -> jsonschema_rs.Validator:
    schema = json.loads(schema_path(kind).read_text(encoding="utf-8"))
    return jsonschema_rs.validator_for(schema)


@functools.cache
def _validator(kind: str) -> Draft202012Validator:
    from jsonschema import Draft202012Validator, validators

    # Not checked against the meta-schema here: the schemas ship with apimsync and a test
    # checks them; that check would cost every run (and every hook) more than it validates.
    schema = json.loads(schema_path(kind).read_text(encoding="utf-8"))
    ecma = validators.extend(Draft202012Validator, {"pattern": _ecma_pattern})  # type: ignore[no-untyped-call]
    validator: Draft202012Validator = ecma(inline_local_refs(schema))
    return validator


def _ecma_pattern(
    validator: Draft202012Validator, pattern: str, instance: Any, schema: Any
) -> Iterator[ValidationError]:
    """``pattern`` as JSON Schema means it (ECMA-262, like the compiled pre-check): a final
    ``$`` matches only at the very end, where Python's also matches before a final
    newline (``"x\n"`` would pass ``^[a-z]+$``)."""
    from jsonschema import ValidationError

    if validator.is_type(instance, "string") and not _ecma_regex(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


@functools.cache
def _ecma_regex(pattern: str) -> re.Pattern[str]:
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1] + r"\Z"
    return re.compile(pattern)


_DEFS_PREFIX = "#/$defs/"


def inline_local_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with each ``{"$ref": "#/$defs/name"}`` replaced by that definition.

    The same schema, checked about a third faster: jsonschema resolves a ``$ref`` at every
    use. A definition that refers to itself (directly or not) keeps its ``$ref``; ``$defs``
    stays, so such refs still resolve.
    """
    defs = _as_dict(schema.get("$defs"))

    def walk(node: Any, open_defs: frozenset[str]) -> Any:
        if isinstance(node, list):
            return [walk(item, open_defs) for item in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if len(node) == 1 and isinstance(ref, str) and ref.startswith(_DEFS_PREFIX):
            name = ref[len(_DEFS_PREFIX) :]
            if name in defs and name not in open_defs and "/" not in name:
                return walk(defs[name], open_defs | {name})
        return {key: walk(value, open_defs) for key, value in node.items()}

    return {key: walk(value, frozenset()) for key, value in schema.items()}


def check_json_file(
    path: str, text: str, findings: Findings, kind: str | None = None
) -> Any | None:
    """Parse ``text`` and check it against the schema ``kind`` (by default the one
    :func:`json_file_kind` names for ``path``); return the document.

    Returns None (after a ``json-syntax`` finding) when the text is not JSON. Files
    without a schema are parsed but not checked further.
    """
    try:
        document = parse_json(text)
    except JsonSyntaxError as error:
        message = f"not valid JSON: {error.message}"
        findings.error(path, error.line, error.column, JSON_SYNTAX, message)
        return None
    kind = kind or json_file_kind(path)
    if kind is not None:
        findings.extend(schema_findings(path, text, document, kind))
    return document


def schema_findings(path: str, text: str, document: Any, kind: str) -> list[Finding]:
    """Findings for every schema violation of ``document`` (parsed from ``text``)."""
    if _fast_validator(kind).is_valid(document):
        return []
    errors = list(_validator(kind).iter_errors(document))
    if not errors:
        return []
    positions = locate_json(text)
    found: dict[Finding, None] = {}
    for error in errors:
        found.update(dict.fromkeys(_error_findings(path, error, positions)))
    return list(found)


def _error_findings(
    path: str, error: ValidationError, positions: JsonPositions
) -> Iterator[Finding]:
    pointer = json_pointer(error.absolute_path)
    if error.validator == "required":
        for key in _missing_keys(error):
            message = f'required property "{key}" is missing from {_label(pointer)}; add it'
            yield _finding(path, positions.value(pointer), MISSING_PROPERTY, message)
    elif error.validator == "additionalProperties":
        for key in _unknown_keys(error):
            at = positions.key(pointer + json_pointer([key]))
            yield _finding(path, at, UNKNOWN_PROPERTY, _unknown_message(key, pointer, error))
    elif error.validator == "enum":
        yield _finding(path, positions.value(pointer), INVALID_ENUM, _enum_message(pointer, error))
    else:
        yield _finding(path, positions.value(pointer), SCHEMA, _schema_message(pointer, error))


def _finding(path: str, at: tuple[int, int], code: str, message: str) -> Finding:
    return Finding(path, at[0], at[1], Severity.ERROR, code, message)


def _label(pointer: str) -> str:
    return pointer if pointer else "the document"


def _as_dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _as_list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _missing_keys(error: ValidationError) -> list[str]:
    instance = _as_dict(error.instance)
    return [key for key in _as_list(error.validator_value) if key not in instance]


def _unknown_keys(error: ValidationError) -> list[str]:
    schema = _as_dict(error.schema)
    known = _as_dict(schema.get("properties"))
    patterns = _as_dict(schema.get("patternProperties"))
    return [
        key
        for key in _as_dict(error.instance)
        if key not in known and not any(re.search(pattern, key) for pattern in patterns)
    ]


def _unknown_message(key: str, pointer: str, error: ValidationError) -> str:
    allowed = ", ".join(_as_dict(_as_dict(error.schema).get("properties"))) or "none"
    return f'unknown property "{key}" in {_label(pointer)}; remove it (allowed: {allowed})'


def _enum_message(pointer: str, error: ValidationError) -> str:
    allowed = ", ".join(_show(value) for value in _as_list(error.validator_value))
    found = _shorten(json.dumps(error.instance))
    return f"{found} is not allowed at {_label(pointer)}; use one of: {allowed}"


def _schema_message(pointer: str, error: ValidationError) -> str:
    label = _label(pointer)
    custom = _as_dict(error.schema).get("x-message")
    if isinstance(custom, str):
        return f"{label}: {custom}"
    if error.validator == "type":
        expected = error.validator_value
        names = [expected] if isinstance(expected, str) else _as_list(expected)
        wanted = " or ".join(_TYPE_WORDS.get(name, name) for name in names)
        actual = _TYPE_WORDS.get(_JSON_TYPES.get(type(error.instance), ""), "another type")
        return f"{label} must be {wanted}, not {actual}"
    template = _LIMITS.get(str(error.validator))
    if template is not None:
        return f"{label} {template.format(json.dumps(error.validator_value))}"
    return f"{label}: {error.message}"


def _show(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _shorten(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
