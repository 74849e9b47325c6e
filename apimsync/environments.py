"""Environments: one base configuration, one overlay file per environment.

An overlay is ``environments/<name>.json`` in the folder that holds ``api-management/``::

    {
      "description": "Production",
      "resources": {
        "/backends/openaione": {"url": "https://prod-one.openai.azure.com/openai"},
        "/namedValues/entra-tenant-id": {"value": "${env:AZURE_TENANT_ID}"},
        "/policyFragments/openai-limits": {"$ref-value": "environments/prod/limits.xml"}
      }
    }

Each entry of ``resources`` is a JSON merge patch (RFC 7386) of that resource's ARM
properties: objects merge key by key, any other value (arrays too) replaces, ``null``
removes the property. ``"$ref-<property>"`` reads the property's value from a file below
``environments/``. Any string may hold ``${env:NAME}``, replaced by the environment
variable NAME, which must be set and not empty; ``$${`` stands for a literal ``${``.

An overlay is applied to the model after the files are read; nothing on disk changes.
Problems are :class:`OverlayError`, which carries one finding per problem with the
overlay file, line and column.
"""

from __future__ import annotations

import copy
import dataclasses
import re
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from apimsync.errors import ApimsyncError, UsageError
from apimsync.formats.jsonpos import JsonPositions, JsonSyntaxError, locate_json, parse_json
from apimsync.formats.textfile import model_text, normalize_repo_path, resolve_inside
from apimsync.jsonvalue import thaw
from apimsync.model import Configuration, Resource, make_resource
from apimsync.validate.findings import Finding, Findings, Severity
from apimsync.validate.json_checks import ENVIRONMENT_KIND, schema_findings

FOLDER = "environments"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_VARIABLE = re.compile(r"\$(\$?)\{env:([^}]*)\}")
_VARIABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_REF_PREFIX = "$ref-"

ENV_VARIABLE = "env-variable"
ENV_UNKNOWN_RESOURCE = "env-unknown-resource"
ENV_REF = "env-ref"


class UnknownEnvironment(UsageError):
    """``--env NAME`` names no overlay file."""

    def __init__(self, name: str, available: Sequence[str], expected: str = "") -> None:
        expected = expected or f"{FOLDER}/{name}.json"
        known = (
            f"the environments are {', '.join(available)}"
            if available
            else "there is no environment file, so there are none"
            if not expected.startswith(FOLDER)
            else f"{FOLDER}/ holds no overlay, so there are none"
        )
        super().__init__(f"no environment '{name}': {expected} does not exist; {known}")


class OverlayError(ApimsyncError):
    """An overlay cannot be read or applied; each finding says where and why."""

    def __init__(self, findings: Sequence[Finding]) -> None:
        self.findings = tuple(findings)
        lines = "\n".join(finding.render() for finding in self.findings)
        super().__init__(f"the environment overlay cannot be applied:\n{lines}")


@dataclass(frozen=True)
class Patch:
    """The change of one resource: a merge patch of its properties, and where it is written."""

    resource_id: str
    changes: Mapping[str, Any]
    line: int
    column: int
    files: Mapping[str, str]
    """Property -> the repository-relative file its value was read from (``$ref-``)."""


@dataclass(frozen=True)
class Overlay:
    name: str
    path: str
    patches: tuple[Patch, ...]
    lenient: bool = False
    """True for an APIOps override file: as APIOps publishers do, a patch of a resource
    the configuration lacks is left out (with a warning) instead of being an error."""
    notes: tuple[Finding, ...] = ()
    """Warnings about the overlay file itself (settings apimsync does not use...)."""

    def patch_for(self, resource_id: str) -> Patch | None:
        return next((p for p in self.patches if p.resource_id == resource_id), None)


def environment_names(root: Path) -> list[str]:
    """The environments ``root`` defines: the names of ``environments/*.json``."""
    folder = root / FOLDER
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob("*.json") if p.is_file())


def load_overlay(root: Path, name: str, environ: Mapping[str, str]) -> Overlay:
    """Read, check and resolve ``environments/<name>.json`` below ``root``."""
    if not _NAME.match(name):
        raise UsageError(
            f"'{name}' is not an environment name; use letters, digits, '.', '_' and '-'"
        )
    relative = f"{FOLDER}/{name}.json"
    if not (root / relative).is_file():
        raise UnknownEnvironment(name, environment_names(root))
    text = _read_text(root, relative)
    document = _parse(relative, text)
    problems = schema_findings(relative, text, document, ENVIRONMENT_KIND)
    if problems:
        raise OverlayError(problems)
    reader = PatchReader(root, relative, locate_json(text), environ)
    patches = tuple(reader.patch(rid, changes) for rid, changes in document["resources"].items())
    if reader.findings:
        raise OverlayError(reader.findings.sorted())
    return Overlay(name, relative, patches)


def apply_overlay(
    configuration: Configuration, overlay: Overlay, *, skip_missing: bool = False
) -> Configuration:
    """``configuration`` with every patch of ``overlay`` merged into its resource.

    A patch of a resource the configuration lacks is an error, or, with ``skip_missing``
    (a partial configuration, as staged validation reads), left out."""
    unknown = [p for p in overlay.patches if p.resource_id not in configuration]
    if unknown and not (skip_missing or overlay.lenient):
        raise OverlayError([_unknown_resource(overlay, patch) for patch in unknown])
    known = [p for p in overlay.patches if p.resource_id in configuration]
    changed = [_patched(configuration, patch) for patch in known]
    return configuration.with_resources(*changed)


def check_patched_exist(
    configuration: Configuration, overlay: Overlay, resource_ids: Collection[str]
) -> None:
    """Raise :class:`OverlayError` for each patch of one of ``resource_ids`` that
    ``configuration`` lacks: how a partial configuration checks the resources it knows
    to be gone (a deleted resource the overlay still changes)."""
    unknown = [
        p
        for p in overlay.patches
        if p.resource_id in resource_ids and p.resource_id not in configuration
    ]
    if unknown and not overlay.lenient:
        raise OverlayError([_unknown_resource(overlay, patch) for patch in unknown])


def overlay_warnings(configuration: Configuration, overlay: Overlay) -> list[Finding]:
    """The overlay's own notes, and for a lenient overlay one warning per patch of a
    resource the configuration lacks (it is left out)."""
    found = list(overlay.notes)
    if overlay.lenient:
        found += [
            dataclasses.replace(
                _unknown_resource(overlay, patch),
                severity=Severity.WARNING,
                message=f"changes '{patch.resource_id}', which is not in the configuration; "
                "the override is ignored (fix the name if it should apply)",
            )
            for patch in overlay.patches
            if patch.resource_id not in configuration
        ]
    return found


def unapply_overlay(
    live: Configuration, base: Configuration, overlay: Overlay
) -> tuple[Configuration, list[str]]:
    """``live`` with every property the overlay sets put back to its value in ``base``.

    This is how ``pull --env`` keeps environment values out of the base files. Also
    returns a note for each property whose live value is not the overlay's (drift).
    """
    notes: list[str] = []
    restored: list[Resource] = []
    for patch in overlay.patches:
        resource = live.get(patch.resource_id)
        if resource is None:
            continue
        original = base.get(patch.resource_id)
        properties = thaw(resource.properties)
        base_properties = thaw(original.properties) if original is not None else {}
        for keys, wanted in _leaves(patch.changes, ()):
            current = _lookup(properties, keys)
            if current is not _ABSENT and current != wanted:
                pointer = "/" + "/".join(keys)
                notes.append(
                    f"{patch.resource_id}{pointer} differs on the instance from "
                    f"{overlay.path}; the next deploy with --env {overlay.name} sets it back"
                )
            _assign(properties, keys, _lookup(base_properties, keys))
        restored.append(make_resource(patch.resource_id, properties))
    return live.with_resources(*restored), notes


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: ``target`` with ``patch`` merged in (``null`` removes a member)."""
    if not isinstance(patch, Mapping):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, Mapping) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


# -- reading -------------------------------------------------------------------------


def _read_text(root: Path, relative: str) -> str:
    try:
        return resolve_inside(root, relative).read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise OverlayError(
            [_error(relative, (1, 1), "file-encoding", "is not valid UTF-8; save it as UTF-8")]
        ) from None


def _parse(relative: str, text: str) -> Any:
    try:
        return parse_json(text.removeprefix("\ufeff"))
    except JsonSyntaxError as error:
        message = f"not valid JSON: {error.message}"
        raise OverlayError(
            [_error(relative, (error.line, error.column), "json-syntax", message)]
        ) from None


class PatchReader:
    """Turns the entries of one overlay into patches (``${env:...}`` resolved, ``$ref-``
    files read), collecting problems. ``positions`` are keyed by the pointer
    ``/resources/<id>/...`` whatever the file's own shape (an APIOps YAML file maps its
    entries there)."""

    def __init__(
        self, root: Path, path: str, positions: JsonPositions, environ: Mapping[str, str]
    ) -> None:
        self.root = root
        self.path = path
        self.positions = positions
        self.environ = environ
        self.findings = Findings()
        self._reported: set[str] = set()

    def patch(self, resource_id: str, changes: dict[str, Any]) -> Patch:
        pointer = "/resources/" + resource_id.replace("~", "~0").replace("/", "~1")
        resolved = self._substitute(changes, pointer)
        files: dict[str, str] = {}
        for key in [k for k in resolved if k.startswith(_REF_PREFIX)]:
            target = key[len(_REF_PREFIX) :]
            where = f"{pointer}/{key}"
            if target in resolved:
                self._error(where, ENV_REF, f"sets '{target}' twice; keep {key} or {target}")
            text = self._referenced_text(str(resolved.pop(key)), where)
            if text is not None:
                resolved[target] = text
                files[target] = normalize_repo_path(str(changes[key])) or ""
        line, column = self.positions.key(pointer)
        return Patch(resource_id, resolved, line, column, files)

    def _substitute(self, value: Any, pointer: str) -> Any:
        if isinstance(value, str):
            return _VARIABLE.sub(lambda match: self._variable(match, pointer), value)
        if isinstance(value, list):
            return [self._substitute(item, f"{pointer}/{i}") for i, item in enumerate(value)]
        if isinstance(value, dict):
            return {
                key: self._substitute(item, f"{pointer}/{_escape(key)}")
                for key, item in value.items()
            }
        return value

    def _variable(self, match: re.Match[str], pointer: str) -> str:
        escaped, name = match.group(1), match.group(2)
        if escaped:
            return match.group(0)[1:]
        if not _VARIABLE_NAME.match(name):
            self._error(pointer, ENV_VARIABLE, f"'${{env:{name}}}' does not name a variable")
            return ""
        value = self.environ.get(name)
        if not value and name not in self._reported:
            self._reported.add(name)
            self._error(
                pointer,
                ENV_VARIABLE,
                f"uses ${{env:{name}}}, but the environment variable {name} is not set "
                "(or empty); set it before running apimsync",
            )
        return value or ""

    def _referenced_text(self, reference: str, pointer: str) -> str | None:
        normal = normalize_repo_path(reference)
        if normal is None or not normal.startswith(f"{FOLDER}/"):
            self._error(pointer, ENV_REF, f"'{reference}' is not a path below {FOLDER}/")
            return None
        try:
            path = resolve_inside(self.root, normal)
            return model_text(path.read_bytes().decode("utf-8"))
        except FileNotFoundError:
            self._error(pointer, ENV_REF, f"names '{normal}', which does not exist")
        except (OSError, UnicodeDecodeError, ApimsyncError) as error:
            self._error(pointer, ENV_REF, f"cannot read '{normal}': {error}")
        return None

    def _error(self, pointer: str, code: str, message: str) -> None:
        self.findings.add(_error(self.path, self.positions.value(pointer), code, message))


def _error(path: str, at: tuple[int, int], code: str, message: str) -> Finding:
    return Finding(path, at[0], at[1], Severity.ERROR, code, message)


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def _unknown_resource(overlay: Overlay, patch: Patch) -> Finding:
    return Finding(
        overlay.path,
        patch.line,
        patch.column,
        Severity.ERROR,
        ENV_UNKNOWN_RESOURCE,
        f"changes '{patch.resource_id}', which is not in the configuration; "
        "fix the id or add the resource to the base files",
    )


def _patched(configuration: Configuration, patch: Patch) -> Resource:
    resource = configuration.get(patch.resource_id)
    assert resource is not None
    properties = merge_patch(thaw(resource.properties), patch.changes)
    return make_resource(patch.resource_id, properties)


# -- undoing (pull) ------------------------------------------------------------------

_ABSENT: Any = object()


def _leaves(
    patch: Mapping[str, Any], keys: tuple[str, ...]
) -> Iterator[tuple[tuple[str, ...], Any]]:
    for key, value in patch.items():
        if isinstance(value, Mapping):
            yield from _leaves(value, (*keys, key))
        else:
            yield (*keys, key), value


def _lookup(document: Any, keys: tuple[str, ...]) -> Any:
    for key in keys:
        if not isinstance(document, dict) or key not in document:
            return _ABSENT
        document = document[key]
    return document


def _assign(document: dict[str, Any], keys: tuple[str, ...], value: Any) -> None:
    *parents, last = keys
    for key in parents:
        child = document.get(key)
        if not isinstance(child, dict):
            if value is _ABSENT:
                return
            child = document[key] = {}
        document = child
    if value is _ABSENT:
        document.pop(last, None)
    else:
        document[last] = copy.deepcopy(value)
