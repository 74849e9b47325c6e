"""The emulator's route table and kinds agree with the spec they claim to implement."""

from __future__ import annotations

import pytest

from apimsync.emulator import catalogviews, odata
from apimsync.emulator.catalog import CATALOG_KINDS
from apimsync.emulator.kinds import KINDS
from apimsync.emulator.routes import ROUTES

from .swagger import Spec

NOT_IN_SPEC = {"ApiManagementService_Get", "OperationResult_Get"}  # apimdeployment.json is absent


def _same_template(route_template: str, spec_path: str) -> bool:
    ours = [s for s in route_template.split("/") if s]
    theirs = [s for s in spec_path.split("/") if s]
    if len(ours) != len(theirs):
        return False
    for a, b in zip(ours, theirs, strict=True):
        if b.startswith("{") and a != b:
            return False
        if not b.startswith("{") and not (a == b or a.startswith("{")):
            return False
    return True


_LOCAL_OPERATIONS = Spec().by_id
BEYOND_THE_LOCAL_COPY = {
    operation_id
    for kind in CATALOG_KINDS
    for operation_id in kind.ops.values()
    if operation_id not in _LOCAL_OPERATIONS
} | {operation_id for _m, _t, operation_id, _h in catalogviews.SPECIAL}
"""Operations of the spec files the local copy lacks (:mod:`apimsync.emulator.catalog`)."""


def test_every_route_is_a_spec_operation_at_its_path(spec: Spec) -> None:
    for route in ROUTES:
        if route.operation_id in NOT_IN_SPEC or route.operation_id in BEYOND_THE_LOCAL_COPY:
            continue
        op = spec.by_id.get(route.operation_id)
        assert op is not None, route.operation_id
        assert op.method == route.method, route.operation_id
        assert _same_template(route.template, op.path), (route.template, op.path)


def _table(description: str) -> dict[str, tuple[set[str], set[str]]]:
    rows = {}
    for line in description.split("</br>"):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and "filter" in cells[1]:
            ops = {o.strip() for o in cells[2].split(",") if o.strip()}
            funcs = {f.strip() for f in cells[3].split(",") if f.strip()}
            rows[cells[0]] = (ops, funcs)
    return rows


def _filter_description(spec: Spec, operation_id: str) -> str:
    for parameter in spec.by_id[operation_id].spec.get("parameters") or []:
        if parameter.get("name") == "$filter":
            return str(parameter.get("description", ""))
    return ""


@pytest.mark.parametrize(
    "kind", [k for k in KINDS.values() if "list" in k.ops], ids=lambda k: k.name
)
def test_filter_fields_match_the_spec(spec: Spec, kind: object) -> None:
    table = _table(_filter_description(spec, kind.ops["list"]))  # type: ignore[attr-defined]
    rules = kind.filter_rules  # type: ignore[attr-defined]
    assert set(rules) == set(table)
    for name, (ops, funcs) in table.items():
        assert rules[name].operators == ops, name
        assert rules[name].functions == (funcs - {"any", "all"}), name


SWITCHED = {"Api_CreateOrUpdate", "Api_Delete", "NamedValue_CreateOrUpdate", "NamedValue_Update"}
"""Writes whose answers follow the recordings (``apimsync.emulator.lro``), not the spec's
long-running flag: a plain API PUT is synchronous (catalogue §1.3)."""


@pytest.mark.parametrize("kind", list(KINDS.values()), ids=lambda k: k.name)
def test_long_running_writes_match_the_spec(spec: Spec, kind: object) -> None:
    for verb, operation_id in kind.ops.items():  # type: ignore[attr-defined]
        if verb in ("put", "patch", "delete") and operation_id not in SWITCHED:
            declared = bool(spec.by_id[operation_id].spec.get("x-ms-long-running-operation"))
            assert declared == (verb in kind.lro), operation_id  # type: ignore[attr-defined]


def _if_match(spec: Spec, operation_id: str) -> str:
    for parameter in spec.by_id[operation_id].spec.get("parameters") or []:
        ref = str(parameter.get("$ref", ""))
        if "IfMatch" in ref:
            return "required" if "Required" in ref else "optional"
    return "none"


@pytest.mark.parametrize("kind", list(KINDS.values()), ids=lambda k: k.name)
def test_if_match_rules_match_the_spec(spec: Spec, kind: object) -> None:
    ops = kind.ops  # type: ignore[attr-defined]
    if not kind.etags:  # type: ignore[attr-defined]
        assert {_if_match(spec, ops[v]) for v in ("put", "delete") if v in ops} == {"none"}
        return
    for verb in ("patch", "delete"):
        if verb in ops:
            assert _if_match(spec, ops[verb]) == "required", ops[verb]
    if "put" in ops:
        expected = "required" if kind.put_needs_if_match else "optional"  # type: ignore[attr-defined]
        assert _if_match(spec, ops["put"]) == expected


def _required(spec: Spec, schema_name: str) -> set[str]:
    definitions = spec.documents[spec.root / "definitions.json"]["definitions"]
    schema = definitions[schema_name]
    required = set(schema.get("required") or [])
    for part in schema.get("allOf") or []:
        ref = part.get("$ref", "")
        if ref.startswith("#/definitions/"):
            required |= _required(spec, ref.split("/")[-1])
    return required


@pytest.mark.parametrize(
    "kind", [k for k in KINDS.values() if "get" in k.ops], ids=lambda k: k.name
)
def test_required_properties_are_the_contracts(spec: Spec, kind: object) -> None:
    """What a kind requires on create is what its contract requires of a stored resource."""
    op = spec.by_id[kind.ops["get"]]  # type: ignore[attr-defined]
    contract = op.spec["responses"]["200"]["schema"]["$ref"].split("/")[-1]
    definitions = spec.documents[spec.root / "definitions.json"]["definitions"]
    props_ref = definitions[contract].get("properties", {}).get("properties", {}).get("$ref", "")
    required = _required(spec, props_ref.split("/")[-1]) if props_ref else set()
    ours = set(kind.required)  # type: ignore[attr-defined]
    handled_elsewhere = {"api": {"path"}, "subscription": {"state"}}  # checked in code / defaulted
    assert ours | handled_elsewhere.get(kind.name, set()) >= required  # type: ignore[attr-defined]


def test_filter_rules_parse() -> None:
    rules = odata.rules("name a:eq b:eqne c:cmp d:eqcontains")
    assert rules["d"].functions == {"contains"} and rules["c"].functions == frozenset()
    assert rules["name"].operators == odata.COMPARISONS
