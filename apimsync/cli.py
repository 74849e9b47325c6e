"""The command line: a thin click layer over :mod:`apimsync.commands`.

This is the only module that knows about click. Each command unpacks its options into
keyword arguments for a command function, which returns the exit code; errors are
turned into messages and exit codes in one place (:mod:`apimsync.error_handler`).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from apimsync import __version__
from apimsync.error_handler import Exit, handled
from apimsync.output import Console, wants_color

DIRECTORY = click.Path(path_type=Path, file_okay=False)


def examples(*lines: str) -> str:
    """An epilog of examples (``#`` lines explain the command below them), kept as written."""
    return "Examples:\n\n\b\n" + "\n".join(f"  {line}" if line else "" for line in lines)


EXIT_STATUS = (
    "Exit status: 0 success; 1 failed (or errors found); 2 usage error, or refused before "
    "writing anything; 3 a bug in apimsync; 130 interrupted."
)


@click.group(
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog=EXIT_STATUS,
)
@click.version_option(__version__, prog_name="apimsync")
def cli() -> None:
    """Keep Azure API Management configuration in git: validate, plan and deploy it.

    Try it against the embedded emulator: 'apimsync demo'.
    """


def _finish(
    command: Callable[[], int],
    *,
    errors_exit: int | None = None,
    console: Console | None = None,
) -> None:
    """Run a command function and exit with its code; ``errors_exit`` replaces the code of
    every error (``plan --detailed-exitcode`` keeps 2 for "changes"). The console's status
    line is taken off the screen (and the cursor shown) before any error is printed."""
    try:
        with handled():
            try:
                code = command()
            finally:
                if console is not None:
                    console.close()
    except Exit as leave:
        code = leave.code if errors_exit is None else errors_exit
    sys.exit(code)


def target_options(verbose: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Options naming the instance (each falls back to APIMSYNC_* and apimsync.toml),
    ``--quiet`` and ``--verbose`` (``verbose`` says what it adds for the command)."""

    def decorate(function: Callable[..., Any]) -> Callable[..., Any]:
        return _target_options(function, verbose)

    return decorate


def _target_options(function: Callable[..., Any], verbose: str) -> Callable[..., Any]:
    for name, help_text in reversed(
        [
            ("subscription", "Azure subscription id."),
            ("resource-group", "Resource group of the APIM instance."),
            ("service", "Name of the APIM instance."),
            ("endpoint", "ARM endpoint (default https://management.azure.com)."),
            ("ca-bundle", "PEM file of CAs to trust (the emulator's ca.pem)."),
            ("connect-timeout", "Seconds each request may take to connect (default 10)."),
            ("read-timeout", "Seconds each request may wait for its answer (default 60)."),
        ]
    ):
        function = click.option(f"--{name}", default=None, help=help_text)(function)
    function = click.option(
        "--dir",
        "directory",
        type=DIRECTORY,
        default=Path("."),
        show_default=True,
        help="Working folder (holds api-management/).",
    )(function)
    function = click.option("--quiet", "-q", is_flag=True, help="Print only results and errors.")(
        function
    )
    function = click.option("--verbose", "-v", is_flag=True, help=verbose)(function)
    return function


def _target(kwargs: dict[str, Any]) -> dict[str, str | None]:
    return {
        "subscription": kwargs.pop("subscription"),
        "resource_group": kwargs.pop("resource_group"),
        "service": kwargs.pop("service"),
        "endpoint": kwargs.pop("endpoint"),
        "ca_bundle": kwargs.pop("ca_bundle"),
        "connect_timeout": kwargs.pop("connect_timeout"),
        "read_timeout": kwargs.pop("read_timeout"),
    }


def _console(kwargs: dict[str, Any], no_color: bool = False) -> Console:
    return Console(quiet=kwargs.pop("quiet"), verbose=kwargs.pop("verbose"), no_color=no_color)


def via_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """``--via`` (the management API or the instance's scm git repository) and ``--branch``."""
    function = click.option(
        "--branch",
        default="master",
        show_default=True,
        help="Branch of the instance's scm git repository (with --via git).",
    )(function)
    return click.option(
        "--via",
        type=click.Choice(["sdk", "git"]),
        default="sdk",
        show_default=True,
        help="sdk: the management API; git: the instance's scm git repository.",
    )(function)


def env_option(function: Callable[..., Any]) -> Callable[..., Any]:
    """``--env NAME``: apply the environment's overlay to the files."""
    return click.option(
        "--env",
        "environment",
        default=None,
        metavar="NAME",
        help=(
            "Apply the environment overlay environments/NAME.json to the files "
            "(APIOps folders: configuration.NAME.yaml)."
        ),
    )(function)


def layout_option(function: Callable[..., Any]) -> Callable[..., Any]:
    """``--layout``: the folder's layout, instead of detecting it."""
    return click.option(
        "--layout",
        type=click.Choice(["scm", "apiops"]),
        default=None,
        help="scm (api-management/) or apiops (an APIOps artifact folder); default: detected.",
    )(function)


def flavour_option(function: Callable[..., Any]) -> Callable[..., Any]:
    """``--apiops-flavour``: which APIOps variant a new artifact folder is written in."""
    return click.option(
        "--apiops-flavour",
        "apiops_flavour",
        type=click.Choice(["v7", "cli"]),
        default=None,
        help="New APIOps folders: v7 (the APIOps toolkit, default) or cli (apiops-cli).",
    )(function)


@cli.command(
    epilog=examples(
        "# check the configuration in the current folder",
        "apimsync validate",
        "# as the prod environment sees it; warnings fail too",
        "apimsync validate path/to/repo --env prod --strict",
        "# what the next commit holds (the pre-commit hook runs this)",
        "apimsync validate --staged --format json",
    )
)
@click.argument("directory", required=False, default=".", type=DIRECTORY)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text: one finding per line; json: one document for machines.",
)
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@env_option
@click.option(
    "--staged",
    is_flag=True,
    help="Validate what git's index holds (what the next commit will), not the files.",
)
@layout_option
def validate(
    directory: Path,
    output_format: str,
    strict: bool,
    environment: str | None,
    staged: bool,
    layout: str | None,
) -> None:
    """Check the configuration in DIRECTORY offline (it holds api-management/, or is or
    holds an APIOps artifact folder).

    Exit status: 0 no errors, 1 errors (or warnings with --strict), 2 usage error
    (a folder without api-management/, say).
    """
    from apimsync.commands.validate import validate as run

    _finish(
        lambda: run(
            directory,
            output_format=output_format,
            strict=strict,
            out=sys.stdout,
            environment=environment,
            staged=staged,
            layout=layout,
        )
    )


@cli.command(
    epilog=examples(
        "# write the instance of apimsync.toml (or APIMSYNC_*) into this folder",
        "apimsync pull",
        "# the production instance, without writing its overlay's values into the files",
        "apimsync pull --dir repo --env prod --service contoso-prod",
        "# clone (or fast-forward) the instance's scm git repository instead",
        "apimsync pull --via git --save --dir scm-clone",
    )
)
@target_options("Also print each retry and each file written or removed.")
@via_options
@env_option
@click.option("--parallelism", type=click.IntRange(1, 64), default=8, show_default=True)
@click.option("--save", is_flag=True, help="With --via git: save the instance to the branch first.")
@layout_option
@flavour_option
def pull(parallelism: int, **kwargs: Any) -> None:
    """Write the live instance's configuration into the working folder.

    Files keep their names and style; an unchanged resource's files are not touched;
    secret named values are written without their values. With --via git, clone (or
    fast-forward) a branch of the instance's scm repository instead.
    """
    from apimsync.commands.pull import pull as run

    directory = kwargs.pop("directory")
    target, console = _target(kwargs), _console(kwargs)
    _finish(
        lambda: run(directory, target, console, parallelism=parallelism, **kwargs),
        console=console,
    )


@cli.command(
    epilog=examples(
        "# what deploy would change on the instance",
        "apimsync plan",
        "# also delete what the files lack; save the plan for 'deploy --plan'",
        "apimsync plan --prune --out plan.json",
        "# a pull-request comment for the prod environment; exit 2 when there are changes",
        "apimsync plan --env prod --format markdown --detailed-exitcode",
    )
)
@target_options("Also print each retry and how much was read.")
@via_options
@env_option
@click.option("--ref", default=None, help="Plan the files of this git ref, not the working tree.")
@click.option(
    "--changed-since",
    default=None,
    metavar="REF",
    help="Read and plan only the resources the files changed since this commit "
    "(the one last deployed).",
)
@click.option("--prune", is_flag=True, help="Delete live resources that are not in the files.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    show_default=True,
)
@click.option(
    "--out",
    "out_file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Save the plan for 'deploy --plan'.",
)
@click.option(
    "--detailed-exitcode", is_flag=True, help="Exit 0 with no changes, 2 with changes, 1 on error."
)
@click.option("--no-color", is_flag=True, help="Never colour the output.")
@click.option("--parallelism", type=click.IntRange(1, 64), default=8, show_default=True)
@layout_option
def plan(no_color: bool, **kwargs: Any) -> None:
    """Show what deploy would change on the live instance, like terraform plan.

    Exit status: 0 (with --detailed-exitcode: 0 no changes, 2 changes, 1 any error).
    """
    from apimsync.commands.plan import PlanOptions
    from apimsync.commands.plan import plan as run

    directory = kwargs.pop("directory")
    target, console = _target(kwargs), _console(kwargs, no_color)
    options = PlanOptions(color=wants_color(sys.stdout, no_color), **kwargs)
    errors_exit = 1 if options.detailed_exitcode else None
    _finish(
        lambda: run(directory, target, options, console),
        errors_exit=errors_exit,
        console=console,
    )


@cli.command(
    epilog=examples(
        "# plan, show the plan, ask, apply",
        "apimsync deploy",
        "# in a pipeline: exactly the reviewed plan (refused if the instance moved since)",
        "apimsync deploy --plan plan.json",
        "# also delete what the files lack, but never more than 5 resources",
        "apimsync deploy --yes --prune --max-deletes 5",
    )
)
@target_options("Also print each applied resource and each retry.")
@via_options
@env_option
@click.option(
    "--plan",
    "plan_file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Apply exactly this saved plan (refused if it is stale).",
)
@click.option("--prune", is_flag=True, help="Delete live resources that are not in the files.")
@click.option(
    "--max-deletes",
    type=click.IntRange(0),
    default=None,
    help="Abort before writing if the plan deletes more than N resources.",
)
@click.option("--parallelism", type=click.IntRange(1, 64), default=8, show_default=True)
@click.option(
    "--changed-since",
    default=None,
    metavar="REF",
    help="Read and plan only the resources the files changed since this commit "
    "(the one last deployed).",
)
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation (pipelines).")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Format of the final report.",
)
@click.option("--no-color", is_flag=True, help="Never colour the output.")
@layout_option
def deploy(no_color: bool, **kwargs: Any) -> None:
    """Apply the files (or a saved plan) to the live instance.

    Exit status: 0 applied (or nothing to do), 1 some changes failed, 2 refused before
    writing anything (no --yes off a terminal, cancelled, --max-deletes, a stale plan,
    missing secrets), 130 interrupted (what was applied is printed).
    """
    from apimsync.commands.deploy import DeployOptions
    from apimsync.commands.deploy import deploy as run

    directory = kwargs.pop("directory")
    target, console = _target(kwargs), _console(kwargs, no_color)
    options = DeployOptions(
        color=wants_color(sys.stderr, no_color), interactive=sys.stdin.isatty(), **kwargs
    )
    _finish(lambda: run(directory, target, options, console, confirm=_confirm), console=console)


def _confirm(question: str) -> bool:
    return click.confirm(question, default=False, err=True)


@cli.command(
    epilog=examples(
        "# an APIOps repository's artifacts as the scm layout, with what does not carry over",
        "apimsync convert . ../as-scm --to scm",
        "# an scm repository as apiops-cli artifacts",
        "apimsync convert . ../as-apiops --to apiops --apiops-flavour cli",
    )
)
@click.argument("source", type=DIRECTORY)
@click.argument("destination", type=DIRECTORY)
@click.option(
    "--to",
    "to",
    type=click.Choice(["scm", "apiops"]),
    required=True,
    help="The layout to write DESTINATION in.",
)
@flavour_option
@layout_option
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Format of the report.",
)
@click.option("--verbose", "-v", is_flag=True, help="Also print each file written.")
def convert(
    source: Path,
    destination: Path,
    to: str,
    apiops_flavour: str | None,
    layout: str | None,
    output_format: str,
    verbose: bool,
) -> None:
    """Write the configuration in SOURCE into DESTINATION in the other layout.

    SOURCE holds api-management/ or an APIOps artifact folder (--layout forces which).
    The report lists what does not carry over as it was, by resource and property.
    """
    from apimsync.commands.convert import convert as run

    _finish(
        lambda: run(
            source,
            destination,
            Console(verbose=verbose),
            to=to,
            flavour=apiops_flavour,
            layout=layout,
            output_format=output_format,
        )
    )


@cli.command(
    epilog=examples(
        "# from the apimsync repository root",
        "apimsync demo",
        "# another configuration (a folder holding api-management/)",
        "apimsync demo --example path/to/repo --no-color",
    )
)
@click.option(
    "--example",
    type=DIRECTORY,
    default=Path("examples/openai-usage"),
    show_default=True,
    help="The configuration to deploy.",
)
@click.option("--no-color", is_flag=True, help="Never colour the output.")
def demo(example: Path, no_color: bool) -> None:
    """Deploy the example to a throwaway emulator, change it, plan and deploy again."""
    from apimsync.commands.demo import demo as run

    console = Console(no_color=no_color)
    _finish(lambda: run(example, console, color=wants_color(sys.stdout, no_color)), console=console)


@cli.group()
def hooks() -> None:
    """Git hooks: validate the staged configuration, plan what is pushed."""


@hooks.command(
    "install",
    epilog=examples(
        "# validate every commit",
        "apimsync hooks install",
        "# also plan every push against the prod environment",
        "apimsync hooks install --pre-push --env prod",
        "# a configuration in a subfolder; replace a hook of your own (kept as a backup)",
        "apimsync hooks install --dir infra/apim --force",
    ),
)
@click.option(
    "--dir",
    "directory",
    type=DIRECTORY,
    default=Path("."),
    show_default=True,
    help="Folder that holds api-management/, inside the git repository.",
)
@click.option("--pre-push", is_flag=True, help="Also plan each pushed commit (needs a target).")
@env_option
@click.option(
    "--force", is_flag=True, help="Replace hooks apimsync did not write (kept as backups)."
)
def hooks_install(directory: Path, pre_push: bool, environment: str | None, force: bool) -> None:
    """Write a pre-commit hook that validates the staged configuration.

    With --pre-push, also a pre-push hook that runs 'apimsync plan' for each pushed commit
    (against --env NAME). The hooks skip, with a message, where apimsync is not installed.
    """
    from apimsync.commands.hooks import install as run

    _finish(
        lambda: run(directory, Console(), pre_push=pre_push, environment=environment, force=force)
    )


@cli.group()
def emulator() -> None:
    """The embedded emulator of the APIM management API."""


@emulator.command(
    epilog=examples(
        "# serve one instance, then use it from another terminal",
        "apimsync emulator serve --data .emulator",
        "export APIMSYNC_CONNECTION=.emulator/connection.json",
        "# two instances on a fixed port, slow and flaky like a busy service",
        "apimsync emulator serve --data .emu --port 8443 --service dev --service prod"
        " --latency-ms 50 --fault 429:0.1 --seed 1",
    )
)
@click.option(
    "--data",
    "data_dir",
    type=DIRECTORY,
    required=True,
    help="State folder; connection.json is written here when ready.",
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=0,
    show_default=True,
    help="0 picks a free port.",
)
@click.option(
    "--service",
    "services",
    multiple=True,
    help="An instance to host (repeatable; default apim-emulator).",
)
@click.option(
    "--latency-ms",
    type=click.IntRange(0),
    default=0,
    help="Delay every management request by this much.",
)
@click.option(
    "--fault",
    "faults",
    multiple=True,
    help="KIND:RATE, KIND one of 429, 500, 503, reset, conflict (repeatable).",
)
@click.option("--seed", type=int, default=None, help="Make faults repeatable.")
@click.option(
    "--lro-style",
    type=click.Choice(["recorded", "async", "described"]),
    default="recorded",
    show_default=True,
    help="Which writes answer 202 Accepted: 'recorded' as the real service's newest "
    "recordings (named value PUT 201/200, its PATCH, API import and schema PUT 202, "
    "API DELETE 200), "
    "'async' all 202 as 2022-08-01 did, 'described' as the 2024-05-01 description says.",
)
def serve(
    data_dir: Path,
    host: str,
    port: int,
    services: tuple[str, ...],
    latency_ms: int,
    faults: tuple[str, ...],
    seed: int | None,
    lro_style: str,
) -> None:
    """Run the emulator in the foreground until interrupted."""
    from apimsync.commands.emulator import serve as run

    _finish(
        lambda: run(
            data_dir,
            host=host,
            port=port,
            services=services or ("apim-emulator",),
            latency_ms=latency_ms,
            faults=faults,
            seed=seed,
            lro_style=lro_style,
        )
    )


def _quiet_libraries() -> None:
    """Azure libraries log to the root logger; their warnings (every credential tried,
    every retry) are not messages for apimsync's users, who get one line per problem."""
    if not os.environ.get("APIMSYNC_DEBUG"):
        azure = logging.getLogger("azure")
        azure.addHandler(logging.NullHandler())
        azure.propagate = False


def main() -> None:
    _quiet_libraries()
    cli(prog_name="apimsync")
