"""``apimsync validate``: check a configuration repository offline."""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from apimsync.validate.render import render_json, render_text
from apimsync.validate.tree import validate_tree

EXIT_OK = 0
EXIT_FINDINGS = 1


def validate(directory: Path, *, output_format: str, strict: bool, out: TextIO) -> int:
    """Validate ``directory``, print the findings, and return the exit code."""
    report = validate_tree(directory)
    render = render_json if output_format == "json" else render_text
    print(render(report), file=out)
    return EXIT_FINDINGS if report.failed(strict) else EXIT_OK
