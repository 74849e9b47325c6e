"""Validation of the configuration as one environment sees it: base files plus overlay.

The merged configuration is written, with apimsync's own writer, into a temporary copy
of the tree (a changed resource rewrites only its own files) and validated like any
tree, so every check sees exactly what a deploy with ``--env`` would send. A finding in
a file the overlay changed points at the overlay: at the file a ``$ref-`` entry read
(same lines) or at the resource's entry, naming the base file in the message.
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Collection, Mapping
from pathlib import Path

from apimsync.environments import Overlay, OverlayError, apply_overlay, overlay_warnings
from apimsync.formats.layouts import (
    Location,
    TreeLayout,
    detect_layout,
    load_environment,
    read_tree,
    render_tree,
)
from apimsync.validate.findings import Finding
from apimsync.validate.tree import ValidationReport, validate_files


def validate_environment(
    root: Path,
    name: str,
    environ: Mapping[str, str],
    focus: Collection[str] | None = None,
    location: Location | None = None,
) -> ValidationReport:
    """Validate ``root`` with the overlay of environment ``name`` applied
    (``environments/<name>.json``, or an APIOps ``configuration.<name>.yaml``)."""
    location = location or detect_layout(root)
    base = read_tree(root, location)
    try:
        overlay = load_environment(root, location, name, environ)
        merged = apply_overlay(base.configuration, overlay, skip_missing=focus is not None)
    except OverlayError as error:
        report = validate_files(root, focus, location)
        return _with_findings(report, root, [*report.findings, *error.findings])
    rendered = render_tree(merged, base.layout)
    changed = {
        path
        for path, data in rendered.items()
        if path not in base.layout.files or base.layout.files[path].raw != data
    }
    with tempfile.TemporaryDirectory(prefix="apimsync-env-") as temp:
        for path, data in rendered.items():
            target = Path(temp) / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        report = validate_files(Path(temp), None if focus is None else {*focus, *changed}, location)
    notes = overlay_warnings(base.configuration, overlay)
    located = [_locate(f, changed, overlay, report.layout) for f in report.findings]
    result = _with_findings(report, root, [*located, *notes])
    return dataclasses.replace(result, files_checked=report.files_checked + 1)


def _with_findings(
    report: ValidationReport, root: Path, findings: list[Finding]
) -> ValidationReport:
    ordered = sorted(set(findings), key=lambda f: (f.path, f.line, f.column, f.code, f.message))
    return dataclasses.replace(report, root=root, findings=tuple(ordered))


def _locate(finding: Finding, changed: set[str], overlay: Overlay, layout: TreeLayout) -> Finding:
    """Point a finding in a file the overlay rewrote at the overlay entry responsible."""
    if finding.path not in changed:
        return finding
    for resource_id, policy_file in layout.policy_files.items():
        patch = overlay.patch_for(resource_id)
        if policy_file == finding.path and patch is not None and "value" in patch.files:
            return dataclasses.replace(finding, path=patch.files["value"])
    for resource_id in layout.resources_in(finding.path):
        patch = overlay.patch_for(resource_id)
        if patch is not None:
            message = (
                f"{finding.message} (in {finding.path}:{finding.line}:{finding.column} "
                f"with this overlay applied)"
            )
            return dataclasses.replace(
                finding,
                path=overlay.path,
                line=patch.line,
                column=patch.column,
                message=message,
            )
    return finding
