"""``apimsync pull``: write the live instance's configuration into the working folder.

``--via git`` instead clones (or fast-forwards) a branch of the instance's scm repository
(:mod:`apimsync.targets.git`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from apimsync.commands.progress import read_live
from apimsync.environments import unapply_overlay
from apimsync.errors import UsageError
from apimsync.formats.layouts import detect_layout, load_environment, local_state, write_tree
from apimsync.model import Configuration, Kind, Resource, make_resource
from apimsync.output import Console
from apimsync.plan.diff import is_service_owned
from apimsync.plan.normalize import comparable_pair, link_target, strip_server_fields
from apimsync.schemadocs import as_file
from apimsync.targets.connection import resolve_target
from apimsync.targets.git import DEFAULT_BRANCH, pull_repository


def pull(
    directory: Path,
    target_options: Mapping[str, str | None],
    console: Console,
    parallelism: int = 8,
    *,
    via: str = "sdk",
    branch: str = DEFAULT_BRANCH,
    save: bool = False,
    environment: str | None = None,
    layout: str | None = None,
    apiops_flavour: str | None = None,
) -> int:
    target = resolve_target(target_options, os.environ, directory)
    if via == "git" and environment:
        raise UsageError("--env cannot be used with --via git yet; use --via sdk")
    location = detect_layout(directory, layout, apiops_flavour)
    if via == "git" and location.name != "scm":
        raise UsageError(
            "--via git clones the instance's scm repository, which holds the scm layout; "
            f"{directory} holds {location.describe()}: pull it with --via sdk"
        )
    overlay = (
        load_environment(directory, location, environment, os.environ) if environment else None
    )
    if via == "git":
        console.result(pull_repository(target, directory, branch, console, save=save))
        return 0
    if save:
        raise UsageError("--save needs --via git (it saves the instance into its git repository)")
    live = read_live(target, console, parallelism)
    local, tree = local_state(directory, location)
    current = live.configuration
    if overlay is not None:
        current, notes = unapply_overlay(current, local, overlay)
        for note in notes:
            console.info(f"note: {note}")
    merged = merge_pulled(current, local, keep_kinds=live.unsupported)
    result = write_tree(merged, directory, tree)
    console.result(
        f"Pulled {len(merged)} resources from {target.service}: "
        f"{len(result.written)} files written, {len(result.deleted)} removed."
    )
    for path in result.written:
        console.detail(f"  wrote {path}")
    for path in result.deleted:
        console.detail(f"  removed {path}")
    return 0


_LinkKey = tuple[Kind, str | None, str | None]


def merge_pulled(
    live: Configuration, local: Configuration, keep_kinds: frozenset[Kind] = frozenset()
) -> Configuration:
    """The live state, holding each local resource that already means the same thing.

    Keeping the local resource (its formatting, its policy text, its link names) where the
    live one is equivalent is what makes a no-op pull change no file. Kinds the endpoint
    does not serve (``keep_kinds``) and built-in groups, which the service owns, stay as
    the files have them; so does the link the service gives every new product to
    Administrators, where the files hold the product without it.
    """
    by_target: dict[_LinkKey, Resource] = {
        (r.kind, r.parent, link_target(r)): r for r in local if link_target(r) is not None
    }
    merged = []
    for resource in live:
        if _left_to_the_files(resource, local, by_target):
            continue
        twin = local.get(resource.id) or by_target.get(
            (resource.kind, resource.parent, link_target(resource))
        )
        if twin is not None and twin.kind is resource.kind and _same(twin, resource):
            merged.append(twin)
        else:
            merged.append(_as_written(resource, twin))
    merged += [r for r in local if r.kind in keep_kinds]
    return Configuration(merged)


def _left_to_the_files(
    resource: Resource, local: Configuration, by_target: Mapping[_LinkKey, Resource]
) -> bool:
    """A service-owned link the files do not hold, of a product they do hold."""
    if not is_service_owned(resource) or resource.parent not in local:
        return False
    twin = local.get(resource.id) or by_target.get(
        (resource.kind, resource.parent, link_target(resource))
    )
    return twin is None


def _same(local: Resource, live: Resource) -> bool:
    built_in = live.kind is Kind.GROUP and live.properties.get("type") == "system"
    if built_in:
        return True
    wanted, current = comparable_pair(local, live)
    return wanted == current


def _as_written(resource: Resource, twin: Resource | None) -> Resource:
    cleaned = strip_server_fields(resource)
    if cleaned.kind is Kind.API_SCHEMA:
        cleaned = make_resource(cleaned.id, as_file(cleaned.properties))
    if twin is not None and twin.kind is resource.kind and twin.id != resource.id:
        return make_resource(twin.id, cleaned.properties)
    return cleaned
