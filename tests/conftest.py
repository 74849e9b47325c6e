"""Shared fixtures: the real exports in ../shared/corpus and copies of them to change."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from bench import corpus

REPO = Path(__file__).resolve().parents[1]


def _cache_compiled_modules() -> None:
    """Let the test processes (pytest-xdist's workers, the apimsync and emulator children
    they start) keep compiled modules (``__pycache__``, ignored by git), where
    PYTHONDONTWRITEBYTECODE would make each of them compile and rewrite every module
    again: seconds per worker, and the test command must stay short. Runs before the
    workers start, so they inherit it."""
    if os.environ.pop("PYTHONDONTWRITEBYTECODE", None):
        sys.dont_write_bytecode = False


_cache_compiled_modules()


def _corpus() -> Path:
    found = corpus.corpus_dir()
    if found is None:
        tried = ", ".join(str(path) for path in corpus.candidates())
        raise SystemExit(
            f"the real APIM exports the tests use are not found (tried {tried}); "
            "set APIMSYNC_CORPUS to the folder that holds them"
        )
    return found


CORPUS = _corpus()
EXPORTS = sorted(p.name for p in CORPUS.iterdir() if (p / "api-management").is_dir())
REPRESENTATIVE_EXPORT = sorted(
    EXPORTS, key=lambda name: sum(1 for _ in (CORPUS / name).rglob("*"))
)[len(EXPORTS) // 2]
"""The export the default run takes end to end (the median in size); end-to-end runs of
the others, the largest included, are opt-in (``-m slow``, which CI runs)."""

T = TypeVar("T")


def one_export_by_default(
    values: Iterable[T],
    name_of: Callable[[T], str] = str,
    kept: str | None = REPRESENTATIVE_EXPORT,
) -> list[Any]:
    """``values`` as parameters named ``name_of(value)``, those of exports other than
    ``kept`` (None: every export) marked ``slow``; other values, the examples, are not."""
    return [
        pytest.param(
            value,
            id=name_of(value),
            marks=(
                pytest.mark.slow if name_of(value) in EXPORTS and name_of(value) != kept else ()
            ),
        )
        for value in values
    ]


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    return CORPUS


@pytest.fixture(params=EXPORTS)
def export(request: pytest.FixtureRequest) -> Path:
    """Each real export, read-only."""
    return CORPUS / str(request.param)


@pytest.fixture
def copy_export(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Copy a named export into a temporary folder that a test may change."""

    def copy(name: str) -> Path:
        target = tmp_path / name
        shutil.copytree(CORPUS / name / "api-management", target / "api-management")
        return target

    return copy


def tree_bytes(root: Path) -> dict[str, bytes]:
    """Every file below root's configuration folders, path -> bytes."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for top in ("api-management", "api-management-extras")
        for p in sorted((root / top).rglob("*"))
        if p.is_file()
    }


ONE_WORKER_PACKAGES = ("tests/emulator/",)
"""Packages whose modules share one worker: the emulator's conformance summary
(tests/emulator/test_zz_conformance.py) counts what every module of its package covered."""


@pytest.hookimpl(optionalhook=True)  # pytest-xdist's hooks; -p no:xdist runs without them
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``--dist loadfile`` (one module per worker at a time, so modules share their
    emulator), except that the modules of :data:`ONE_WORKER_PACKAGES` go together."""
    from xdist.scheduler import LoadFileScheduling

    class ModuleScheduling(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            shared = [p for p in ONE_WORKER_PACKAGES if path.startswith(p)]
            return shared[0] if shared else path

    return ModuleScheduling(config, log)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """Two workers per core for ``-n auto``: most tests wait on a child process (apimsync,
    the emulator, git) for much of their time, so one worker per core leaves cores idle."""
    return 2 * (os.cpu_count() or 1)


_FIGURES: list[str] = []
"""The reliability figures of the run (tests/reliability/conftest.py), in report order."""


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "teardown":
        _FIGURES.extend(text for key, text in report.user_properties if key == "apimsync-figure")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _FIGURES:
        terminalreporter.section("apimsync reliability figures")
        for text in _FIGURES:
            terminalreporter.write_line(text)
