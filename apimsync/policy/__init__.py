"""Policy documents: the tolerant parser, expressions and the canonical form for diffs."""

from apimsync.policy.canonical import canonical_policy, policies_equal
from apimsync.policy.expressions import (
    EXPRESSION_UNBALANCED,
    XML_FORBIDDEN,
    XML_SYNTAX,
    ExpressionSpan,
    decode_expression,
    expression_end,
    find_expressions,
    is_expression,
)
from apimsync.policy.parser import (
    PolicyComment,
    PolicyDocument,
    PolicySyntaxError,
    Position,
    parse_policy,
)

__all__ = [
    "EXPRESSION_UNBALANCED",
    "XML_FORBIDDEN",
    "XML_SYNTAX",
    "ExpressionSpan",
    "PolicyComment",
    "PolicyDocument",
    "PolicySyntaxError",
    "Position",
    "canonical_policy",
    "decode_expression",
    "expression_end",
    "find_expressions",
    "is_expression",
    "parse_policy",
    "policies_equal",
]
