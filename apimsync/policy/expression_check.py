"""Checking one policy expression offline: its C# syntax, the types and the members it uses.

:func:`check_expression` takes an expression's text (from its ``@``, decoded) and
returns its problems, each at an offset into that text: ``expression-syntax`` when the
code is not valid C# (:mod:`apimsync.policy.csharp`), else the ``expression-type`` and
``expression-member`` problems of :mod:`apimsync.policy.expression_names`, judged by
:mod:`apimsync.policy.expression_rules`.

A ``{{named value}}`` is replaced before parsing by an identifier of the same length,
which keeps offsets and stands for whatever API Management puts there.
"""

from __future__ import annotations

from functools import lru_cache

from apimsync.policy.csharp import locate_syntax_problem, parse_code, syntax_problem
from apimsync.policy.expression_names import (
    EXPRESSION_MEMBER,
    EXPRESSION_SYNTAX,
    EXPRESSION_TYPE,
    NAMED_VALUE_MARK,
    ExpressionProblem,
    name_problems,
)
from apimsync.policy.expression_rules import load_rules
from apimsync.policy.references import NAMED_VALUE_PATTERN

__all__ = [
    "EXPRESSION_MEMBER",
    "EXPRESSION_SYNTAX",
    "EXPRESSION_TYPE",
    "ExpressionProblem",
    "check_expression",
    "check_expression_extent",
    "mask_named_values",
]


def mask_named_values(text: str) -> str:
    """The text with each ``{{name}}`` replaced by an identifier of the same length."""
    if "{{" not in text:
        return text
    return NAMED_VALUE_PATTERN.sub(
        lambda match: NAMED_VALUE_MARK + "_" * (len(match.group()) - len(NAMED_VALUE_MARK)),
        text,
    )


def check_expression(text: str) -> tuple[ExpressionProblem, ...]:
    """The problems of an expression (``@(...)`` or ``@{...}``, decoded), in text order."""
    return _check_masked(mask_named_values(text))


def check_expression_extent(text: str, trailing: str) -> ExpressionProblem:
    """The problem of an expression that closes before its attribute value or text ends
    (``trailing`` follows it, decoded): a bracket or quote is most likely missing, so the
    mistake is looked for in the whole value."""
    shown = " ".join(trailing.split())
    shown = shown if len(shown) <= 30 else shown[:30] + "..."
    problem = locate_syntax_problem(mask_named_values(text + trailing).rstrip()[1:])
    if problem is None:
        return ExpressionProblem(
            len(text),
            EXPRESSION_SYNTAX,
            True,
            f"the expression ends here but its value goes on ('{shown}'): API Management "
            "evaluates a value as an expression only as a whole; check the brackets",
        )
    return ExpressionProblem(
        problem.offset + 1,
        EXPRESSION_SYNTAX,
        True,
        f"the expression closes before its value ends ('{shown}' follows it), so a bracket "
        f"or quote is missing: {problem.message}",
    )


@lru_cache(maxsize=16384)
def _check_masked(text: str) -> tuple[ExpressionProblem, ...]:
    # Expressions repeat across a repository's policies: each distinct text is parsed once.
    parsed = parse_code(text[1:])
    problem = syntax_problem(parsed)
    if problem is not None:
        message = f"the expression is not valid C#: {problem.message}; API Management "
        message += "rejects the policy until it is fixed"
        return (ExpressionProblem(problem.offset + 1, EXPRESSION_SYNTAX, True, message),)
    return tuple(
        ExpressionProblem(p.offset + 1, p.code, p.is_error, p.message)
        for p in name_problems(parsed, load_rules())
    )
