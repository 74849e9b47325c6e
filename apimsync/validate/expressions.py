"""Findings about the policy expressions of a document: C# syntax, types and members.

Each expression's problems come from :func:`apimsync.policy.expression_check.check_expression`
(cached by text, so an expression repeated across a repository is checked once) and are
reported where the file has them, through any entity escaping and line breaks.
"""

from __future__ import annotations

from apimsync.policy.expression_check import (
    ExpressionProblem,
    check_expression,
    check_expression_extent,
)
from apimsync.policy.expressions import decode_expression
from apimsync.policy.parser import PolicyDocument
from apimsync.validate.findings import Findings


def check_expressions(document: PolicyDocument, findings: Findings) -> None:
    """Append a finding for each problem of each expression of the document."""
    for expression in document.expressions:
        problems: tuple[ExpressionProblem, ...]
        if expression.trailing.strip(" \t\r\n"):
            trailing = decode_expression(expression.trailing)
            problems = (check_expression_extent(expression.text, trailing),)
        else:
            problems = check_expression(expression.text)
        for problem in problems:
            position = document.expression_position(expression, problem.offset)
            report = findings.error if problem.is_error else findings.warning
            report(document.path, position.line, position.column, problem.code, problem.message)
