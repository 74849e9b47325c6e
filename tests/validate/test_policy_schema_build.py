"""The compiled policy rule tables: shipped in step with the XSD, and as strict as it."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apimsync.validate.policy_schema import (
    SCHEMA_PATH,
    TABLES_PATH,
    ValueType,
    load_schema,
    schema_digest,
)
from apimsync.validate.policy_schema_build import (
    build_schema,
    compile_xsd,
    value_type_of,
    write_tables,
)
from apimsync.validate.policy_tables import dump_tables, load_tables, read_tables

REGENERATE = "python -m apimsync.validate.policy_schema_build"


def test_the_shipped_tables_are_built_from_the_shipped_xsd() -> None:
    shipped = json.loads(TABLES_PATH.read_text(encoding="utf-8"))
    fresh = dump_tables(build_schema(), schema_digest())

    assert shipped == fresh, f"schemas/compiled/policy-rules.json is stale: run {REGENERATE}"


def test_loading_the_schema_does_not_compile_the_xsd() -> None:
    code = (
        "import sys\n"
        "from apimsync.validate.policy_schema import load_schema\n"
        "schema = load_schema()\n"
        "print(len(schema.policy_names), 'xmlschema' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    assert out.stdout.split() == [str(len(build_schema().policy_names)), "False"]


def test_tables_of_another_xsd_are_not_used(tmp_path: Path) -> None:
    edited = tmp_path / "policy.xsd"
    edited.write_bytes(SCHEMA_PATH.read_bytes() + b"\n<!-- edited -->\n")

    assert read_tables(TABLES_PATH, schema_digest(edited)) is None
    assert read_tables(TABLES_PATH, schema_digest()) is not None


def test_an_edited_xsd_is_compiled_instead_of_read(tmp_path: Path) -> None:
    edited = tmp_path / "policy.xsd"
    text = SCHEMA_PATH.read_text(encoding="utf-8")
    edited.write_text(text.replace('name="rate-limit"', 'name="rate-limit-edited"', 1), "utf-8")

    assert "rate-limit-edited" in load_schema(edited).elements
    assert "rate-limit-edited" not in load_schema().elements


@pytest.mark.parametrize("damage", ["", "{", "[]", '{"format": 999}'])
def test_unreadable_tables_fall_back_to_the_xsd(tmp_path: Path, damage: str) -> None:
    tables = tmp_path / "policy-rules.json"
    tables.write_text(damage, encoding="utf-8")

    assert read_tables(tables, schema_digest()) is None
    assert read_tables(tmp_path / "missing.json", schema_digest()) is None


def test_written_tables_load_back_to_the_same_rules(tmp_path: Path) -> None:
    tables = tmp_path / "policy-rules.json"
    write_tables(tables)
    loaded = read_tables(tables, schema_digest())

    assert loaded is not None
    assert dump_tables(loaded, "x") == dump_tables(build_schema(), "x")
    assert load_tables(dump_tables(loaded, "x")).policy_names == loaded.policy_names


# ------------------------------------------------------------- value types vs xmlschema


def _value_types() -> dict[str, tuple[ValueType, Any]]:
    xsd = compile_xsd()
    found: dict[str, tuple[ValueType, Any]] = {}
    for name, xsd_type in xsd.types.items():
        if xsd_type.is_simple() and not xsd_type.is_list():
            found[name] = (value_type_of(xsd_type), xsd_type)
    return found


VALUE_TYPES = _value_types()


def _samples(xsd_type: Any) -> list[str]:
    """Values near every edge a simple type has: its enumeration in other cases and with
    spaces, numbers around its bounds, and forms no number takes."""
    samples = ["", " ", "x", "true", " TRUE ", "False", "1", "0", "-1", "+3", "007", "1.5"]
    samples += ["1e3", "INF", "-INF", "NaN", ".5", "5.", "1 000", "\t2\n", "@(x)", "{{nv}}"]
    for member in getattr(xsd_type, "member_types", None) or [xsd_type]:
        for value in member.enumeration or []:
            samples += [value, value.upper(), f" {value}", f"{value} ", value[:-1]]
        for bound in (getattr(member, "min_value", None), getattr(member, "max_value", None)):
            if bound is not None:
                number = Decimal(str(bound))
                samples += [str(number + d) for d in (Decimal(-1), Decimal("-0.5"), 0, 1)]
    return samples


@pytest.mark.parametrize("name", sorted(VALUE_TYPES))
def test_value_types_agree_with_xmlschema_on_edge_values(name: str) -> None:
    value_type, xsd_type = VALUE_TYPES[name]
    for value in _samples(xsd_type):
        assert value_type.accepts(value) == bool(xsd_type.is_valid(value)), (name, value)


VALUE_CHARACTERS = st.sampled_from(list("0123456789+-.eE tTrRuUfFaAlLsSINF@{}x\n"))


@settings(max_examples=300, deadline=None)
@given(name=st.sampled_from(sorted(VALUE_TYPES)), value=st.text(VALUE_CHARACTERS, max_size=8))
def test_value_types_agree_with_xmlschema_on_any_value(name: str, value: str) -> None:
    value_type, xsd_type = VALUE_TYPES[name]

    assert value_type.accepts(value) == bool(xsd_type.is_valid(value))
