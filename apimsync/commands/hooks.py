"""``apimsync hooks install``: git hooks that validate commits and plan pushes."""

from __future__ import annotations

from pathlib import Path

from apimsync.hooks import install_hooks
from apimsync.output import Console


def install(
    directory: Path,
    console: Console,
    *,
    pre_push: bool,
    environment: str | None,
    force: bool,
) -> int:
    installed = install_hooks(directory, pre_push=pre_push, environment=environment, force=force)
    for hook in installed:
        console.result(f"Installed the {hook.name} hook: {hook.path}")
        if hook.backup is not None:
            console.info(f"  the hook it replaced is kept as {hook.backup}")
    if not pre_push:
        console.info("Add --pre-push --env NAME to also plan every push against an environment.")
    return 0
