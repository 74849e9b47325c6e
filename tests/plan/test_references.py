"""Offline-unresolved references checked against the live instance and the plan."""

from __future__ import annotations

import pytest

from apimsync.model import Configuration, make_resource
from apimsync.plan.changes import Plan
from apimsync.plan.diff import compute_plan
from apimsync.plan.references import MissingOnInstance, check_references_on_instance
from apimsync.validate.findings import Finding, Findings

LIVE = Configuration(
    [
        make_resource("/namedValues/key-1", {"displayName": "Api-Key", "value": "x"}),
        make_resource("/backends/Pool", {"url": "https://b.example", "protocol": "http"}),
        make_resource("/policyFragments/common", {"value": "<fragment />"}),
        make_resource("/loggers/insights", {"loggerType": "applicationInsights"}),
    ]
)


def _warning(code: str, name: str) -> Finding:
    findings = Findings()
    findings.warning("api-management/policies/global.xml", 3, 7, code, "offline text", name)
    return next(iter(findings))


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("unknown-named-value", "api-key"),
        ("unknown-backend", "pool"),
        ("unknown-fragment", "Common"),
        ("unknown-logger", "insights"),
    ],
)
def test_a_reference_the_instance_resolves_passes(code: str, name: str) -> None:
    check_references_on_instance([_warning(code, name)], LIVE, Plan())


@pytest.mark.parametrize(
    ("code", "name", "home"),
    [
        ("unknown-named-value", "key-1", "api-management-extras/namedValues/"),
        ("unknown-backend", "other", "api-management/backends/"),
        ("unknown-fragment", "missing", "api-management-extras/policyFragments/"),
        ("unknown-logger", "missing", "api-management-extras/loggers/"),
    ],
)
def test_a_reference_resolved_nowhere_is_an_error_where_it_is(
    code: str, name: str, home: str
) -> None:
    with pytest.raises(MissingOnInstance) as raised:
        check_references_on_instance([_warning(code, name)], LIVE, Plan())

    (finding,) = raised.value.findings
    assert (finding.path, finding.line, finding.column, finding.code) == (
        "api-management/policies/global.xml",
        3,
        7,
        code,
    )
    assert finding.is_error
    assert f"'{name}'" in finding.message and home in finding.message
    assert finding.render() in raised.value.message


def test_a_reference_to_what_the_plan_deletes_is_an_error() -> None:
    plan = compute_plan(Configuration(), LIVE, prune=True)

    with pytest.raises(MissingOnInstance) as raised:
        check_references_on_instance([_warning("unknown-named-value", "Api-Key")], LIVE, plan)

    assert "(the plan deletes it)" in raised.value.message


def test_errors_and_other_findings_are_left_to_validate() -> None:
    findings = Findings()
    findings.error("a.xml", 1, 1, "unknown-backend", "an offline error", "nowhere")
    findings.warning("a.xml", 1, 1, "secret-literal", "a secret")

    check_references_on_instance(findings, Configuration(), Plan())
