"""The C# syntax of policy expressions, read with tree-sitter's C# grammar.

An expression's code (``(...)`` or ``{...}``, without the ``@``) is wrapped in a method
body so that the grammar can read it: ``(...)`` becomes ``return (...);`` and ``{...}``
the method's block. Positions come back as character offsets into the code: the
wrapper's prefix is ASCII without a line break, so a node's offset is its byte offset
less the prefix, converted from UTF-8 bytes to characters.

tree-sitter recovers from errors instead of stopping at the first one, and the nodes it
marks (``ERROR`` spans, ``MISSING`` tokens) are often wider than the mistake or away
from it. :func:`syntax_problem` therefore looks, around the first marked node, for the
latest place where one token added or removed makes the code valid: that is where a
compiler, reading from the left, notices the mistake (``';' expected`` right after the
statement that lacks it, ``unexpected ')'`` at a bracket with no partner).

tree-sitter is imported on first use, so commands that read no expression never load it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tree_sitter import Node, Parser, Tree

_PARENTHESES_WRAPPER = ("class __P{object __E(){return ", ";}}")
_BLOCK_WRAPPER = ("class __P{object __E()", "}")

# The single-token edits tried when looking for the place of a syntax error, in order of
# preference at one place: what is most often left out first.
_INSERTIONS = (";", ")", "]", "}", '"', "(", "[", "{", ",")
_REMOVABLE = frozenset('()[]{};,"')
_PARTNERS = {")": "(", "]": "[", "}": "{", "(": ")", "[": "]", "{": "}"}
# How far around tree-sitter's first error node repairs are tried, and how much code (in
# characters, summed over the attempts) may be parsed looking for one: an expression of
# 100 characters can try 2,000 edits, one of 1,000 characters 200.
_WINDOW_MARGIN = 24
_REPAIR_BUDGET = 200_000
_MAX_SURPLUS_TRIES = 40
_WORD = re.compile(r"\w", re.ASCII)


@cache
def _parser() -> Parser:
    from tree_sitter import Language, Parser
    from tree_sitter_c_sharp import language

    return Parser(Language(language()))


@dataclass(frozen=True)
class ParsedCode:
    """An expression's code (from its opening bracket) and its tree-sitter tree."""

    code: str
    tree: Tree
    prefix_bytes: int

    @property
    def root(self) -> Node:
        return self.tree.root_node

    @property
    def has_error(self) -> bool:
        return self.tree.root_node.has_error

    def offset(self, byte: int) -> int:
        """The character offset into the code of a byte offset of the wrapped source,
        clamped to the code (error nodes may start or end in the wrapper)."""
        inside = min(max(byte - self.prefix_bytes, 0), len(self.code.encode("utf-8")))
        if self.code.isascii():
            return inside
        return len(self.code.encode("utf-8")[:inside].decode("utf-8", errors="ignore"))

    def start(self, node: Node) -> int:
        return self.offset(node.start_byte)

    def end(self, node: Node) -> int:
        return self.offset(node.end_byte)


def parse_code(code: str) -> ParsedCode:
    """Parse an expression's code, ``(...)`` or ``{...}``."""
    prefix, suffix = _BLOCK_WRAPPER if code.startswith("{") else _PARENTHESES_WRAPPER
    source = (prefix + code + suffix).encode("utf-8", errors="replace")
    return ParsedCode(code, _parser().parse(source), len(prefix))


def _is_valid(code: str) -> bool:
    prefix, suffix = _BLOCK_WRAPPER if code.startswith("{") else _PARENTHESES_WRAPPER
    source = (prefix + code + suffix).encode("utf-8", errors="replace")
    return not _parser().parse(source).root_node.has_error


@dataclass(frozen=True)
class SyntaxProblem:
    """A syntax error: where in the code (characters) and what, as a compiler says it."""

    offset: int
    message: str


def syntax_problem(parsed: ParsedCode) -> SyntaxProblem | None:
    """The first syntax error of the code, or None when it is valid C#.

    Repairs are tried on the first line whose quotes do not pair up, then around
    tree-sitter's first error node, then before it (a mistake shows at or after where it
    is), then after it (code whose end was only guessed may need its last bracket), until
    the parsing budget is spent."""
    if not parsed.has_error:
        return None
    code = parsed.code
    first = _first_error(parsed.root)
    # The mistake is often just before the first error node, across line breaks.
    low = _previous_token_end(parsed, parsed.start(first)) - _WINDOW_MARGIN
    high = parsed.end(first) + _WINDOW_MARGIN
    regions = [(low, high), (0, low - 1), (high + 1, len(code))]
    quote_line = _unpaired_quote_line(code)
    if quote_line is not None:
        regions.insert(0, quote_line)
    return _surplus_closer(code) or _repair(code, regions) or _describe(parsed, first)


def locate_syntax_problem(code: str) -> SyntaxProblem | None:
    """The syntax error of code that may be cut short or run on (an expression whose
    end was guessed), or None when it is valid C#."""
    return syntax_problem(parse_code(code))


def _first_error(node: Node) -> Node:
    """The first ERROR or MISSING node in document order. A node that has an error but
    no erroneous child hides a MISSING token tree-sitter does not expose: that node."""
    while True:
        if node.is_error or node.is_missing:
            return node
        child = next((c for c in node.children if c.has_error or c.is_missing), None)
        if child is None:
            return node
        node = child


def _repair(code: str, regions: list[tuple[int, int]]) -> SyntaxProblem | None:
    """The latest single-token repair in the first region (character offsets, low to
    high) that has one."""
    useful = _useful_edits(code)
    budget = _REPAIR_BUDGET
    for low, high in regions:
        for place in _places(code, max(low, 1), min(high, len(code))):
            for edit, fixed in _edits(code, place, useful):
                budget -= len(fixed)
                if budget < 0:
                    return None
                if _is_valid(fixed):
                    return _problem(code, place, edit)
    return None


def _surplus_closer(code: str) -> SyntaxProblem | None:
    """Where closers outnumber openers (an opener went missing), the last closer whose
    removal makes the code valid: the bracket a compiler finds without partner. (An
    opener could often be added in several places, most of them wrong.)"""
    for closer in ")]}":
        opener = _PARTNERS[closer]
        if code.count(closer) <= code.count(opener):
            continue
        place = len(code)
        for _ in range(min(_MAX_SURPLUS_TRIES, _REPAIR_BUDGET // max(len(code), 1))):
            place = code.rfind(closer, 0, place)
            if place < 0:
                break
            if _is_valid(code[:place] + code[place + 1 :]):
                return SyntaxProblem(place, f"unexpected '{closer}'")
    return None


def _unpaired_quote_line(code: str) -> tuple[int, int] | None:
    """The first line whose double quotes do not pair up (a regular string literal ends on
    its line, so that is where one lost a quote), as offsets; None if every line pairs."""
    start = 0
    for line in code.splitlines(keepends=True):
        quotes = line.count('"') - line.count('\\"') - line.count("'\"'")
        if quotes % 2:
            return start, start + len(line.rstrip("\r\n"))
        start += len(line)
    return None


def _useful_edits(code: str) -> frozenset[str]:
    """The edits that can make the code valid, judged by counting characters: a bracket
    is added only where its kind has more openers than closers (or removed where it has
    more of its own), a quote only where quotes do not pair up. Brackets and quotes in
    strings, comments and character literals can mislead the count; a repair missed that
    way leaves tree-sitter's own account of the error."""
    useful: set[str] = set()
    for bracket, partner in _PARTNERS.items():
        if code.count(partner) > code.count(bracket):
            useful.add(bracket)
        elif code.count(bracket) > code.count(partner):
            useful.add("-" + bracket)
    if not useful:  # where brackets do not pair up, no other single edit can help
        useful.update((";", "-;", ",", "-,"))
    if (code.count('"') - code.count('\\"')) % 2:
        useful.update(('"', '-"'))
    return frozenset(useful)


def _places(code: str, low: int, high: int) -> Iterator[int]:
    """Token boundaries from ``high`` down to ``low``: around punctuation, between words
    and spaces (so inside string literals too, where a quote may be missing)."""
    for place in range(high, low - 1, -1):
        if place in (0, len(code)) or _boundary(code[place - 1], code[place]):
            yield place


def _boundary(before: str, after: str) -> bool:
    if before.isspace() and after.isspace():
        return False
    return not (_WORD.match(before) and _WORD.match(after))


def _edits(code: str, place: int, useful: frozenset[str]) -> Iterator[tuple[str, str]]:
    """Each useful edit at ``place`` (``-X`` removes the X there) and the code it gives.
    A token is added only right after another: after spaces it would change nothing."""
    if place < len(code) and code[place] in _REMOVABLE and "-" + code[place] in useful:
        yield "-" + code[place], code[:place] + code[place + 1 :]
    if place < len(code) and code[place - 1].isspace():
        return
    for token in _INSERTIONS:
        if token in useful:
            yield token, code[:place] + token + code[place:]


def _problem(code: str, place: int, edit: str) -> SyntaxProblem:
    if edit in ('"', '-"'):
        return SyntaxProblem(_unpaired_quote(code, place, edit), _UNPAIRED_QUOTE)
    if edit.startswith("-"):
        return SyntaxProblem(place, f"unexpected '{edit[1:]}'")
    # A compiler puts a missing token right after the token before it.
    earlier = _previous_token_end(parse_code(code), place)
    if earlier < place and _is_valid(code[:earlier] + edit + code[earlier:]):
        place = earlier
    return SyntaxProblem(place, f"'{edit}' expected")


def _previous_token_end(parsed: ParsedCode, place: int) -> int:
    """Where the last token before ``place`` ends: back over spaces and comments."""
    ends = [
        parsed.end(leaf)
        for leaf in leaves(parsed.root)
        if "comment" not in leaf.type and leaf.end_byte > leaf.start_byte
    ]
    return max((end for end in ends if end <= place), default=place)


def _leaves_and_errors(node: Node) -> Iterator[Node]:
    """ERROR and MISSING nodes below ``node`` (itself included), in document order."""
    stack = [node]
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            yield node
        stack.extend(reversed(node.children))


def leaves(node: Node) -> Iterator[Node]:
    """The tokens below ``node``, in document order."""
    stack = [node]
    while stack:
        node = stack.pop()
        if node.child_count == 0:
            yield node
        stack.extend(reversed(node.children))


_UNPAIRED_QUOTE = "this '\"' has no partner: a string literal is not opened or not closed"


def _unpaired_quote(code: str, place: int, edit: str) -> int:
    """Where the quote that lost its partner is. Removing a quote repaired the code: that
    one. Adding one did: the other end of the string literal the added quote belongs to."""
    if edit == '-"':
        return place
    fixed = parse_code(code[:place] + '"' + code[place:])
    node = fixed.root.descendant_for_byte_range(
        fixed.prefix_bytes + len(code[:place].encode("utf-8")),
        fixed.prefix_bytes + len(code[: place + 1].encode("utf-8")),
    )
    while node is not None and "string" not in node.type:
        node = node.parent
    if node is None:
        return place
    start, end = fixed.start(node), fixed.end(node)
    opening = fixed.code.find('"', start, end)  # after a '$' or '@' prefix
    other = end - 1 if opening == place else opening
    # The offset in the code without the added quote.
    return other - 1 if other > place else other


def _describe(parsed: ParsedCode, node: Node) -> SyntaxProblem:
    """What tree-sitter itself says about its first error node (or the first error
    inside it: a wide ERROR span often holds the precise one)."""
    inner = next((n for n in _leaves_and_errors(node) if n is not node), None)
    node = node if inner is None else inner
    offset = parsed.start(node)
    if node.is_missing:
        return SyntaxProblem(offset, f"'{node.type}' expected")
    text = parsed.code[offset : parsed.end(node)].strip()
    if node.is_error and text:
        words = text.split()
        shown = " ".join(words[:4]) + (" ..." if len(words) > 4 else "")
        return SyntaxProblem(offset, f"unexpected '{shown}'")
    # A node that hides a MISSING token (an operand, say): name the token that follows.
    following = len(parsed.code) - len(parsed.code[offset:].lstrip())
    token = next((leaf for leaf in leaves(parsed.root) if parsed.start(leaf) >= following), None)
    if token is None or parsed.start(token) >= len(parsed.code):
        return SyntaxProblem(offset, "incomplete code: something is missing here")
    shown = parsed.code[parsed.start(token) : parsed.end(token)]
    return SyntaxProblem(parsed.start(token), f"something is missing before '{shown}'")
