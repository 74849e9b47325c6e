"""Offline validation of a configuration repository.

:func:`validate_tree` reads the tree, checks every JSON file against its schema, every
policy document against the policy schema and rules, and the references between
resources, collecting all findings before it returns.
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from apimsync.formats.layouts import (
    Location,
    ReadResult,
    TreeLayout,
    detect_layout,
    locate_configuration,
    read_tree,
)
from apimsync.model import Configuration, Kind, Policy
from apimsync.policy.parser import PolicySyntaxError, parse_policy
from apimsync.policy.references import policy_references
from apimsync.validate.expressions import check_expressions
from apimsync.validate.findings import Finding, Findings, Severity
from apimsync.validate.json_checks import check_json_file
from apimsync.validate.policy_rules import PolicyScope, check_policy
from apimsync.validate.references import LocatedReference, ReferenceChecker
from apimsync.validate.secrets import check_secrets


@dataclass(frozen=True)
class ValidationReport:
    root: Path
    findings: tuple[Finding, ...]
    files_checked: int
    configuration: Configuration
    layout: TreeLayout

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.WARNING]

    def failed(self, strict: bool = False) -> bool:
        return bool(self.errors or (strict and self.warnings))


def validate_tree(
    root: Path,
    environment: str | None = None,
    environ: Mapping[str, str] | None = None,
    focus: Collection[str] | None = None,
    layout: str | None = None,
) -> ValidationReport:
    """Validate the configuration below ``root`` (the folder holding ``api-management/``
    or an APIOps artifact folder; ``layout`` forces one), with the overlay of
    ``environment`` applied when one is named. With ``focus``, only those files are
    checked on their own (schemas, policy rules); every file is still read for the
    references between them."""
    location = locate_configuration(root, layout)
    if environment is not None:
        from apimsync.validate.environment import validate_environment

        environ = os.environ if environ is None else environ
        return validate_environment(root, environment, environ, focus, location)
    return validate_files(root, focus, location)


def validate_files(
    root: Path, focus: Collection[str] | None = None, location: Location | None = None
) -> ValidationReport:
    """Validate the files below ``root`` as they are (no overlay)."""
    result = read_tree(root, location or detect_layout(root))
    checked = set(result.layout.files if focus is None else focus)
    findings = Findings()
    findings.extend(result.findings)
    failed_json = {f.path for f in result.findings if f.code == "json-syntax"}
    for path, source in sorted(result.layout.files.items()):
        if path not in checked or source.text is None or path in failed_json:
            continue
        kind = result.layout.schema_kind(path)
        if kind is not None:
            check_json_file(path, source.text.removeprefix("\ufeff"), findings, kind)
    references = list(_check_policies(result, findings, checked))
    ReferenceChecker(result.configuration, result.layout, findings).check_all(references)
    check_secrets(result.configuration, result.layout, findings)
    return ValidationReport(
        root=root,
        findings=tuple(without_echoes(findings.sorted(), failed_json)),
        files_checked=len(checked & set(result.layout.files)),
        configuration=result.configuration,
        layout=result.layout,
    )


_ECHO = re.compile(
    r"^'(?P<ref>[^']+)' is not the configuration\.json of a resource"
    r"|^names [a-z -]+ '[^']+', which is not in (?P<folder>\S+/)"
)


def without_echoes(findings: Iterable[Finding], unreadable: Collection[str]) -> list[Finding]:
    """``findings`` less those that may only repeat that a file could not be read: a
    reference to it, or an unknown name of the kind whose folder holds it (names are not
    file names, so any name of that kind may be the one it defines). The file's own error
    stays, so nothing is deployed, and validating again after the fix shows the rest."""
    folders = {_folder_of(path) for path in unreadable}
    kept = []
    for finding in findings:
        match = _ECHO.match(finding.message)
        if match and (match["ref"] in unreadable or match["folder"] in folders):
            continue
        kept.append(finding)
    return kept


def _folder_of(path: str) -> str:
    """The folder of a kind (``api-management/backends/``) that holds ``path``."""
    folder, _, file = path.rpartition("/")
    if file == "configuration.json":
        folder = folder.rpartition("/")[0]
    return folder + "/"


def _check_policies(
    result: ReadResult, findings: Findings, checked: set[str]
) -> Iterator[LocatedReference]:
    for resource in result.configuration.of_kind(Kind.POLICY, Kind.POLICY_FRAGMENT):
        path = result.layout.policy_files.get(resource.id)
        if path is None or path not in checked:
            continue
        try:
            document = parse_policy(str(resource.properties.get("value", "")), path)
        except PolicySyntaxError as error:
            findings.error(path, error.line, error.column, error.code, error.detail)
            continue
        check_policy(document, _scope_of(resource), findings)
        check_expressions(document, findings)
        for reference in policy_references(document):
            yield LocatedReference(path, reference)


def _scope_of(resource: object) -> PolicyScope:
    if not isinstance(resource, Policy):
        return PolicyScope.FRAGMENT
    owner = resource.owner
    if owner is None:
        return PolicyScope.GLOBAL
    if owner.startswith("/products/"):
        return PolicyScope.PRODUCT
    return PolicyScope.OPERATION if "/operations/" in owner else PolicyScope.API
