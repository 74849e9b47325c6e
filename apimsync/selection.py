"""The few files of a tree that a small change needs, to be read without the rest.

A big tree takes seconds to read whole; a change of a few files needs only, in the scm
layout:

* the changed files, plus the files that refer to them (a policy's API or product, found
  with ``git grep``) and the files they refer to (``$ref-``, ``$refs-``);
* every file of the kinds that references point at by name (backends, version sets,
  groups, tags, everything in ``api-management-extras/``, the root configuration) and
  the environment overlays;
* for a deleted or renamed resource, and for a changed API path, every file that names
  the old name, id, path or file (so a broken reference or a duplicate path is caught).

In an APIOps artifact folder, whose files name each other by folder name, every file but
those of the APIs (nearly all of a big tree), plus the folders of the APIs a change
touches: those with a changed file (every revision of them), those a changed product or
tag file names, those that name what a deleted or renamed file held, and those taking a
changed API's path.

The files that changed and those that name them are the *relevant* ones: the rest was
validated when it was committed, so only their findings are reported. A change to the
overlays or to many files needs everything (:func:`partial_is_enough`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass, replace
from typing import Any

from apimsync.environments import FOLDER as ENVIRONMENTS
from apimsync.formats.files import CONFIG_ROOTS, EXTRAS_ROOT, SCM_ROOT
from apimsync.formats.layouts import Location
from apimsync.formats.textfile import reference_path
from apimsync.gitfiles import Differences, GitFiles, Side
from apimsync.validate.tree import ValidationReport

FULL_ABOVE = 200
"""Above this many changed files (or a tenth of the tree, if more), read everything."""
NAMED_FOLDERS = (
    f"{SCM_ROOT}/backends/",
    f"{SCM_ROOT}/apiVersionSets/",
    f"{SCM_ROOT}/groups/",
    f"{SCM_ROOT}/tags/",
    f"{SCM_ROOT}/configuration.json",
    f"{SCM_ROOT}/policies/global.xml",
    f"{EXTRAS_ROOT}/",
    f"{ENVIRONMENTS}/",
)
_API_CONFIG = re.compile(rf"^{SCM_ROOT}/apis/[^/]+/configuration\.json$")


@dataclass(frozen=True)
class Selection:
    files: frozenset[str]
    """What to read."""
    relevant: frozenset[str]
    """Whose findings to report: the changed files and the files that name them."""


def partial_is_enough(differences: Differences, files: int, overlays: Collection[str] = ()) -> bool:
    """Whether a change to a tree of ``files`` files can be read partially (``overlays``:
    the environment files outside ``environments/``, APIOps' ``configuration.*.yaml``)."""
    touched = differences.all
    return len(touched) <= max(FULL_ABOVE, files // 10) and not any(
        p.startswith(f"{ENVIRONMENTS}/") or p in overlays for p in touched
    )


def select(
    git: GitFiles,
    before: Side,
    after: Side,
    files: frozenset[str],
    differences: Differences,
    location: Location,
) -> Selection:
    """The files of ``after`` (which holds ``files``) that the change from ``before``
    needs, and those of them that are relevant."""
    if location.name == "apiops":
        return _select_apiops(git, before, after, files, differences, location.prefix())
    return _select_scm(git, before, after, files, differences)


def _select_scm(
    git: GitFiles, before: Side, after: Side, files: frozenset[str], differences: Differences
) -> Selection:
    named = {p for p in files if p.startswith(NAMED_FOLDERS)}
    changed = set(differences.present)
    git.read([before, after], sorted(p for p in differences.all if p.endswith(".json")))
    old_names = list(_old_names(git, before, after, differences))
    referring = git.grep(after, old_names, CONFIG_ROOTS, fixed=True)
    api_paths = list(_api_paths(git, after, changed))
    referring |= git.grep(after, api_paths, CONFIG_ROOTS, json_only=True)
    relevant = changed | (referring & files)
    texts = _as_written(sorted(p for p in relevant if not p.endswith(".json")))
    owners = git.grep(after, texts, CONFIG_ROOTS, fixed=True, json_only=True) & files
    needed = named | relevant | owners
    # The owners' references too: a unit read with files missing is full of ref-missing
    # findings, each costly to place, all then dropped as outside ``relevant``.
    sources = sorted(p for p in relevant | owners if p.endswith(".json"))
    git.read([after], sources)
    needed |= _referenced(git, after, sources, files)
    return Selection(frozenset(needed), frozenset(relevant))


def _select_apiops(
    git: GitFiles,
    before: Side,
    after: Side,
    files: frozenset[str],
    differences: Differences,
    prefix: str,
) -> Selection:
    units = _ApiUnits(files, prefix)
    git.read([before, after], sorted(p for p in differences.all if p.endswith(".json")))
    tops = [prefix.rstrip("/") or "."]
    gone = _deleted_folders(differences, prefix)
    old_names = [*_old_names(git, before, after, differences), *sorted(gone)]
    referring = git.grep(after, old_names, tops, fixed=True)
    # v6 and v7 links name what they link by folder: products/P/apis/NAME/...
    referring |= {p for p in files if gone & {part.casefold() for part in p.split("/")[:-1]}}
    changed_paths = list(_apiops_paths(git, after, differences.present, units))
    referring |= git.grep(after, changed_paths, tops, json_only=True)
    referring &= files
    named = {
        unit
        for path in differences.all
        if units.of(path) is None
        for unit in units.named_in(path, git.show(before, path), git.show(after, path))
    }
    chosen = {units.of(p) for p in differences.all | referring} | named
    needed = {p for p in files if units.of(p) is None or units.of(p) in chosen}
    return Selection(frozenset(needed), frozenset(differences.present | referring))


class _ApiUnits:
    """The files of an APIOps tree by API: an API's folder and its revisions' are one
    unit, named by the API's folder name (case-folded)."""

    def __init__(self, files: frozenset[str], prefix: str) -> None:
        self.prefix = prefix
        self.names = {unit for p in files if (unit := self.of(p)) is not None}

    def of(self, path: str) -> str | None:
        parts = path.removeprefix(self.prefix).split("/")
        if not path.startswith(self.prefix) or len(parts) < 3 or parts[0] != "apis":
            return None
        return parts[1].split(";rev=", 1)[0].casefold()

    def named_in(self, path: str, *texts: str | None) -> set[str]:
        """The units a file outside them names: by a folder of its path (v6 and v7
        links), or by a string of its JSON (arrays of names, ids)."""
        words = {part.casefold() for part in path.split("/")}
        for text in texts:
            words |= {w.rsplit("/", 1)[-1].casefold() for w in _strings(_json(text))}
        return {w.split(";rev=", 1)[0] for w in words} & self.names


def _apiops_paths(
    git: GitFiles, after: Side, changed: frozenset[str], units: _ApiUnits
) -> Iterator[str]:
    """Patterns for the paths of changed APIs: another API with the same path conflicts."""
    for path in sorted(changed):
        if units.of(path) is None or not path.endswith("/apiInformation.json"):
            continue
        document = _json(git.show(after, path))
        properties = document.get("properties")
        value = (properties if isinstance(properties, dict) else document).get("path")
        if isinstance(value, str):
            yield r'"path"[[:space:]]*:[[:space:]]*"/?' + re.escape(value.strip("/")) + '/?"'


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def reporting_overlays(selection: Selection, overlays: Collection[str]) -> Selection:
    """``selection`` with the overlay files outside ``environments/`` among the relevant
    ones (their own findings are reported, as a whole read reports them)."""
    present = selection.files & frozenset(overlays)
    return Selection(selection.files, selection.relevant | present)


def only_relevant(report: ValidationReport, relevant: frozenset[str]) -> ValidationReport:
    """``report`` with the findings of the relevant files (and of the overlays) only."""
    kept = tuple(
        f for f in report.findings if f.path in relevant or f.path.startswith(f"{ENVIRONMENTS}/")
    )
    return replace(report, findings=kept)


def _old_names(git: GitFiles, before: Side, after: Side, differences: Differences) -> Iterator[str]:
    """Grep patterns for names, ids and paths that deleted or changed files gave up."""
    yield from _as_written(sorted(differences.deleted))
    for path in sorted(differences.deleted | differences.modified):
        if not path.endswith(".json"):
            continue
        gone = _names(git.show(before, path)) - _names(git.show(after, path))
        yield from sorted(gone)


def _deleted_folders(differences: Differences, prefix: str) -> set[str]:
    """The names of the top-level resources whose files were deleted (case-folded; what
    is below them is named only inside them)."""
    found: set[str] = set()
    for path in differences.deleted:
        folders = path.removeprefix(prefix).split("/")[1:-1]
        found.update(folder.casefold() for folder in folders[:1])
    return found


def _as_written(paths: list[str]) -> list[str]:
    """Each path as a JSON file may name it: with ``/`` or, as APIM wrote some references
    on Windows, with ``\\`` (escaped in JSON as two)."""
    return paths + [path.replace("/", "\\\\") for path in paths]


def _names(text: str | None) -> set[str]:
    """The names a JSON document gives its resource (an APIOps document its
    ``properties``' display name)."""
    document = _json(text)
    properties = document.get("properties")
    names = set()
    for holder in (document, properties if isinstance(properties, dict) else {}):
        for key in ("id", "displayName", "name"):
            value = holder.get(key)
            if isinstance(value, str) and value:
                names.add(value)
                names.add(value.rsplit("/", 1)[-1])
    return names


def _api_paths(git: GitFiles, after: Side, changed: set[str]) -> Iterator[str]:
    """Patterns for the paths of changed APIs: another API with the same path conflicts."""
    for path in sorted(p for p in changed if _API_CONFIG.match(p)):
        value = _json(git.show(after, path)).get("path")
        if isinstance(value, str):
            yield r'"path"[[:space:]]*:[[:space:]]*"/?' + re.escape(value.strip("/")) + '/?"'


def _referenced(git: GitFiles, side: Side, sources: list[str], files: frozenset[str]) -> set[str]:
    """The files that ``$ref-``/``$refs-`` entries of the JSON ``sources`` name."""
    by_lower = {p.lower(): p for p in files}
    found: set[str] = set()
    for path in sources:
        for reference in _references(_json(git.show(side, path))):
            target = by_lower.get((reference_path(reference) or reference).lower())
            if target is not None:
                found.add(target)
    return found


def _references(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key.startswith(("$ref-", "$refs-")):
                yield from (r for r in ([item] if isinstance(item, str) else item or []) if r)
            else:
                yield from _references(item)
    elif isinstance(value, list):
        for item in value:
            yield from _references(item)


def _json(text: str | None) -> dict[str, Any]:
    try:
        document = json.loads((text or "").removeprefix("\ufeff"))
    except ValueError:
        return {}
    return document if isinstance(document, dict) else {}
