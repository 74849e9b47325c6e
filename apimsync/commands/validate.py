"""``apimsync validate``: check a configuration repository offline."""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from apimsync.validate.render import render_json, render_text
from apimsync.validate.tree import validate_tree

EXIT_OK = 0
EXIT_FINDINGS = 1


def validate(
    directory: Path,
    *,
    output_format: str,
    strict: bool,
    out: TextIO,
    environment: str | None = None,
    staged: bool = False,
    layout: str | None = None,
) -> int:
    """Validate ``directory`` (or what git's index holds of it, with ``staged``), with the
    overlay of ``environment`` applied when one is named; print the findings and return
    the exit code."""
    if staged:
        from apimsync.staged import validate_staged

        report = validate_staged(directory, environment, layout=layout)
    else:
        report = validate_tree(directory, environment, layout=layout)
    render = render_json if output_format == "json" else render_text
    print(render(report), file=out)
    return EXIT_FINDINGS if report.failed(strict) else EXIT_OK
