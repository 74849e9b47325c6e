"""The OData ``$filter`` subset that API Management lists accept.

Each list declares which fields it filters on and, per field, which operators and
functions (the tables in the spec's ``$filter`` descriptions). Anything else is an error
the server answers with 400, never a silently ignored filter. String comparisons are
case-insensitive, like API Management's.

Grammar: ``expr := and_expr ('or' and_expr)*``, ``and_expr := unary ('and' unary)*``,
``unary := 'not' unary | '(' expr ')' | call [('eq'|'ne') bool] | field op literal``,
where a call is ``startswith|endswith|contains(field, 'text')`` or
``substringof('text', field)``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

COMPARISONS = frozenset({"eq", "ne", "gt", "ge", "lt", "le"})
FUNCTIONS = frozenset({"substringof", "contains", "startswith", "endswith"})

Record = Mapping[str, Any]
Predicate = Callable[[Record], bool]


class FilterError(ValueError):
    """The filter is malformed or uses a field, operator or function the list lacks."""


@dataclass(frozen=True)
class FieldRule:
    operators: frozenset[str]
    functions: frozenset[str]


_RULE_SHORTHANDS = {
    "": FieldRule(COMPARISONS, FUNCTIONS),
    "cmp": FieldRule(COMPARISONS, frozenset()),
    "eq": FieldRule(frozenset({"eq"}), frozenset()),
    "eqne": FieldRule(frozenset({"eq", "ne"}), frozenset()),
    "eqcontains": FieldRule(frozenset({"eq"}), frozenset({"contains"})),
}


def rules(spec: str) -> dict[str, FieldRule]:
    """Field rules from a compact spec: ``"name displayName isCurrent:eqne"``.

    A bare field allows every comparison and function; ``:cmp`` comparisons only,
    ``:eq`` / ``:eqne`` those operators, ``:eqcontains`` eq and contains().
    """
    out: dict[str, FieldRule] = {}
    for item in spec.split():
        name, _, kind = item.partition(":")
        out[name] = _RULE_SHORTHANDS[kind]
    return out


_TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:[^']|'')*')|(?P<punct>[(),])|(?P<number>-?\d+(?:\.\d+)?)"
    r"|(?P<word>[A-Za-z_$][A-Za-z0-9_./$]*))"
)


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str

    @property
    def value(self) -> Any:
        if self.kind == "string":
            return self.text[1:-1].replace("''", "'")
        if self.kind == "number":
            return float(self.text) if "." in self.text else int(self.text)
        return {"true": True, "false": False, "null": None}[self.text.lower()]


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise FilterError(f"cannot read the filter at offset {pos}: {text[pos : pos + 20]!r}")
        kind = match.lastgroup or ""
        tokens.append(_Token(kind, match.group(kind)))
        pos = match.end()
    return tokens


def _fold(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value


def _compare(op: str, left: Any, right: Any) -> bool:
    left, right = _fold(left), _fold(right)
    if op == "eq":
        return bool(left == right)
    if op == "ne":
        return bool(left != right)
    if left is None or right is None:
        return False
    try:
        return bool(
            {"gt": left > right, "ge": left >= right, "lt": left < right, "le": left <= right}[op]
        )
    except TypeError:
        return False


def _string_function(name: str, haystack: Any, needle: Any) -> bool:
    if not isinstance(haystack, str) or not isinstance(needle, str):
        return False
    hay, pin = haystack.casefold(), needle.casefold()
    if name == "startswith":
        return hay.startswith(pin)
    if name == "endswith":
        return hay.endswith(pin)
    return pin in hay


class _Parser:
    def __init__(self, text: str, field_rules: Mapping[str, FieldRule]) -> None:
        self.tokens = _tokenize(text)
        self.pos = 0
        self.rules = {k.lower(): (k, v) for k, v in field_rules.items()}

    def peek_word(self) -> str:
        if self.pos < len(self.tokens) and self.tokens[self.pos].kind == "word":
            return self.tokens[self.pos].text.lower()
        return ""

    def take(self, kind: str, text: str | None = None) -> _Token:
        if self.pos >= len(self.tokens):
            raise FilterError("the filter ends too early")
        token = self.tokens[self.pos]
        if token.kind != kind or (text is not None and token.text.lower() != text):
            raise FilterError(f"unexpected {token.text!r} in the filter")
        self.pos += 1
        return token

    def parse(self) -> Predicate:
        predicate = self.expr()
        if self.pos != len(self.tokens):
            raise FilterError(f"unexpected {self.tokens[self.pos].text!r} in the filter")
        return predicate

    def expr(self) -> Predicate:
        parts = [self.and_expr()]
        while self.peek_word() == "or":
            self.pos += 1
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else (lambda r: any(p(r) for p in parts))

    def and_expr(self) -> Predicate:
        parts = [self.unary()]
        while self.peek_word() == "and":
            self.pos += 1
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else (lambda r: all(p(r) for p in parts))

    def unary(self) -> Predicate:
        if self.peek_word() == "not":
            self.pos += 1
            inner = self.unary()
            return lambda r: not inner(r)
        if self.pos < len(self.tokens) and self.tokens[self.pos].text == "(":
            self.pos += 1
            inner = self.expr()
            self.take("punct", ")")
            return inner
        word = self.peek_word()
        if word in FUNCTIONS and self._next_is_paren():
            return self._with_bool_test(self.call(word))
        return self.comparison()

    def _next_is_paren(self) -> bool:
        nxt = self.pos + 1
        return nxt < len(self.tokens) and self.tokens[nxt].text == "("

    def _with_bool_test(self, predicate: Predicate) -> Predicate:
        if self.peek_word() not in ("eq", "ne"):
            return predicate
        negate = self.take("word").text.lower() == "ne"
        expected = self.literal()
        if not isinstance(expected, bool):
            raise FilterError("a function result can only be compared with true or false")
        want = expected != negate
        return lambda r: predicate(r) == want

    def field(self, usage: str) -> str:
        token = self.take("word")
        found = self.rules.get(token.text.lower())
        if found is None:
            allowed = ", ".join(sorted(v[0] for v in self.rules.values())) or "none"
            raise FilterError(f"'{token.text}' cannot be filtered on here (fields: {allowed})")
        name, rule = found
        if usage not in rule.operators and usage not in rule.functions:
            raise FilterError(f"'{usage}' is not supported for the field '{name}'")
        return name

    def literal(self) -> Any:
        if self.pos >= len(self.tokens):
            raise FilterError("the filter ends too early")
        token = self.tokens[self.pos]
        if token.kind not in ("string", "number") and token.text.lower() not in (
            "true",
            "false",
            "null",
        ):
            raise FilterError(f"expected a value, found {token.text!r}")
        self.pos += 1
        return token.value

    def call(self, name: str) -> Predicate:
        self.take("word")
        self.take("punct", "(")
        if name == "substringof":
            needle = self.literal()
            self.take("punct", ",")
            field = self.field(name)
        else:
            field = self.field(name)
            self.take("punct", ",")
            needle = self.literal()
        self.take("punct", ")")
        return lambda r: _string_function(name, r.get(field), needle)

    def comparison(self) -> Predicate:
        start = self.pos
        self.take("word")
        op = self.peek_word()
        if op not in COMPARISONS:
            raise FilterError("expected a comparison such as \"name eq 'x'\"")
        self.pos = start
        field = self.field(op)
        self.pos += 1
        value = self.literal()
        return lambda r: _compare(op, r.get(field), value)


def compile_filter(text: str, field_rules: Mapping[str, FieldRule]) -> Predicate:
    """A predicate over records (field name -> value) for an OData filter; FilterError if bad."""
    if not text.strip():
        return lambda r: True
    return _Parser(text, field_rules).parse()
