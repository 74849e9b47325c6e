"""The policy schema and rules: real exports pass, each kind of mistake is found where it is."""

from __future__ import annotations

import textwrap
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apimsync.policy.parser import parse_policy
from apimsync.validate.findings import Finding, Findings
from apimsync.validate.policy_rules import USAGE, PolicyScope, check_policy
from apimsync.validate.policy_schema import load_schema, schema_problems
from apimsync.validate.policy_schema_build import compile_xsd

SCHEMA_CODES = {
    "unknown-policy",
    "unknown-attribute",
    "missing-attribute",
    "invalid-attribute-value",
    "schema",
}

# Every policy of the Microsoft Learn policy reference index.
REFERENCE_INDEX = (
    "authentication-basic",
    "authentication-certificate",
    "authentication-managed-identity",
    "azure-openai-emit-token-metric",
    "azure-openai-semantic-cache-lookup",
    "azure-openai-semantic-cache-store",
    "azure-openai-token-limit",
    "cache-lookup",
    "cache-lookup-value",
    "cache-remove-value",
    "cache-store",
    "cache-store-value",
    "check-header",
    "choose",
    "cors",
    "cosmosdb-data-source",
    "cross-domain",
    "emit-metric",
    "find-and-replace",
    "forward-request",
    "get-authorization-context",
    "http-data-source",
    "include-fragment",
    "invoke-dapr-binding",
    "ip-filter",
    "json-to-xml",
    "jsonp",
    "limit-concurrency",
    "llm-content-safety",
    "llm-emit-token-metric",
    "llm-semantic-cache-lookup",
    "llm-semantic-cache-store",
    "llm-token-limit",
    "log-to-eventhub",
    "mock-response",
    "proxy",
    "publish-event",
    "publish-to-dapr",
    "quota",
    "quota-by-key",
    "rate-limit",
    "rate-limit-by-key",
    "redirect-content-urls",
    "retry",
    "return-response",
    "rewrite-uri",
    "send-one-way-request",
    "send-request",
    "send-service-bus-message",
    "set-backend-service",
    "set-body",
    "set-header",
    "set-method",
    "set-query-parameter",
    "set-status",
    "set-variable",
    "sql-data-source",
    "trace",
    "validate-azure-ad-token",
    "validate-client-certificate",
    "validate-content",
    "validate-graphql-request",
    "validate-headers",
    "validate-jwt",
    "validate-odata-request",
    "validate-parameters",
    "validate-status-code",
    "wait",
    "xml-to-json",
    "xsl-transform",
)


def scope_for(path: Path) -> PolicyScope:
    """The scope of a policy file in an export, from where it lies under policies/."""
    parts = path.parts[path.parts.index("policies") + 1 :]
    if parts == ("global.xml",):
        return PolicyScope.GLOBAL
    if parts[0] == "products":
        return PolicyScope.PRODUCT
    if len(parts) >= 3 and parts[-2] == "operations":
        return PolicyScope.OPERATION
    return PolicyScope.API


def check(text: str, scope: PolicyScope = PolicyScope.API) -> list[Finding]:
    findings = Findings()
    check_policy(parse_policy(textwrap.dedent(text).strip(), "policy.xml"), scope, findings)
    return findings.sorted()


def at(text: str, needle: str) -> tuple[int, int]:
    """1-based line and column of the first occurrence of needle in the dedented text."""
    source = textwrap.dedent(text).strip()
    offset = source.index(needle)
    line = source.count("\n", 0, offset) + 1
    return line, offset - (source.rfind("\n", 0, offset) + 1) + 1


def only(findings: list[Finding], code: str) -> Finding:
    matching = [f for f in findings if f.code == code]
    assert len(matching) == 1, [f.render() for f in findings]
    assert len(findings) == 1, [f.render() for f in findings]
    return matching[0]


def located(finding: Finding) -> tuple[int, int]:
    return finding.line, finding.column


# ------------------------------------------------------------------------------- corpus


def test_every_corpus_policy_file_is_valid(export: Path) -> None:
    files = sorted((export / "api-management" / "policies").rglob("*.xml"))
    assert files
    errors: list[str] = []
    for path in files:
        findings = Findings()
        doc = parse_policy(path.read_text(encoding="utf-8"), path.as_posix())
        check_policy(doc, scope_for(path), findings)
        errors += [f.render() for f in findings if f.is_error]
    assert errors == []


def test_corpus_scopes_are_derived_from_paths(corpus_dir: Path) -> None:
    scopes = {scope_for(p) for p in corpus_dir.glob("*/api-management/policies/**/*.xml")}
    assert scopes == {
        PolicyScope.GLOBAL,
        PolicyScope.PRODUCT,
        PolicyScope.API,
        PolicyScope.OPERATION,
    }


def test_corpus_agrees_with_full_xmlschema_validation(corpus_dir: Path) -> None:
    xsd = compile_xsd()
    for path in corpus_dir.glob("*/api-management/policies/**/*.xml"):
        doc = parse_policy(path.read_text(encoding="utf-8"), path.as_posix())
        assert xsd.is_valid(doc.root), path
        assert list(schema_problems(doc.root)) == []


# ------------------------------------------------------------------------------- schema


def test_schema_covers_every_policy_of_the_reference_index() -> None:
    names = load_schema().policy_names
    assert set(REFERENCE_INDEX) <= names
    assert names - {"base"} == set(USAGE)


def test_every_policy_accepts_an_id_attribute() -> None:
    roots = load_schema().elements
    for name in load_schema().policy_names - {"base"}:
        assert "id" in roots[name].attributes, name


UNKNOWN_POLICY = """
    <policies>
        <inbound>
            <base />
            <rate-limit-by-kye calls="5" renewal-period="60" counter-key="x" />
        </inbound>
    </policies>
"""


def test_unknown_policy_suggests_the_closest_name() -> None:
    finding = only(check(UNKNOWN_POLICY), "unknown-policy")
    assert located(finding) == at(UNKNOWN_POLICY, "<rate-limit-by-kye")
    assert "did you mean 'rate-limit-by-key'?" in finding.message


MISSPELLED_ATTRIBUTE = """
    <policies>
        <outbound>
            <set-header name="X-Trace" exist-action="override">
                <value>on</value>
            </set-header>
        </outbound>
    </policies>
"""


def test_misspelled_attribute_is_found_at_the_attribute() -> None:
    finding = only(check(MISSPELLED_ATTRIBUTE), "unknown-attribute")
    assert located(finding) == at(MISSPELLED_ATTRIBUTE, "exist-action")
    assert "did you mean 'exists-action'?" in finding.message


MISSING_ATTRIBUTE = """
    <policies>
        <inbound>
            <set-variable name="user" />
        </inbound>
    </policies>
"""


def test_missing_required_attribute() -> None:
    finding = only(check(MISSING_ATTRIBUTE), "missing-attribute")
    assert located(finding) == at(MISSING_ATTRIBUTE, "<set-variable")
    assert "'value'" in finding.message


WRONG_ENUM = """
    <policies>
        <inbound>
            <set-header name="X-A" exists-action="replace" />
        </inbound>
    </policies>
"""


def test_wrong_enumeration_value() -> None:
    finding = only(check(WRONG_ENUM), "invalid-attribute-value")
    assert located(finding) == at(WRONG_ENUM, "exists-action")
    assert "override, skip, append, delete" in finding.message


def test_expressions_and_named_values_are_not_type_checked() -> None:
    text = """
        <policies>
            <inbound>
                <set-header name="X-A" exists-action="@((string)context.Variables["a"])" />
                <retry condition="{{retry-on}}" count="{{retries}}" interval="@(1 + 1)">
                    <set-variable name="a" value="1" />
                </retry>
                <cache-lookup vary-by-developer=" @(true)" vary-by-developer-groups="False" />
            </inbound>
        </policies>
    """
    assert check(text) == []


def test_numbers_and_ranges_are_checked() -> None:
    text = """
        <policies>
            <inbound>
                <retry condition="true" count="51" interval="ten">
                    <set-variable name="a" value="1" />
                </retry>
            </inbound>
        </policies>
    """
    findings = check(text)
    assert [(f.code, located(f)) for f in findings] == [
        ("invalid-attribute-value", at(text, 'count="51"')),
        ("invalid-attribute-value", at(text, 'interval="ten"')),
    ]
    assert "from 1 to 50" in findings[0].message


@pytest.mark.parametrize(
    ("body", "needle", "words"),
    [
        ("<choose />", "<choose", "at least 1 <when>"),
        ("<set-header name='a'><valu>1</valu></set-header>", "<valu>", "did you mean 'value'?"),
        ("<set-variable name='a' value='b'>text</set-variable>", "<set-variable", "text"),
        ("<ip-filter action='allow' />", "<ip-filter", "<address> or <address-range>"),
        (
            "<cors><allowed-origins><origin>*</origin></allowed-origins>"
            "<allowed-origins><origin>a</origin></allowed-origins></cors>",
            "<allowed-origins><origin>a",
            "at most 1",
        ),
    ],
)
def test_other_schema_violations(body: str, needle: str, words: str) -> None:
    text = f"<policies>\n<inbound>\n{body}\n</inbound>\n</policies>"
    finding = only(check(text), "schema")
    assert located(finding) == at(text, needle)
    assert words in finding.message


def test_schema_findings_agree_with_full_xmlschema_validation() -> None:
    xsd = compile_xsd()
    samples = [UNKNOWN_POLICY, MISSPELLED_ATTRIBUTE, MISSING_ATTRIBUTE, WRONG_ENUM]
    samples += [f"<policies><inbound>{b}</inbound></policies>" for b in ("<choose/>", "x")]
    for text in samples:
        doc = parse_policy(textwrap.dedent(text).strip())
        assert not xsd.is_valid(doc.root)
        assert list(schema_problems(doc.root))


# ------------------------------------------------------------------------------- sections


@pytest.mark.parametrize("policy", ["forward-request", "cache-store duration='60'"])
def test_policy_in_a_section_that_does_not_run_it(policy: str) -> None:
    text = f"""
        <policies>
            <inbound>
                <base />
                <{policy} />
            </inbound>
        </policies>
    """
    name = policy.split()[0]
    finding = only(check(text), "policy-section")
    assert located(finding) == at(text, f"<{name}")
    assert f"<{name}> is not allowed in the inbound section" in finding.message


NESTED_IN_RETRY = """
    <policies>
        <inbound>
            <retry condition="@(context.Response.StatusCode >= 500)" count="3" interval="1">
                <set-variable name="a" value="1" />
                <choose>
                    <when condition="true">
                        <forward-request timeout="10" />
                    </when>
                </choose>
            </retry>
        </inbound>
    </policies>
"""


def test_policy_nested_in_retry_keeps_its_section_rules() -> None:
    finding = only(check(NESTED_IN_RETRY), "policy-section")
    assert located(finding) == at(NESTED_IN_RETRY, "<forward-request")


def test_wait_holds_only_its_own_children() -> None:
    text = """
        <policies>
            <inbound>
                <wait for="all">
                    <send-request mode="new" response-variable-name="r">
                        <set-url>https://example.com</set-url>
                        <set-method>GET</set-method>
                    </send-request>
                    <set-header name="a" />
                </wait>
            </inbound>
        </policies>
    """
    finding = only(check(text), "policy-section")
    assert located(finding) == at(text, "<set-header")
    assert "<wait>" in finding.message


def test_children_of_send_request_are_not_placed_policies() -> None:
    text = """
        <policies>
            <outbound>
                <send-request mode="new" response-variable-name="r">
                    <set-url>https://example.com</set-url>
                    <set-method>POST</set-method>
                    <authentication-managed-identity resource="https://example.com" />
                </send-request>
            </outbound>
        </policies>
    """
    assert check(text) == []


def test_policy_directly_in_policies() -> None:
    text = "<policies>\n  <set-header name='a' />\n</policies>"
    finding = only(check(text), "policy-section")
    assert located(finding) == at(text, "<set-header")


# ------------------------------------------------------------------------------- scopes


RATE_LIMIT = """
    <policies>
        <inbound>
            <rate-limit calls="5" renewal-period="60" />
        </inbound>
    </policies>
"""


def test_rate_limit_is_not_allowed_at_global_scope() -> None:
    finding = only(check(RATE_LIMIT, PolicyScope.GLOBAL), "policy-scope")
    assert located(finding) == at(RATE_LIMIT, "<rate-limit")
    assert "product, API or operation" in finding.message
    assert check(RATE_LIMIT, PolicyScope.OPERATION) == []


def test_quota_only_at_product_scope() -> None:
    text = RATE_LIMIT.replace("rate-limit", "quota")
    assert only(check(text, PolicyScope.API), "policy-scope").message.endswith("product scope")
    assert check(text, PolicyScope.PRODUCT) == []


def test_resolver_policies_are_not_scope_policies() -> None:
    text = """
        <policies>
            <backend>
                <http-data-source>
                    <http-request>
                        <set-method>GET</set-method>
                        <set-url>https://example.com</set-url>
                    </http-request>
                </http-data-source>
            </backend>
        </policies>
    """
    assert "GraphQL resolver" in only(check(text), "policy-scope").message


# ------------------------------------------------------------------------------- repeats


TWO_RATE_LIMITS = """
    <policies>
        <inbound>
            <rate-limit calls="5" renewal-period="60" />
            <retry condition="true" count="2" interval="1">
                <rate-limit calls="9" renewal-period="60" />
            </retry>
        </inbound>
    </policies>
"""


def test_two_rate_limits_in_one_document() -> None:
    finding = only(check(TWO_RATE_LIMITS, PolicyScope.PRODUCT), "policy-repeated")
    assert located(finding) == at(TWO_RATE_LIMITS, '<rate-limit calls="9"')


def test_cors_twice_in_a_section_but_not_in_alternative_branches() -> None:
    cors = "<cors><allowed-origins><origin>*</origin></allowed-origins></cors>"
    twice = f"<policies>\n<inbound>\n{cors}\n{cors}\n</inbound>\n</policies>"
    finding = only(check(twice), "policy-repeated")
    assert finding.line == 4
    branches = (
        f"<policies><inbound><choose><when condition='true'>{cors}</when>"
        f"<otherwise>{cors}</otherwise></choose></inbound></policies>"
    )
    assert check(branches) == []


# ------------------------------------------------------------------------------- attributes


VALIDATE_JWT = """
    <policies>
        <inbound>
            <validate-jwt header-name="Authorization" token-value="@(context.Variables["t"])" />
        </inbound>
    </policies>
"""


def test_validate_jwt_with_two_token_sources() -> None:
    finding = only(check(VALIDATE_JWT), "attribute-choice")
    assert located(finding) == at(VALIDATE_JWT, "<validate-jwt")
    assert "exactly one of header-name, query-parameter-name, token-value" in finding.message


@pytest.mark.parametrize(
    "policy",
    [
        "<set-backend-service />",
        "<set-backend-service base-url='https://a' backend-id='b' />",
        "<quota-by-key counter-key='k' renewal-period='60' />",
        "<llm-token-limit counter-key='k' estimate-prompt-tokens='false' token-quota='5' />",
        "<azure-openai-token-limit counter-key='k' estimate-prompt-tokens='true' />",
        "<authentication-certificate thumbprint='a' certificate-id='b' />",
    ],
)
def test_attribute_choices(policy: str) -> None:
    text = f"<policies>\n<inbound>\n{policy}\n</inbound>\n</policies>"
    assert located(only(check(text), "attribute-choice")) == (3, 1)


def test_quota_api_needs_name_or_id() -> None:
    text = (
        "<policies><inbound><quota calls='5' renewal-period='0'>"
        "<api calls='1' renewal-period='0' /></quota></inbound></policies>"
    )
    finding = only(check(text, PolicyScope.PRODUCT), "attribute-choice")
    assert "name, id" in finding.message


# ------------------------------------------------------------------------------- base


def test_base_inside_a_policy_and_twice_in_a_section() -> None:
    text = """
        <policies>
            <inbound>
                <base />
                <base />
                <choose>
                    <when condition="true">
                        <base />
                    </when>
                </choose>
            </inbound>
        </policies>
    """
    findings = check(text)
    assert [f.code for f in findings] == ["base-misuse", "base-misuse"]
    assert located(findings[0]) == (4, 9)
    assert located(findings[1]) == (7, 17)


BASE_IN_FRAGMENT = """
    <fragment>
        <set-header name="a" />
        <base />
    </fragment>
"""


def test_base_in_a_fragment() -> None:
    finding = only(check(BASE_IN_FRAGMENT, PolicyScope.FRAGMENT), "base-misuse")
    assert located(finding) == at(BASE_IN_FRAGMENT, "<base")


# ------------------------------------------------------------------------------- fragments


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ("<include-fragment fragment-id='other' />", "<include-fragment"),
        ("<cache-lookup vary-by-developer='false' vary-by-developer-groups='false' />", "<cache"),
        ("<inbound><set-header name='a' /></inbound>", "<inbound"),
    ],
)
def test_fragment_rules(body: str, needle: str) -> None:
    text = f"<fragment>\n  {body}\n</fragment>"
    assert located(only(check(text, PolicyScope.FRAGMENT), "fragment-rule")) == at(text, needle)


def test_fragment_root_and_scope_roots() -> None:
    policies = "<policies><inbound /></policies>"
    assert only(check(policies, PolicyScope.FRAGMENT), "fragment-rule").line == 1
    assert only(check("<fragment />", PolicyScope.API), "schema").line == 1


def test_a_valid_fragment_has_no_scope_or_section_findings() -> None:
    text = """
        <fragment>
            <rate-limit calls="5" renewal-period="60" />
            <forward-request />
            <set-header name="x-request-context-data" exists-action="override">
                <value>@(context.User.Id)</value>
            </set-header>
        </fragment>
    """
    assert check(text, PolicyScope.FRAGMENT) == []


# ------------------------------------------------------------------------------- robustness

_NAMES = [*sorted(load_schema().policy_names), "inbound", "when", "value", "bogus"]
_ATTRIBUTES = ["name", "value", "calls", "count", "id", "condition", "template", "x"]


@st.composite
def _trees(draw: st.DrawFn, depth: int = 0) -> ET.Element:
    element = ET.Element(draw(st.sampled_from(_NAMES)))
    for attribute in draw(st.lists(st.sampled_from(_ATTRIBUTES), max_size=3, unique=True)):
        element.set(attribute, draw(st.sampled_from(["1", "true", "@(1)", "{{a}}", "zz"])))
    if depth < 3:
        element.extend(draw(st.lists(_trees(depth + 1), max_size=3)))
    return element


@pytest.mark.slow  # a fuzz run: 150 generated documents
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    root=st.sampled_from(["policies", "fragment", "inbound"]),
    body=st.lists(_trees(), max_size=3),
    scope=st.sampled_from(list(PolicyScope)),
)
def test_never_raises_on_odd_documents(
    root: str, body: list[ET.Element], scope: PolicyScope
) -> None:
    element = ET.Element(root)
    element.extend(body)
    findings = Findings()
    check_policy(parse_policy(ET.tostring(element, encoding="unicode")), scope, findings)
    assert all(f.line >= 1 and f.column >= 1 for f in findings)


# ------------------------------------------------------------------------------- structure


@pytest.mark.parametrize(
    ("text", "code", "needle", "words"),
    [
        ("<policies>\n<inbond />\n</policies>", "schema", "<inbond", "did you mean 'inbound'?"),
        (
            "<policies>\n<inbound />\n<inbound />\n</policies>",
            "schema",
            "<inbound />\n</",
            "at most",
        ),
        (
            "<policies>\n<inbound><outbound /></inbound>\n</policies>",
            "schema",
            "<outbound",
            "section",
        ),
        ("<policies>\n<base />\n</policies>", "base-misuse", "<base", "direct child of a section"),
    ],
)
def test_document_structure(text: str, code: str, needle: str, words: str) -> None:
    finding = only(check(text), code)
    assert located(finding) == at(text, needle)
    assert words in finding.message


def test_tolerated_forms_seen_in_real_policies() -> None:
    text = """
        <policies>
            <inbound>
                <base id="inherit" />
                <quota calls="10" renewal-period="3600">
                    <api name="orders" calls="5" />
                </quota>
            </inbound>
            <outbound>
                <authentication-managed-identity resource="https://cosmos.azure.com"
                    output-token-variable-name="token" />
                <trace source="orders">legacy message as text</trace>
                <set-status code="200" />
            </outbound>
        </policies>
    """
    assert check(text, PolicyScope.PRODUCT) == []
