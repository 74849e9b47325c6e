"""The canonical text of a policy document, for comparing and diffing.

One element per line, indented by two spaces, attributes sorted, ``"`` quotes, empty
elements as ``<name />``, no comments, whitespace-only text dropped and other text
stripped of leading and trailing whitespace. Expressions are written verbatim (raw, not
entity-escaped, line breaks kept); other text is escaped as XML. The result parses with
:func:`parse_policy` again to the same canonical text.

Namespaced elements (in ``set-body`` payloads, say) keep the prefixes their document
declared; a default namespace is declared on the first element that uses it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from xml.etree.ElementTree import Element

from apimsync.policy.expressions import expression_end
from apimsync.policy.parser import PolicyDocument, parse_policy

_INDENT = "  "
_WHITESPACE = " \t\r\n"
_EXPRESSION_STARTS = ("@(", "@{")
_XML_NAMESPACE = "http://www.w3.org/XML/1998/namespace"
_TEXT_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})
_ATTRIBUTE_ESCAPES = str.maketrans(
    {"&": "&amp;", "<": "&lt;", '"': "&quot;", "\t": "&#9;", "\n": "&#10;", "\r": "&#13;"}
)


def canonical_policy(source: str | PolicyDocument) -> str:
    """The canonical text of a policy (text is parsed first; raises PolicySyntaxError)."""
    document = parse_policy(source) if isinstance(source, str) else source
    return _Writer(document.namespace_prefixes).write(document.root)


def policies_equal(a: str | PolicyDocument, b: str | PolicyDocument) -> bool:
    """Whether two policies mean the same (their canonical texts are equal)."""
    return canonical_policy(a) == canonical_policy(b)


@dataclass(frozen=True)
class _Scope:
    prefixes: Mapping[str, str]  # namespace URI -> prefix
    uris: Mapping[str, str]  # prefix -> namespace URI
    default: str | None = None


_Work = str | tuple[Element, int, _Scope]


class _Writer:
    def __init__(self, preferred_prefixes: Mapping[str, str]) -> None:
        self.preferred = preferred_prefixes
        self._generated = 0

    def write(self, root: Element) -> str:
        lines: list[str] = []
        # An explicit stack rather than recursion: documents may nest deeply.
        work: list[_Work] = [(root, 0, _Scope({}, {}))]
        while work:
            item = work.pop()
            if isinstance(item, str):
                lines.append(item)
            else:
                work.extend(reversed(self._element(*item)))
        return "\n".join(lines) + "\n"

    def new_prefix(self, scope: _Scope) -> str:
        while True:
            prefix = f"ns{self._generated}"
            self._generated += 1
            if prefix not in scope.uris:
                return prefix

    def _element(self, element: Element, depth: int, scope: _Scope) -> list[_Work]:
        tag, start, scope = self._start_tag(element, scope)
        indent = _INDENT * depth
        text = _significant(element.text)
        if not any(isinstance(child.tag, str) or _significant(child.tail) for child in element):
            if text is None:
                return [f"{indent}{start} />"]
            return [f"{indent}{start}>{_text(text)}</{tag}>"]
        inner = indent + _INDENT
        items: list[_Work] = [f"{indent}{start}>"]
        if text is not None:
            items.append(inner + _text(text))
        for child in element:
            if isinstance(child.tag, str):  # comments and processing instructions are skipped
                items.append((child, depth + 1, scope))
            tail = _significant(child.tail)
            if tail is not None:
                items.append(inner + _text(tail))
        items.append(f"{indent}</{tag}>")
        return items

    def _start_tag(self, element: Element, scope: _Scope) -> tuple[str, str, _Scope]:
        """The element's name, its start tag without the closing ``>``, and the scope of
        its children."""
        tag = str(element.tag)
        attributes = sorted(element.attrib.items())
        if scope.default is None and not _namespaced(tag, attributes):
            # Most policies use no namespace: every name is written as it is.
            written = [f'{key}="{_attribute_text(value)}"' for key, value in attributes]
            return tag, " ".join(["<" + tag, *written]), scope
        names = _Names(self, scope)
        tag = names.element(tag)
        named = sorted((names.attribute(key), _attribute_text(value)) for key, value in attributes)
        start = " ".join(
            ["<" + tag, *names.declarations, *(f'{name}="{value}"' for name, value in named)]
        )
        return tag, start, names.scope


def _namespaced(tag: str, attributes: list[tuple[str, str]]) -> bool:
    return tag.startswith("{") or any(key.startswith("{") for key, _ in attributes)


class _Names:
    """Qualified names for one element, declaring namespaces where the scope lacks them."""

    def __init__(self, writer: _Writer, scope: _Scope) -> None:
        self._writer = writer
        self.scope = scope
        self.declarations: list[str] = []

    def element(self, name: str) -> str:
        uri, local = _split(name)
        if uri is None:
            if self.scope.default is not None:
                self._declare_default(None)
            return local
        if uri == _XML_NAMESPACE:
            return f"xml:{local}"
        if self._writer.preferred.get(uri) == "":
            if self.scope.default != uri:
                self._declare_default(uri)
            return local
        return f"{self._prefix(uri)}:{local}"

    def attribute(self, name: str) -> str:
        uri, local = _split(name)
        if uri is None:
            return local
        if uri == _XML_NAMESPACE:
            return f"xml:{local}"
        return f"{self._prefix(uri)}:{local}"

    def _prefix(self, uri: str) -> str:
        bound = self.scope.prefixes.get(uri)
        if bound is not None:
            return bound
        prefix = self._writer.preferred.get(uri, "")
        if not prefix or prefix in self.scope.uris or prefix.lower().startswith("xml"):
            prefix = self._writer.new_prefix(self.scope)
        self.declarations.append(f'xmlns:{prefix}="{_escape_attribute(uri)}"')
        self.scope = _Scope(
            {**self.scope.prefixes, uri: prefix},
            {**self.scope.uris, prefix: uri},
            self.scope.default,
        )
        return prefix

    def _declare_default(self, uri: str | None) -> None:
        self.declarations.append(f'xmlns="{_escape_attribute(uri or "")}"')
        self.scope = _Scope(self.scope.prefixes, self.scope.uris, uri)


def _split(name: str) -> tuple[str | None, str]:
    if name.startswith("{"):
        uri, _, local = name[1:].partition("}")
        return uri, local
    return None, name


def _significant(text: str | None) -> str | None:
    if text is None:
        return None
    return text.strip(_WHITESPACE) or None


def _text(text: str) -> str:
    return _verbatim_expression(text, _TEXT_ESCAPES)


def _attribute_text(value: str) -> str:
    return _verbatim_expression(value, _ATTRIBUTE_ESCAPES)


def _verbatim_expression(value: str, escapes: dict[int, str]) -> str:
    """The value escaped as XML, except an expression at its start, which stays raw."""
    start = len(value) - len(value.lstrip(_WHITESPACE))
    if not value.startswith(_EXPRESSION_STARTS, start):
        return value.translate(escapes)
    end = expression_end(value, start) or len(value)
    return value[:start].translate(escapes) + value[start:end] + value[end:].translate(escapes)


def _escape_attribute(value: str) -> str:
    return value.translate(_ATTRIBUTE_ESCAPES)
