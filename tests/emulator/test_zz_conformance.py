"""The conformance summary; runs last (file order), after everything it counts.

Every response seen in this session was validated against its operation's response
schema as it arrived (``conftest.Recorder``); this reports how much of the spec that
covered and how many of the spec's own examples replayed with a status they show.
"""

from __future__ import annotations

import warnings

import pytest

from apimsync.emulator.routes import ROUTES

from .conftest import Recorder
from .swagger import Spec
from .test_examples import STATE


def test_conformance_summary(spec: Spec, recorder: Recorder) -> None:
    if not STATE["passed"] and not STATE["failed"]:
        pytest.skip("run the whole emulator suite for the summary")
    total_ops = len(spec.operations)
    implemented = {r.operation_id for r in ROUTES} & set(spec.by_id)
    covered = set(recorder.covered) & set(spec.by_id)
    example_total = sum(len(op.examples) for op in spec.operations)
    example_files = sum(1 for op in spec.operations for p in op.examples.values() if p.exists())
    passed = len(STATE["passed"])
    not_implemented = sorted(set(spec.by_id) - implemented)
    summary = (
        f"spec operations: {total_ops}; implemented: {len(implemented)}; "
        f"answered with schema-valid responses in this run: {len(covered)}. "
        f"examples: {example_total} referenced, {example_files} present, "
        f"{passed} replayed with a status the example shows, {len(STATE['failed'])} not. "
        f"not implemented: {', '.join(not_implemented)}. "
        f"responses checked without a spec operation: {len(recorder.unmatched)} paths. "
        f"implemented but not exercised: {', '.join(sorted(implemented - covered)) or 'none'}."
    )
    warnings.warn(summary, stacklevel=1)
    print(summary)
    assert not recorder.problems, "\n".join(recorder.problems[:20])
    assert not STATE["failed"], summary
    assert covered >= implemented, summary
