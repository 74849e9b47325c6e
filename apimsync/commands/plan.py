"""``apimsync plan``: what a deploy would change on the live instance.

``--via git`` compares the files with a branch of the instance's scm repository instead,
for the kinds that repository holds (:mod:`apimsync.targets.git`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from apimsync.commands.incremental import make_partial_plan
from apimsync.commands.progress import ReadProgress, read_live
from apimsync.errors import UsageError
from apimsync.output import Console
from apimsync.plan.changes import Action, Plan
from apimsync.plan.conflicts import check_unique_values
from apimsync.plan.diff import compute_plan
from apimsync.plan.references import check_references_on_instance
from apimsync.plan.render import render_json, render_markdown, render_text
from apimsync.plan.saved import save_plan
from apimsync.targets.connection import Target, resolve_target
from apimsync.targets.git import DEFAULT_BRANCH, plan_against_branch, read_branch
from apimsync.targets.sdk import fetch_etags
from apimsync.workspace import DesiredState, load_desired_state

EXIT_NO_CHANGES = 0
EXIT_CHANGES = 2


@dataclass(frozen=True)
class PlanOptions:
    ref: str | None = None
    prune: bool = False
    output_format: str = "text"
    out_file: Path | None = None
    detailed_exitcode: bool = False
    color: bool = False
    parallelism: int = 8
    via: str = "sdk"
    branch: str = DEFAULT_BRANCH
    environment: str | None = None
    layout: str | None = None
    changed_since: str | None = None


def make_plan(
    directory: Path,
    target: Target,
    options: PlanOptions,
    console: Console,
    desired: DesiredState | None = None,
) -> Plan:
    """Read the files and the live instance and diff them, with ETags for what changes.

    ``desired`` is the already validated state of ``directory``, when the caller has it
    (deploy does): validating a big tree is the slowest part of a small plan. References
    the files leave unresolved must resolve on the instance (:class:`MissingOnInstance`
    otherwise), so that a deploy never stops half-way for a reason the plan could see."""
    if options.via == "git" and options.environment:
        raise UsageError("--env cannot be used with --via git yet; use --via sdk")
    if options.changed_since is not None:
        return make_partial_plan(
            directory,
            target,
            options.changed_since,
            ref=options.ref,
            environment=options.environment,
            layout=options.layout,
            prune=options.prune,
            parallelism=options.parallelism,
            via=options.via,
            console=console,
            desired=desired,
        )
    if desired is None:
        desired = load_desired_state(directory, options.ref, options.environment, options.layout)
    for finding in desired.not_managed:
        console.info(f"note: {finding.path}: {finding.message}")
    if options.via == "git":
        branch = read_branch(target, options.branch, console)
        note = branch.sync_note(options.branch)
        if note is not None:
            console.info(note)
        return plan_against_branch(desired.configuration, branch.configuration)
    live = read_live(target, console, options.parallelism)
    if live.unsupported:
        kinds = " and ".join(sorted(kind.label for kind in live.unsupported))
        console.note(f"note: {target.endpoint} does not serve {kinds} settings; not planned")

    draft = compute_plan(
        desired.configuration,
        live.configuration,
        prune=options.prune,
        ignore_kinds=live.unsupported,
    )
    check_references_on_instance(desired.unresolved, live.configuration, draft)
    check_unique_values(desired.configuration, live.configuration, draft.deleted_ids())
    touched = [c.resource_id for c in draft.changes if c.action is not Action.CREATE]
    if not touched:
        return draft
    title = f"Reading {len(touched)} ETags"
    with ReadProgress(console, title) as shown:
        etags = fetch_etags(
            target,
            touched,
            parallelism=options.parallelism,
            on_retry=shown.retry,
            on_progress=shown.progress,
        )
    return draft.with_etags(etags)


def render(plan: Plan, output_format: str, color: bool) -> str:
    if output_format == "json":
        return render_json(plan)
    if output_format == "markdown":
        return render_markdown(plan)
    return render_text(plan, color=color)


def plan(
    directory: Path,
    target_options: Mapping[str, str | None],
    options: PlanOptions,
    console: Console,
) -> int:
    if options.via == "git" and options.out_file is not None:
        raise UsageError(
            "--out saves plans for the management API; it cannot be used with --via git"
        )
    require_folder(directory)
    target = resolve_target(target_options, os.environ, directory)
    result = make_plan(directory, target, options, console)
    console.result(render(result, options.output_format, options.color))
    if options.out_file is not None:
        save_plan(result, options.out_file, target=target_fields(target))
        console.info(
            f"Saved the plan to {options.out_file}; apply it with "
            f"'apimsync deploy --plan {options.out_file}'."
        )
    if options.detailed_exitcode and not result.is_empty:
        return EXIT_CHANGES
    return EXIT_NO_CHANGES


def require_folder(directory: Path) -> None:
    """Refuse a working folder that does not exist before anything else (its
    ``apimsync.toml`` may be what names the target)."""
    if not directory.is_dir():
        what = "is not a folder" if directory.exists() else "does not exist"
        raise UsageError(
            f"{directory} {what}; pass the folder that holds api-management/ with --dir "
            "(default: the current folder)"
        )


def target_fields(target: Target) -> dict[str, str]:
    return {
        "subscription": target.subscription,
        "resource_group": target.resource_group,
        "service": target.service,
        "endpoint": target.endpoint,
    }
