"""Git hooks that run apimsync: validate what is committed, plan what is pushed.

``pre-commit`` runs ``apimsync validate --staged`` (git's index, not the working files)
and refuses the commit on errors. ``pre-push`` runs ``apimsync plan --ref <sha>`` for
each pushed commit against one environment and refuses the push if a plan fails. Both
are small POSIX shell scripts that find apimsync (the Python it was installed with, then
``apimsync`` on PATH) and, when it is not installed, say so and let git go on.

A hook file that apimsync did not write is never replaced without ``force``; with it,
the old file is kept next to the new one as ``<hook>.apimsync-backup``.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from apimsync.errors import ApimsyncError, UsageError

MARKER = "# apimsync-hook"
BACKUP_SUFFIX = ".apimsync-backup"

_PREAMBLE = """#!/bin/sh
{marker}: {name}, written by 'apimsync hooks install'; run it again to change this file.
# {purpose}
APIMSYNC_PYTHON="${{APIMSYNC_PYTHON:-{python}}}"
if [ -x "$APIMSYNC_PYTHON" ] && "$APIMSYNC_PYTHON" -c 'import apimsync' >/dev/null 2>&1; then
    set -- "$APIMSYNC_PYTHON" -m apimsync
elif command -v apimsync >/dev/null 2>&1; then
    set -- apimsync
else
    echo "apimsync {name} hook: apimsync is not installed here, so {skipped}" >&2
    echo "(install it with: pip install apimsync)" >&2
    exit 0
fi
"""

_PRE_COMMIT = """exec "$@" validate --staged{options} {directory}
"""

_PRE_PUSH = """status=0
while read -r local_ref local_sha remote_ref remote_sha; do
    case "$local_sha" in
        *[!0]*) ;;
        *) continue ;;
    esac
    echo "apimsync pre-push hook: planning $local_ref{described}" >&2
    "$@" plan --ref "$local_sha" --dir {directory}{options} --no-color || status=1
done
if [ "$status" -ne 0 ]; then
    echo "apimsync pre-push hook: push refused, a plan failed (see above)" >&2
    echo "('git push --no-verify' skips this check)" >&2
fi
exit $status
"""


class HookConflict(ApimsyncError):
    """A hook that apimsync did not write is in the way."""

    exit_code = 2

    def __init__(self, path: Path) -> None:
        super().__init__(
            f"{path} exists and was not written by apimsync; nothing was changed. Run "
            "'apimsync validate --staged' from it, or replace it with --force (it is "
            f"kept as {path.name}{BACKUP_SUFFIX})"
        )


@dataclass(frozen=True)
class InstalledHook:
    name: str
    path: Path
    backup: Path | None


def install_hooks(
    directory: Path,
    *,
    pre_push: bool = False,
    environment: str | None = None,
    force: bool = False,
    python: str = sys.executable,
) -> list[InstalledHook]:
    """Write the pre-commit hook (and the pre-push hook) of the repository of ``directory``."""
    hooks_dir, prefix = _repository(directory)
    scripts = {"pre-commit": pre_commit_script(prefix, environment, python)}
    if pre_push:
        scripts["pre-push"] = pre_push_script(prefix, environment, python)
    for name in scripts:
        path = hooks_dir / name
        if path.exists() and not _ours(path) and not force:
            raise HookConflict(path)
    return [_write(hooks_dir / name, text) for name, text in scripts.items()]


def pre_commit_script(prefix: str, environment: str | None, python: str) -> str:
    preamble = _preamble("pre-commit", python, "Refuses a commit whose configuration has errors.")
    options = f" --env {shlex.quote(environment)}" if environment else ""
    return preamble + _PRE_COMMIT.format(options=options, directory=shlex.quote(prefix))


def pre_push_script(prefix: str, environment: str | None, python: str) -> str:
    preamble = _preamble("pre-push", python, "Refuses a push whose commits cannot be planned.")
    options = f" --env {shlex.quote(environment)}" if environment else ""
    described = f" against environment '{environment}'" if environment else ""
    return preamble + _PRE_PUSH.format(
        options=options, directory=shlex.quote(prefix), described=described
    )


def _preamble(name: str, python: str, purpose: str) -> str:
    skipped = (
        "the staged configuration was not validated"
        if name == "pre-commit"
        else "the pushed commits were not planned"
    )
    return _PREAMBLE.format(
        marker=MARKER, name=name, purpose=purpose, python=python, skipped=skipped
    )


def _repository(directory: Path) -> tuple[Path, str]:
    """The hooks folder of the repository that holds ``directory``, and the folder's path
    inside the working tree (``.`` for its top)."""
    if not directory.is_dir():
        raise UsageError(f"{directory} is not a folder")
    try:
        top = _git(directory, "rev-parse", "--show-toplevel")
        hooks = _git(directory, "rev-parse", "--git-path", "hooks")
    except subprocess.CalledProcessError:
        raise UsageError(
            f"{directory} is not inside a git repository; run 'git init' first"
        ) from None
    hooks_dir = Path(hooks) if Path(hooks).is_absolute() else (directory / hooks).resolve()
    prefix = directory.resolve().relative_to(Path(top).resolve()).as_posix()
    return hooks_dir, prefix


def _git(directory: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", *args], cwd=directory, capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


def _ours(path: Path) -> bool:
    try:
        return MARKER in path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False


def _write(path: Path, text: str) -> InstalledHook:
    path.parent.mkdir(parents=True, exist_ok=True)
    backup = None
    if path.exists() and not _ours(path):
        backup = path.with_name(path.name + BACKUP_SUFFIX)
        path.replace(backup)
    path.write_text(text, encoding="utf-8")
    path.chmod(0o755)
    return InstalledHook(path.name, path, backup)
