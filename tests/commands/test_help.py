"""Every command's --help ends with examples that work, and says only what it does."""

from __future__ import annotations

import shlex
from collections.abc import Iterator

import click
import pytest
from click.testing import CliRunner

from apimsync.cli import cli


def leaf_commands(
    group: click.Group = cli, path: tuple[str, ...] = ()
) -> Iterator[tuple[str, ...]]:
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from leaf_commands(command, (*path, name))
        else:
            yield (*path, name)


def help_of(path: tuple[str, ...]) -> str:
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0, result.output
    return result.output


def parse(line: str) -> click.Context:
    """The context click builds for an example command line (options checked, nothing run)."""
    args = shlex.split(line)[1:]
    group: click.Command = cli
    while isinstance(group, click.Group):
        name, found, args = group.resolve_command(click.Context(group), args)
        assert found is not None, line
        group = found
    return group.make_context(name or "", args)


@pytest.mark.parametrize("path", list(leaf_commands()), ids=" ".join)
def test_help_ends_with_examples_that_parse(path: tuple[str, ...]) -> None:
    text = help_of(path)

    assert "Examples:" in text
    examples = text.split("Examples:", 1)[1]
    commands = [
        line.strip() for line in examples.splitlines() if line.strip().startswith("apimsync")
    ]
    assert 2 <= len(commands) <= 3, examples
    assert all(
        line.strip().startswith(("apimsync", "#", "export"))
        for line in examples.splitlines()
        if line.strip()
    )
    for line in commands:
        assert shlex.split(line)[1 : 1 + len(path)] == list(path), line
        parse(line)


def test_verbose_says_what_it_adds_for_each_command() -> None:
    plan = help_of(("plan",))
    deploy = help_of(("deploy",))

    assert "write" not in " ".join(plan.split("--verbose", 1)[1].split("\n  -")[0].split())
    assert "applied resource" in " ".join(deploy.split())


def test_the_exit_status_is_summarised_once_for_all_commands() -> None:
    text = " ".join(CliRunner().invoke(cli, ["--help"]).output.split())

    assert "Exit status: 0 success; 1 failed (or errors found); 2 usage error, or refused" in text
