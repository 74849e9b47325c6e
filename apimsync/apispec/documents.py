"""Reading and writing specification documents: JSON, YAML, local ``$ref`` pointers."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from apimsync.errors import SpecificationError

MAX_DEPTH = 64


def load(text: str, allow_yaml: bool) -> dict[str, Any]:
    """The document ``text`` holds: JSON, or YAML where the format allows it."""
    stripped = text.lstrip("\ufeff")
    try:
        document = json.loads(stripped)
    except json.JSONDecodeError as error:
        if not allow_yaml:
            where = f"(line {error.lineno}, column {error.colno})"
            raise SpecificationError(f"is not valid JSON {where}") from None
        document = _load_yaml(stripped)
    if not isinstance(document, dict):
        raise SpecificationError("is not an object (a JSON or YAML mapping)")
    return document


def _load_yaml(text: str) -> Any:
    import yaml  # only YAML documents need it

    # The same safe loading in C where PyYAML has it: a 500-API APIOps tree's
    # specifications took 28 s to parse in Python.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(text, Loader=loader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        raise SpecificationError(f"is neither valid JSON nor valid YAML{where}") from None


def dump(document: Mapping[str, Any], as_yaml: bool) -> str:
    if not as_yaml:
        return json.dumps(document, indent=2, ensure_ascii=False)
    import yaml

    dumped: str = yaml.safe_dump(
        _plain(document), sort_keys=False, allow_unicode=True, default_flow_style=False
    )
    return dumped


def _plain(value: Any) -> Any:
    """Mappings and sequences as dict and list, which ``yaml.safe_dump`` represents."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def resolve(document: Mapping[str, Any], node: Any, depth: int = 0) -> Any:
    """``node`` with a local ``$ref`` (``#/a/b``) followed; other nodes unchanged."""
    if not isinstance(node, Mapping) or not isinstance(node.get("$ref"), str):
        return node
    if depth > MAX_DEPTH:
        raise SpecificationError(f"has a $ref cycle at {node['$ref']!r}")
    target: Any = document
    reference = str(node["$ref"])
    if not reference.startswith("#/"):
        raise SpecificationError(f"refers to another document ({reference!r}); inline it")
    for part in reference[2:].split("/"):
        key = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(target, Mapping) or key not in target:
            raise SpecificationError(f"has a $ref to nothing: {reference!r}")
        target = target[key]
    return resolve(document, target, depth + 1)


def ref_name(node: Any) -> str | None:
    """``Pet`` for ``{"$ref": "#/definitions/Pet"}``; None for anything else."""
    if isinstance(node, Mapping) and isinstance(node.get("$ref"), str):
        return str(node["$ref"]).rsplit("/", 1)[-1]
    return None
