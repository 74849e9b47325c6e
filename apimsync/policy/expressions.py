"""Policy expressions: the balanced ``@(...)`` and ``@{...}`` spans of a policy document.

API Management accepts expressions that carry raw ``"``, ``<``, ``>`` and ``&``, so a
policy file is often not well-formed XML. This module finds every expression without an
XML parser: a light markup scanner walks tags, attribute values, comments, CDATA and
processing instructions, and a C#-aware scanner finds where each expression ends.

An expression is recognised where it starts an attribute value or a run of element text
(after optional whitespace), as API Management evaluates only whole values. Its meaning
is its raw text with line breaks normalised and every valid XML character reference
decoded (``&quot;`` is ``"``); anything else, such as the ``&`` of ``&&``, is literal.
So the raw and the entity-escaped forms of an expression mean the same thing.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from apimsync.errors import ApimsyncError

if TYPE_CHECKING:
    from apimsync.policy.csharp import SyntaxProblem

XML_SYNTAX = "xml-syntax"
EXPRESSION_UNBALANCED = "expression-unbalanced"
XML_FORBIDDEN = "xml-forbidden"

_LINE_BREAK = re.compile(r"\r\n?|\n")
_WHITESPACE = re.compile(r"[ \t\r\n]*")
_XML_WHITESPACE = " \t\r\n"
_EXPRESSION_STARTS = ("@(", "@{")
_CLOSERS = {"(": ")", "[": "]", "{": "}"}
_PREDEFINED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}
_REFERENCE = re.compile(r"&(?:(lt|gt|amp|quot|apos)|#([0-9]{1,7})|#x([0-9a-fA-F]{1,6}));")

# Characters that can change the scanner's state; everything between them is skipped.
# A regular string ends on its line and code never holds '</', so an expression whose
# scan meets either has lost a quote or a bracket and runs into the markup after it.
_CODE_STOP = re.compile(r"""[(){}\[\]"'/@$&<]""")
_STRING_STOP = re.compile(r'["\\&\r\n]')
_VERBATIM_STOP = re.compile(r'["&]')
_INTERPOLATED_STOP = re.compile(r'["\\&{}\r\n]')
_INTERPOLATED_VERBATIM_STOP = re.compile(r'["&{}]')
_LINE_END = re.compile(r"[\r\n]")
# Frames of the scanner stack that are interpolated strings rather than brackets.
_INTERPOLATED = '"'
_INTERPOLATED_VERBATIM = "@"

_TAG_NAME = re.compile(r"""[^ \t\r\n/>"'=<]+""")
_TAG_CLOSE = re.compile(r"[ \t\r\n]*/?>")
_ATTRIBUTE = re.compile(r"""[ \t\r\n]*([^ \t\r\n/>"'=<]+)[ \t\r\n]*=[ \t\r\n]*(["'])""")
_FORBIDDEN = re.compile(r"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)
# The quote that ends an attribute value: followed by the end of the tag, or by space and
# another attribute (a name, '=' and a quote; not '==' and not ']' as in code).
_ATTRIBUTE_ENDS = {
    quote: re.compile(
        quote + r"""(?=[ \t\r\n]*/?>|[ \t\r\n]+[A-Za-z_:][-\w:.]*[ \t\r\n]*=[ \t\r\n]*["'])"""
    )
    for quote in "\"'"
}
# A run of comments, CDATA, processing instructions, end tags, start tags and text in
# which no expression starts (malformed markup also ends the run).
_NOT_EXPRESSION = r"(?![ \t\r\n]*@[({])"
_SAFE_RUN = re.compile(
    rf"""(?:
        <!--.*?-->
      | <!\[CDATA\[.*?\]\]>
      | <\?.*?\?>
      | </[^>]*>
      | <(?![!?])[^ \t\r\n/>"'=<]+
        (?:[ \t\r\n]+[^ \t\r\n/>"'=<]+[ \t\r\n]*=[ \t\r\n]*
           (?:"{_NOT_EXPRESSION}[^"]*"|'{_NOT_EXPRESSION}[^']*'))*
        [ \t\r\n]*/?>
      | {_NOT_EXPRESSION}[^<]+
    )+""",
    re.DOTALL | re.VERBOSE,
)


@dataclass(frozen=True, order=True)
class Position:
    """A 1-based line and column (in characters) of the original text."""

    line: int
    column: int


class PolicySyntaxError(ApimsyncError):
    """A policy document cannot be read; ``code`` says why, ``line``/``column`` where."""

    def __init__(self, path: str, line: int, column: int, code: str, detail: str) -> None:
        super().__init__(f"{path}:{line}:{column}: {detail} [{code}]")
        self.path = path
        self.line = line
        self.column = column
        self.code = code
        self.detail = detail

    @property
    def position(self) -> Position:
        return Position(self.line, self.column)


class LineIndex:
    """Turns offsets of a text into positions; CRLF and lone CR count as one line break."""

    def __init__(self, text: str) -> None:
        self._text = text

    @cached_property
    def _starts(self) -> list[int]:
        return [0, *(m.end() for m in _LINE_BREAK.finditer(self._text))]

    def position(self, offset: int) -> Position:
        starts = self._starts
        line = bisect.bisect_right(starts, offset)
        return Position(line, offset - starts[line - 1] + 1)


@dataclass(frozen=True)
class ExpressionSpan:
    """``text[start:end]`` is one whole expression, from its ``@`` to its closing bracket."""

    start: int
    end: int
    in_attribute: bool


@dataclass
class MarkupScan:
    """The expressions :func:`scan_markup` found, in document order.

    ``error`` is set when an expression never closes or the document declares a DTD;
    everything before ``error_offset`` was scanned. Other markup problems just stop the
    scan early (an XML parser reports them better).
    """

    expressions: list[ExpressionSpan] = field(default_factory=list)
    error: PolicySyntaxError | None = None
    error_offset: int = 0


def is_expression(value: str) -> bool:
    """Whether a value (attribute value or element text) is a policy expression."""
    return value.lstrip(_XML_WHITESPACE).startswith(_EXPRESSION_STARTS)


def decode_expression(raw: str) -> str:
    """The meaning of raw expression text: line breaks as ``\\n``, valid references decoded."""
    text = _LINE_BREAK.sub("\n", raw) if "\r" in raw else raw
    if "&" not in text:
        return text
    return _REFERENCE.sub(_replace_reference, text)


def raw_offset(raw: str, offset: int) -> int:
    """The offset in ``raw`` of the character at ``offset`` of ``decode_expression(raw)``."""
    if "&" not in raw and "\r" not in raw:
        return min(offset, len(raw))
    i = 0
    for _ in range(offset):
        if i >= len(raw):
            break
        if raw.startswith("\r\n", i):
            i += 2
        elif raw[i] == "&":
            _, i = _read(raw, i)
        else:
            i += 1
    return i


def expression_end(text: str, start: int) -> int | None:
    """The offset after the bracket closing the expression whose ``@`` is at ``start``.

    Returns None when the expression never closes (or closes with the wrong bracket).
    """
    opener = text[start + 1 : start + 2]
    if text[start : start + 1] != "@" or opener not in ("(", "{"):
        raise ValueError(f"no policy expression starts at offset {start}")
    return _scan_expression(text, start + 2, _CLOSERS[opener])


def find_expressions(text: str, path: str = "<policy>") -> list[ExpressionSpan]:
    """Every expression span of a policy document; raises PolicySyntaxError if one never closes."""
    scan = scan_markup(text, path)
    if scan.error is not None:
        raise scan.error
    return scan.expressions


def scan_markup(text: str, path: str = "<policy>", lines: LineIndex | None = None) -> MarkupScan:
    """Scan a policy document for its expressions (see MarkupScan)."""
    return _MarkupScanner(text, path, lines or LineIndex(text)).run()


def start_tag_attributes(text: str, offset: int) -> list[tuple[str, int]]:
    """The names and offsets of the attributes of the start tag whose ``<`` is at ``offset``."""
    attributes: list[tuple[str, int]] = []
    _MarkupScanner(text, "", LineIndex(text))._start_tag(offset, attributes)
    return attributes


def _decode_reference(match: re.Match[str]) -> str | None:
    name, decimal, hexadecimal = match.groups()
    if name:
        return _PREDEFINED[name]
    code = int(decimal) if decimal else int(hexadecimal, 16)
    if code in (0x9, 0xA, 0xD) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD:
        return chr(code)
    return chr(code) if 0x10000 <= code <= 0x10FFFF else None


def _replace_reference(match: re.Match[str]) -> str:
    decoded = _decode_reference(match)
    return match.group() if decoded is None else decoded


def _read(text: str, i: int) -> tuple[str, int]:
    """The (decoded) character at ``i`` and the offset after it; ``("", i)`` at the end."""
    if i >= len(text):
        return "", i
    char = text[i]
    if char == "&":
        match = _REFERENCE.match(text, i)
        if match is not None:
            decoded = _decode_reference(match)
            if decoded is not None:
                return decoded, match.end()
    return char, i + 1


def _scan_expression(text: str, i: int, closer: str) -> int | None:
    # An explicit stack (no recursion): each frame is the bracket that closes a code
    # block, or a marker for an interpolated string whose holes are code blocks.
    stack = [closer]
    while stack:
        if stack[-1] in (_INTERPOLATED, _INTERPOLATED_VERBATIM):
            i = _step_interpolated(text, i, stack)
        else:
            i = _step_code(text, i, stack)
        if i < 0:
            return None
    return i


def _step_code(text: str, i: int, stack: list[str]) -> int:
    """Scan code until the frame on top of the stack changes; -1 if the text ends first."""
    while True:
        match = _CODE_STOP.search(text, i)
        if match is None:
            return -1
        char, i = match.group(), match.end()
        if char == "&":
            char, i = _read(text, match.start())
        if char in _CLOSERS:
            stack.append(_CLOSERS[char])
        elif char in ")]}":
            if char != stack[-1]:
                return -1
            stack.pop()
            if not stack or stack[-1] not in ")]}":
                return i
        elif char == '"':
            i = _skip_string(text, i)
        elif char == "'":
            i = _skip_char_literal(text, i)
        elif char == "/":
            i = _skip_comment(text, i)
        elif char in "@$":
            return _string_prefix(text, i, char, stack)
        elif char == "<" and _read(text, i)[0] == "/":
            return -1
        if i < 0:
            return -1


def _string_prefix(text: str, i: int, prefix: str, stack: list[str]) -> int:
    """After ``@`` or ``$`` in code: verbatim or interpolated strings (and ``$@``/``@$``)."""
    char, after = _read(text, i)
    if char == '"':
        if prefix == "@":
            return _skip_verbatim(text, after)
        stack.append(_INTERPOLATED)
        return after
    if char and char in "@$" and char != prefix:
        quote, after_quote = _read(text, after)
        if quote == '"':
            stack.append(_INTERPOLATED_VERBATIM)
            return after_quote
    return i


def _skip_string(text: str, i: int) -> int:
    while True:
        match = _STRING_STOP.search(text, i)
        if match is None:
            return -1
        char, i = _read(text, match.start())
        if char == '"':
            return i
        if char in "\r\n":
            return -1
        if char == "\\":
            escaped, i = _read(text, i)
            if escaped in ("", "\r", "\n"):
                return -1


def _skip_verbatim(text: str, i: int) -> int:
    while True:
        match = _VERBATIM_STOP.search(text, i)
        if match is None:
            return -1
        char, i = _read(text, match.start())
        if char == '"':
            following, after = _read(text, i)
            if following != '"':
                return i
            i = after


def _skip_char_literal(text: str, i: int) -> int:
    # A char literal is short; when no closing quote follows on the same line, the
    # apostrophe was not a literal after all and scanning goes on right after it.
    char, j = _read(text, i)
    if char == "\\":
        _, j = _read(text, j)
    while j < len(text):
        char, j = _read(text, j)
        if char == "'":
            return j
        if char in "\r\n":
            break
    return i


def _skip_comment(text: str, i: int) -> int:
    """After ``/`` in code: skip a line or block comment (a lone ``/`` is division)."""
    if text.startswith("/", i):
        match = _LINE_END.search(text, i)
        return -1 if match is None else match.end()
    if text.startswith("*", i):
        end = text.find("*/", i + 1)
        return -1 if end < 0 else end + 2
    return i


def _step_interpolated(text: str, i: int, stack: list[str]) -> int:
    verbatim = stack[-1] == _INTERPOLATED_VERBATIM
    stop = _INTERPOLATED_VERBATIM_STOP if verbatim else _INTERPOLATED_STOP
    match = stop.search(text, i)
    if match is None:
        return -1
    char, after = _read(text, match.start())
    following, after_following = _read(text, after)
    if char == '"':
        if verbatim and following == '"':
            return after_following
        stack.pop()
    elif char in "\r\n":
        return -1
    elif char == "\\":
        return -1 if following in ("", "\r", "\n") else after_following
    elif char in "{}":
        if following == char:
            return after_following
        if char == "{":
            stack.append("}")
    return after


class _MarkupScanner:
    def __init__(self, text: str, path: str, lines: LineIndex) -> None:
        self.text = text
        self.path = path
        self.lines = lines
        self.result = MarkupScan()

    def run(self) -> MarkupScan:
        text = self.text
        i: int | None = 0
        while i is not None and i < len(text):
            # Most markup holds no expression: one regular-expression match skips it.
            safe = _SAFE_RUN.match(text, i)
            if safe is not None:
                i = safe.end()
                if i >= len(text):
                    break
            i = self._markup(i) if text.startswith("<", i) else self._text_run(i)
        return self.result

    def _text_run(self, i: int) -> int | None:
        """Scan text from ``i``; return the offset of the next ``<`` (None at the end)."""
        start = _skip_whitespace(self.text, i)
        if self.text.startswith(_EXPRESSION_STARTS, start):
            end = self._expression(start)
            if end is None:
                return None
            i = end
        following = self.text.find("<", i)
        return following if following >= 0 else None

    def _markup(self, i: int) -> int | None:
        text = self.text
        if text.startswith("<!--", i):
            return self._after(text.find("-->", i + 4), 3)
        if text.startswith("<![CDATA[", i):
            return self._after(text.find("]]>", i + 9), 3)
        if text.startswith("<?", i):
            return self._after(text.find("?>", i + 2), 2)
        if text.startswith("</", i):
            return self._after(text.find(">", i + 2), 1)
        if _FORBIDDEN.match(text, i):
            self._fail(i, XML_FORBIDDEN, _forbidden_detail(text, i))
            return None
        return self._start_tag(i, [])

    @staticmethod
    def _after(found: int, length: int) -> int | None:
        return None if found < 0 else found + length

    def _start_tag(self, i: int, attributes: list[tuple[str, int]]) -> int | None:
        name = _TAG_NAME.match(self.text, i + 1)
        j = None if name is None else name.end()
        while j is not None:
            close = _TAG_CLOSE.match(self.text, j)
            if close is not None:
                return close.end()
            attribute = _ATTRIBUTE.match(self.text, j)
            if attribute is None:
                return None
            attributes.append((attribute.group(1), attribute.start(1)))
            j = self._attribute_value(attribute.end(), attribute.group(2))
        return None

    def _attribute_value(self, i: int, quote: str) -> int | None:
        start = _skip_whitespace(self.text, i)
        if self.text.startswith(_EXPRESSION_STARTS, start):
            end = self._expression(start, quote)
            if end is None:
                return None
            i = end
        return self._after(self.text.find(quote, i), 1)

    def _expression(self, start: int, quote: str = "") -> int | None:
        """Scan the expression at ``start`` (in an attribute delimited by ``quote``, or in
        text); its end, or None when it never closes (then reported)."""
        end = expression_end(self.text, start)
        if end is None:
            self._unbalanced(start, quote)
            return None
        self.result.expressions.append(ExpressionSpan(start, end, in_attribute=bool(quote)))
        return end

    def _unbalanced(self, start: int, quote: str) -> None:
        error = broken_expression_error(self.text, start, quote, self.lines, self.path)
        self.result.error = error
        self.result.error_offset = start

    def _fail(self, offset: int, code: str, detail: str) -> None:
        position = self.lines.position(offset)
        self.result.error = PolicySyntaxError(
            self.path, position.line, position.column, code, detail
        )
        self.result.error_offset = offset


def broken_expression_error(
    text: str,
    start: int,
    quote: str,
    lines: LineIndex,
    path: str,
    what: str = "never closes",
) -> PolicySyntaxError:
    """The error for the expression at ``start`` whose brackets or quotes do not pair up
    (in an attribute delimited by ``quote``, or in text): where its code goes wrong,
    judged on where it most likely ends, else where it opens."""
    opener = text[start : start + 2]
    opened = lines.position(start)
    raw = text[start : likely_end(text, start, quote)]
    problem = _locate_problem(decode_expression(raw)[1:])
    if problem is None:
        detail = f"policy expression '{opener}' {what}: check its brackets, string quotes "
        return PolicySyntaxError(
            path, opened.line, opened.column, EXPRESSION_UNBALANCED, detail + "and comments"
        )
    at = lines.position(start + raw_offset(raw, problem.offset + 1))
    detail = (
        f"policy expression '{opener}' (line {opened.line}, column {opened.column}) {what}: "
        f"{problem.message}"
    )
    return PolicySyntaxError(path, at.line, at.column, EXPRESSION_UNBALANCED, detail)


def attribute_quote(text: str, start: int) -> str:
    """The quote that delimits the attribute whose value starts (after spaces) at ``start``."""
    i = start - 1
    while i >= 0 and text[i] in _XML_WHITESPACE:
        i -= 1
    return text[i] if i >= 0 else ""


def likely_end(text: str, start: int, quote: str) -> int:
    """Where an expression that never closes was most likely meant to end: at the quote
    that ends its attribute (one followed by ``>``, ``/>`` or another attribute), or
    before the end tag that follows its text."""
    if quote in _ATTRIBUTE_ENDS:
        found = _ATTRIBUTE_ENDS[quote].search(text, start + 2)
        if found is not None:
            return found.start()
        line_end = _LINE_END.search(text, start)
        return len(text) if line_end is None else line_end.start()
    end_tag = text.find("</", start)
    return len(text) if end_tag < 0 else end_tag


def _locate_problem(code: str) -> SyntaxProblem | None:
    # The C# grammar is loaded only for a document that is already broken.
    from apimsync.policy.csharp import locate_syntax_problem

    code = code.rstrip()
    return locate_syntax_problem(code) if code else None


def _skip_whitespace(text: str, i: int) -> int:
    match = _WHITESPACE.match(text, i)
    return i if match is None else match.end()


def _forbidden_detail(text: str, i: int) -> str:
    kind = "entity" if text[i + 2 : i + 3].upper() == "E" else "DOCTYPE"
    return (
        f"{kind} declarations are not allowed in policies (they can define entities that "
        "expand without limit or read local files); remove it"
    )
