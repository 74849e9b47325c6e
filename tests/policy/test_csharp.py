"""The C# syntax of expressions: where a syntax error is, as a compiler would say it."""

from __future__ import annotations

import pytest

from apimsync.policy.csharp import locate_syntax_problem, parse_code, syntax_problem


def problem_at(code: str) -> tuple[int, str]:
    found = syntax_problem(parse_code(code))
    assert found is not None, code
    return found.offset, found.message


@pytest.mark.parametrize(
    "code",
    [
        '(context.Request.Headers.GetValueOrDefault("Authorization", ""))',
        "{ var b = context.Request.Body.As<JObject>(); // a comment\n return b.ToString(); }",
        '($"{context.RequestId:N}-{(context.Variables.ContainsKey("x") ? "t" : "f")}")',
        "{ int Twice(int n) => n * 2; return Twice(2); }",
        '(@"c:\\temp\\" + "x".Length)',
    ],
)
def test_valid_code_has_no_problem(code: str) -> None:
    assert syntax_problem(parse_code(code)) is None


def test_a_missing_semicolon_is_expected_right_after_its_statement() -> None:
    code = "{\n    var id = context.Subscription.Id // the caller\n    return id;\n}"
    offset, message = problem_at(code)
    assert message == "';' expected"
    assert code[:offset].endswith("context.Subscription.Id")


def test_a_missing_parenthesis_is_expected_where_the_call_ends() -> None:
    code = '(context.Request.Headers.GetValueOrDefault("Authorization", "")'
    assert problem_at(code) == (len(code), "')' expected")


def test_a_bracket_without_partner_is_unexpected() -> None:
    code = '(context.Variables["a"]))'
    assert problem_at(code) == (len(code) - 1, "unexpected ')'")


@pytest.mark.parametrize(
    "code",
    [
        # The closing quote of "x" is missing: its opening quote has no partner.
        '(context.Variables.ContainsKey("x) || true)',
        # The opening quote of "x" is missing: its closing quote has no partner.
        '(context.Variables.ContainsKey(x") || true)',
    ],
)
def test_a_quote_without_partner_is_shown(code: str) -> None:
    offset, message = problem_at(code)
    assert offset == code.index('"')
    assert "has no partner" in message


def test_a_doubled_operator_is_reported_where_an_operand_is_missing() -> None:
    code = "(context.Response.StatusCode == == 200)"
    assert problem_at(code) == (code.index("== 200"), "something is missing before '=='")


def test_offsets_are_characters_not_bytes() -> None:
    code = '{\n    var s = "größe — ünïcödé" + "x"\n    return s;\n}'
    offset, message = problem_at(code)
    assert message == "';' expected"
    assert code[:offset].endswith('+ "x"')


def test_code_cut_short_is_searched_from_its_end() -> None:
    problem = locate_syntax_problem('(x.Contains("a")')
    assert problem is not None
    assert (problem.offset, problem.message) == (16, "')' expected")


def test_valid_code_cut_nowhere_has_nothing_to_locate() -> None:
    assert locate_syntax_problem('(x.Contains("a"))') is None
