"""The canonical form: equal for equivalent policies, different for different ones."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apimsync.policy import canonical_policy, parse_policy, policies_equal
from tests.conftest import CORPUS

POLICY_FILES = sorted(CORPUS.glob("*/api-management/policies/**/*.xml"))

ORIGINAL = """<!-- exported -->
<policies>
\t<inbound>
\t\t<base />
\t\t<set-variable name="gpt4" value="@(context.Request.Url.Path.Contains("gpt-4"))" />
\t\t<set-header name="api-key" exists-action="override">
\t\t\t<value>{{openai-key}}</value>
\t\t</set-header>
\t\t<set-body>@{
    var body = context.Request.Body.As<JObject>(preserveContent: true);
    return body.ToString();
}</set-body>
\t</inbound>
\t<backend>
\t\t<forward-request></forward-request>
\t</backend>
</policies>"""

EQUIVALENT = {
    "entity-escaped": ORIGINAL.replace('Contains("gpt-4")', "Contains(&quot;gpt-4&quot;)").replace(
        "As<JObject>", "As&lt;JObject&gt;"
    ),
    "reindented": ORIGINAL.replace("\t", "    ").replace("<base />", "<base/>"),
    "one line": "".join(line.strip() for line in ORIGINAL.split("<set-body>")[0].splitlines())
    + "<set-body>"
    + ORIGINAL.split("<set-body>")[1],
    "attribute order and quotes": ORIGINAL.replace(
        'name="api-key" exists-action="override"', "exists-action='override'  name='api-key'"
    ),
    "self-closing": ORIGINAL.replace("<forward-request></forward-request>", "<forward-request/>"),
    "comments": ORIGINAL.replace("<base />", "<base /><!-- inherit -->").replace(
        "<!-- exported -->", ""
    ),
    "CRLF": ORIGINAL.replace("\n", "\r\n"),
    "text padding": ORIGINAL.replace(">{{openai-key}}<", ">\n {{openai-key}} <"),
}

DIFFERENT = {
    "expression": ORIGINAL.replace('"gpt-4"', '"gpt-35"'),
    "whitespace inside an expression": ORIGINAL.replace("return body", "return  body"),
    "attribute value": ORIGINAL.replace('"override"', '"skip"'),
    "named value": ORIGINAL.replace("{{openai-key}}", "{{openai-key2}}"),
    "element order": ORIGINAL.replace("<base />", "<set-variable name='x' value='1' />").replace(
        "<forward-request></forward-request>", "<base />"
    ),
    "missing element": ORIGINAL.replace("<base />", ""),
}


@pytest.mark.parametrize("variant", EQUIVALENT.values(), ids=EQUIVALENT.keys())
def test_equivalent_policies_have_one_canonical_form(variant: str) -> None:
    assert canonical_policy(variant) == canonical_policy(ORIGINAL)
    assert policies_equal(variant, ORIGINAL)


@pytest.mark.parametrize("variant", DIFFERENT.values(), ids=DIFFERENT.keys())
def test_different_policies_have_different_canonical_forms(variant: str) -> None:
    assert canonical_policy(variant) != canonical_policy(ORIGINAL)
    assert not policies_equal(variant, ORIGINAL)


def test_the_canonical_form_is_one_element_per_line_with_expressions_verbatim() -> None:
    assert canonical_policy(parse_policy(EQUIVALENT["entity-escaped"])) == (
        "<policies>\n"
        "  <inbound>\n"
        "    <base />\n"
        '    <set-variable name="gpt4" value="@(context.Request.Url.Path.Contains("gpt-4"))" />\n'
        '    <set-header exists-action="override" name="api-key">\n'
        "      <value>{{openai-key}}</value>\n"
        "    </set-header>\n"
        "    <set-body>@{\n"
        "    var body = context.Request.Body.As<JObject>(preserveContent: true);\n"
        "    return body.ToString();\n"
        "}</set-body>\n"
        "  </inbound>\n"
        "  <backend>\n"
        "    <forward-request />\n"
        "  </backend>\n"
        "</policies>\n"
    )


def test_literal_text_is_escaped_and_mixed_content_gets_its_own_lines() -> None:
    text = (
        '<policies a="x &amp; &quot;y&quot;"><value>a &lt; b</value><p>one<b/> two </p></policies>'
    )
    assert canonical_policy(text) == (
        '<policies a="x &amp; &quot;y&quot;">\n'
        "  <value>a &lt; b</value>\n"
        "  <p>\n"
        "    one\n"
        "    <b />\n"
        "    two\n"
        "  </p>\n"
        "</policies>\n"
    )


def test_only_the_expression_itself_is_written_raw() -> None:
    text = '<policies v="@(a) &quot;tail&quot;"><value>@(x) &lt; y</value></policies>'
    canonical = canonical_policy(text)
    assert canonical == (
        '<policies v="@(a) &quot;tail&quot;">\n  <value>@(x) &lt; y</value>\n</policies>\n'
    )
    assert canonical_policy(canonical) == canonical


def test_namespaces_keep_the_documents_prefixes() -> None:
    text = (
        '<set-body xmlns:soap="urn:soap"><soap:Envelope xmlns="urn:t">'
        '<soap:Body><Get soap:role="r" /></soap:Body></soap:Envelope></set-body>'
    )
    assert canonical_policy(text) == (
        "<set-body>\n"
        '  <soap:Envelope xmlns:soap="urn:soap">\n'
        "    <soap:Body>\n"
        '      <Get xmlns="urn:t" soap:role="r" />\n'
        "    </soap:Body>\n"
        "  </soap:Envelope>\n"
        "</set-body>\n"
    )
    renamed = text.replace("xmlns:soap", "xmlns:s").replace("soap:", "s:")
    assert parse_policy(renamed).root[0].tag == "{urn:soap}Envelope"
    expected = canonical_policy(text).replace("xmlns:soap", "xmlns:s").replace("soap:", "s:")
    assert canonical_policy(renamed) == expected


@pytest.mark.parametrize("path", POLICY_FILES, ids=lambda p: p.relative_to(CORPUS).as_posix())
def test_the_canonical_form_of_every_real_policy_reads_back_unchanged(path: Path) -> None:
    text = path.read_bytes().decode("utf-8")
    canonical = canonical_policy(text)
    assert canonical_policy(canonical) == canonical
    assert policies_equal(text.replace("\r\n", "\n"), text)


# Pieces of C# that balance on their own; any sequence of them, space-separated, is an
# expression body.
CSHARP_PIECES = [
    "x", " ", "\n", "a < b", "a > b", "a && b", '"q"', '"a\\"b"', '"<&>"', "'\"'", "')'",
    '@"v""w"', '$"{x}-{(y ? "(" : ")")}"', "(1)", "[0]", "{ }", "/* ) */", "// }\n",
    "As<JObject>()", "{{named}}",
]  # fmt: skip


def xml_escape(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from(CSHARP_PIECES), max_size=12).map(" ".join),
    st.lists(st.sampled_from(CSHARP_PIECES), max_size=12).map(" ".join),
)
def test_raw_and_escaped_expressions_mean_the_same(single: str, block: str) -> None:
    attribute, text = f"@({single})", f"@{{ {block} }}"
    raw = f'<policies><set-variable value="{attribute}" /><set-body>{text}</set-body></policies>'
    escaped = (
        f'<policies><set-variable value="{xml_escape(attribute)}" />'
        f"<set-body>{xml_escape(text)}</set-body></policies>"
    )
    for document in (parse_policy(raw), parse_policy(escaped)):
        assert document.root[0].get("value") == attribute
        assert document.root[1].text == text
    assert policies_equal(raw, escaped)
