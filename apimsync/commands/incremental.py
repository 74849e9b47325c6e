"""``plan`` and ``deploy`` with ``--changed-since REF``: a partial plan.

Only the resources the files changed since REF are read and planned
(:mod:`apimsync.changes_since`, :mod:`apimsync.plan.partial`): a handful of requests
where a full plan reads the whole instance. The plan says that it is partial and since
which commit; a saved one records it.
"""

from __future__ import annotations

from pathlib import Path

from apimsync.changes_since import ChangedState, load_changed_state
from apimsync.commands.progress import ReadProgress
from apimsync.errors import UsageError
from apimsync.model import Configuration
from apimsync.output import Console
from apimsync.plan.changes import PartialScope, Plan
from apimsync.plan.partial import PartialPlanner
from apimsync.targets.connection import Target
from apimsync.targets.reading import LiveState, read_selected
from apimsync.workspace import DesiredState


def make_partial_plan(
    directory: Path,
    target: Target,
    since: str,
    *,
    ref: str | None,
    environment: str | None,
    layout: str | None = None,
    prune: bool,
    parallelism: int,
    via: str,
    console: Console,
    desired: DesiredState | None = None,
) -> Plan:
    """The partial plan of what the files changed since ``since``."""
    refuse_other_options(via=via)
    changed = (
        desired
        if isinstance(desired, ChangedState)
        else load_changed_state(directory, since, ref, environment, layout)
    )
    scope = PartialScope(changed.since, changed.commit)
    planner = PartialPlanner(changed.configuration, changed.old)
    announce = (
        f"Reading the {len(planner.considered)} resource(s) changed since {since} "
        f"({changed.commit[:12]}) from {target.describe()} ..."
    )
    with ReadProgress(console, f"Reading {target.service}", announce=announce) as shown:
        live = read_selected(
            target,
            planner.first_reads(changed.unresolved),
            parallelism=parallelism,
            on_retry=shown.retry,
            on_progress=shown.progress,
        )
        owners = planner.owner_reads(live.configuration)
        if owners:
            more = read_selected(target, owners, parallelism=parallelism, on_retry=shown.retry)
            live = _merged(live, more)
    console.detail(f"read {len(live.configuration)} live resources in {live.requests} requests")
    planner.check_owners(live.configuration, scope)
    return planner.plan(
        live.configuration,
        scope,
        prune=prune,
        etags=live.etags,
        ignore_kinds=live.unsupported,
        unresolved=changed.unresolved,
    )


def refuse_other_options(*, via: str, plan_file: Path | None = None) -> None:
    """Refuse what cannot go with ``--changed-since``: a saved plan (it is applied as it
    is) and ``--via git`` (the scm repository takes whole trees)."""
    if via != "sdk":
        raise UsageError(
            "--changed-since plans through the management API; it cannot be used with --via git"
        )
    if plan_file is not None:
        raise UsageError(
            "--plan applies a saved plan as it is (a partial one says since which commit); "
            "it cannot be used with --changed-since"
        )


def _merged(first: LiveState, second: LiveState) -> LiveState:
    return LiveState(
        Configuration([*first.configuration, *second.configuration]),
        {**first.etags, **second.etags},
        first.requests + second.requests,
        first.unsupported | second.unsupported,
    )
