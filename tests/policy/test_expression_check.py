"""Checking one expression: syntax, allowed types, members of context and restricted types."""

from __future__ import annotations

import pytest

from apimsync.policy.expression_check import (
    EXPRESSION_MEMBER,
    EXPRESSION_SYNTAX,
    EXPRESSION_TYPE,
    ExpressionProblem,
    check_expression,
    check_expression_extent,
    mask_named_values,
)


def only(expression: str) -> ExpressionProblem:
    problems = check_expression(expression)
    assert len(problems) == 1, problems
    return problems[0]


def at(expression: str, fragment: str) -> int:
    return expression.index(fragment)


@pytest.mark.parametrize(
    "expression",
    [
        '@(context.Request.Headers.GetValueOrDefault("Authorization", "").AsJwt()?.Subject)',
        '@(context.Variables.GetValueOrDefault<string>("a", "b").Length > 0)',
        '@(((IUrl)context.Variables["u"]).Query.GetValueOrDefault("x", ""))',
        '@(Regex.Match((string)context.Variables["h"], @"max-age=(?<a>\\d+)").Groups["a"]?.Value)',
        '@(DateTime.UtcNow.AddMinutes(5).ToString("o"))',
        '@(JsonConvert.DeserializeObject<JObject>((string)context.Variables["b"])["x"])',
        "@{ var list = new List<string>(); foreach (var h in context.Request.Headers) "
        '{ list.Add(h.Key); } return string.Join(",", list); }',
        "@{ int Twice(int n) => n * 2; return Twice(context.Response.StatusCode); }",
        '@(context.Variables["x"] is JObject o ? o.ToString() : "")',
        "@(new System.Text.StringBuilder().Append(context.Api.Name).ToString())",
        "@(context.Request.Body.As<byte[]>(preserveContent: true).Length)",
        '@(((Authorization)context.Variables["auth"]).AccessToken)',
        "@(context.Deployment.Gateway.IsManaged)",
    ],
)
def test_allowed_expressions_have_no_problem(expression: str) -> None:
    assert check_expression(expression) == ()


@pytest.mark.parametrize(
    ("expression", "name", "suggestion"),
    [
        ('@(context.Request.Header.GetValueOrDefault("a", ""))', "Header", "Headers"),
        ("@(context.Subscripton.Key)", "Subscripton", "Subscription"),
        ("@(context.request.Method)", "request", "Request"),
        ("@(context.Subscription?.Keyy)", "Keyy", "Key"),
        ("@(context.Deployment.Gateway.Idd)", "Idd", "Id"),
        (
            '@(context.Request.Headers.GetValueOrDefault("a", "").AsJwt().Subjct)',
            "Subjct",
            "Subject",
        ),
        ('@(((IResponse)context.Variables["r"]).StatusCod)', "StatusCod", "StatusCode"),
    ],
)
def test_an_unknown_context_member_is_an_error_with_a_suggestion(
    expression: str, name: str, suggestion: str
) -> None:
    problem = next(p for p in check_expression(expression) if p.code == EXPRESSION_MEMBER)
    assert problem.is_error
    assert problem.offset == at(expression, name)
    assert f"'{name}' is not a member of" in problem.message
    assert f"did you mean '{suggestion}'?" in problem.message


def test_an_unknown_member_far_from_any_name_lists_the_members() -> None:
    problem = only("@(context.Operation.Xyzzy)")
    assert "its members are Id, Method, Name, UrlTemplate" in problem.message


@pytest.mark.parametrize(
    ("expression", "fragment", "type_name"),
    [
        ('@(System.IO.File.ReadAllText("/etc/passwd"))', "System.IO", "System.IO.File"),
        ('@(File.Exists("/etc/passwd"))', "File", "System.IO.File"),
        (
            '@{ var c = new System.Net.WebClient(); return c.DownloadString("http://x"); }',
            "System.Net",
            "System.Net.WebClient",
        ),
        ('@(Process.Start("sh").Id)', "Process", "System.Diagnostics.Process"),
        (
            '@(((double)context.Variables["c"]).ToString(CultureInfo.InvariantCulture))',
            "CultureInfo",
            "System.Globalization.CultureInfo",
        ),
        ("@(System.Environment.MachineName)", "System.Env", "System.Environment"),
        ("@{ System.IO.Stream s = null; return s; }", "System.IO", "System.IO.Stream"),
        (
            "@(typeof(System.Reflection.Assembly).Name)",
            "System.Reflection",
            "System.Reflection.Assembly",
        ),
    ],
)
def test_a_type_outside_the_table_is_an_error(
    expression: str, fragment: str, type_name: str
) -> None:
    problem = next(p for p in check_expression(expression) if p.code == EXPRESSION_TYPE)
    assert problem.is_error
    assert problem.offset == at(expression, fragment)
    assert f"type '{type_name}' is not allowed" in problem.message


@pytest.mark.parametrize(
    ("expression", "member"),
    [
        (
            '@{ DateTime d; return DateTime.TryParse((string)context.Variables["t"], out d); }',
            "TryParse",
        ),
        ("@(DateTime.UtcNow.ToUniversalTime())", "ToUniversalTime"),
        ("@(context.Timestamp.ToLocalTime())", "ToLocalTime"),
        ('@(Regex.Match("a", "b").NextMatch())', "NextMatch"),
        ('@(JsonConvert.PopulateObject("{}", context.Variables["x"]))', "PopulateObject"),
        ('@(XDocument.Load("http://example.test/x.xml"))', "Load"),
        ("@(SymmetricAlgorithm.Create())", "Create"),
        ("@(Enum.GetValues(typeof(DayOfWeek)))", "GetValues"),
    ],
)
def test_a_member_a_restricted_type_does_not_allow_is_an_error(
    expression: str, member: str
) -> None:
    problem = next(p for p in check_expression(expression) if p.code == EXPRESSION_MEMBER)
    assert problem.is_error
    assert problem.offset == at(expression, member)
    assert "is not allowed in policy expressions" in problem.message


def test_a_symmetric_algorithm_created_by_name_is_allowed() -> None:
    assert check_expression('@(SymmetricAlgorithm.Create("Aes").KeySize)') == ()


def test_the_constructor_of_a_type_that_allows_none_is_an_error() -> None:
    problem = only("@(new IPAddress(new byte[] { 127, 0, 0, 1 }).ToString())")
    assert (problem.code, problem.is_error) == (EXPRESSION_MEMBER, True)
    assert "the constructor of System.Net.IPAddress is not allowed" in problem.message


@pytest.mark.parametrize(
    ("expression", "fragment", "code"),
    [
        # Real exports use these; the documentation does not list them.
        (
            '@(context.Variables.GetValueOrDefault<string>("esb-correlation-id"))',
            "GetValueOrDefault",
            EXPRESSION_MEMBER,
        ),
        (
            '@(context.Request.Url.Query.GetValueOrDefault("BackendIndex"))',
            "GetValueOrDefault",
            EXPRESSION_MEMBER,
        ),
        ('@(((IResponse)context.Variables["response"]).StatusCode)', "IResponse", EXPRESSION_TYPE),
        ("@{ var d = new XmlDocument(); return d.OuterXml; }", "XmlDocument", EXPRESSION_TYPE),
        ("@{ RSACng rsa = null; return rsa; }", "RSACng", EXPRESSION_TYPE),
        ("@(context.LastError.HttpErrorCode)", "HttpErrorCode", EXPRESSION_MEMBER),
    ],
)
def test_what_practice_uses_and_the_documentation_lacks_is_a_warning(
    expression: str, fragment: str, code: str
) -> None:
    problem = only(expression)
    assert (problem.code, problem.is_error, problem.offset) == (
        code,
        False,
        at(expression, fragment),
    )


def test_an_unknown_name_is_a_warning_with_a_suggestion() -> None:
    problem = only("@(JsonConvrt.SerializeObject(context.Variables))")
    assert (problem.code, problem.is_error) == (EXPRESSION_TYPE, False)
    assert "did you mean 'JsonConvert'?" in problem.message


def test_a_wrong_argument_count_is_an_error() -> None:
    problem = only('@(context.Request.Headers.GetValueOrDefault("a", "b", "c"))')
    assert (problem.code, problem.is_error) == (EXPRESSION_MEMBER, True)
    assert problem.message == "GetValueOrDefault takes 2 argument(s), not 3"


def test_a_body_type_the_documentation_does_not_list_is_an_error() -> None:
    problem = only("@(context.Request.Body.As<int>())")
    assert (problem.code, problem.is_error) == (EXPRESSION_TYPE, True)
    assert "As<int> is not supported" in problem.message


def test_locals_parameters_and_lambdas_are_not_taken_for_types() -> None:
    expression = (
        "@{ var body = context.Request.Body.As<JObject>(); "
        "foreach (var (key, value) in new Dictionary<string, string>()) { } "
        "return body.Properties().Where(p => p.Name.Length > 0).Select(p => p.Name).First(); }"
    )
    assert check_expression(expression) == ()


def test_a_syntax_error_is_the_only_problem_reported() -> None:
    expression = '@{\n    var id = System.IO.File.ReadAllText("x")\n    return id;\n}'
    problem = only(expression)
    assert (problem.code, problem.is_error) == (EXPRESSION_SYNTAX, True)
    assert problem.offset == expression.index('("x")') + len('("x")')
    assert "';' expected" in problem.message


def test_named_values_stand_for_a_value_of_the_same_length() -> None:
    assert mask_named_values("@({{max-calls}} > 3)") == "@(__nv" + "_" * 9 + " > 3)"
    assert check_expression('@({{max-calls}} > (int)context.Variables["n"])') == ()
    assert check_expression('@("Bearer {{token}}".Length)') == ()


def test_an_expression_that_closes_before_its_value_ends_is_placed_in_the_whole_value() -> None:
    text = "@{ if (x) return 1; }"
    problem = check_expression_extent(text, " else { return 2; } }")
    assert (problem.code, problem.is_error) == (EXPRESSION_SYNTAX, True)
    assert "closes before its value ends ('else { return 2; } }' follows it)" in problem.message


def test_each_distinct_expression_is_parsed_once() -> None:
    from apimsync.policy import expression_check

    expression = '@(context.Variables.ContainsKey("only-once-1234"))'
    before = expression_check._check_masked.cache_info()
    check_expression(expression)
    check_expression(expression)
    after = expression_check._check_masked.cache_info()
    assert (after.misses - before.misses, after.hits - before.hits) == (1, 1)
