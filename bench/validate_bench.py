"""Time ``apimsync validate`` on W(N) alone, without the emulator phases of sync_bench.

    python bench/validate_bench.py --apis 2000 --runs 3 [--json]

Builds W(N) (see :mod:`bench.workload`) as files and runs ``apimsync validate DIR
--format json`` in a new process per run, exactly as the ``validate`` phase of
``sync_bench.py`` does (one process, so one core). The figures are each run's wall
time (min, median, max), files per second and policy files per second at the median,
the CPU time of the process (user and system; on a machine shared with other work it
moves less than wall time) and files per CPU second, the largest peak RSS, and how many
findings of each code the last run reported.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.sync_bench import compile_package, run_child_usage  # noqa: E402
from bench.workload import workload, write_workload  # noqa: E402


def run(apis: int, runs: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="apimsync-validate-bench-") as folder:
        tree = Path(folder) / "tree"
        write_workload(workload(apis), tree)
        policies = sum(1 for _ in (tree / "api-management" / "policies").rglob("*.xml"))
        env = {key: value for key, value in os.environ.items() if key != "APIMSYNC_DEBUG"}
        command = ["validate", str(tree), "--format", "json"]
        run_child_usage(command, env, expect=(0, 1))  # warm the page cache
        walls: list[float] = []
        cpus: list[float] = []
        peak = 0.0
        report: dict[str, Any] = {}
        for _ in range(runs):
            wall, usage, stdout = run_child_usage(command, env, expect=(0, 1))
            walls.append(wall)
            cpus.append(usage.ru_utime + usage.ru_stime)
            peak = max(peak, usage.ru_maxrss / 1024.0)
            report = json.loads(stdout)
    files = int(report["summary"]["files"])
    median = statistics.median(walls)
    cpu = statistics.median(cpus)
    return {
        "apis": apis,
        "files": files,
        "policy_files": policies,
        "runs": runs,
        "wall_s": {
            "min": round(min(walls), 3),
            "median": round(median, 3),
            "max": round(max(walls), 3),
        },
        "cpu_s": {"min": round(min(cpus), 3), "median": round(cpu, 3)},
        "files_per_s": round(files / median, 1),
        "policy_files_per_s": round(policies / median, 1),
        "files_per_cpu_s": round(files / cpu, 1),
        "peak_rss_mb": round(peak, 1),
        "findings": dict(Counter(f["code"] for f in report["findings"]).most_common()),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--apis", type=int, default=500, help="N: the number of APIs of W(N)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a line")
    options = parser.parse_args(argv)
    compile_package()
    result = run(options.apis, options.runs)
    if options.json:
        print(json.dumps(result, indent=2))
    else:
        wall = result["wall_s"]
        print(
            f"W({result['apis']}): {result['files']} files ({result['policy_files']} policies); "
            f"validate wall min {wall['min']} s, median {wall['median']} s, max {wall['max']} s; "
            f"{result['files_per_s']:.0f} files/s, {result['policy_files_per_s']:.0f} policy "
            f"files/s, {result['files_per_cpu_s']:.0f} files per CPU s; "
            f"peak RSS {result['peak_rss_mb']} MB; findings {result['findings']}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
