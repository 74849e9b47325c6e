"""A configuration's files as git holds them: at a commit, in the index, or in the
working tree, through the git command.

The pre-commit hook compares the index with ``HEAD`` (:mod:`apimsync.staged`); a partial
plan compares the working tree, or a commit, with the commit last deployed
(:mod:`apimsync.changes_since`). Both read only the few files a change needs
(:mod:`apimsync.selection`), so everything here works on lists of files: which files a
side holds and which differ, their texts in one ``git cat-file`` for many, which of them
name something (``git grep``), and writing some of them out into a scratch folder.

Paths are relative to the configuration's folder (``api-management/...``), which may be
below the repository's top; git's own paths are relative to the top.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from apimsync.errors import ApimsyncError, UsageError


class GitRefError(ApimsyncError):
    """A version of the files cannot be read from git (a usage error: the ref or the
    folder is wrong)."""

    exit_code = 2

    @classmethod
    def not_a_repository(cls, directory: Path, purpose: str = "--ref") -> GitRefError:
        return cls(f"{directory} is not inside a git repository, so {purpose} cannot be used")

    @classmethod
    def unknown(cls, ref: str, detail: str) -> GitRefError:
        lines = detail.strip().splitlines() or ["it names no commit in this repository"]
        return cls(f"cannot read git ref '{ref}': {lines[-1]}")

    @classmethod
    def failed(cls, args: Iterable[str], detail: str) -> GitRefError:
        last = (detail.strip().splitlines() or ["no message"])[-1]
        return cls(f"git {next(iter(args), '')} failed: {last}")


@dataclass(frozen=True)
class Side:
    """One version of the files: a commit (its full name), git's index, or the working
    tree (untracked files included, ignored ones not)."""

    commit: str | None = None
    index: bool = False

    def describe(self) -> str:
        if self.commit is not None:
            return self.commit[:12]
        return "the index" if self.index else "the working tree"


INDEX = Side(index=True)
WORKING_TREE = Side()


@dataclass(frozen=True)
class Differences:
    """The files that differ from one side to the other, by what happened to them."""

    added: frozenset[str] = frozenset()
    modified: frozenset[str] = frozenset()
    deleted: frozenset[str] = frozenset()

    def reversed(self) -> Differences:
        """The same differences seen from the other side."""
        return Differences(self.deleted, self.modified, self.added)

    @property
    def present(self) -> frozenset[str]:
        """The files that differ and that the later side holds."""
        return self.added | self.modified

    @property
    def all(self) -> frozenset[str]:
        return self.added | self.modified | self.deleted


class GitFiles:
    """The files below a folder of a git repository, on any side."""

    def __init__(self, top: Path, prefix: str) -> None:
        self.top = top
        self.prefix = prefix
        """The folder relative to the top, with a trailing ``/`` (``""``: the top)."""
        self._texts: dict[tuple[Side, str], str | None] = {}

    @property
    def folder(self) -> Path:
        """The configuration's folder in the working tree."""
        return self.top / self.prefix

    @classmethod
    def at(cls, directory: Path, purpose: str) -> GitFiles:
        """The repository ``directory`` is in; ``purpose`` (``--staged``) names what
        needs git in the message when it is not in one."""
        if not directory.is_dir():
            raise UsageError(f"{directory} is not a folder")
        found = _git(directory, ["rev-parse", "--show-toplevel"])
        if found.returncode != 0:
            raise GitRefError.not_a_repository(directory, purpose)
        top = Path(os.fsdecode(found.stdout).strip()).resolve()
        prefix = directory.resolve().relative_to(top).as_posix()
        return cls(top, "" if prefix == "." else prefix + "/")

    def commit(self, ref: str) -> Side:
        """The commit ``ref`` names; :class:`GitRefError` if none."""
        found = self._verify(ref)
        if found.returncode != 0:
            raise GitRefError.unknown(ref, found.stderr)
        return Side(commit=found.stdout.decode().strip())

    def has_commit(self, ref: str) -> bool:
        return self._verify(ref).returncode == 0

    def _verify(self, ref: str) -> _Answer:
        return _git(self.top, ["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"])

    # -- which files --------------------------------------------------------------

    def files(self, side: Side, tops: Iterable[str]) -> frozenset[str]:
        """The files ``side`` holds below ``tops`` (folders or files of the folder)."""
        specs = self._specs(tops)
        if side.commit is not None:
            listed = self._names(["ls-tree", "-r", "--name-only", "-z", side.commit, "--", *specs])
        elif side.index:
            listed = self._names(["ls-files", "-z", "--", *specs])
        else:
            listed = self._names(
                ["ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", *specs]
            )
            listed -= self._names(["ls-files", "-z", "--deleted", "--", *specs])
        return frozenset(listed)

    def differences(self, before: Side, after: Side, tops: Iterable[str]) -> Differences:
        """The files below ``tops`` that differ from the commit ``before`` to ``after``."""
        assert before.commit is not None, "the earlier side is a commit"
        specs = self._specs(tops)
        args = ["diff", "--no-renames", "--name-status", "-z"]
        if after.commit is not None:
            args += [before.commit, after.commit]
        else:
            args += ["--cached", before.commit] if after.index else [before.commit]
        fields = self._run([*args, "--", *specs]).split("\0")
        found: dict[str, set[str]] = {"A": set(), "M": set(), "D": set()}
        for status, path in zip(fields[0::2], fields[1::2], strict=False):
            found["A" if status == "A" else "D" if status == "D" else "M"].add(self._local(path))
        if after == WORKING_TREE:
            untracked = ["ls-files", "-z", "--others", "--exclude-standard", "--", *specs]
            found["A"] |= self._names(untracked)
        return Differences(frozenset(found["A"]), frozenset(found["M"]), frozenset(found["D"]))

    # -- what they say ------------------------------------------------------------

    def read(self, sides: Iterable[Side], paths: Iterable[str]) -> None:
        """Read these files on each side in one go, for :meth:`show`."""
        wanted = [(s, p) for p in paths for s in sides if (s, p) not in self._texts]
        on_disk = [(s, p) for s, p in wanted if s == WORKING_TREE]
        for key in on_disk:
            self._texts[key] = self._read_working_file(key[1])
        in_git = [(s, p) for s, p in wanted if s != WORKING_TREE]
        for key, data in zip(in_git, self._blobs(in_git), strict=True):
            self._texts[key] = None if data is None else data.decode("utf-8", "replace")

    def show(self, side: Side, path: str) -> str | None:
        """A file's text on ``side``; None if it does not hold the file."""
        if (side, path) not in self._texts:
            self.read([side], [path])
        return self._texts[side, path]

    def grep(
        self,
        side: Side,
        patterns: list[str],
        tops: Iterable[str],
        *,
        fixed: bool = False,
        json_only: bool = False,
    ) -> set[str]:
        """The files of ``side`` below ``tops`` that match any pattern, ignoring case
        (``fixed``: plain text, not extended regular expressions)."""
        if not patterns:
            return set()
        args = ["grep", "-l", "-i", "-z", "-F" if fixed else "-E"]
        if side.index:
            args.append("--cached")
        elif side.commit is None:
            args.append("--untracked")
        for pattern in patterns:
            args += ["-e", pattern]
        if side.commit is not None:
            args.append(side.commit)
        if json_only:  # a plain pathspec: its ``*`` matches across folders
            args += ["--", *(f":(top){self.prefix}{top}/*.json" for top in tops)]
        else:
            args += ["--", *self._specs(tops)]
        result = _git(self.top, args)
        if result.returncode not in (0, 1):
            raise GitRefError.failed(args, result.stderr)
        listed = os.fsdecode(result.stdout).split("\0")
        commit = f"{side.commit}:" if side.commit is not None else ""
        return {self._local(p.removeprefix(commit)) for p in listed if p}

    # -- writing them out ----------------------------------------------------------

    @contextmanager
    def exported(self, side: Side, files: Iterable[str]) -> Iterator[Path]:
        """These files of ``side`` (those it holds), written as git would check them out
        below a temporary folder; yields the folder that stands for the configuration's."""
        with tempfile.TemporaryDirectory(prefix="apimsync-git-", dir=_memory_folder()) as temp:
            scratch = Path(temp)
            wanted = sorted(set(files))
            if wanted:
                self._write(side, wanted, scratch)
            root = scratch / "tree" / self.prefix
            root.mkdir(parents=True, exist_ok=True)
            yield root

    def _write(self, side: Side, files: list[str], scratch: Path) -> None:
        tree = scratch / "tree"
        if side == WORKING_TREE:
            for path in files:
                source = self.top / self.prefix / path
                if source.is_file():
                    target = tree / self.prefix / path
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(source, target)
            return
        listed = "".join(f"{self.prefix}{p}\0" for p in files).encode("utf-8")
        if side.index:
            args = ["checkout-index", "-z", "--stdin", f"--prefix={tree}{os.sep}"]
            self._run(args, stdin=listed)
            return
        assert side.commit is not None
        present = self._present_at(side.commit, files)
        if not present:
            return
        tree.mkdir()
        git_dir = self._run(["rev-parse", "--absolute-git-dir"]).strip()
        # its own index: the user's index and working tree are not touched
        args = [f"--git-dir={git_dir}", f"--work-tree={tree}", "checkout", side.commit]
        args += ["--pathspec-from-file=-", "--pathspec-file-nul"]
        specs = "".join(f":(top,literal){self.prefix}{p}\0" for p in present)
        self._run(args, stdin=specs.encode("utf-8"), index=scratch / "index")

    def _present_at(self, commit: str, files: list[str]) -> list[str]:
        held = self._names(
            ["ls-tree", "-r", "--name-only", "-z", commit, "--", *self._specs(["."])]
        )
        return [p for p in files if p in held]

    # -- git itself ------------------------------------------------------------------

    def _blobs(self, keys: list[tuple[Side, str]]) -> list[bytes | None]:
        if not keys:
            return []
        specs = "".join(f"{side.commit or ''}:{self.prefix}{path}\n" for side, path in keys)
        output = self._run_bytes(["cat-file", "--batch"], stdin=specs.encode("utf-8"))
        found: list[bytes | None] = []
        for _ in keys:
            header, _, output = output.partition(b"\n")
            parts = header.split()
            if len(parts) == 3 and parts[1] == b"blob":
                size = int(parts[2])
                found.append(output[:size])
                output = output[size + 1 :]
            else:
                found.append(None)
        return found

    def _read_working_file(self, path: str) -> str | None:
        try:
            return (self.top / self.prefix / path).read_bytes().decode("utf-8", "replace")
        except OSError:
            return None

    def _specs(self, tops: Iterable[str]) -> list[str]:
        """Literal pathspecs, from the top, of folders or files of the folder."""
        specs = []
        for top in tops:
            joined = (self.prefix + top).rstrip("/") if top != "." else self.prefix.rstrip("/")
            specs.append(f":(top,literal){joined}" if joined else ":(top)")
        return specs

    def _names(self, args: list[str]) -> set[str]:
        return {self._local(p) for p in self._run(args).split("\0") if p}

    def _local(self, path: str) -> str:
        return path.removeprefix(self.prefix)

    def _run(self, args: list[str], stdin: bytes | None = None, index: Path | None = None) -> str:
        return self._run_bytes(args, stdin, index).decode("utf-8", "surrogateescape")

    def _run_bytes(
        self, args: list[str], stdin: bytes | None = None, index: Path | None = None
    ) -> bytes:
        result = _git(self.top, args, stdin, index)
        if result.returncode != 0:
            raise GitRefError.failed(args, result.stderr)
        return result.stdout


@dataclass(frozen=True)
class _Answer:
    returncode: int
    stdout: bytes
    stderr: str


def _git(
    where: Path, args: list[str], stdin: bytes | None = None, index: Path | None = None
) -> _Answer:
    """``git ARGS`` in ``where``, through GitPython's command runner (which also honours
    ``GIT_PYTHON_GIT_EXECUTABLE``); ``stdin`` fed to it, ``index`` the index it uses."""
    import git

    environment = {"GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
    if index is not None:
        environment["GIT_INDEX_FILE"] = str(index)
    command = [git.Git.GIT_PYTHON_GIT_EXECUTABLE or "git", "-c", "core.quotepath=off", *args]
    with tempfile.TemporaryFile() as feed:
        if stdin is not None:
            feed.write(stdin)
            feed.seek(0)
        try:
            status, out, err = git.Git(where).execute(
                command,
                istream=feed if stdin is not None else None,
                env=environment,
                with_extended_output=True,
                with_exceptions=False,
                stdout_as_string=False,
                strip_newline_in_stdout=False,
            )
        except git.GitCommandNotFound as error:
            raise GitRefError(f"cannot run git ({error})") from None
    return _Answer(status, out if isinstance(out, bytes) else out.encode(), str(err))


def _memory_folder() -> str | None:
    """A folder in memory for the export, where the system has one (Linux's /dev/shm)."""
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK | os.X_OK) else None
