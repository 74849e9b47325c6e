"""``apimsync pull``: write the live instance's configuration into the working folder."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from apimsync.formats.scm.layout import Layout
from apimsync.formats.scm.reader import read_tree
from apimsync.formats.scm.writer import write_tree
from apimsync.model import Configuration, Kind, Resource, make_resource
from apimsync.output import Console
from apimsync.plan.normalize import link_target, normalize, strip_server_fields
from apimsync.targets.connection import resolve_target
from apimsync.targets.sdk import read_instance


def pull(
    directory: Path,
    target_options: Mapping[str, str | None],
    console: Console,
    parallelism: int = 8,
) -> int:
    target = resolve_target(target_options, os.environ, directory)
    console.status(f"Reading {target.describe()} ...")
    live = read_instance(target, parallelism=parallelism)
    local, layout = _local_state(directory)
    merged = merge_pulled(live.configuration, local, keep_kinds=live.unsupported)
    result = write_tree(merged, directory, layout)
    console.result(
        f"Pulled {len(merged)} resources from {target.service}: "
        f"{len(result.written)} files written, {len(result.deleted)} removed."
    )
    for path in result.written:
        console.detail(f"  wrote {path}")
    for path in result.deleted:
        console.detail(f"  removed {path}")
    return 0


def _local_state(directory: Path) -> tuple[Configuration, Layout]:
    if not directory.exists():
        return Configuration(), Layout()
    result = read_tree(directory)
    return result.configuration, result.layout


def merge_pulled(
    live: Configuration, local: Configuration, keep_kinds: frozenset[Kind] = frozenset()
) -> Configuration:
    """The live state, holding each local resource that already means the same thing.

    Keeping the local resource (its formatting, its policy text, its link names) where the
    live one is equivalent is what makes a no-op pull change no file. Kinds the endpoint
    does not serve (``keep_kinds``) and built-in groups, which the service owns, stay as
    the files have them.
    """
    by_target = {(r.kind, r.parent, link_target(r)): r for r in local if link_target(r) is not None}
    merged = []
    for resource in live:
        twin = local.get(resource.id) or by_target.get(
            (resource.kind, resource.parent, link_target(resource))
        )
        if twin is not None and twin.kind is resource.kind and _same(twin, resource):
            merged.append(twin)
        else:
            merged.append(_as_written(resource, twin))
    merged += [r for r in local if r.kind in keep_kinds]
    return Configuration(merged)


def _same(local: Resource, live: Resource) -> bool:
    built_in = live.kind is Kind.GROUP and live.properties.get("type") == "system"
    return built_in or normalize(local) == normalize(live)


def _as_written(resource: Resource, twin: Resource | None) -> Resource:
    cleaned = strip_server_fields(resource)
    if twin is not None and twin.kind is resource.kind and twin.id != resource.id:
        return make_resource(twin.id, cleaned.properties)
    return cleaned
