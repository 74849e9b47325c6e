"""The fuzz targets of :mod:`tests.reliability.fuzzing` under atheris (coverage-guided).

    python -m tests.reliability.fuzz_atheris policy|tree|overlay SCRATCH_DIR -runs=N ...

Every apimsync module is instrumented. Each input is taken as bytes: the policy text,
the new content of one file of the seed tree (the first byte picks which), or the
overlay file. An exception the target does not allow ends the run with libFuzzer's
crash report and a non-zero exit status.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import atheris  # type: ignore[import-untyped,import-not-found,unused-ignore]

with atheris.instrument_imports(include=["apimsync"]):
    from tests.reliability import fuzzing


def harness(target: str, scratch: Path) -> Callable[[bytes], None]:
    if target == "policy":

        def policy(data: bytes) -> None:
            fuzzing.policy_target(data.decode("utf-8", "replace"), data[0] if data else 0)

        return policy
    seed = fuzzing.seed_tree(scratch / "seed")
    if target == "tree":
        tree = fuzzing.TreeTarget(fuzzing.Sandbox(scratch / "tree"))
        paths = sorted(seed)

        def one_file(data: bytes) -> None:
            files: dict[str, bytes | None] = dict(seed)
            if data:
                files[paths[data[0] % len(paths)]] = data[1:]
            tree(files)

        return one_file
    overlay = fuzzing.OverlayTarget(fuzzing.Sandbox(scratch / "overlay"), seed)

    def overlay_file(data: bytes) -> None:
        overlay(data)

    return overlay_file


def main() -> None:
    target, scratch = sys.argv[1], Path(sys.argv[2])
    atheris.Setup([sys.argv[0], *sys.argv[3:]], harness(target, scratch))
    atheris.Fuzz()


if __name__ == "__main__":
    main()
