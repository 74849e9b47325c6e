"""APIOps publisher overrides (``configuration.<env>.yaml``) read as apimsync environments.

An override file lists, per section, entries ``{name, properties}`` whose properties are
deep-merged into the resource the artifacts define (objects merge, anything else
replaces), with nested sections for children::

    apimServiceName: contoso-prod          # ignored: choose the instance as usual
    namedValues:
      - name: backend-key
        properties: {keyVault: {secretIdentifier: https://kv.vault.azure.net/secrets/k}}
    apis:
      - name: orders
        properties: {serviceUrl: https://orders.prod.example.com}
        diagnostics: [{name: applicationinsights, properties: {verbosity: error}}]
        operations: [{name: get-order, policies: [{name: policy, properties: {...}}]}]

Every generation's section keys are read: camelCase (``namedValues``, v6 and v7), the
v7 alphas' ``named values`` and ``named_values``, and any letter case. The result is an
:class:`~apimsync.environments.Overlay` like ``environments/<env>.json``, so ``--env``
has the same guarantees (``${env:NAME}`` resolved, findings at the file's lines, pull
keeping environment values out of the artifacts). As the APIOps publisher does, an entry
for a resource the artifacts lack is left out with a warning, and an API's
``apiRevision``/``isCurrent`` are not overridden.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from apimsync.environments import (
    FOLDER,
    Overlay,
    OverlayError,
    Patch,
    PatchReader,
    UnknownEnvironment,
    load_overlay,
)
from apimsync.errors import UsageError
from apimsync.formats.apiops.documents import relative_ids
from apimsync.formats.jsonpos import JsonPositions, Position, escape_token
from apimsync.formats.layouts import Location
from apimsync.formats.textfile import resolve_inside
from apimsync.validate.findings import Finding, Severity

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_TOKEN = re.compile(r"\{#[^#{}]+#\}")
OVERRIDE = "apiops-override"

_TOP_SECTIONS: Mapping[str, str] = {
    "namedvalues": "namedValues",
    "backends": "backends",
    "loggers": "loggers",
    "diagnostics": "diagnostics",
    "groups": "groups",
    "tags": "tags",
    "products": "products",
    "apis": "apis",
    "versionsets": "apiVersionSets",
    "apiversionsets": "apiVersionSets",
    "policyfragments": "policyFragments",
}
"""Section key (lower case, no spaces or underscores) -> the model's collection."""

_CHILD_SECTIONS: Mapping[str, Mapping[str, str]] = {
    "apis": {"diagnostics": "diagnostics", "releases": "releases", "operations": "operations"},
}
_NOT_MANAGED = frozenset({"subscriptions", "gateways", "workspaces"})
_LINK_SECTIONS = frozenset({"apis", "groups", "tags", "products"})
_API_KEPT = ("apiRevision", "isCurrent")


def override_file(root: Path, location: Location, name: str) -> Path | None:
    """The override file of environment ``name``: ``configuration.<name>.yaml`` (or
    ``.yml``) in ``root``, or beside the artifact folder when ``root`` is that folder."""
    for folder in _folders(root, location):
        for suffix in ("yaml", "yml"):
            candidate = folder / f"configuration.{name}.{suffix}"
            if candidate.is_file():
                return candidate
    return None


def _folders(root: Path, location: Location) -> list[Path]:
    return [root] if location.folder else [root, root.resolve().parent]


def override_files(root: Path, location: Location) -> list[str]:
    """The override files in ``root`` (paths relative to it), for git exports."""
    return sorted(
        path.name
        for path in root.glob("configuration.*.y*ml")
        if path.is_file() and path.suffix in (".yaml", ".yml")
    )


def environment_names(root: Path, location: Location) -> list[str]:
    names = set()
    for folder in _folders(root, location):
        for path in folder.glob("configuration.*.y*ml"):
            name = path.name.split(".")[1]
            if path.suffix in (".yaml", ".yml") and name != "extractor":
                names.add(name)
    environments = root / FOLDER
    if environments.is_dir():
        names |= {p.stem for p in environments.glob("*.json")}
    return sorted(names)


def load_overrides(
    root: Path, location: Location, name: str, environ: Mapping[str, str]
) -> Overlay:
    """The overlay of environment ``name``: its APIOps override file, or apimsync's own
    ``environments/<name>.json`` where there is none."""
    if not _NAME.match(name):
        raise UsageError(
            f"'{name}' is not an environment name; use letters, digits, '.', '_' and '-'"
        )
    path = override_file(root, location, name)
    if path is None:
        if (root / FOLDER / f"{name}.json").is_file():
            return load_overlay(root, name, environ)
        raise UnknownEnvironment(
            name, environment_names(root, location), f"configuration.{name}.yaml"
        )
    relative = _relative(root, path)
    text = _read(root, path, relative)
    return _OverrideReader(root, relative, name, environ).read(text)


def _relative(root: Path, path: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return f"../{path.name}"


def _read(root: Path, path: Path, relative: str) -> str:
    try:
        target = resolve_inside(root, relative) if not relative.startswith("../") else path
        return target.read_bytes().decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        raise OverlayError(
            [_finding(relative, (1, 1), "file-encoding", "is not valid UTF-8; save it as UTF-8")]
        ) from None


@dataclass
class _Entry:
    resource_id: str
    properties: Any
    where: Position
    positions: dict[str, Position] = field(default_factory=dict)


class _OverrideReader:
    def __init__(self, root: Path, path: str, name: str, environ: Mapping[str, str]) -> None:
        self.root = root
        self.path = path
        self.name = name
        self.environ = environ
        self.notes: list[Finding] = []
        self.problems: list[Finding] = []

    def read(self, text: str) -> Overlay:
        node = self._compose(text)
        entries = list(self._entries(node)) if node is not None else []
        values: dict[str, Position] = {}
        for entry in entries:
            base = "/resources/" + escape_token(entry.resource_id)
            values[base] = entry.where
            values.update({base + pointer: at for pointer, at in entry.positions.items()})
        reader = PatchReader(self.root, self.path, JsonPositions(values, {}), self.environ)
        patches: dict[str, Patch] = {}
        for entry in entries:
            if entry.resource_id in patches:
                self._problem(entry.where, f"overrides '{entry.resource_id}' twice; keep one")
                continue
            patches[entry.resource_id] = reader.patch(entry.resource_id, entry.properties)
        problems = [*self.problems, *reader.findings.sorted()]
        if any(f.severity is Severity.ERROR for f in problems):
            raise OverlayError(problems)
        return Overlay(
            self.name, self.path, tuple(patches.values()), lenient=True, notes=tuple(self.notes)
        )

    def _compose(self, text: str) -> yaml.MappingNode | None:
        try:
            node = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            at = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
            problem = getattr(error, "problem", None) or str(error).splitlines()[0]
            raise OverlayError(
                [_finding(self.path, at, "yaml-syntax", f"is not valid YAML: {problem}")]
            ) from None
        if node is None:
            return None
        if not isinstance(node, yaml.MappingNode):
            raise OverlayError(
                [_finding(self.path, _at(node), "schema", "must be a map of sections")]
            )
        return node

    def _entries(self, root: yaml.MappingNode) -> Iterator[_Entry]:
        for key_node, value in root.value:
            key = str(key_node.value)
            section = _section(key)
            if key == "apimServiceName":
                self._note(
                    key_node,
                    "apimServiceName is not used: apimsync takes the instance from --service, "
                    "APIMSYNC_SERVICE or apimsync.toml",
                )
            elif section in _TOP_SECTIONS:
                yield from self._section(value, _TOP_SECTIONS[section], "")
            elif section == "policies":
                yield from self._policies(value, "")
            elif section in _NOT_MANAGED:
                self._note(key_node, f"'{key}' is not used: apimsync does not manage {key}")
            else:
                self._note(key_node, f"'{key}' is not an override section; it is ignored")

    def _section(self, node: yaml.Node, collection: str, owner: str) -> Iterator[_Entry]:
        for item in self._items(node):
            name = _scalar(item.get("name"))
            if name is None:
                self._problem(_at(item.node), 'each entry needs a "name"')
                continue
            resource_id = f"{owner}/{collection}/{name}"
            for key, child in item.children.items():
                section = _section(key)
                nested = _CHILD_SECTIONS.get(collection, {}).get(section)
                if section == "policies":
                    yield from self._policies(child, resource_id)
                elif nested is not None:
                    yield from self._section(child, nested, resource_id)
                elif section in _LINK_SECTIONS and collection in ("products", "tags"):
                    self._note(
                        item.keys[key],
                        f"'{key}' of {resource_id} is not used: links have nothing to override",
                    )
                elif key not in ("name", "properties"):
                    self._note(item.keys[key], f"'{key}' is not an override key; it is ignored")
            properties = item.get("properties")
            if properties is None:
                continue
            if not isinstance(properties, yaml.MappingNode):
                self._problem(_at(properties), '"properties" must be a map')
                continue
            value, positions = _to_python(properties)
            value = relative_ids(value)
            if collection == "apis":
                for kept in _API_KEPT:
                    if value.pop(kept, None) is not None:
                        self._note(
                            properties,
                            f"{kept} of {resource_id} is not overridden (APIOps ignores it too)",
                        )
            self._check_tokens(value, positions, "")
            yield _Entry(resource_id, value, _at(item.node), positions)

    def _policies(self, node: yaml.Node, owner: str) -> Iterator[_Entry]:
        for entry in self._section(node, "policies", owner):
            if not entry.resource_id.endswith("/policies/policy"):
                self._problem(entry.where, "a policy entry is named 'policy'")
                continue
            yield entry

    def _items(self, node: yaml.Node) -> Iterator[_Item]:
        if not isinstance(node, yaml.SequenceNode):
            if not (isinstance(node, yaml.ScalarNode) and node.value in ("", "~", "null")):
                self._problem(_at(node), "a section must be a list of entries")
            return
        for child in node.value:
            if isinstance(child, yaml.MappingNode):
                yield _Item(child)
            else:
                self._problem(_at(child), 'an entry must be a map with "name" and "properties"')

    def _check_tokens(self, value: Any, positions: Mapping[str, Position], pointer: str) -> None:
        if isinstance(value, str) and _TOKEN.search(value):
            self.notes.append(
                _finding(
                    self.path,
                    positions.get(pointer, (1, 1)),
                    OVERRIDE,
                    f"holds the token {_TOKEN.search(value).group(0)}, which the APIOps "  # type: ignore[union-attr]
                    "pipelines replace before publishing; apimsync sends it as it is "
                    "(use ${env:NAME} to take the value from the environment)",
                    Severity.WARNING,
                )
            )
        elif isinstance(value, dict):
            for key, item in value.items():
                self._check_tokens(item, positions, f"{pointer}/{escape_token(key)}")
        elif isinstance(value, list):
            for index, item in enumerate(value):
                self._check_tokens(item, positions, f"{pointer}/{index}")

    def _note(self, node: yaml.Node, message: str) -> None:
        self.notes.append(_finding(self.path, _at(node), OVERRIDE, message, Severity.WARNING))

    def _problem(self, at: Position, message: str) -> None:
        self.problems.append(_finding(self.path, at, "schema", message))


class _Item:
    """One entry of a section: its keys, as nodes."""

    def __init__(self, node: yaml.MappingNode) -> None:
        self.node = node
        self.keys: dict[str, yaml.Node] = {}
        self.children: dict[str, yaml.Node] = {}
        for key, value in node.value:
            self.keys[str(key.value)] = key
            self.children[str(key.value)] = value

    def get(self, key: str) -> yaml.Node | None:
        return self.children.get(key)


def _section(key: str) -> str:
    return re.sub(r"[\s_-]", "", key).lower()


def _scalar(node: yaml.Node | None) -> str | None:
    if isinstance(node, yaml.ScalarNode) and str(node.value):
        return str(node.value)
    return None


def _at(node: yaml.Node) -> Position:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _to_python(node: yaml.Node) -> tuple[Any, dict[str, Position]]:
    """The value of a YAML node (safe types) and the position of each JSON pointer."""
    positions: dict[str, Position] = {}
    loader = yaml.SafeLoader("")

    def walk(current: yaml.Node, pointer: str) -> Any:
        positions[pointer] = _at(current)
        if isinstance(current, yaml.MappingNode):
            return {
                str(key.value): walk(value, f"{pointer}/{escape_token(str(key.value))}")
                for key, value in current.value
            }
        if isinstance(current, yaml.SequenceNode):
            return [walk(item, f"{pointer}/{index}") for index, item in enumerate(current.value)]
        return loader.construct_object(current, deep=True)

    try:
        return walk(node, ""), positions
    finally:
        loader.dispose()


def _finding(
    path: str,
    at: Position,
    code: str,
    message: str,
    severity: Severity = Severity.ERROR,
) -> Finding:
    return Finding(path, at[0], at[1], severity, code, message)
