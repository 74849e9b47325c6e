"""Reference rules: what the schemas cannot see because it spans files.

Policies naming backends, fragments, loggers and named values; diagnostics naming
loggers; APIs sharing a path; URL templates against their template parameters.
A kind the repository does not manage at all (no named values in the extras folder,
say) can only be warned about: the thing may well exist on the instance.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from apimsync.formats.layouts import TreeLayout
from apimsync.formats.scm.kinds import ROOT_CONFIGURATION
from apimsync.model import Configuration, Kind, Resource, last_segment
from apimsync.policy.parser import Position
from apimsync.policy.references import PolicyReference
from apimsync.validate.findings import Findings

FIRST_MODULE_WITH_BACKENDS = 15
_TEMPLATE_PARAMETER = re.compile(r"\{\*?([^{}*]+)\}")
_NAMED_VALUE = re.compile(r"\{\{([A-Za-z0-9._-]{1,256})\}\}")


@dataclass(frozen=True)
class LocatedReference:
    path: str
    reference: PolicyReference


class ReferenceChecker:
    def __init__(
        self, configuration: Configuration, layout: TreeLayout, findings: Findings
    ) -> None:
        self.configuration = configuration
        self.layout = layout
        self.findings = findings
        self.backends = {r.name for r in configuration.of_kind(Kind.BACKEND)}
        self.fragments = {r.name for r in configuration.of_kind(Kind.POLICY_FRAGMENT)}
        self.loggers = {r.name for r in configuration.of_kind(Kind.LOGGER)}
        self.named_values = {
            str(r.properties.get("displayName", r.name)).lower()
            for r in configuration.of_kind(Kind.NAMED_VALUE)
        } | {r.name.lower() for r in configuration.of_kind(Kind.NAMED_VALUE)}

    def check_all(self, policy_references: Iterable[LocatedReference]) -> None:
        for located in policy_references:
            self._check_policy_reference(located)
        self._check_backend_named_values()
        self._check_diagnostics()
        self._check_api_paths()
        self._check_template_parameters()
        self._check_version_sets()

    # -- policies ----------------------------------------------------------------------

    def _check_policy_reference(self, located: LocatedReference) -> None:
        ref = located.reference
        known, managed, code, what = {
            "backend": (self.backends, self._backends_managed(), "unknown-backend", "backend"),
            "fragment": (
                self.fragments,
                bool(self.fragments),
                "unknown-fragment",
                "policy fragment",
            ),
            "logger": (self.loggers, bool(self.loggers), "unknown-logger", "logger"),
            "named-value": (
                self.named_values,
                bool(self.named_values),
                "unknown-named-value",
                "named value",
            ),
        }[ref.kind]
        name = ref.name.lower() if ref.kind == "named-value" else ref.name
        if name in known:
            return
        self._report(
            located.path,
            ref.position,
            managed,
            code,
            self._missing_message(what, ref.name),
            ref.name,
        )

    def _backends_managed(self) -> bool:
        """Whether a backend the tree lacks is surely missing. Exports hold every backend of
        the instance from module version 15 on (the first seen with backends/); an older
        export without backends may come from an instance that has them."""
        if self.backends or ROOT_CONFIGURATION not in self.layout.files:
            return True
        declared = getattr(self.layout, "declared_module_version", None)  # scm exports only
        return declared is not None and declared >= FIRST_MODULE_WITH_BACKENDS

    def _missing_message(self, what: str, name: str) -> str:
        kind = {
            "backend": Kind.BACKEND,
            "policy fragment": Kind.POLICY_FRAGMENT,
            "logger": Kind.LOGGER,
            "named value": Kind.NAMED_VALUE,
        }[what]
        where = self.layout.home_of(kind)
        if what == "backend":
            return f"names backend '{name}', which is not in {where}; add it or fix the name"
        return f"names {what} '{name}', which is not in {where}; add it there or fix the name"

    def _report(
        self,
        path: str,
        position: Position,
        as_error: bool,
        code: str,
        message: str,
        subject: str | None = None,
    ) -> None:
        report = self.findings.error if as_error else self.findings.warning
        report(path, position.line, position.column, code, message, subject)

    def _check_backend_named_values(self) -> None:
        for backend in self.configuration.of_kind(Kind.BACKEND):
            for pointer, text in _strings(backend.properties, ""):
                for match in _NAMED_VALUE.finditer(text):
                    if match.group(1).lower() in self.named_values:
                        continue
                    path, line, column = self._where(backend, pointer)
                    self._report(
                        path,
                        Position(line, column),
                        bool(self.named_values),
                        "unknown-named-value",
                        self._missing_message("named value", match.group(1)),
                        match.group(1),
                    )

    # -- model rules -------------------------------------------------------------------

    def _check_diagnostics(self) -> None:
        for diagnostic in self.configuration.of_kind(Kind.DIAGNOSTIC):
            logger_id = str(diagnostic.properties.get("loggerId", ""))
            if logger_id and last_segment(logger_id) not in self.loggers:
                path, line, column = self._where(diagnostic, "/loggerId")
                self.findings.error(
                    path,
                    line,
                    column,
                    "unknown-logger",
                    f"names logger '{logger_id}', which is not in "
                    f"{self.layout.home_of(Kind.LOGGER)}; add it or fix the id",
                )

    def _check_api_paths(self) -> None:
        seen: dict[tuple[str, str, str], list[Resource]] = defaultdict(list)
        for api in self.configuration.of_kind(Kind.API):
            if ";rev=" in api.id or api.properties.get("isCurrent") is False:
                continue
            path = str(api.properties.get("path", "")).strip("/").lower()
            version_set = str(api.properties.get("apiVersionSetId") or "")
            version = str(api.properties.get("apiVersion") or "") if version_set else ""
            seen[(path, version_set, version)].append(api)
        for (path, _set, _version), apis in seen.items():
            for api in apis[1:]:
                where, line, column = self._where(api, "/path")
                self.findings.error(
                    where,
                    line,
                    column,
                    "duplicate-api-path",
                    f"API '{api.id}' uses path '/{path}', as does '{apis[0].id}'; "
                    "give each API its own path (or version them in a version set)",
                )

    def _check_template_parameters(self) -> None:
        for operation in self.configuration.of_kind(Kind.OPERATION):
            template = str(operation.properties.get("urlTemplate", "")).split("?", 1)[0]
            # APIM matches these names regardless of letter case ({gcc} may be declared GCC).
            declared = {
                str(p.get("name")).lower()
                for p in operation.properties.get("templateParameters") or ()
                if hasattr(p, "get")
            }
            for name in _TEMPLATE_PARAMETER.findall(template):
                if name.lower() not in declared:
                    path, line, column = self._where(operation, "/urlTemplate")
                    self.findings.error(
                        path,
                        line,
                        column,
                        "template-parameter",
                        f"URL template '{template}' uses '{{{name}}}', which is not "
                        "in templateParameters; declare it there",
                    )

    def _check_version_sets(self) -> None:
        for api in self.configuration.of_kind(Kind.API):
            version_set = api.properties.get("apiVersionSetId")
            if isinstance(version_set, str) and version_set not in self.configuration:
                path, line, column = self._where(api, "/apiVersionSetId")
                self.findings.error(
                    path,
                    line,
                    column,
                    "unknown-version-set",
                    f"names version set '{version_set}', which is not in "
                    f"{self.layout.home_of(Kind.API_VERSION_SET)}; add it or fix the id",
                )

    # -- positions ---------------------------------------------------------------------

    def _where(self, resource: Resource, pointer: str) -> tuple[str, int, int]:
        """File, line and column of ``pointer`` inside the document that holds ``resource``."""
        return self.layout.locate(resource, pointer)


def _strings(value: Any, pointer: str) -> Iterable[tuple[str, str]]:
    if isinstance(value, str):
        yield pointer, value
    elif hasattr(value, "items"):
        for key, item in value.items():
            yield from _strings(item, f"{pointer}/{key}")
    elif isinstance(value, tuple | list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{pointer}/{index}")
