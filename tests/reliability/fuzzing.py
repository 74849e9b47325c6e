"""Fuzz targets and input generators for the policy parser, the scm reader (and writer)
and the environment overlay loader; shared by the seeded loop, hypothesis and atheris.

Each target takes one input and says how it ended: ``ok`` (read without findings),
``findings`` (read, with findings) or ``refused`` (an :class:`ApimsyncError` with one
message, the way the command line ends). Anything else raises, as does a file changed
outside the folder the target was given (a sandbox around it holds a canary file that
hostile references point at).
"""

from __future__ import annotations

import copy
import json
import os
import random
import shutil
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from apimsync.environments import apply_overlay, load_overlay, unapply_overlay
from apimsync.errors import ApimsyncError
from apimsync.formats.scm.reader import read_tree
from apimsync.formats.scm.writer import write_tree
from apimsync.model import Configuration, Resource, make_resource
from apimsync.policy.canonical import canonical_policy
from apimsync.policy.parser import PolicySyntaxError, parse_policy
from apimsync.policy.references import policy_references
from apimsync.validate.findings import Findings
from apimsync.validate.policy_rules import PolicyScope, check_policy
from apimsync.validate.tree import validate_tree
from tests.conftest import CORPUS

CANARY = b"canary: nothing may change or read me into the configuration\n"
ENVIRONMENT = "fuzz"
ENVIRON = {"FUZZ_SET": "value-from-env", "AZURE_TENANT_ID": "t"}


class Escaped(AssertionError):
    """A file outside the target's folder appeared, changed or disappeared."""


# -- the sandbox -----------------------------------------------------------------------


class Sandbox:
    """``folder/root`` (the target's), ``folder/outside/canary.xml`` and a record of the
    rest of ``folder`` to compare with after each input."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.root = folder / "root"
        outside = folder / "outside"
        outside.mkdir(parents=True, exist_ok=True)
        (outside / "canary.xml").write_bytes(CANARY)
        (outside / "canary.json").write_bytes(CANARY)
        self.root.mkdir(exist_ok=True)
        self._outside = self._state()

    def _state(self) -> dict[str, bytes]:
        found: dict[str, bytes] = {}
        for folder, dirs, names in os.walk(self.folder):
            here = Path(folder)
            if here == self.root:
                dirs.clear()
                continue
            for name in [*names, *dirs]:
                path = here / name
                if path == self.root:
                    continue
                found[str(path.relative_to(self.folder))] = (
                    path.read_bytes() if path.is_file() and not path.is_symlink() else b"<>"
                )
        return found

    def check(self) -> None:
        if self._state() != self._outside:
            raise Escaped(f"something outside {self.root} changed")

    def fill(self, files: Mapping[str, bytes | None]) -> None:
        """Make ``root`` hold exactly ``files`` (None: a link to the canary)."""
        shutil.rmtree(self.root)
        self.root.mkdir()
        self.change(files, {})

    def change(
        self, files: Mapping[str, bytes | None], current: Mapping[str, bytes | None]
    ) -> None:
        """Turn ``root`` from holding ``current`` into holding ``files``, touching only
        the paths that differ."""
        for relative in set(current) - set(files):
            (self.root / relative).unlink(missing_ok=True)
        for relative, data in files.items():
            if relative in current and current[relative] == data and data is not None:
                continue
            path = self.root / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.is_symlink() or path.exists():
                path.unlink()
            if data is None:
                path.symlink_to(self.folder / "outside" / "canary.xml")
            else:
                path.write_bytes(data)


# -- targets ---------------------------------------------------------------------------

SCOPES = tuple(PolicyScope)


def policy_target(text: str, scope_index: int = 0) -> str:
    """Parse, check, canonicalize and collect references of one policy document."""
    try:
        document = parse_policy(text, "fuzz.xml")
    except PolicySyntaxError:
        return "findings"
    findings = Findings()
    check_policy(document, SCOPES[scope_index % len(SCOPES)], findings)
    canonical_policy(document)
    policy_references(document)
    return "findings" if len(findings.sorted()) else "ok"


class TreeTarget:
    """Read a generated tree; every ``write_every``-th also written back in place (as
    ``pull`` does), every ``validate_every``-th validated in full."""

    def __init__(self, sandbox: Sandbox, write_every: int = 4, validate_every: int = 40) -> None:
        self.sandbox = sandbox
        self.write_every = write_every
        self.validate_every = validate_every
        self.runs = 0
        self.written = 0
        self.validated = 0
        self._holds: dict[str, bytes | None] = {}
        sandbox.fill({})

    def __call__(self, files: dict[str, bytes | None]) -> str:
        root = self.sandbox.root
        self.sandbox.change(files, self._holds)
        self._holds = dict(files)
        self.runs += 1
        try:
            result = read_tree(root)
            _no_canary(result.configuration)
            if self.runs % self.write_every == 0:
                self.written += 1
                done = write_tree(result.configuration, root, result.layout)
                for path in (*done.written, *done.deleted):
                    self._holds[path] = b"<changed by the writer>"
            if self.runs % self.validate_every == 0:
                self.validated += 1
                if validate_tree(root).findings:
                    return "findings"
        except ApimsyncError:
            return "refused"
        finally:
            self.sandbox.check()
        return "findings" if result.findings else "ok"


class OverlayTarget:
    """Load a generated ``environments/fuzz.json`` over a fixed base, apply it and take it
    back off (as ``pull --env`` does); now and then validate the whole environment."""

    def __init__(self, sandbox: Sandbox, base: dict[str, bytes], validate_every: int = 25) -> None:
        self.sandbox = sandbox
        self.validate_every = validate_every
        sandbox.fill(base)
        (sandbox.root / "environments" / "fuzz").mkdir(parents=True)
        (sandbox.root / "environments" / "fuzz" / "limits.xml").write_text("<fragment/>")
        (sandbox.root / "environments" / "link.xml").symlink_to(
            sandbox.folder / "outside" / "canary.xml"
        )
        self.base = read_tree(sandbox.root).configuration
        self.runs = 0
        self.validated = 0

    def __call__(self, overlay: bytes) -> str:
        self.runs += 1
        (self.sandbox.root / "environments" / f"{ENVIRONMENT}.json").write_bytes(overlay)
        try:
            loaded = load_overlay(self.sandbox.root, ENVIRONMENT, ENVIRON)
            merged = apply_overlay(self.base, loaded)
            unapply_overlay(merged, self.base, loaded)
            _no_canary(merged)
            if self.runs % self.validate_every == 0:
                self.validated += 1
                report = validate_tree(self.sandbox.root, environment=ENVIRONMENT, environ=ENVIRON)
                return "findings" if report.findings else "ok"
        except ApimsyncError as error:
            return "findings" if getattr(error, "findings", None) else "refused"
        finally:
            self.sandbox.check()
        return "ok"


def _no_canary(configuration: Configuration) -> None:
    """A reference that left the folder must not have brought the canary in."""
    marker = CANARY.decode().strip()
    for resource in configuration:
        if marker in json.dumps(resource.to_json()):
            raise Escaped(f"{resource.id} holds the canary from outside the folder")


# -- seeds -----------------------------------------------------------------------------

POLICY_TOKENS = (
    "<policies>",
    "</policies>",
    "<inbound>",
    "</inbound>",
    "<backend>",
    "<outbound>",
    "<on-error>",
    "<base />",
    "<base/>",
    "<choose>",
    "</choose>",
    '<when condition="@(true)">',
    "</when>",
    "<otherwise>",
    '<set-header name="x" exists-action="override">',
    "<value>",
    "</value>",
    "@(",
    "@{",
    ")",
    "}",
    '"',
    "'",
    "<",
    ">",
    "&",
    "&amp;",
    "&lt;",
    "&#0;",
    "&#x110000;",
    "&#65;",
    "&unknown;",
    "<![CDATA[",
    "]]>",
    "<!--",
    "-->",
    '<?xml version="1.0"?>',
    '<!DOCTYPE p [<!ENTITY a "b">]>',
    '<!ENTITY x SYSTEM "file:///etc/passwd">',
    "&x;",
    'xmlns="urn:x"',
    'xmlns:a="urn:a"',
    "<a:b/>",
    "{{named-value}}",
    "{{",
    "}}",
    '<include-fragment fragment-id="f" />',
    '<set-backend-service backend-id="b" />',
    '<retry condition="@(true)" count="3" interval="1">',
    "</retry>",
    "\x00",
    "\ufeff",
    "\ue000",
    "\ue0001\ue000",
    "\r\n",
    "\r",
    "\t",
    " ",
    "=",
    "/>",
    "</",
    "\U0001f600",
    '@(context.Request.Headers.GetValueOrDefault("a", "<b>"))',
    '@{ return "}"; }',
)

HOSTILE_VALUES: tuple[Any, ...] = (
    "../../outside/canary.xml",
    "../outside/canary.json",
    "/etc/passwd",
    "api-management/../../outside/canary.xml",
    "api-management/../../../etc/passwd",
    "api-management\\..\\..\\outside\\canary.xml",
    "C:\\Windows\\win.ini",
    "//server/share/x",
    "api-management/policies/global.xml",
    "api-management/link.xml",
    "environments/link.xml",
    "environments/../outside/canary.xml",
    "environments/fuzz/limits.xml",
    "",
    None,
    0,
    -1,
    1e308,
    10**40,
    True,
    [],
    {},
    [None],
    {"": ""},
    "a" * 3000,
    "\x00",
    "\u202e",
    "\ud800",
    "/apis/a",
    "/apis/../../x",
    "/apis/a/operations/b",
    "/apis/a;rev=2",
    "/groups/administrators",
    "/products/p/apiLinks/a",
    "/namedValues/{{x}}",
    "/subscriptions/x/resourceGroups/y/apis/a",
    "${env:FUZZ_SET}",
    "${env:UNSET_VARIABLE}",
    "$${env:X}",
    "${env:}",
    "${env:a b}",
)

HOSTILE_KEYS = (
    "$ref-policy",
    "$refs-apis",
    "$refs-groups",
    "$ref-documentValue",
    "$ref-value",
    "$ref-description",
    "$ref-url",
    "id",
    "name",
    "type",
    "operations",
    "apiSchemas",
    "apiIds",
    "operationIds",
    "productIds",
    "settings",
    "IntegrationModuleVersion",
    "",
    "\x00",
    "properties",
    "resources",
    "description",
    "$schema",
)


def hostile_value(rng: random.Random) -> Any:
    """One of :data:`HOSTILE_VALUES`, a copy (documents are changed in place)."""
    return copy.deepcopy(rng.choice(HOSTILE_VALUES))


def seed_policies() -> list[str]:
    found = sorted(CORPUS.glob("*/api-management/policies/**/*.xml"))[:40]
    texts = [p.read_text(encoding="utf-8-sig", errors="replace") for p in found]
    return texts or ["<policies><inbound><base /></inbound></policies>"]


OPERATION_POLICY = (
    '<policies><inbound><base /><set-backend-service backend-id="b1" /></inbound>'
    "<backend><base /></backend><outbound><base /></outbound>"
    "<on-error><base /></on-error></policies>"
)


def _seed_resources() -> list[Resource]:
    api = "/apis/echo"
    return [
        make_resource("/backends/b1", {"url": "https://b1.example.test", "protocol": "http"}),
        make_resource("/namedValues/nv1", {"displayName": "nv1", "value": "v"}),
        make_resource("/groups/team", {"displayName": "Team", "type": "custom"}),
        make_resource("/apiVersionSets/vs", {"displayName": "vs", "versioningScheme": "Segment"}),
        make_resource(
            api,
            {
                "displayName": "Echo",
                "path": "echo",
                "protocols": ["https"],
                "apiVersionSetId": "/apiVersionSets/vs",
            },
        ),
        make_resource(
            f"{api}/operations/get",
            {
                "displayName": "get",
                "method": "GET",
                "urlTemplate": "/{id}",
                "templateParameters": [{"name": "id", "type": "string"}],
            },
        ),
        make_resource(f"{api}/policies/policy", {"value": seed_policies()[0]}),
        make_resource(f"{api}/operations/get/policies/policy", {"value": OPERATION_POLICY}),
        make_resource("/products/p", {"displayName": "P", "state": "published"}),
        make_resource("/products/p/apiLinks/echo", {"apiId": api}),
        make_resource("/products/p/groupLinks/team", {"groupId": "/groups/team"}),
        make_resource("/tags/t", {"displayName": "t"}),
        make_resource("/tags/t/apiLinks/echo", {"apiId": api}),
        make_resource(
            "/policyFragments/f", {"description": "f", "value": "<fragment><base /></fragment>"}
        ),
        make_resource(
            "/loggers/l",
            {"loggerType": "applicationInsights", "credentials": {"instrumentationKey": "{{nv1}}"}},
        ),
    ]


_SEED_PARTS = (
    ("/backends/", "/namedValues/", "/apiVersionSets/", "/apis/"),
    ("/groups/", "/products/", "/tags/", "/apis/echo", "/apis/echo/operations/get"),
    ("/namedValues/", "/policyFragments/", "/loggers/", "/backends/"),
)
"""Three small trees (the reader's cost grows with files): APIs with their policies,
products, groups and tags with their links, the extras."""


def seed_tree(folder: Path) -> dict[str, bytes]:
    """A small tree of every kind, written by apimsync's writer."""
    write_tree(Configuration(_seed_resources()), folder)
    return _files(folder)


def seed_trees(folder: Path) -> list[dict[str, bytes]]:
    """The resources of :func:`seed_tree` in three smaller trees."""
    trees = []
    for number, prefixes in enumerate(_SEED_PARTS):
        chosen = [r for r in _seed_resources() if r.id.startswith(prefixes) or r.id in prefixes]
        if number == 1:
            chosen = [r for r in chosen if "/policies/" not in r.id]
        write_tree(Configuration(chosen), folder / str(number))
        trees.append(_files(folder / str(number)))
    return trees


def _files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


# -- generators ------------------------------------------------------------------------


def mutate_text(rng: random.Random, text: str, tokens: tuple[str, ...] = POLICY_TOKENS) -> str:
    """``text`` after 1 to 4 random edits: tokens put in, bytes dropped, repeated or cut."""
    for _ in range(rng.randint(1, 4)):
        at = rng.randint(0, len(text))
        choice = rng.random()
        if choice < 0.35:
            text = text[:at] + rng.choice(tokens) + text[at:]
        elif choice < 0.55:
            text = text[:at] + text[at + rng.randint(1, 40) :]
        elif choice < 0.65:
            text = text[:at]
        elif choice < 0.75:
            end = min(len(text), at + rng.randint(1, 80))
            text = text[:at] + text[at:end] * rng.randint(2, 30) + text[end:]
        elif choice < 0.85:
            text = (
                text[:at]
                + chr(rng.choice((0, 1, 0x7F, 0xFFFE, 0xD800, 0x202E, 0x10FFFF)))
                + text[at:]
            )
        elif choice < 0.92:
            depth = rng.choice((5, 50, 99, 101, 400))
            text = text[:at] + "<choose>" * depth + "</choose>" * depth + text[at:]
        else:
            text = text[:at] + "@(" * rng.randint(1, 3) + text[at:]
    return text


def policy_inputs(rng: random.Random) -> Iterator[tuple[str, int]]:
    seeds = seed_policies()
    while True:
        text = rng.choice(seeds)
        if rng.random() < 0.15:
            other = rng.choice(seeds)
            text = text[: rng.randint(0, len(text))] + other[rng.randint(0, len(other)) :]
        yield mutate_text(rng, text), rng.randrange(len(SCOPES))


def mutate_json(rng: random.Random, document: Any) -> Any:
    """One random structural edit somewhere in a parsed JSON document."""
    if not isinstance(document, dict | list) or rng.random() < 0.15:
        return hostile_value(rng)
    keys = list(document) if isinstance(document, dict) else list(range(len(document)))
    roll = rng.random()
    if isinstance(document, dict) and (roll < 0.3 or not keys):
        document[rng.choice(HOSTILE_KEYS)] = hostile_value(rng)
    elif keys and roll < 0.45:
        del document[rng.choice(keys)]
    elif keys and roll < 0.55:
        key = rng.choice(keys)
        nested: Any = document[key]
        for _ in range(rng.choice((3, 60, 99, 120))):
            nested = [nested]
        document[key] = nested
    elif keys:
        key = rng.choice(keys)
        document[key] = mutate_json(rng, document[key])
    return document


def tree_inputs(
    rng: random.Random, seeds: list[dict[str, bytes]]
) -> Iterator[dict[str, bytes | None]]:
    while True:
        files: dict[str, bytes | None] = dict(rng.choice(seeds))
        paths = sorted(files)
        for _ in range(rng.randint(1, 3)):
            path = rng.choice(paths)
            data = files.get(path) or b""
            text = data.decode("utf-8", errors="replace")
            roll = rng.random()
            if path.endswith(".json") and roll < 0.6:
                try:
                    document = json.loads(text.removeprefix("\ufeff"))
                    files[path] = json.dumps(mutate_json(rng, document)).encode()
                except (ValueError, RecursionError):
                    files[path] = mutate_text(rng, text, _JSON_TOKENS).encode(
                        "utf-8", "surrogatepass"
                    )
            elif roll < 0.9:
                mutated = mutate_text(rng, text, POLICY_TOKENS + _JSON_TOKENS)
                files[path] = mutated.encode("utf-8", "surrogatepass")
            elif roll < 0.95:
                files.pop(path, None)
            else:
                files[path] = None  # a link to the canary outside
        if rng.random() < 0.1:
            folder = rng.choice(
                ("api-management/apis/x", "api-management-extras/namedValues", "api-management")
            )
            name = rng.choice(
                ("configuration.json", "..json", "x.xml", "a" * 200 + ".json", "\u00e9.json")
            )
            document = {"id": hostile_value(rng)}
            files[f"{folder}/{name}"] = json.dumps(document).encode("utf-8", "surrogatepass")
        yield files


_JSON_TOKENS = (
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    '"',
    "\\",
    "\\u0000",
    "\\ud800",
    "NaN",
    "1e999",
    "-0",
    "null",
    "true",
)


def overlay_inputs(rng: random.Random, ids: list[str]) -> Iterator[bytes]:
    while True:
        resources: dict[str, Any] = {}
        for _ in range(rng.randint(0, 4)):
            resource_id = rng.choice(ids) if rng.random() < 0.7 else str(rng.choice(HOSTILE_VALUES))
            patch: dict[str, Any] = {}
            for _ in range(rng.randint(0, 3)):
                key = rng.choice(
                    ("url", "value", "description", "displayName", "state", "pool", "tags")
                )
                if rng.random() < 0.3:
                    key = "$ref-" + key
                patch[key] = hostile_value(rng)
            resources[resource_id] = mutate_json(rng, patch) if rng.random() < 0.3 else patch
        document: Any = {"description": "fuzz", "resources": resources}
        if rng.random() < 0.3:
            document = mutate_json(rng, document)
        text = json.dumps(document)
        if rng.random() < 0.25:
            text = mutate_text(rng, text, _JSON_TOKENS)
        yield text.encode("utf-8", "surrogatepass")


def run_loop(count: int, inputs: Iterator[Any], target: Callable[[Any], str]) -> dict[str, int]:
    """Feed ``count`` inputs to ``target``; how many ended which way."""
    outcomes: dict[str, int] = {}
    for _ in range(count):
        item = next(inputs)
        outcome = target(*item) if isinstance(item, tuple) else target(item)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes
