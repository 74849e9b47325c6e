"""Environment overlays: reading, variables, merging, errors with places, undoing (pull)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from apimsync.environments import (
    OverlayError,
    UnknownEnvironment,
    apply_overlay,
    environment_names,
    load_overlay,
    merge_patch,
    unapply_overlay,
)
from apimsync.formats.scm.reader import read_tree
from tests.conftest import REPO, tree_bytes

STARTER = REPO / "examples" / "openai-usage"


@pytest.fixture
def starter(tmp_path: Path) -> Path:
    root = tmp_path / "starter"
    for top in ("api-management", "api-management-extras", "environments"):
        shutil.copytree(STARTER / top, root / top)
    return root


def write_overlay(root: Path, name: str, resources: dict[str, object]) -> Path:
    path = root / "environments" / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"resources": resources}, indent=2), encoding="utf-8")
    return path


def test_merge_patch_merges_objects_replaces_the_rest_and_null_removes() -> None:
    target = {"a": {"b": 1, "c": 2}, "list": [1, 2], "gone": True, "kept": "x"}
    patch = {"a": {"b": 9}, "list": [3], "gone": None, "new": {"n": 1}}

    assert merge_patch(target, patch) == {
        "a": {"b": 9, "c": 2},
        "list": [3],
        "kept": "x",
        "new": {"n": 1},
    }


def test_the_starter_defines_dev_and_prod() -> None:
    assert environment_names(STARTER) == ["dev", "prod"]


def test_an_overlay_changes_the_model_and_never_the_files(starter: Path) -> None:
    before = tree_bytes(starter)
    base = read_tree(starter).configuration
    overlay = load_overlay(starter, "dev", {})
    merged = apply_overlay(base, overlay)

    one = merged.get("/backends/openaione")
    pool = merged.get("/backends/openai-pool")
    fragment = merged.get("/policyFragments/openai-usage-limits")
    assert one is not None and pool is not None and fragment is not None
    assert one.properties["url"] == "https://openai-dev-one.openai.azure.com/openai"
    assert (
        one.properties["circuitBreaker"]
        == base.get("/backends/openaione").properties[  # type: ignore[union-attr]
            "circuitBreaker"
        ]
    )
    assert [s["id"] for s in pool.properties["pool"]["services"]] == [
        "/backends/openaione",
        "/backends/openaitwo",
    ]
    assert 'calls="20"' in fragment.properties["value"]
    assert tree_bytes(starter) == before


def test_variables_are_substituted_and_dollar_dollar_escapes(starter: Path) -> None:
    write_overlay(
        starter,
        "ci",
        {"/backends/openaione": {"url": "https://${env:REGION_HOST}/openai", "title": "$${env:X}"}},
    )

    overlay = load_overlay(starter, "ci", {"REGION_HOST": "one.example.test"})

    changes = overlay.patches[0].changes
    assert changes == {"url": "https://one.example.test/openai", "title": "${env:X}"}


def test_an_unset_variable_is_one_error_naming_it_at_its_line(starter: Path) -> None:
    write_overlay(
        starter,
        "ci",
        {
            "/backends/openaione": {"url": "https://${env:APIMSYNC_TEST_UNSET}/a"},
            "/backends/openaitwo": {"url": "https://${env:APIMSYNC_TEST_UNSET}/b"},
        },
    )

    with pytest.raises(OverlayError) as caught:
        load_overlay(starter, "ci", {"APIMSYNC_TEST_UNSET": ""})

    (finding,) = caught.value.findings
    assert finding.path == "environments/ci.json"
    assert (finding.line, finding.code) == (4, "env-variable")
    assert "APIMSYNC_TEST_UNSET" in finding.message


def test_an_unknown_environment_names_the_known_ones(starter: Path) -> None:
    with pytest.raises(UnknownEnvironment, match="the environments are dev, prod"):
        load_overlay(starter, "staging", {})


def test_schema_problems_and_bad_references_are_findings(starter: Path) -> None:
    write_overlay(starter, "bad", {"/backends/openaione": {"id": "/backends/other"}})
    with pytest.raises(OverlayError) as schema:
        load_overlay(starter, "bad", {})
    write_overlay(starter, "ref", {"/policyFragments/x": {"$ref-value": "api-management/x.xml"}})
    with pytest.raises(OverlayError) as reference:
        load_overlay(starter, "ref", {})

    assert schema.value.findings[0].path == "environments/bad.json"
    assert "below environments/" in reference.value.findings[0].message


def test_a_change_to_a_missing_resource_points_at_its_entry(starter: Path) -> None:
    write_overlay(starter, "ghost", {"/backends/ghost": {"url": "https://x.example.test"}})
    overlay = load_overlay(starter, "ghost", {})

    with pytest.raises(OverlayError) as caught:
        apply_overlay(read_tree(starter).configuration, overlay)

    (finding,) = caught.value.findings
    assert (finding.path, finding.line, finding.code) == (
        "environments/ghost.json",
        3,
        "env-unknown-resource",
    )


def test_unapplying_restores_base_values_and_notes_drift(starter: Path) -> None:
    base = read_tree(starter).configuration
    overlay = load_overlay(starter, "dev", {})
    live = apply_overlay(base, overlay)
    drifted = live.get("/backends/openaitwo")
    assert drifted is not None
    live = live.with_resources(drifted.with_properties(url="https://elsewhere.example.test"))

    restored, notes = unapply_overlay(live, base, overlay)

    assert restored == base
    assert len(notes) == 1 and "/backends/openaitwo/url" in notes[0]
