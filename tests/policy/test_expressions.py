"""Finding policy expressions: C#-aware bracket matching, in raw and entity-escaped form."""

from __future__ import annotations

import pytest

from apimsync.policy import (
    EXPRESSION_UNBALANCED,
    PolicySyntaxError,
    decode_expression,
    expression_end,
    find_expressions,
    is_expression,
    parse_policy,
)

# Each expression is complete; the scanner must not stop at a bracket hidden inside it.
COMPLETE_EXPRESSIONS = [
    '@(context.Request.Url.Path.Contains("gpt-4"))',
    '@(x.Contains(")"))',
    r'@(x.Replace("\")", "("))',
    '@(@"c:\\temp\\)" + @"say ""(hi)""")',
    '@($"{(a ? ")" : "(")}-{b:N2}")',
    '@($@"{{ {x} }}"")" + $"{{")',
    "@(c == ')' || c == '\\'' || c == '(')",
    "@(a /* ) */ + b)",
    "@{ var b = context.Request.Body.As<JObject>(); // } ) \n return b.ToString(); }",
    '@{ if (x) { return "}"; } else { return new[] { 1 }[0].ToString(); } }',
    "@(x.Contains(&quot;)&quot;))",
    "@(c == &apos;)&apos;)",
    "@(a &lt; b &amp;&amp; c &gt; d)",
    '@("{{named-value}}" + (x[0]))',
]


@pytest.mark.parametrize("expression", COMPLETE_EXPRESSIONS)
def test_the_whole_expression_is_one_span(expression: str) -> None:
    assert expression_end(expression + ' trailing")', 0) == len(expression)


@pytest.mark.parametrize(
    "expression",
    ["@(x", '@(x.Contains("a")', '@("))', "@(a[0)", "@{ return 1; ", "@(a /* ) ", '@($"{a")'],
)
def test_an_unclosed_expression_has_no_end(expression: str) -> None:
    assert expression_end(expression, 0) is None


def test_expressions_are_found_in_attribute_values_and_element_text() -> None:
    text = (
        '<policies>\n  <set-variable name="v" value="@(x.Contains("a"))" />\n'
        "  <set-body>\n    @{ return a < b; }\n  </set-body>\n</policies>"
    )
    spans = find_expressions(text)
    assert [text[s.start : s.end] for s in spans] == ['@(x.Contains("a"))', "@{ return a < b; }"]
    assert [s.in_attribute for s in spans] == [True, False]


def test_expressions_in_comments_cdata_and_mid_value_are_not_expressions() -> None:
    text = (
        '<!-- <set-body>@{ As<JObject>( }</set-body> --><a v="Bearer @(x" w="{{nv}}">'
        "<![CDATA[@(]]>text @(</a>"
    )
    assert find_expressions(text) == []


def test_an_expression_that_never_closes_is_reported_where_its_code_goes_wrong() -> None:
    text = '<policies>\n  <inbound>\n    <set-header value="@(x.Contains("a")" />\n'
    with pytest.raises(PolicySyntaxError) as raised:
        find_expressions(text, "policy.xml")
    # The attribute most likely ends at the quote before '/>': the ')' is missing there.
    assert (raised.value.line, raised.value.column) == (3, 41)
    assert raised.value.code == EXPRESSION_UNBALANCED
    assert raised.value.path == "policy.xml"
    assert "'@(' (line 3, column 24) never closes: ')' expected" in raised.value.detail


def test_a_block_that_never_closes_is_reported_before_the_end_tag() -> None:
    text = "<policies>\n  <set-body>@{ return 1; </set-body>\n</policies>"
    with pytest.raises(PolicySyntaxError) as raised:
        find_expressions(text, "policy.xml")
    assert (raised.value.line, raised.value.column) == (2, 25)
    assert "'@{' (line 2, column 13) never closes: '}' expected" in raised.value.detail


@pytest.mark.parametrize(
    ("raw", "meaning"),
    [
        ("@(x.Contains(&quot;a&quot;))", '@(x.Contains("a"))'),
        ("@(a && b)", "@(a && b)"),
        ("@(a &amp;&amp; b &lt; c)", "@(a && b < c)"),
        ("@(&#34;x&#x22;)", '@("x")'),
        ('@("&bogus; &#0; &#xD800;")', '@("&bogus; &#0; &#xD800;")'),
        ("@{\r\n a;\r b;\n}", "@{\n a;\n b;\n}"),
    ],
)
def test_decoding_turns_the_escaped_form_into_the_raw_form(raw: str, meaning: str) -> None:
    assert decode_expression(raw) == meaning


@pytest.mark.parametrize(
    ("value", "expected"),
    [("@(x)", True), ("  @{ return 1; }", True), ("{{nv}}", False), ("a @(x)", False), ("", False)],
)
def test_is_expression(value: str, expected: bool) -> None:
    assert is_expression(value) is expected


@pytest.mark.parametrize(
    "text",
    [
        # A regular string ends on its line: a lost quote no longer swallows the markup.
        '@(x.Contains("a)" />\n<set-header name="b" value="@(y)" />',
        '@($"{a} and b)" />\n<x name="c" />',
        # Code never holds '</': a lost bracket no longer runs past the end tag.
        "@{ if (a) { return 1; }</set-body>\n<set-body>@{ return 2; }",
    ],
)
def test_an_expression_that_runs_into_the_markup_has_no_end(text: str) -> None:
    assert expression_end(text, 0) is None


def test_verbatim_strings_and_comments_may_span_lines() -> None:
    text = '@{ var s = @"line one\nline two"; /* a\nb */ return s; }'
    assert expression_end(text, 0) == len(text)


def test_an_attribute_expression_closing_early_is_reported_in_it() -> None:
    # The first '(' of IsNullOrEmpty( is lost: the expression closes after 'Id)' and the
    # rest of the attribute is not XML; the mistake is placed in the whole value.
    text = (
        '<policies>\n  <inbound>\n    <set-variable name="v" '
        'value="@(string.IsNullOrEmptycontext.Subscription.Id) && x.Contains("a"))" />\n'
        "  </inbound>\n</policies>"
    )
    with pytest.raises(PolicySyntaxError) as raised:
        parse_policy(text, "policy.xml")
    assert raised.value.code == EXPRESSION_UNBALANCED
    assert "ends too early: unexpected ')'" in raised.value.detail
    assert (raised.value.line, raised.value.column) == (3, text.splitlines()[2].rindex(")") + 1)
