"""The command line: a thin click layer over :mod:`apimsync.commands`.

This is the only module that knows about click. Each command unpacks its options into
keyword arguments for a command function, which returns the exit code.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from apimsync import __version__
from apimsync.error_handler import Exit, handled


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="apimsync")
def cli() -> None:
    """Keep Azure API Management configuration in git: validate, plan and deploy it."""


@cli.command()
@click.argument(
    "directory",
    required=False,
    default=".",
    type=click.Path(path_type=Path, file_okay=False),
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text: one finding per line; json: one document for machines.",
)
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
def validate(directory: Path, output_format: str, strict: bool) -> None:
    """Check the configuration in DIRECTORY (which holds api-management/) offline.

    Exit status: 0 no errors, 1 errors (or warnings with --strict), 2 usage error.
    """
    from apimsync.commands.validate import validate as run

    _finish(lambda: run(directory, output_format=output_format, strict=strict, out=sys.stdout))


def _finish(command: object) -> None:
    try:
        with handled():
            code = command()  # type: ignore[operator]
    except Exit as leave:
        code = leave.code
    sys.exit(code)


def main() -> None:
    cli(prog_name="apimsync")
