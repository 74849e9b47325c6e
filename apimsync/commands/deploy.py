"""``apimsync deploy``: apply the files (or a saved plan) to the live instance.

``--via git`` pushes the committed configuration to a branch of the instance's scm
repository and deploys it there (:mod:`apimsync.targets.git`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from apimsync.changes_since import load_changed_state
from apimsync.commands.incremental import refuse_other_options
from apimsync.commands.plan import PlanOptions, make_plan, render, require_folder, target_fields
from apimsync.commands.progress import ApplyProgress, read_live
from apimsync.errors import ApimsyncError, Refused, UsageError
from apimsync.formats.layouts import detect_layout
from apimsync.output import Console
from apimsync.plan.changes import Action, Change, Plan
from apimsync.plan.render import NO_CHANGES
from apimsync.plan.saved import load_plan
from apimsync.secrets_env import secrets_from_environment, variable_for
from apimsync.targets.connection import Target, resolve_target
from apimsync.targets.git import (
    DEFAULT_BRANCH,
    GitDeployment,
    GitDeployResult,
    describe_sync_state,
    render_log,
    render_prepared,
)
from apimsync.targets.sdk import (
    ApplyEvent,
    ApplyInterrupted,
    ApplyReport,
    ApplyStopped,
    apply_plan,
    fetch_etags,
)
from apimsync.workspace import DesiredState, load_desired_state

EXIT_OK = 0
EXIT_FAILED = 1


class DeployRefused(Refused):
    """The deploy was stopped before anything was written."""

    @classmethod
    def too_many_deletes(cls, count: int, limit: int) -> DeployRefused:
        return cls(
            f"the plan deletes {count} resources, more than --max-deletes {limit}; "
            "nothing was changed"
        )

    @classmethod
    def stale(cls, resource_ids: list[str]) -> DeployRefused:
        listed = ", ".join(resource_ids[:10]) + (" ..." if len(resource_ids) > 10 else "")
        return cls(
            f"stale plan: {listed} changed on the instance since the plan was made; "
            "nothing was changed. Run 'apimsync plan' again and review the new plan"
        )

    @classmethod
    def other_target(cls, saved: Mapping[str, str], target: Target) -> DeployRefused:
        return cls(
            f"the plan was made for service '{saved.get('service')}' in "
            f"'{saved.get('resource_group')}', not for {target.describe()}; nothing was changed"
        )

    @classmethod
    def not_confirmed(cls, nothing_sent: bool = False) -> DeployRefused:
        return cls("deploy cancelled; nothing was " + ("pushed" if nothing_sent else "changed"))

    @classmethod
    def not_interactive(cls, nothing_sent: bool = False) -> DeployRefused:
        unchanged = "nothing was pushed" if nothing_sent else "nothing was changed"
        return cls(
            f"refusing to deploy without --yes when not on a terminal ({unchanged}); review "
            "the plan above, then run again with --yes (or deploy a saved plan with --plan)"
        )


@dataclass(frozen=True)
class DeployOptions:
    plan_file: Path | None = None
    prune: bool = False
    max_deletes: int | None = None
    parallelism: int = 8
    yes: bool = False
    interactive: bool = False
    output_format: str = "text"
    color: bool = False
    via: str = "sdk"
    branch: str = DEFAULT_BRANCH
    environment: str | None = None
    layout: str | None = None
    changed_since: str | None = None


def deploy(
    directory: Path,
    target_options: Mapping[str, str | None],
    options: DeployOptions,
    console: Console,
    confirm: Callable[[str], bool],
) -> int:
    if options.changed_since is not None:
        refuse_other_options(via=options.via, plan_file=options.plan_file)
    require_folder(directory)
    target = resolve_target(target_options, os.environ, directory)
    if options.via == "git":
        if options.environment:
            raise UsageError("--env cannot be used with --via git yet; use --via sdk")
        location = detect_layout(directory, options.layout)
        if location.name != "scm":
            raise UsageError(
                "--via git pushes the scm layout to the instance's repository; "
                f"{directory} holds {location.describe()}: deploy it with --via sdk, "
                "or 'apimsync convert' it to the scm layout first"
            )
        return _deploy_via_git(directory, target, options, console, confirm)
    desired = _desired_state(directory, options)
    plan = _plan_to_apply(directory, target, options, console, desired)
    if plan.is_empty:
        console.result(_report_text(ApplyReport(), options.output_format))
        return EXIT_OK
    _check_deletes(plan, options.max_deletes)
    if options.plan_file is None:
        _confirm_or_refuse(options, confirm)
    secrets = secrets_from_environment(desired.configuration, os.environ)
    _check_secrets(plan, secrets)
    report = apply_shown(
        console,
        options.output_format,
        lambda on_event: apply_plan(
            target, plan, parallelism=options.parallelism, secrets=secrets, on_event=on_event
        ),
        len(plan.changes),
    )
    console.result(_report_text(report, options.output_format))
    return EXIT_OK if report.ok else EXIT_FAILED


def _desired_state(directory: Path, options: DeployOptions) -> DesiredState:
    if options.changed_since is None:
        return load_desired_state(directory, environment=options.environment, layout=options.layout)
    return load_changed_state(
        directory, options.changed_since, environment=options.environment, layout=options.layout
    )


def apply_shown(
    console: Console,
    output_format: str,
    apply: Callable[[Callable[[ApplyEvent], None]], ApplyReport],
    total: int,
) -> ApplyReport:
    """Run ``apply`` with its progress shown; when it stops half-way (Ctrl-C, an instance
    that became unusable), print what was done before the error is reported."""
    try:
        with ApplyProgress(console, total) as progress:
            return apply(progress)
    except (ApplyStopped, ApplyInterrupted) as stopped:
        console.result(_report_text(stopped.report, output_format))
        raise


def _confirm_or_refuse(
    options: DeployOptions, confirm: Callable[[str], bool], nothing_sent: bool = False
) -> None:
    if options.yes:
        return
    if not options.interactive:
        raise DeployRefused.not_interactive(nothing_sent)
    if not confirm("Apply these changes?"):
        raise DeployRefused.not_confirmed(nothing_sent)


def _deploy_via_git(
    directory: Path,
    target: Target,
    options: DeployOptions,
    console: Console,
    confirm: Callable[[str], bool],
) -> int:
    """Extras through the management API, the rest through the instance's repository:
    everything is planned and confirmed before the branch moves."""
    if options.plan_file is not None:
        raise UsageError("--plan applies saved plans through the management API, not --via git")
    with GitDeployment(
        target, directory, options.branch, console, options.prune, options.parallelism
    ) as deployment:
        work = deployment.check_committed()
        desired, extras = deployment.plan_extras(
            lambda skipped: read_live(target, console, options.parallelism, skipped)
        )
        secrets = secrets_from_environment(desired.configuration, os.environ)
        _check_secrets(extras, secrets)
        prepared = deployment.prepare(work, desired, extras)
        console.info(render_prepared(prepared, options.branch, options.color))
        if prepared.is_empty:
            console.result(
                _git_report(
                    GitDeployResult.nothing(options.branch, prepared), options.output_format
                )
            )
            return EXIT_OK
        _check_delete_count(prepared.deletes, options.max_deletes)
        _confirm_or_refuse(options, confirm, nothing_sent=True)
        pushed = deployment.push_and_validate(prepared)
        if pushed is not prepared:
            console.info("\n".join(render_log(pushed.log)))
            try:
                _check_delete_count(pushed.deletes, options.max_deletes)
            except ApimsyncError:
                console.info(f"Branch '{options.branch}' holds {pushed.commit[:12]}; not deployed.")
                raise

        def apply_extras(plan: Plan) -> ApplyReport:
            if plan.is_empty:
                return ApplyReport()
            return apply_shown(
                console,
                options.output_format,
                lambda on_event: apply_plan(
                    target,
                    plan,
                    parallelism=options.parallelism,
                    secrets=secrets,
                    on_event=on_event,
                ),
                len(plan.changes),
            )

        result = deployment.apply(pushed, secrets, apply_extras)
    console.result(_git_report(result, options.output_format))
    if result.error is not None:
        raise result.error
    return EXIT_OK if result.ok else EXIT_FAILED


def _git_report(result: GitDeployResult, output_format: str) -> str:
    if output_format == "json":
        return json.dumps(result.to_json(), indent=2)
    lines = []
    if _did_something(result.before):
        lines.append("Before the deploy: " + _report_text(result.before, "text"))
    if result.after is not None:
        lines.append(result.result_info)
        if _did_something(result.after):
            lines.append("After the deploy: " + _report_text(result.after, "text"))
            lines.append(
                "(The changes after the deploy are not in the repository's layout, so the "
                "instance may report that it is no longer in sync with the branch.)"
            )
    elif result.error is None:
        lines.append(f"Branch '{result.branch}' was not deployed; fix the failures and run again.")
    lines.append(describe_sync_state(result.sync))
    return "\n".join(lines)


def _did_something(report: ApplyReport) -> bool:
    return bool(report.applied or report.skipped or report.failed or report.not_attempted) or bool(
        report.interrupted
    )


def _plan_to_apply(
    directory: Path,
    target: Target,
    options: DeployOptions,
    console: Console,
    desired: DesiredState,
) -> Plan:
    if options.plan_file is not None:
        plan, saved_target = load_plan(options.plan_file)
        if (
            saved_target.get("service") != target.service
            or saved_target.get("resource_group") != target.resource_group
        ):
            raise DeployRefused.other_target(saved_target, target)
        _refuse_if_stale(target, plan)
        return plan
    plan_options = PlanOptions(
        prune=options.prune,
        parallelism=options.parallelism,
        environment=options.environment,
        layout=options.layout,
        changed_since=options.changed_since,
    )
    plan = make_plan(directory, target, plan_options, console, desired)
    console.info(render(plan, "text", options.color))
    return plan


def _refuse_if_stale(target: Target, plan: Plan) -> None:
    current = fetch_etags(target, [c.resource_id for c in plan.changes])
    stale = [c.resource_id for c in plan.changes if current.get(c.resource_id) != c.etag]
    if stale:
        raise DeployRefused.stale(stale)


def _check_deletes(plan: Plan, limit: int | None) -> None:
    deletes = [c for c in plan.changes if c.action is Action.DELETE]
    _check_delete_count(len(deletes) + sum(len(c.cascade) for c in deletes), limit)


def _check_delete_count(count: int, limit: int | None) -> None:
    if limit is not None and count > limit:
        raise DeployRefused.too_many_deletes(count, limit)


def _check_secrets(plan: Plan, secrets: Mapping[str, str]) -> None:
    missing = [
        c.resource_id for c in plan.changes if _needs_secret(c) and c.resource_id not in secrets
    ]
    if missing:
        names = ", ".join(variable_for(m) for m in missing)
        raise UsageError(
            f"secret named values {', '.join(missing)} need their values: set {names} "
            "(values are never stored in the repository); nothing was changed"
        )


def _needs_secret(change: Change) -> bool:
    after = change.after
    if change.action is Action.DELETE or after is None:
        return False
    properties = after.properties
    return (
        bool(properties.get("secret"))
        and not properties.get("keyVault")
        and ("value" not in properties)
    )


def _count(number: int, word: str, plural: str = "") -> str:
    return f"{number} {word if number == 1 else plural or word + 's'}"


def _report_text(report: ApplyReport, output_format: str) -> str:
    if output_format == "json":
        return json.dumps(report.to_json(), indent=2)
    if not _did_something(report):
        return NO_CHANGES
    lines = [
        f"Applied {_count(len(report.applied), 'change')} ({_count(report.writes, 'write')}, "
        f"{_count(report.retries, 'retry', 'retries')})."
    ]
    lines += [f"  failed: {failure.resource_id}: {failure.message}" for failure in report.failed]
    if report.interrupted:
        lines.append(
            "  under way when interrupted (they may or may not have been applied): "
            + ", ".join(report.interrupted)
        )
    if report.not_attempted:
        why = "the deploy stopped" if report.interrupted else "they depend on a failed change"
        lines.append(f"  not attempted ({why}): " + ", ".join(report.not_attempted))
    if report.interrupted:
        lines.append("Deploy interrupted; run deploy again to converge.")
    elif not report.ok:
        lines.append("Deploy incomplete; fix the failures and run deploy again to converge.")
    return "\n".join(lines)


__all__ = ["DeployOptions", "DeployRefused", "deploy", "target_fields"]
