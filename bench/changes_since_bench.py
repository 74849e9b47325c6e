"""Measure reading what changed since a commit, partially and whole, in either layout.

    python bench/changes_since_bench.py --apis 500 --layout scm --runs 5
    python bench/changes_since_bench.py --apis 500 --layout apiops --runs 5

It writes W(N) (see :mod:`bench.workload`) in the layout into a new git repository,
commits it, changes one operation policy and commits that, then times
:func:`apimsync.changes_since.load_changed_state` since the first commit: reading only
the files the change needs (what ``--changed-since`` does), and reading every file
(what it does for a change to the overlays or to many files). It reports the median and
the spread of the runs, the resources each read built, and whether both found the same
changed and deleted resources. In-process: no start-up, no requests.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from apimsync.changes_since import ChangedState, load_changed_state  # noqa: E402
from apimsync.formats.layouts import Location, empty_layout, write_tree  # noqa: E402
from apimsync.plan.partial import PartialPlanner  # noqa: E402
from bench import changes  # noqa: E402
from bench.workload import workload  # noqa: E402

LOCATIONS = {"scm": Location("scm"), "apiops": Location("apiops", "artifacts", "v7")}


def build(root: Path, apis: int, layout: str) -> str:
    """W(``apis``) in ``layout`` at ``root``, committed, then one changed operation
    policy committed; the first commit."""
    root.mkdir(parents=True)
    write_tree(workload(apis), root, empty_layout(LOCATIONS[layout]))
    start = changes.commit_all(root, "W(N)")
    policy = next(root.glob("**/operations/**/*.xml"))
    text = policy.read_text(encoding="utf-8")
    header = '<set-header name="x-bench" exists-action="override"><value>1</value></set-header>'
    policy.write_text(text.replace("<base />", f"<base />\n{header}", 1), encoding="utf-8")
    changes.commit_all(root, "one policy")
    return start


def measure(root: Path, start: str, whole: bool, runs: int) -> tuple[dict[str, Any], Any]:
    seconds = []
    state: ChangedState | None = None
    for _ in range(runs):
        began = time.perf_counter()
        state = load_changed_state(root, start, whole=whole)
        seconds.append(time.perf_counter() - began)
    assert state is not None
    planner = PartialPlanner(state.configuration, state.old)
    found = ({k: r.to_json() for k, r in planner.changed.items()}, sorted(planner.deleted))
    figures = {
        "median_s": round(statistics.median(seconds), 3),
        "min_s": round(min(seconds), 3),
        "max_s": round(max(seconds), 3),
        "resources_read": len(state.configuration),
        "changed": len(planner.changed),
    }
    return figures, found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--apis", type=int, default=500)
    parser.add_argument("--layout", choices=sorted(LOCATIONS), default="scm")
    parser.add_argument("--runs", type=int, default=5)
    options = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="apimsync-bench-") as temp:
        root = Path(temp) / "repo"
        start = build(root, options.apis, options.layout)
        files = len(changes.git(root, "ls-files").splitlines())
        partial, found_partial = measure(root, start, False, options.runs)
        whole, found_whole = measure(root, start, True, max(1, options.runs // 2))
    report = {
        "apis": options.apis,
        "layout": options.layout,
        "files": files,
        "partial": partial,
        "whole": whole,
        "same_result": found_partial == found_whole,
    }
    print(json.dumps(report, indent=2))
    return 0 if report["same_result"] else 1


if __name__ == "__main__":
    sys.exit(main())
