"""``apimsync convert SRC DST --to scm|apiops``: the same configuration in the other layout.

SRC must validate without errors. DST is written like ``pull`` writes a folder: files it
already holds in the target layout keep their names and style, nothing outside DST is
touched. Converting a tree to its own layout (and flavour) writes it unchanged. The
report lists, per resource and property or per folder, what does not carry over as it
was (:mod:`apimsync.formats.conversion`).
"""

from __future__ import annotations

import json
from pathlib import Path

from apimsync.errors import InvalidConfiguration, UsageError
from apimsync.formats.conversion import Loss, prepare
from apimsync.formats.layouts import (
    Location,
    detect_layout,
    local_state,
    locate_configuration,
    write_tree,
)
from apimsync.model import Configuration
from apimsync.output import Console
from apimsync.validate.tree import validate_tree


def convert(
    source: Path,
    destination: Path,
    console: Console,
    *,
    to: str,
    flavour: str | None = None,
    layout: str | None = None,
    output_format: str = "text",
) -> int:
    origin = locate_configuration(source, layout)
    target = _target(source, destination, to, flavour, origin)
    report = validate_tree(source, layout=origin.name)
    if report.errors:
        raise InvalidConfiguration(report.findings)
    losses: list[Loss] = []
    if _same_layout(origin, target):
        configuration, tree = report.configuration, report.layout
    else:
        configuration, losses = prepare(report.configuration, report.layout, target)
        tree = local_state(destination, target)[1]
    result = write_tree(configuration, destination, tree)
    console.result(
        _report(configuration, origin, target, len(result.written), losses, output_format)
    )
    for path in result.written:
        console.detail(f"  wrote {path}")
    return 0


def _target(
    source: Path, destination: Path, to: str, flavour: str | None, origin: Location
) -> Location:
    if to not in ("scm", "apiops"):
        raise UsageError(f"--to must be scm or apiops, not '{to}'")
    if flavour is not None and to != "apiops":
        raise UsageError("--apiops-flavour chooses the APIOps variant; use it with --to apiops")
    wanted = flavour or (origin.flavour if origin.name == "apiops" else None)
    target = detect_layout(destination, to, wanted)
    same = _same_layout(origin, target)
    if destination.resolve() == source.resolve() and not same:
        raise UsageError(
            f"{destination} is the folder being converted; convert it into another folder"
        )
    other = detect_layout(destination)
    if destination.exists() and other.name != to and _holds_configuration(destination, other):
        raise UsageError(
            f"{destination} already holds {other.describe()}; convert into an empty folder "
            f"or one that holds the {to} layout"
        )
    return target


def _holds_configuration(folder: Path, location: Location) -> bool:
    if location.name == "apiops":
        return True
    return any((folder / top).is_dir() for top in ("api-management", "api-management-extras"))


def _same_layout(origin: Location, target: Location) -> bool:
    return origin.name == target.name and (
        origin.name == "scm" or (origin.flavour or "v7") == (target.flavour or "v7")
    )


def _report(
    configuration: Configuration,
    origin: Location,
    target: Location,
    written: int,
    losses: list[Loss],
    output_format: str,
) -> str:
    if output_format == "json":
        document = {
            "format_version": "1",
            "from": _describe(origin),
            "to": _describe(target),
            "resources": len(configuration),
            "files_written": written,
            "not_carried_over": [loss.as_json() for loss in losses],
        }
        return json.dumps(document, indent=2)
    if _same_layout(origin, target):
        head = f"{origin.describe()} is already the target layout: nothing to convert"
        return f"{head} ({written} files written)."
    lines = [
        f"Converted {len(configuration)} resources from {origin.describe()} to "
        f"{target.describe()}: {written} files written."
    ]
    if losses:
        lines.append("Not carried over as it was:")
        lines += [f"  {loss.render()}" for loss in losses]
    return "\n".join(lines)


def _describe(location: Location) -> dict[str, str]:
    found: dict[str, str] = {"layout": location.name}
    if location.name == "apiops":
        found["folder"] = location.folder
        found["flavour"] = location.flavour or "v7"
    return found
