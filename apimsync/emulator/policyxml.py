"""Policy XML written back the way API Management writes it (catalogue §2.5).

The service parses a policy document and writes it out again: TAB indentation, CRLF
line endings, nothing before the first node, no newline after the last, empty elements
as ``<name />``, attribute values in double quotes, section order and comments kept.
An element holding text (``<value>true</value>``, an expression body) is written as it
came, only its line endings made CRLF: indentation never changes text a policy reads.

:func:`reserialise` takes well-formed XML (expressions entity-escaped, the ``xml`` form)
and works on the text, not on a parsed tree, so entity forms and attribute order stay
exactly as sent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

CRLF = "\r\n"
_TOKEN = re.compile(
    r"(?P<comment><!--.*?-->)"
    r"|(?P<cdata><!\[CDATA\[.*?\]\]>)"
    r"|(?P<pi><\?.*?\?>)"
    r"|(?P<end></\s*(?P<end_name>[^\s>]+)\s*>)"
    r"|(?P<start><(?P<name>[^\s/>!?]+)(?P<attrs>(?:\s+[^\s=/>]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*)\s*(?P<empty>/?)>)"
    r"|(?P<text>[^<]+)",
    re.DOTALL,
)
_ATTRIBUTE = re.compile(r"([^\s=]+)\s*=\s*(\"[^\"]*\"|'[^']*')")


@dataclass
class _Element:
    name: str
    attributes: str
    empty_tag: bool
    children: list[_Element | str] = field(default_factory=list)
    source_start: int = 0
    source_end: int = 0


def _attributes(raw: str) -> str:
    out = []
    for name, quoted in _ATTRIBUTE.findall(raw):
        value = quoted[1:-1]
        if quoted[0] == "'":
            value = value.replace('"', "&quot;")
        out.append(f' {name}="{value}"')
    return "".join(out)


def _crlf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", CRLF)


def _parse(text: str) -> list[_Element | str]:
    """Top-level nodes; markup nodes (comments, CDATA, PIs) stay as their source text."""
    root = _Element("", "", False)
    stack = [root]
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise ValueError(f"cannot read the policy document at offset {position}")
        kind = match.lastgroup if match.lastgroup != "end_name" else "end"
        if match.group("start"):
            element = _Element(
                match.group("name"), _attributes(match.group("attrs")), bool(match.group("empty"))
            )
            element.source_start = match.end()
            stack[-1].children.append(element)
            if not element.empty_tag:
                stack.append(element)
        elif match.group("end"):
            closing = stack.pop()
            closing.source_end = match.start()
        else:
            stack[-1].children.append(match.group(kind or "text"))
        position = match.end()
    return root.children


def _is_markup(node: _Element | str) -> bool:
    return isinstance(node, str) and node.startswith("<")


def _has_text(element: _Element) -> bool:
    return any(
        isinstance(child, str) and not _is_markup(child) and child.strip()
        for child in element.children
    )


def _write(node: _Element | str, depth: int, source: str, out: list[str]) -> None:
    indent = "\t" * depth
    if isinstance(node, str):
        out.append(indent + _crlf(node))
        return
    opening = f"<{node.name}{node.attributes}"
    if node.empty_tag:
        out.append(f"{indent}{opening} />")
        return
    if _has_text(node) or any(
        isinstance(c, str) and c.startswith("<![CDATA[") for c in node.children
    ):
        content = source[node.source_start : node.source_end]
        out.append(f"{indent}{opening}>{_crlf(content)}</{node.name}>")
        return
    nested = [c for c in node.children if not isinstance(c, str) or _is_markup(c)]
    if not nested:
        out.append(f"{indent}{opening}></{node.name}>")
        return
    out.append(f"{indent}{opening}>")
    for child in nested:
        _write(child, depth + 1, source, out)
    out.append(f"{indent}</{node.name}>")


def reserialise(xml_text: str) -> str:
    """``xml_text`` as the service stores and returns it; ValueError if it cannot be read."""
    source = xml_text.lstrip("\ufeff")
    nodes = [n for n in _parse(source) if not (isinstance(n, str) and not _is_markup(n))]
    out: list[str] = []
    for node in nodes:
        _write(node, 0, source, out)
    return CRLF.join(out)
