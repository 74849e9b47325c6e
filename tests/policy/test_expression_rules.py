"""The data file of what expressions may use: valid against its schema, complete, and
consistent with the checker that reads it."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest

from apimsync.policy.expression_rules import (
    DOCUMENTED,
    NOT_NAMED,
    RULES_FILE,
    TYPE_ARGUMENT,
    TypeStatus,
    generic_base,
    load_rules,
)
from apimsync.resources import schemas_dir

DATA = json.loads((schemas_dir() / RULES_FILE).read_text(encoding="utf-8"))
SCHEMA = json.loads(
    (schemas_dir() / "expressions" / "policy-expressions.schema.json").read_text(encoding="utf-8")
)


def test_the_data_file_is_valid_against_its_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    validator = jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker())
    assert [error.message for error in validator.iter_errors(DATA)] == []


def test_the_schema_rejects_a_member_list_of_the_wrong_shape() -> None:
    broken = json.loads(json.dumps(DATA))
    broken["allowed_types"]["System.DateTime"] = {"members": "UtcNow"}
    assert not jsonschema.Draft202012Validator(SCHEMA).is_valid(broken)


def test_the_documented_table_is_complete_with_its_restricted_rows() -> None:
    allowed = DATA["allowed_types"]
    assert len(allowed) == 130
    restricted = {name for name, entry in allowed.items() if entry != "all"}
    assert restricted == {
        "Newtonsoft.Json.JsonConvert",
        "System.DateTime",
        "System.DateTimeKind",
        "System.Enum",
        "System.Net.IPAddress",
        "System.Security.Cryptography.SymmetricAlgorithm",
        "System.Security.Cryptography.X509Certificates.X500DistinguishedName",
        "System.Text.RegularExpressions.Capture",
        "System.Text.RegularExpressions.CaptureCollection",
        "System.Text.RegularExpressions.Group",
        "System.Text.RegularExpressions.GroupCollection",
        "System.Text.RegularExpressions.Match",
        "System.Text.RegularExpressions.Regex",
        "System.Xml.Linq.XDocument",
    }


def test_every_source_named_is_described_with_where_and_when() -> None:
    sources = DATA["sources"]
    assert DOCUMENTED in sources
    named = [entry["source"] for entry in DATA["undocumented_types"].values()]
    for model in DATA["context"]["types"].values():
        if model["named"] != NOT_NAMED:
            named.append(model["named"])
        for spec in model["members"].values():
            if isinstance(spec, dict):
                named.extend([spec["source"]] if "source" in spec else [])
                named.extend(use["source"] for use in spec.get("undocumented", ()))
    assert set(named) <= set(sources)
    assert all(source.get("url") or source.get("what") for source in sources.values())


def referenced_types(spec: Any) -> list[str | None]:
    if spec is None or isinstance(spec, str):
        return [spec]
    found = [spec.get("type", spec.get("method"))]
    return found + list(spec.get("type_arguments", ()))


def test_only_microsoft_documentation_is_an_official_source() -> None:
    assert load_rules().official_sources == {"documentation", "authorization"}
    assert "learn.microsoft.com" in DATA["sources"]["authorization"]["url"]


def test_every_type_the_model_names_is_known() -> None:
    rules = load_rules()
    models = DATA["context"]["types"]
    for model in models.values():
        for spec in model["members"].values():
            for name in referenced_types(spec):
                if name is None or name == TYPE_ARGUMENT or name in models:
                    continue
                status = rules.type_status(name.removesuffix("[]"))
                assert status in (TypeStatus.ALLOWED, TypeStatus.IMPLIED), name


def test_every_model_type_is_reachable_from_context_or_by_name() -> None:
    models = DATA["context"]["types"]
    reached, pending = set(), ["context"]
    while pending:
        key = pending.pop()
        if key in reached:
            continue
        reached.add(key)
        for spec in models[key]["members"].values():
            pending.extend(n for n in referenced_types(spec) if n in models)
    named = {key for key, model in models.items() if model["named"] != NOT_NAMED}
    assert set(models) == reached | named | {"System.String"}


def test_restricted_types_refer_only_to_types_of_the_table() -> None:
    allowed = {generic_base(name) for name in DATA["allowed_types"]}
    for entry in DATA["allowed_types"].values():
        if entry == "all":
            continue
        targets = [*entry.get("results", {}).values(), entry.get("base"), entry.get("indexer")]
        assert {t for t in targets if t is not None} <= allowed
        assert set(entry.get("results", {})) <= set(entry.get("members", entry.get("except", [])))


def test_keywords_name_allowed_or_implied_types() -> None:
    rules = load_rules()
    for keyword, name in DATA["keywords"].items():
        assert rules.type_status(name) in (TypeStatus.ALLOWED, TypeStatus.IMPLIED), keyword


def test_the_type_lists_do_not_overlap() -> None:
    allowed = {generic_base(name) for name in DATA["allowed_types"]}
    undocumented = set(DATA["undocumented_types"])
    disallowed = set(DATA["disallowed_types"]["types"])
    implied = set(DATA["implied_types"])
    assert not allowed & undocumented
    assert not allowed & disallowed
    assert not undocumented & disallowed
    assert not implied & (allowed | undocumented | disallowed)


def test_the_loader_reads_every_section() -> None:
    rules = load_rules()
    assert set(rules.allowed) == {generic_base(name) for name in DATA["allowed_types"]}
    assert set(rules.undocumented) == set(DATA["undocumented_types"])
    assert rules.disallowed == frozenset(DATA["disallowed_types"]["types"])
    assert set(rules.model) == set(DATA["context"]["types"])
    assert rules.allowed["System.DateTime"].results["UtcNow"] == "System.DateTime"
    assert rules.allowed["System.Xml.Linq.XDocument"].excluded == {"Load"}
    headers = rules.model["headers"].members["GetValueOrDefault"]
    assert headers.arguments == {2}
    assert [use.counts for use in headers.undocumented_arguments] == [{1}]


@pytest.mark.parametrize(
    ("simple", "full"),
    [
        ("Regex", "System.Text.RegularExpressions.Regex"),
        ("Dictionary", "System.Collections.Generic.Dictionary"),
        ("File", "System.IO.File"),
        ("XmlDocument", "System.Xml.XmlDocument"),
    ],
)
def test_simple_names_resolve_to_their_full_names(simple: str, full: str) -> None:
    assert load_rules().simple_names[simple] == full


def test_nested_types_are_not_simple_names_and_their_parents_are_not_namespaces() -> None:
    rules = load_rules()
    assert "AdjustmentRule" not in rules.simple_names
    assert "System.TimeZoneInfo" not in rules.namespaces
    assert {"System", "System.IO", "Newtonsoft.Json.Linq"} <= rules.namespaces
