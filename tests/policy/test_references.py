"""Names a policy document refers to: backends, fragments, loggers and named values."""

from __future__ import annotations

import textwrap
from pathlib import Path

from apimsync.policy.parser import Position, parse_policy
from apimsync.policy.references import PolicyReference, policy_references


def refs(text: str) -> list[tuple[str, str]]:
    doc = parse_policy(textwrap.dedent(text).strip())
    return [(r.kind, r.name) for r in policy_references(doc)]


def at(text: str, needle: str) -> Position:
    source = textwrap.dedent(text).strip()
    offset = source.index(needle)
    line = source.count("\n", 0, offset) + 1
    return Position(line, offset - (source.rfind("\n", 0, offset) + 1) + 1)


ALL_KINDS = """
    <policies>
        <inbound>
            <set-backend-service backend-id="orders" />
            <include-fragment fragment-id="cors-defaults" />
            <set-header name="api-key" exists-action="override">
                <value>{{orders-key}}</value>
            </set-header>
        </inbound>
        <outbound>
            <log-to-eventhub logger-id="hub-logger">@("{{suffix}}")</log-to-eventhub>
        </outbound>
    </policies>
"""


def test_every_kind_with_its_position() -> None:
    doc = parse_policy(textwrap.dedent(ALL_KINDS).strip())
    assert policy_references(doc) == [
        PolicyReference("backend", "orders", at(ALL_KINDS, "backend-id")),
        PolicyReference("fragment", "cors-defaults", at(ALL_KINDS, "fragment-id")),
        PolicyReference("named-value", "orders-key", at(ALL_KINDS, "<value>")),
        PolicyReference("logger", "hub-logger", at(ALL_KINDS, "logger-id")),
        PolicyReference("named-value", "suffix", at(ALL_KINDS, "<log-to-eventhub")),
    ]


def test_expressions_are_not_backend_names() -> None:
    text = """
        <policies><inbound>
            <set-backend-service backend-id="@((string)context.Variables["backend"])" />
            <set-backend-service backend-id="{{backend-name}}" />
            <set-backend-service base-url="https://example.com" />
        </inbound></policies>
    """
    assert refs(text) == [("named-value", "backend-name")]


def test_dapr_backend_id_names_no_backend() -> None:
    text = """
        <policies><inbound>
            <set-backend-service backend-id="dapr" dapr-app-id="echo" dapr-method="back" />
        </inbound></policies>
    """
    assert refs(text) == []


def test_other_backend_references() -> None:
    text = """
        <policies><inbound>
            <llm-content-safety backend-id="safety" />
            <llm-semantic-cache-lookup score-threshold="0.8" embeddings-backend-id="embed" />
        </inbound></policies>
    """
    assert refs(text) == [("backend", "safety"), ("backend", "embed")]


def test_named_values_everywhere_but_only_well_formed_names() -> None:
    text = """
        <fragment>
            <set-variable name="{{a}}" value="@("{{b.c}}" + "{{not a name}}")" />
            <set-header name="x">
                <value>{{d_e-f}} and {{g}}</value>
            </set-header>
            <set-query-parameter name="y">
                <value>{{}} {{x{{h}}</value>
            </set-query-parameter>
        </fragment>
    """
    assert refs(text) == [
        ("named-value", "a"),
        ("named-value", "b.c"),
        ("named-value", "d_e-f"),
        ("named-value", "g"),
        ("named-value", "h"),
    ]


def test_named_value_length_limit() -> None:
    longest, too_long = "n" * 256, "n" * 257
    value = "{{" + longest + "}} {{" + too_long + "}}"
    text = f'<fragment><set-variable name="a" value="{value}" /></fragment>'
    assert refs(text) == [("named-value", longest)]


def test_liquid_templates_are_not_named_values() -> None:
    text = """
        <policies><outbound>
            <set-body template="liquid">
                <Brand>{{body.brand}}</Brand>
                {"id": "{{body.id}}"}
            </set-body>
            <set-body>{"key": "{{real-value}}"}</set-body>
        </outbound></policies>
    """
    assert refs(text) == [("named-value", "real-value")]


def test_text_between_elements() -> None:
    text = """
        <policies><inbound>
            <log-to-eventhub logger-id="{{logger}}">
                prefix <!-- comment {{not-text}} --> {{after-comment}}
            </log-to-eventhub>
        </inbound></policies>
    """
    assert refs(text) == [("named-value", "logger"), ("named-value", "after-comment")]


def test_corpus_references(corpus_dir: Path) -> None:
    path = corpus_dir / "quiz-v8" / "api-management" / "policies" / "apis" / "Quiz.API_Admin.xml"
    doc = parse_policy(path.read_text(encoding="utf-8"), path.as_posix())
    assert policy_references(doc) == [
        PolicyReference("named-value", "QuizApiBackend", Position(15, 24))
    ]
    retry = next(corpus_dir.glob("seed-openai-v17/**/operations/POST__retry_*.xml"))
    found = policy_references(parse_policy(retry.read_text(encoding="utf-8")))
    assert [(r.kind, r.name) for r in found] == [
        ("backend", "openaione"),
        ("backend", "WebApp_app-sweden-python"),
        ("backend", "openaithree"),
    ]


def test_every_corpus_document_can_be_searched(corpus_dir: Path) -> None:
    for path in corpus_dir.glob("*/api-management/policies/**/*.xml"):
        doc = parse_policy(path.read_text(encoding="utf-8"), path.as_posix())
        for reference in policy_references(doc):
            assert reference.kind in {"backend", "fragment", "logger", "named-value"}
            assert reference.position.line >= 1
            assert not reference.name.startswith("body.")  # liquid, not named values
