"""Time the pre-commit hook (``apimsync validate --staged``) on a big repository.

    python bench/hook_bench.py --apis 500 --changed 20 --runs 5 [--json]

Builds W(N) (see :mod:`bench.workload`) in a fresh git repository, commits it, then
changes ``--changed`` policy documents and stages them, as a developer would before a
commit. Each run is the hook's command in a new process, as git starts it; the figures
are the wall time of each run (min, median, max) and the largest peak RSS of any
process it started (the hook, or git building the repository).
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.workload import workload, write_workload  # noqa: E402

HOOK = [sys.executable, "-m", "apimsync", "validate", "--staged"]


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


def make_repository(root: Path, apis: int) -> int:
    files = write_workload(workload(apis), root)
    git(root, "init", "-q", "-b", "main")
    git(root, "-c", "user.name=bench", "-c", "user.email=bench@example.invalid", "add", "-A")
    git(
        root,
        "-c",
        "user.name=bench",
        "-c",
        "user.email=bench@example.invalid",
        "commit",
        "-q",
        "-m",
        "W(N)",
    )
    return files


def stage_changes(root: Path, count: int) -> list[str]:
    """Change ``count`` policy documents (a comment appended) and stage them."""
    policies = sorted(root.glob("api-management/policies/apis/*/operations/*.xml"))
    step = max(1, len(policies) // count)
    chosen = policies[::step][:count]
    if len(chosen) < count:
        raise SystemExit(f"W(N) has only {len(policies)} operation policies; use more --apis")
    for path in chosen:
        text = path.read_text(encoding="utf-8")
        path.write_text(text + "\n<!-- reviewed -->\n", "utf-8")
    names = [path.relative_to(root).as_posix() for path in chosen]
    git(root, "add", "--", *names)
    return names


def time_hook(root: Path) -> tuple[float, float, int]:
    """One run of the hook: wall seconds, CPU seconds of its processes, peak RSS (KB)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run(HOOK, cwd=root, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    if result.returncode != 0:
        raise SystemExit(f"the hook failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return wall, cpu, peak_kb


def compile_package() -> None:
    """Write apimsync's bytecode first, as installing it would: with PYTHONDONTWRITEBYTECODE
    set (as on some CI machines), every run would otherwise compile the changed modules
    again and the figures would include it."""
    compileall.compile_dir(REPO / "apimsync", quiet=1)


def run(apis: int, changed: int, runs: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="apimsync-hook-bench-") as folder:
        root = Path(folder)
        files = make_repository(root, apis)
        names = stage_changes(root, changed)
        time_hook(root)  # warm the page cache, as a developer's second commit would
        walls: list[float] = []
        cpus: list[float] = []
        peak = 0
        for _ in range(runs):
            wall, cpu, peak = time_hook(root)
            walls.append(wall)
            cpus.append(cpu)
    return {
        "apis": apis,
        "files": files,
        "changed": len(names),
        "runs": runs,
        "wall_s": {
            "min": round(min(walls), 3),
            "median": round(statistics.median(walls), 3),
            "max": round(max(walls), 3),
        },
        "cpu_s": {"min": round(min(cpus), 3), "median": round(statistics.median(cpus), 3)},
        "peak_rss_mb": round(peak / 1024, 1),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--apis", type=int, default=500, help="N: the number of APIs of W(N)")
    parser.add_argument("--changed", type=int, default=20, help="policy files changed and staged")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a line")
    options = parser.parse_args(argv)
    os.environ.setdefault("GIT_CONFIG_NOSYSTEM", "1")
    compile_package()
    result = run(options.apis, options.changed, options.runs)
    if options.json:
        print(json.dumps(result, indent=2))
    else:
        wall = result["wall_s"]
        print(
            f"W({result['apis']}): {result['files']} files, {result['changed']} staged; "
            f"hook wall min {wall['min']} s, median {wall['median']} s, max {wall['max']} s, "
            f"CPU median {result['cpu_s']['median']} s; "
            f"peak RSS {result['peak_rss_mb']} MB ({result['runs']} runs)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
