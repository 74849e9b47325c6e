"""JSON text as the APIOps tools write it.

The toolkit (.NET) writes with System.Text.Json: two-space indentation and the default
JavaScript encoder, which escapes ``"`` as ``\\u0022``, ``'`` as ``\\u0027``, the HTML
characters ``& + < > ```` and everything outside ASCII as ``\\uXXXX``. apiops-cli
(JavaScript) writes ``JSON.stringify(value, null, 2)``: ``\\"`` and characters as they
are. A rewritten file keeps the escaping it had; a new one gets its flavour's.
"""

from __future__ import annotations

import enum
import json
import math
import re
from typing import Any


class Escaping(enum.Enum):
    DOTNET = "dotnet"
    JAVASCRIPT = "javascript"


_DOTNET_MARKS = re.compile(r"\\u[0-9A-F]{4}")
_JAVASCRIPT_MARKS = re.compile(r"\\\"|[^\x00-\x7f]|'|[<>&+`]")
_SHORT = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_DOTNET_ESCAPED = frozenset("\"&'+<>`")


def escaping_of(text: str) -> Escaping | None:
    """The escaping a JSON text shows, or None when it shows none (plain ASCII text)."""
    if _DOTNET_MARKS.search(text):
        return Escaping.DOTNET
    if _JAVASCRIPT_MARKS.search(_strings_only(text)):
        return Escaping.JAVASCRIPT
    return None


def _strings_only(text: str) -> str:
    return "".join(re.findall(r'"(?:[^"\\]|\\.)*"', text))


def dumps(value: Any, escaping: Escaping, indent: int = 2) -> str:
    """``value`` as indented JSON text, escaped as ``escaping`` says."""
    parts: list[str] = []
    _write(value, escaping, indent, 0, parts)
    return "".join(parts)


def _write(value: Any, escaping: Escaping, indent: int, depth: int, out: list[str]) -> None:
    if isinstance(value, dict):
        _write_items(
            [(_string(str(k), escaping) + ": ", v) for k, v in value.items()],
            "{}",
            escaping,
            indent,
            depth,
            out,
        )
    elif isinstance(value, list | tuple):
        _write_items([("", v) for v in value], "[]", escaping, indent, depth, out)
    elif isinstance(value, str):
        out.append(_string(value, escaping))
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif value is None:
        out.append("null")
    elif isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        raise ValueError(f"{value} cannot be written as JSON")
    else:
        out.append(json.dumps(value))


def _write_items(
    items: list[tuple[str, Any]],
    brackets: str,
    escaping: Escaping,
    indent: int,
    depth: int,
    out: list[str],
) -> None:
    if not items:
        out.append(brackets)
        return
    inner = "\n" + " " * (indent * (depth + 1))
    out.append(brackets[0])
    for index, (label, item) in enumerate(items):
        out.append(("," if index else "") + inner + label)
        _write(item, escaping, indent, depth + 1, out)
    out.append("\n" + " " * (indent * depth) + brackets[1])


def _string(text: str, escaping: Escaping) -> str:
    if escaping is Escaping.JAVASCRIPT:
        return json.dumps(text, ensure_ascii=False)
    return '"' + "".join(_dotnet_char(char) for char in text) + '"'


def _dotnet_char(char: str) -> str:
    if char in _DOTNET_ESCAPED:
        return f"\\u{ord(char):04X}"
    if char in _SHORT:
        return _SHORT[char]
    code = ord(char)
    if code < 0x20 or 0x7F <= code <= 0xFFFF:
        return f"\\u{code:04X}"
    if code > 0xFFFF:
        high, low = divmod(code - 0x10000, 0x400)
        return f"\\u{0xD800 + high:04X}\\u{0xDC00 + low:04X}"
    return char
