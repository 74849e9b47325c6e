"""Validation reports as compiler-style text or as JSON for machines."""

from __future__ import annotations

import json

from apimsync.validate.tree import ValidationReport

FORMAT_VERSION = "1"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def summary_line(report: ValidationReport) -> str:
    return (
        f"{_plural(len(report.errors), 'error')}, {_plural(len(report.warnings), 'warning')} "
        f"in {_plural(report.files_checked, 'file')}"
    )


def render_text(report: ValidationReport) -> str:
    lines = [finding.render() for finding in report.findings]
    lines.append(summary_line(report))
    return "\n".join(lines)


def render_json(report: ValidationReport) -> str:
    document = {
        "format_version": FORMAT_VERSION,
        "root": str(report.root),
        "findings": [finding.as_json() for finding in report.findings],
        "summary": {
            "errors": len(report.errors),
            "warnings": len(report.warnings),
            "files": report.files_checked,
        },
    }
    return json.dumps(document, indent=2)
