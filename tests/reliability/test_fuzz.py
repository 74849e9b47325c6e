"""4. Hostile files: the policy parser, the scm reader (with the writer writing back in
place) and the environment overlay loader fed generated inputs; each must end in
findings or success (an ``ApimsyncError`` with one message at most), never another
exception, and never touch or read a file outside the folder it was given.

Per target: ``APIMSYNC_FUZZ_INPUTS`` (default 10,000) seeded mutations of real and
generated files, hypothesis examples (``APIMSYNC_FUZZ_EXAMPLES``, default 150) and, when
atheris is installed, a coverage-guided atheris run of ``APIMSYNC_ATHERIS_RUNS`` (default
1,000) inputs in a child process (:mod:`tests.reliability.fuzz_atheris`).
"""

from __future__ import annotations

import copy
import importlib.util
import json
import os
import random
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apimsync.errors import ModelError
from apimsync.formats.scm.reader import read_tree
from apimsync.formats.scm.writer import write_tree
from apimsync.model import make_resource
from apimsync.validate.tree import validate_tree
from tests.reliability import fuzzing
from tests.reliability.helpers import REPO, figure

INPUTS = int(os.environ.get("APIMSYNC_FUZZ_INPUTS", "10000"))
EXAMPLES = int(os.environ.get("APIMSYNC_FUZZ_EXAMPLES", "150"))
ATHERIS_RUNS = int(os.environ.get("APIMSYNC_ATHERIS_RUNS", "1000"))
HAS_ATHERIS = importlib.util.find_spec("atheris") is not None
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

COUNTS: dict[str, dict[str, int]] = {}


def _count(target: str, outcome: str, n: int = 1) -> None:
    tally = COUNTS.setdefault(target, {})
    tally[outcome] = tally.get(outcome, 0) + n


@pytest.fixture(scope="module")
def seeds(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, bytes]]:
    """The small trees the reader's inputs start from, then the tree of every kind."""
    folder = tmp_path_factory.mktemp("seed")
    return [*fuzzing.seed_trees(folder / "parts"), fuzzing.seed_tree(folder / "all")]


@pytest.fixture(scope="module")
def tree_target(tmp_path_factory: pytest.TempPathFactory) -> fuzzing.TreeTarget:
    return fuzzing.TreeTarget(fuzzing.Sandbox(tmp_path_factory.mktemp("tree-sandbox")))


@pytest.fixture(scope="module")
def overlay_target(
    tmp_path_factory: pytest.TempPathFactory, seeds: list[dict[str, bytes]]
) -> fuzzing.OverlayTarget:
    sandbox = fuzzing.Sandbox(tmp_path_factory.mktemp("overlay-sandbox"))
    return fuzzing.OverlayTarget(sandbox, seeds[-1])


# -- the seeded loops ------------------------------------------------------------------


@pytest.mark.slow
def test_policy_parser_seeded(tmp_path: Path) -> None:
    outcomes = fuzzing.run_loop(
        INPUTS, fuzzing.policy_inputs(random.Random(1)), fuzzing.policy_target
    )
    _record("policy parser", outcomes)
    assert sum(outcomes.values()) == INPUTS


@pytest.mark.slow
def test_scm_reader_seeded(tree_target: fuzzing.TreeTarget, seeds: list[dict[str, bytes]]) -> None:
    outcomes = fuzzing.run_loop(
        INPUTS, fuzzing.tree_inputs(random.Random(2), seeds[:-1]), tree_target
    )
    _record("scm reader", outcomes)
    _count("scm reader", "of them written back", tree_target.written)
    _count("scm reader", "of them validated in full", tree_target.validated)
    assert sum(outcomes.values()) == INPUTS
    assert tree_target.written and tree_target.validated


@pytest.mark.slow
def test_overlay_loader_seeded(overlay_target: fuzzing.OverlayTarget) -> None:
    ids = sorted(resource.id for resource in overlay_target.base)
    outcomes = fuzzing.run_loop(
        INPUTS, fuzzing.overlay_inputs(random.Random(3), ids), overlay_target
    )
    _record("overlay loader", outcomes)
    _count("overlay loader", "of them validated in full", overlay_target.validated)
    assert sum(outcomes.values()) == INPUTS
    assert overlay_target.validated


def _record(target: str, outcomes: dict[str, int]) -> None:
    for outcome, n in outcomes.items():
        _count(target, outcome, n)
    _count(target, "seeded inputs", sum(outcomes.values()))


# -- hypothesis --------------------------------------------------------------------------

JSON_LEAVES = st.one_of(
    st.sampled_from(fuzzing.HOSTILE_VALUES).map(copy.deepcopy),
    st.text(max_size=20),
    st.integers(),
    st.floats(allow_nan=False),
    st.booleans(),
    st.none(),
)
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(
            st.one_of(st.sampled_from(fuzzing.HOSTILE_KEYS), st.text(max_size=10)),
            children,
            max_size=4,
        ),
    ),
    max_leaves=12,
)
POLICY_TEXT = st.lists(
    st.one_of(st.sampled_from(fuzzing.POLICY_TOKENS), st.text(max_size=6)), max_size=40
).map("".join)


@pytest.mark.slow
@FUZZ_SETTINGS
@given(text=POLICY_TEXT, scope=st.integers(0, 4))
def test_policy_parser_hypothesis(text: str, scope: int) -> None:
    _count("policy parser", "hypothesis examples")
    fuzzing.policy_target(text, scope)


@pytest.mark.slow
@FUZZ_SETTINGS
@given(data=st.data())
def test_scm_reader_hypothesis(
    data: st.DataObject, tree_target: fuzzing.TreeTarget, seeds: list[dict[str, bytes]]
) -> None:
    seed = seeds[-1]
    files: dict[str, bytes | None] = dict(seed)
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(sorted(seed)))
        if path.endswith(".json"):
            document = json.loads(seed[path].decode("utf-8-sig"))
            key = data.draw(st.sampled_from([*fuzzing.HOSTILE_KEYS, *document]))
            if isinstance(document, dict):
                document[key] = data.draw(JSON_VALUES)
            files[path] = json.dumps(document).encode("utf-8", "surrogatepass")
        else:
            files[path] = data.draw(POLICY_TEXT).encode("utf-8", "surrogatepass")
    _count("scm reader", "hypothesis examples")
    tree_target(files)


@pytest.mark.slow
@FUZZ_SETTINGS
@given(data=st.data())
def test_overlay_loader_hypothesis(
    data: st.DataObject, overlay_target: fuzzing.OverlayTarget
) -> None:
    ids = sorted(resource.id for resource in overlay_target.base)
    resources = data.draw(
        st.dictionaries(
            st.one_of(st.sampled_from(ids), st.sampled_from(fuzzing.HOSTILE_VALUES).map(str)),
            st.dictionaries(
                st.one_of(
                    st.sampled_from(("url", "value", "$ref-value", "$ref-url", "description")),
                    st.text(max_size=8),
                ),
                JSON_VALUES,
                max_size=3,
            ),
            max_size=3,
        )
    )
    document: Any = {"resources": resources}
    if data.draw(st.booleans()):
        document = data.draw(JSON_VALUES)
    _count("overlay loader", "hypothesis examples")
    overlay_target(json.dumps(document).encode("utf-8", "surrogatepass"))


# -- atheris -----------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.skipif(not HAS_ATHERIS, reason="atheris is not installed")
@pytest.mark.parametrize("target", ["policy", "tree", "overlay"])
def test_atheris(target: str, tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.reliability.fuzz_atheris",
            target,
            str(tmp_path),
            f"-runs={ATHERIS_RUNS}",
            "-seed=7",
            "-max_len=4096",
            "-rss_limit_mb=4096",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    done = re.search(r"Done (\d+) runs", result.stderr)
    name = {"policy": "policy parser", "tree": "scm reader", "overlay": "overlay loader"}[target]
    assert result.returncode == 0 and done, result.stderr[-4000:]
    _count(name, "atheris runs", int(done.group(1)))


@pytest.mark.slow
def test_zz_fuzz_summary() -> None:
    if not COUNTS:
        pytest.skip("run the fuzz module for its summary")
    for target, tally in COUNTS.items():
        total = sum(n for k, n in tally.items() if k in _INPUT_KINDS)
        parts = ", ".join(f"{k} {n}" for k, n in sorted(tally.items()) if n)
        figure(
            f"4 fuzz {target}",
            f"{total} generated inputs ({parts}); no other exception, nothing outside the "
            "folder touched or read",
        )
        assert tally.get("seeded inputs", 0) == INPUTS, target


_INPUT_KINDS = frozenset({"seeded inputs", "hypothesis examples", "atheris runs"})


# -- what the fuzzers found, kept as plain regression tests -------------------------------


def _tree(root: Path, files: dict[str, str]) -> Path:
    for relative, text in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text, encoding="utf-8")
    return root


def test_found_deep_nesting_is_a_finding(tmp_path: Path) -> None:
    deep_policy = "<policies><inbound>" + "<choose><when>" * 600 + "</when></choose>" * 600
    root = _tree(
        tmp_path,
        {
            "api-management/configuration.json": json.dumps(
                {"$ref-policy": "api-management/policies/global.xml"}
            ),
            "api-management/policies/global.xml": deep_policy + "</inbound></policies>",
            "api-management/backends/b/configuration.json": '{"id": "/backends/b", "url": '
            + "[" * 5000
            + "]" * 5000
            + "}",
        },
    )
    codes = {(f.path.rsplit("/", 1)[-1], f.code) for f in validate_tree(root).findings}
    assert ("global.xml", "xml-syntax") in codes and ("configuration.json", "json-syntax") in codes


def test_found_lone_surrogates_are_findings(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "api-management/backends/b/configuration.json": (
                '{"id": "/backends/b", "url": "\\ud800"}'
            ),
            "environments/e.json": '{"resources": {"/backends/b": {"description": "\\udfff"}}}',
        },
    )
    plain = validate_tree(root).findings
    overlaid = validate_tree(root, environment="e", environ={}).findings
    assert any("is not a Unicode character" in f.message for f in plain)
    assert any("is not a Unicode character" in f.message for f in overlaid)


def test_found_credentials_of_the_wrong_type_are_schema_findings(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "api-management/configuration.json": "{}",
            "api-management-extras/loggers/l.json": '{"id": "/loggers/l", "loggerType": '
            '"applicationInsights", "credentials": "not an object"}',
        },
    )
    assert any(f.code == "schema" for f in validate_tree(root).findings)


def test_found_an_unreadable_root_file_is_named_when_writing(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"api-management/configuration.json": '{"settings": '})
    result = read_tree(root)
    policy = make_resource("/policies/policy", {"value": "<policies />"})
    with pytest.raises(ModelError, match=r"configuration\.json is in the way"):
        write_tree(result.configuration.with_resources(policy), root, result.layout)
