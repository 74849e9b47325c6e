"""Measure apimsync at scale against the emulator with a per-request latency.

    python bench/sync_bench.py --apis 500 --latency-ms 25 --parallelism 8 --json
    python bench/sync_bench.py --sizes 50,500,2000 --latency-ms 25

For each size N it builds W(N) (see :mod:`bench.workload`) as files in a git repository,
starts an emulator (its own process) with one empty instance, and runs apimsync as a
child process per phase: ``deploy_full`` (the empty instance to W(N)), ``plan`` (after
the deploy: no changes expected), ``pull`` (into an empty folder), ``deploy_one_change``
(one backend URL changed, a full deploy), ``incremental_one_policy`` (one operation
policy changed and committed, ``deploy --changed-since`` the deployed commit),
``incremental_ten_files`` (ten files changed in three commits, the same) and
``validate`` (the W(N) files). Each phase reports the requests and writes the emulator
counted, wall time and CPU seconds (user + system) of the apimsync process, start-up
included, its peak RSS and ``ideal_s = requests x latency / parallelism``.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from apimsync.emulator import Connection, EmulatorProcess  # noqa: E402
from apimsync.emulator.counters import RequestCounters  # noqa: E402
from bench import changes  # noqa: E402
from bench.workload import workload, write_workload  # noqa: E402

SERVICE = "bench"
SYNC_PHASES = (
    "deploy_full",
    "plan",
    "pull",
    "deploy_one_change",
    "incremental_one_policy",
    "incremental_ten_files",
)
PHASES = (*SYNC_PHASES, "validate")
CHANGED_BACKEND = "backend-00000"


class PhaseFailed(RuntimeError):
    pass


@dataclass(frozen=True)
class ChildRun:
    """One ``python -m apimsync`` run: wall and CPU seconds, peak RSS, its output."""

    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    stdout: str


def run_child(args: Sequence[str], env: dict[str, str], expect: Sequence[int] = (0,)) -> ChildRun:
    """Run ``python -m apimsync ARGS`` and measure it (CPU: user + system of the child)."""
    wall, usage, stdout = run_child_usage(args, env, expect)
    return ChildRun(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024.0, stdout)


def run_child_usage(
    args: Sequence[str], env: dict[str, str], expect: Sequence[int] = (0,)
) -> tuple[float, Any, str]:
    """Run ``python -m apimsync ARGS``; (wall seconds, the child's resource usage, stdout)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        child = subprocess.Popen(
            [sys.executable, "-m", "apimsync", *args],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            env=env,
            cwd=REPO,
        )
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if child.returncode not in expect:
        raise PhaseFailed(f"apimsync {' '.join(args[:1])} exited {child.returncode}: {stderr}")
    return wall, usage, stdout


def measure_sync(
    phase: list[str],
    env: dict[str, str],
    counter: RequestCounters,
    latency_ms: int,
    parallelism: int,
) -> dict[str, Any]:
    counter.reset()
    expect = (0, 2) if "plan" in phase else (0,)
    run = run_child([*phase, "--parallelism", str(parallelism)], env, expect)
    requests, writes = counter.totals()
    return {
        "requests": requests,
        "writes": writes,
        "wall_s": round(run.wall_s, 3),
        "cpu_s": round(run.cpu_s, 3),
        "cpu_ms_per_request": round(1000 * run.cpu_s / requests, 3) if requests else 0.0,
        "peak_rss_mb": round(run.peak_rss_mb, 1),
        "ideal_s": round(requests * latency_ms / 1000.0 / parallelism, 3),
    }


def change_one_backend(root: Path) -> None:
    path = root / "api-management" / "backends" / CHANGED_BACKEND / "configuration.json"
    document = json.loads(path.read_text(encoding="utf-8-sig"))
    document["url"] = "https://moved.backend.example.test/api"
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")


def compile_package() -> None:
    """Write apimsync's bytecode first, as installing it would: with PYTHONDONTWRITEBYTECODE
    set (as on some CI machines), every run would otherwise compile the changed modules
    again and the figures would include it."""
    compileall.compile_dir(REPO / "apimsync", quiet=1)


def run_size(apis: int, latency_ms: int, parallelism: int) -> dict[str, Any]:
    """Every phase for W(``apis``)."""
    with tempfile.TemporaryDirectory(prefix="apimsync-bench-") as scratch:
        base = Path(scratch)
        tree, pulled = base / "tree", base / "pulled"
        configuration = workload(apis)
        write_workload(configuration, tree)
        changes.commit_all(tree, f"W({apis})")
        results: dict[str, Any] = {}
        with EmulatorProcess(
            base / "emulator", mode="subprocess", services=(SERVICE,), latency_ms=latency_ms
        ) as emulator:
            env = {
                **os.environ,
                "APIMSYNC_CONNECTION": str(emulator.data_dir / "connection.json"),
                "APIMSYNC_SERVICE": SERVICE,
                "CI": "true",
            }
            env.pop("APIMSYNC_DEBUG", None)
            counter = RequestCounters(Connection.from_file(emulator.data_dir / "connection.json"))
            sync = {"latency_ms": latency_ms, "parallelism": parallelism}

            deploy = ["deploy", "--dir", str(tree), "--yes"]
            results["deploy_full"] = measure_sync(deploy, env, counter, **sync)
            results["plan"] = measure_sync(
                ["plan", "--dir", str(tree), "--detailed-exitcode"], env, counter, **sync
            )
            results["pull"] = measure_sync(["pull", "--dir", str(pulled)], env, counter, **sync)
            change_one_backend(tree)
            results["deploy_one_change"] = measure_sync(deploy, env, counter, **sync)
            deployed = changes.commit_all(tree, "one backend")
            changes.operation_policy(tree, 1, 0, "incremental")
            changes.commit_all(tree, "one operation policy")
            since = [*deploy, "--changed-since", deployed]
            results["incremental_one_policy"] = measure_sync(since, env, counter, **sync)
            deployed = changes.git(tree, "rev-parse", "HEAD").strip()
            touched = len(changes.ten_files_in_three_commits(tree))
            since = [*deploy, "--changed-since", deployed]
            ten = measure_sync(since, env, counter, **sync)
            results["incremental_ten_files"] = {
                **ten,
                "resources_touched": touched,
                "requests_per_resource_touched": round(ten["requests"] / touched, 2),
            }
        run = run_child(["validate", str(tree), "--format", "json"], dict(os.environ))
        files = int(json.loads(run.stdout)["summary"]["files"])
        validate = {
            "files": files,
            "wall_s": round(run.wall_s, 3),
            "cpu_s": round(run.cpu_s, 3),
            "files_per_s": round(files / run.wall_s, 1) if run.wall_s > 0 else 0.0,
            "peak_rss_mb": round(run.peak_rss_mb, 1),
        }
    return {
        "apis": apis,
        "resources": len(configuration),
        "latency_ms": latency_ms,
        "parallelism": parallelism,
        **results,
        "validate": validate,
    }


def table(results: list[dict[str, Any]]) -> str:
    """A readable table: one row per size and phase."""
    head = f"{'N':>6} {'R':>7} {'phase':<22} {'requests':>9} {'writes':>7} {'req/res':>8}"
    head += f" {'wall_s':>8} {'ideal_s':>8} {'wall/ideal':>10} {'cpu_s':>7} {'cpu_ms/req':>10}"
    head += f" {'rss_mb':>7} {'files/s':>8}"
    lines = [head, "-" * len(head)]
    for result in results:
        n, r = result["apis"], result["resources"]
        for phase in SYNC_PHASES:
            p = result[phase]
            ratio = p["wall_s"] / p["ideal_s"] if p["ideal_s"] else float("nan")
            lines.append(
                f"{n:>6} {r:>7} {phase:<22} {p['requests']:>9} {p['writes']:>7}"
                f" {p['requests'] / r:>8.3f} {p['wall_s']:>8.2f} {p['ideal_s']:>8.2f}"
                f" {ratio:>10.2f} {p['cpu_s']:>7.2f} {p['cpu_ms_per_request']:>10.2f}"
                f" {p['peak_rss_mb']:>7.1f} {'':>8}"
            )
        v = result["validate"]
        lines.append(
            f"{n:>6} {r:>7} {'validate':<22} {'':>9} {'':>7} {'':>8} {v['wall_s']:>8.2f}"
            f" {'':>8} {'':>10} {v['cpu_s']:>7.2f} {'':>10} {v['peak_rss_mb']:>7.1f}"
            f" {v['files_per_s']:>8.0f}"
        )
    latency, parallelism = results[0]["latency_ms"], results[0]["parallelism"]
    lines.append(f"latency {latency} ms, parallelism {parallelism}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    sizes = parser.add_mutually_exclusive_group()
    sizes.add_argument("--apis", type=int, help="N: the number of APIs of W(N)")
    sizes.add_argument("--sizes", help="several N, comma-separated (50,500,2000)")
    parser.add_argument("--latency-ms", type=int, default=25)
    parser.add_argument("--parallelism", type=int, default=8)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    options = parser.parse_args(argv)
    if options.sizes:
        counts = [int(part) for part in options.sizes.split(",") if part.strip()]
    else:
        counts = [options.apis if options.apis is not None else 50]
    compile_package()
    results = []
    for apis in counts:
        results.append(run_size(apis, options.latency_ms, options.parallelism))
        if not options.json:
            print(table(results[-1:]), flush=True)
    if options.json:
        document: Any = results[0] if options.apis is not None or not options.sizes else results
        print(json.dumps(document, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
