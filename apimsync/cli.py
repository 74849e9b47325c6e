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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="apimsync")
def cli() -> None:
    """Keep Azure API Management configuration in git: validate, plan and deploy it."""


def _finish(command: Callable[[], int], *, errors_exit: int | None = None) -> None:
    """Run a command function and exit with its code; ``errors_exit`` replaces the code of
    every error (``plan --detailed-exitcode`` keeps 2 for "changes")."""
    try:
        with handled():
            code = command()
    except Exit as leave:
        code = leave.code if errors_exit is None else errors_exit
    sys.exit(code)


def target_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """Options naming the instance; each falls back to APIMSYNC_* and apimsync.toml."""
    for name, help_text in reversed(
        [
            ("subscription", "Azure subscription id."),
            ("resource-group", "Resource group of the APIM instance."),
            ("service", "Name of the APIM instance."),
            ("endpoint", "ARM endpoint (default https://management.azure.com)."),
            ("ca-bundle", "PEM file of CAs to trust (the emulator's ca.pem)."),
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
    function = click.option(
        "--verbose", "-v", is_flag=True, help="Also print each write and retry."
    )(function)
    return function


def _target(kwargs: dict[str, Any]) -> dict[str, str | None]:
    return {
        "subscription": kwargs.pop("subscription"),
        "resource_group": kwargs.pop("resource_group"),
        "service": kwargs.pop("service"),
        "endpoint": kwargs.pop("endpoint"),
        "ca_bundle": kwargs.pop("ca_bundle"),
    }


def _console(kwargs: dict[str, Any]) -> Console:
    return Console(quiet=kwargs.pop("quiet"), verbose=kwargs.pop("verbose"))


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
    """``--env NAME``: apply the overlay ``environments/NAME.json`` to the files."""
    return click.option(
        "--env",
        "environment",
        default=None,
        metavar="NAME",
        help="Apply the environment overlay environments/NAME.json to the files.",
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


@cli.command()
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

    Exit status: 0 no errors, 1 errors (or warnings with --strict), 2 usage error.
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


@cli.command()
@target_options
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
    _finish(lambda: run(directory, target, console, parallelism=parallelism, **kwargs))


@cli.command()
@target_options
@via_options
@env_option
@click.option("--ref", default=None, help="Plan the files of this git ref, not the working tree.")
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
    """Show what deploy would change on the live instance, like terraform plan."""
    from apimsync.commands.plan import PlanOptions
    from apimsync.commands.plan import plan as run

    directory = kwargs.pop("directory")
    target, console = _target(kwargs), _console(kwargs)
    options = PlanOptions(color=wants_color(sys.stdout, no_color), **kwargs)
    errors_exit = 1 if options.detailed_exitcode else None
    _finish(lambda: run(directory, target, options, console), errors_exit=errors_exit)


@cli.command()
@target_options
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
    """Apply the files (or a saved plan) to the live instance."""
    from apimsync.commands.deploy import DeployOptions
    from apimsync.commands.deploy import deploy as run

    directory = kwargs.pop("directory")
    target, console = _target(kwargs), _console(kwargs)
    options = DeployOptions(
        color=wants_color(sys.stderr, no_color), interactive=sys.stdin.isatty(), **kwargs
    )
    _finish(lambda: run(directory, target, options, console, confirm=_confirm))


def _confirm(question: str) -> bool:
    return click.confirm(question, default=False, err=True)


@cli.command()
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


@cli.command()
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

    _finish(lambda: run(example, Console(), color=wants_color(sys.stdout, no_color)))


@cli.group()
def hooks() -> None:
    """Git hooks: validate the staged configuration, plan what is pushed."""


@hooks.command("install")
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


@emulator.command()
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
    "recordings (named values 201/200, API import and schema PUT 202, API DELETE 200), "
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
