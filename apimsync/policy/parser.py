"""The tolerant policy parser: policy XML as API Management accepts it, into an ElementTree.

Expressions are found first (:mod:`apimsync.policy.expressions`) and replaced with
placeholders that are safe in XML; ElementTree's C parser (expat) then builds the tree,
and the placeholders are replaced by the expressions' text again. A DOCTYPE, and so any
entity declaration, is refused before the XML parser sees the document (and again by the
parser's target), so nothing can expand entities or read external ones. Elements may
nest at most :data:`MAX_DEPTH` levels deep (everything that walks the tree recurses).

Positions (1-based line and column of the original text) are worked out only when asked
for, from the text, since most documents are read without any finding to report.
Namespaces are resolved as ElementTree does (``{uri}local``).

Unlike plain XML, an expression in an attribute keeps its line breaks and tabs (XML
would turn them into spaces), because they can matter to C# (``//`` comments, strings).
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import NoReturn
from xml.etree.ElementTree import Element, ParseError, TreeBuilder, XMLParser

from apimsync.policy.expressions import (
    EXPRESSION_UNBALANCED,
    XML_FORBIDDEN,
    XML_SYNTAX,
    ExpressionSpan,
    LineIndex,
    PolicySyntaxError,
    Position,
    attribute_quote,
    broken_expression_error,
    decode_expression,
    raw_offset,
    scan_markup,
    start_tag_attributes,
)

__all__ = [
    "EXPRESSION_UNBALANCED",
    "XML_FORBIDDEN",
    "XML_SYNTAX",
    "DocumentExpression",
    "PolicyComment",
    "PolicyDocument",
    "PolicySyntaxError",
    "Position",
    "parse_policy",
]

# Private-use characters never mean anything to XML or C#; a document that already uses
# one gets another as its placeholder marker.
_MARKER_RANGES = (range(0xE000, 0xF900), range(0xF0000, 0xFFFFE), range(0x100000, 0x10FFFE))
# In a document the XML parser accepted, every '<' outside comments, CDATA and processing
# instructions starts a tag.
_MARKUP = re.compile(
    r"<!--(?P<comment>.*?)-->|<!\[CDATA\[.*?\]\]>|<\?.*?\?>|</|(?P<tag><)", re.DOTALL
)
_START_TAG = re.compile(r"""<[^>"']*(?:(?:"[^"]*"|'[^']*')[^>"']*)*>""")
_NAMESPACE_DECLARATION = re.compile(
    r"""[ \t\r\n]xmlns(?::([^ \t\r\n=]+))?[ \t\r\n]*=[ \t\r\n]*(?:"([^"]*)"|'([^']*)')"""
)
_DOCTYPE = re.compile(r"<!DOCTYPE", re.IGNORECASE)
MAX_DEPTH = 100
"""The deepest nesting of elements a policy document may have."""
_LINE_BREAK = re.compile(r"\r\n?|\n")
_NOT_XML_CHARACTER = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


@dataclass(frozen=True)
class PolicyComment:
    """An XML comment of a policy document (not policy content) and where it starts."""

    position: Position
    text: str


@dataclass(frozen=True)
class DocumentExpression:
    """An expression of a document: its offset in the text, its raw text (as written,
    perhaps entity-escaped) and its meaning (decoded), both from its ``@``, and the raw
    text that follows it in the same attribute value or run of text (normally none)."""

    start: int
    raw: str
    text: str
    in_attribute: bool
    trailing: str


@dataclass(frozen=True)
class PolicyDocument:
    """A parsed policy document: an ElementTree tree plus where each part came from."""

    path: str
    root: Element
    _source: _Source | None = field(default=None, compare=False, repr=False)

    @property
    def comments(self) -> tuple[PolicyComment, ...]:
        """The document's comments, in document order (they are not in the tree)."""
        if self._source is None:
            return ()
        position = self._source.lines.position
        layout = self._source.layout
        return tuple(PolicyComment(position(offset), text) for offset, text in layout.comments)

    @property
    def namespace_prefixes(self) -> Mapping[str, str]:
        """Namespace URI -> the prefix first declared for it ("" for a default namespace)."""
        return {} if self._source is None else self._source.prefixes

    @property
    def expressions(self) -> tuple[DocumentExpression, ...]:
        """Every policy expression of the document, in document order."""
        return () if self._source is None else self._source.expressions

    def expression_position(self, expression: DocumentExpression, offset: int) -> Position:
        """Where the character at ``offset`` of an expression's meaning is written."""
        if self._source is None:
            return Position(1, 1)
        at = expression.start + raw_offset(expression.raw + expression.trailing, offset)
        return self._source.lines.position(at)

    def position(self, element: Element) -> Position:
        """Where the element's start tag ``<`` is; ValueError for an element not parsed here."""
        source, offset = self._locate(element)
        return source.lines.position(offset)

    def attribute_position(self, element: Element, name: str) -> Position:
        """Where the attribute's name is (``{uri}local`` for namespaced ones), else the element."""
        source, offset = self._locate(element)
        return source.lines.position(source.attribute_offset(offset, element, name))

    def iter_with_parents(self) -> Iterator[tuple[Element, Element | None]]:
        """Every element in document order, with its parent (None for the root)."""
        stack: list[tuple[Element, Element | None]] = [(self.root, None)]
        while stack:
            element, parent = stack.pop()
            yield element, parent
            stack.extend((child, element) for child in reversed(element))

    def _locate(self, element: Element) -> tuple[_Source, int]:
        source = self._source
        located = None if source is None else source.layout.elements.get(id(element))
        if source is None or located is None or located[0] is not element:
            raise ValueError(f"<{element.tag}> was not read from {self.path}")
        return source, located[1]


def parse_policy(text: str, path: str = "<policy>") -> PolicyDocument:
    """Parse a policy document (raw or entity-escaped expressions); raises PolicySyntaxError."""
    text = text.removeprefix("\ufeff")
    lines = LineIndex(text)
    _check_characters(text, path, lines)
    scan = scan_markup(text, path, lines)
    if scan.error is not None:
        # An XML error before the scanner's error is the first problem: report that one.
        _Source(text[: scan.error_offset], scan.expressions, path, lines).check()
        raise scan.error
    source = _Source(text, scan.expressions, path, lines)
    return PolicyDocument(path, source.parse(), source)


def _check_characters(text: str, path: str, lines: LineIndex) -> None:
    # The XML parser never sees expressions, so characters XML forbids are looked for here.
    found = _NOT_XML_CHARACTER.search(text)
    if found is not None:
        position = lines.position(found.start())
        detail = f"character U+{ord(found.group()):04X} is not allowed in XML"
        raise PolicySyntaxError(path, position.line, position.column, XML_SYNTAX, detail)


@dataclass
class _Layout:
    elements: dict[int, tuple[Element, int]]  # the element is kept so its id() stays unique
    comments: list[tuple[int, str]]
    prefixes: dict[str, str]


class _Forbidden(Exception):
    pass


class _TooDeep(Exception):
    def __init__(self, start_tags: int) -> None:
        super().__init__(start_tags)
        self.start_tags = start_tags
        """How many start tags the parser had seen, the one too deep included."""


class _Target(TreeBuilder):
    def __init__(self) -> None:
        super().__init__()
        self._depth = 0
        self._starts = 0

    def doctype(self, name: str, pubid: str | None, system: str | None) -> None:
        raise _Forbidden

    def start(self, tag: str, attrs: dict[str, str]) -> Element:
        self._starts += 1
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise _TooDeep(self._starts)
        return super().start(tag, attrs)

    def end(self, tag: str) -> Element:
        self._depth -= 1
        return super().end(tag)


class _Source:
    """A document with each expression replaced by ``marker index marker`` (``text``)."""

    def __init__(self, text: str, spans: list[ExpressionSpan], path: str, lines: LineIndex) -> None:
        self.original = text
        self.path = path
        self.lines = lines
        self.spans = spans
        self.restored = [decode_expression(text[span.start : span.end]) for span in spans]
        self.marker = _choose_marker(text, path) if spans else "\ue000"
        self._original_starts = [span.start for span in spans]
        self._original_ends = [span.end for span in spans]
        self._starts: list[int] = []
        self._ends: list[int] = []
        self.text = self._protect(text, spans)
        self.elements: list[Element] = []

    def _protect(self, text: str, spans: list[ExpressionSpan]) -> str:
        pieces: list[str] = []
        length = previous = 0
        for index, span in enumerate(spans):
            placeholder = f"{self.marker}{index}{self.marker}"
            pieces += (text[previous : span.start], placeholder)
            length += span.start - previous
            self._starts.append(length)
            length += len(placeholder)
            self._ends.append(length)
            previous = span.end
        pieces.append(text[previous:])
        return "".join(pieces)

    def check(self) -> None:
        """Raise the first XML error of a document that is cut short (its end is not read)."""
        with self._xml_errors():
            XMLParser(target=_Target()).feed(self.text)

    def parse(self) -> Element:
        with self._xml_errors():
            parser = XMLParser(target=_Target())
            parser.feed(self.text)
            root: Element = parser.close()
        self.elements = list(root.iter())  # before anyone can change the tree
        if self.restored:
            self._restore_expressions()
        return root

    @contextmanager
    def _xml_errors(self) -> Iterator[None]:
        try:
            yield
        except ParseError as error:
            self._xml_error(error)
        except _Forbidden:
            found = _DOCTYPE.search(self.text)
            offset = self.original_offset(found.start()) if found else 0
            self._raise(offset, "DOCTYPE declarations are not allowed in policies", XML_FORBIDDEN)
        except _TooDeep as deep:
            tags = (m for m in _MARKUP.finditer(self.text) if m.group("tag") is not None)
            at = next(itertools.islice(tags, deep.start_tags - 1, None), None)
            offset = self.original_offset(at.start()) if at else 0
            self._raise(offset, f"elements nest deeper than {MAX_DEPTH} levels")

    def _restore_expressions(self) -> None:
        marker, restore = self.marker, self.restore
        for element in self.elements:
            if element.text and marker in element.text:
                element.text = restore(element.text)
            if element.tail and marker in element.tail:
                element.tail = restore(element.tail)
            for name, value in list(element.attrib.items()):
                if marker in value:
                    element.attrib[name] = restore(value)

    def restore(self, value: str) -> str:
        return _placeholder_pattern(self.marker).sub(
            lambda match: self.restored[int(match.group(1))], value
        )

    @cached_property
    def expressions(self) -> tuple[DocumentExpression, ...]:
        return tuple(
            DocumentExpression(
                span.start,
                self.original[span.start : span.end],
                text,
                span.in_attribute,
                self._trailing(span),
            )
            for span, text in zip(self.spans, self.restored, strict=True)
        )

    def _trailing(self, span: ExpressionSpan) -> str:
        if span.in_attribute:
            quote = attribute_quote(self.original, span.start)
            end = self.original.find(quote, span.end) if quote else -1
        else:
            end = self.original.find("<", span.end)
        return self.original[span.end : end if end >= 0 else len(self.original)]

    @property
    def prefixes(self) -> dict[str, str]:
        """The layout's namespace prefixes, without working the layout out for a document
        that declares none (the canonical writer asks every document)."""
        return self.layout.prefixes if "xmlns" in self.text else {}

    @cached_property
    def layout(self) -> _Layout:
        """Where elements and comments start, and the namespace prefixes the document uses."""
        offsets: list[int] = []
        comments: list[tuple[int, str]] = []
        prefixes: dict[str, str] = {}
        declares = "xmlns" in self.text
        for match in _MARKUP.finditer(self.text):
            if match.group("tag") is not None:
                offsets.append(self.original_offset(match.start()))
                if declares:
                    self._note_prefixes(match.start(), prefixes)
            elif match.group("comment") is not None:
                text = _LINE_BREAK.sub("\n", match.group("comment"))
                comments.append((self.original_offset(match.start()), text))
        elements = {id(e): (e, offset) for e, offset in zip(self.elements, offsets, strict=False)}
        return _Layout(elements, comments, prefixes)

    def _note_prefixes(self, offset: int, prefixes: dict[str, str]) -> None:
        tag = _START_TAG.match(self.text, offset)
        if tag is None:
            return
        for declaration in _NAMESPACE_DECLARATION.finditer(tag.group()):
            prefix, double_quoted, single_quoted = declaration.groups()
            uri = decode_expression(double_quoted if single_quoted is None else single_quoted)
            prefixes.setdefault(uri, prefix or "")

    def attribute_offset(self, offset: int, element: Element, name: str) -> int:
        """The offset of the attribute's name in the start tag at ``offset``, else ``offset``."""
        attributes = [
            (raw_name, found)
            for raw_name, found in start_tag_attributes(self.original, offset)
            if raw_name != "xmlns" and not raw_name.startswith("xmlns:")
        ]
        local, prefixed = name.rpartition("}")[2], name.startswith("{")
        candidates = [
            found
            for raw_name, found in attributes
            if raw_name.rpartition(":")[2] == local and (":" in raw_name) == prefixed
        ]
        if len(candidates) == 1:
            return candidates[0]
        # Two prefixes, one local name: ElementTree keeps attributes in document order.
        for key, (raw_name, found) in zip(element.attrib, attributes, strict=False):
            if key == name and raw_name.rpartition(":")[2] == local:
                return found
        return offset

    def original_offset(self, offset: int) -> int:
        """The offset in the original text of an offset in the protected text."""
        span = bisect.bisect_right(self._starts, offset) - 1
        if span < 0:
            return offset
        if offset < self._ends[span]:
            return self._original_starts[span]
        return offset - self._ends[span] + self._original_ends[span]

    def _xml_error(self, error: ParseError) -> NoReturn:
        line, column = error.position
        starts = [0, *(match.end() for match in _LINE_BREAK.finditer(self.text))]
        offset = starts[min(max(line, 1), len(starts)) - 1] + column
        reason = str(error).rpartition(": line ")[0] or "syntax error"
        offset = self.original_offset(min(offset, len(self.text)))
        self._expression_ending_early(offset)
        self._raise(offset, f"not well-formed XML: {reason}")

    def _expression_ending_early(self, offset: int) -> None:
        """An XML error after an expression that closed before its attribute value or
        text did is that expression's: it lost a bracket or quote, and the code after
        where it closed is not XML. (No real policy has text after an expression.)"""
        for span in self.spans:
            if span.start >= offset:
                return
            if self._trailing(span).strip(" \t\r\n"):
                quote = attribute_quote(self.original, span.start) if span.in_attribute else ""
                raise broken_expression_error(
                    self.original, span.start, quote, self.lines, self.path, "ends too early"
                )

    def _raise(self, offset: int, detail: str, code: str = XML_SYNTAX) -> NoReturn:
        position = self.lines.position(offset)
        raise PolicySyntaxError(self.path, position.line, position.column, code, detail)


def _choose_marker(text: str, path: str) -> str:
    if "\ue000" not in text:
        return "\ue000"
    used = set(text)
    for codes in _MARKER_RANGES:
        for code in codes:
            if chr(code) not in used:
                return chr(code)
    raise PolicySyntaxError(
        path, 1, 1, XML_SYNTAX, "the document uses every private-use character; not a policy"
    )


@lru_cache(maxsize=8)
def _placeholder_pattern(marker: str) -> re.Pattern[str]:
    return re.compile(f"{marker}([0-9]+){marker}")
