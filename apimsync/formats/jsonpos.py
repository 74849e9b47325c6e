"""Where things are in a JSON text: JSON pointers mapped to 1-based (line, column).

:func:`locate_json` reads the text once, front to back, and records where each value
starts (the opening quote, brace, bracket or first character of a literal) and where
each object member's key starts. Lines are counted by ``\\n``, so a CRLF pair is one line
break; columns count characters, from 1. Pointers follow RFC 6901 (``""`` is the whole
document, ``/operations/0/method`` a nested value, ``~0`` and ``~1`` escape ``~``
and ``/``). When a key repeats, the last occurrence wins, as it does in :func:`json.loads`.

:func:`parse_json` parses and turns syntax errors into :class:`JsonSyntaxError` with a
line and column in the same convention. Documents no configuration file can be are
refused the same way (:func:`check_document`): nesting deeper than :data:`MAX_DEPTH`
(everything that walks a document afterwards recurses) and strings holding a lone
surrogate escape such as ``\\ud800`` (not Unicode text: no file could be written with it).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeAlias

Position: TypeAlias = tuple[int, int]

MAX_DEPTH = 100
"""The deepest nesting of objects and arrays a configuration file may have."""

_TOKEN = re.compile(
    r"[ \t\r\n]*(?:"
    r'(?P<string>"[^"\\]*(?:\\.[^"\\]*)*")'
    r"|(?P<punct>[{}\[\]:,])"
    r'|(?P<literal>[^ \t\r\n{}\[\]:,"]+))',
    re.DOTALL,
)


class JsonSyntaxError(ValueError):
    """The text is not JSON; ``line`` and ``column`` are 1-based."""

    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(f"{message} (line {line}, column {column})")
        self.message = message
        self.line = line
        self.column = column


@dataclass(frozen=True)
class JsonPositions:
    """Positions of values and of object keys, both keyed by JSON pointer."""

    values: dict[str, Position]
    keys: dict[str, Position]

    def value(self, pointer: str) -> Position:
        """Where the value at ``pointer`` starts, or its nearest known ancestor."""
        while pointer not in self.values and pointer:
            pointer = pointer.rpartition("/")[0]
        return self.values.get(pointer, (1, 1))

    def key(self, pointer: str) -> Position:
        """Where the key of the member at ``pointer`` starts (its value for array items)."""
        return self.keys.get(pointer) or self.value(pointer)


def escape_token(token: str | int) -> str:
    return str(token).replace("~", "~0").replace("/", "~1")


def json_pointer(tokens: Iterable[str | int]) -> str:
    """The JSON pointer for a path of keys and indices (``["a", 0]`` -> ``/a/0``)."""
    return "".join("/" + escape_token(token) for token in tokens)


def json_positions(text: str) -> dict[str, Position]:
    """Every JSON pointer of ``text`` mapped to the position of its value."""
    return locate_json(text).values


def locate_json(text: str) -> JsonPositions:
    """Positions of every value and key of ``text`` (best effort on invalid JSON)."""
    found = _Walker().walk(_tokens(text))
    values: dict[str, Position] = {}
    keys: dict[str, Position] = {}
    positions = _positions(text, [offset for _, _, offset in found])
    for (is_key, pointer, _), position in zip(found, positions, strict=True):
        (keys if is_key else values)[pointer] = position
    return JsonPositions(values, keys)


_JSON_ERRORS = (
    (
        "Expecting value",
        "a value is expected here (a string, number, object, array, true, false or null)",
    ),
    ("Expecting ',' delimiter", "a ',' (or the end of the object or array) is expected here"),
    ("Expecting ':' delimiter", "a ':' is expected here, after the key"),
    (
        "Expecting property name",
        "a key in double quotes is expected here (a ',' too many before '}'?)",
    ),
    ("Extra data", "the JSON document ends before this: remove what follows it"),
    (
        "Invalid control character",
        "a control character inside a string: write a line break as \\n and a tab as \\t",
    ),
    ("Invalid \\escape", "an unknown escape: write a backslash as \\\\"),
)


def describe_json_error(error: json.JSONDecodeError) -> str:
    """What :mod:`json` found wrong, said for a person, with what to do; a text that ends
    in the middle of a value is named as cut short."""
    if not error.doc.strip():
        return "the file is empty; a JSON object is expected"
    in_string = error.msg.startswith("Unterminated string")
    if in_string or error.pos >= len(error.doc.rstrip()):
        inside = "a string" if in_string else "the document (an object or array is open)"
        return (
            f"the file ends inside {inside}: it looks cut short; complete it, or restore "
            "it from git"
        )
    return next((text for start, text in _JSON_ERRORS if error.msg.startswith(start)), error.msg)


def parse_json(text: str) -> Any:
    """Parse strict JSON; raise :class:`JsonSyntaxError` with a position when it is not."""
    try:
        document = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as error:
        raise JsonSyntaxError(describe_json_error(error), error.lineno, error.colno) from None
    except _ConstantError as error:
        line, column = _literal_position(text, error.name)
        raise JsonSyntaxError(f"{error.name} is not a JSON value", line, column) from None
    except RecursionError:
        raise JsonSyntaxError(*too_deep_at(text)) from None
    check_document(text, document)
    return document


_SURROGATE = re.compile("[\ud800-\udfff]")
_SURROGATE_ESCAPE = re.compile(
    r"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})"
    r"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}"
)


def check_document(text: str, document: Any, limit: int = MAX_DEPTH) -> None:
    """Raise :class:`JsonSyntaxError` if ``document`` (parsed from ``text``) nests objects
    and arrays more than ``limit`` levels deep or holds a string with a lone surrogate."""
    # Counting brackets and searching the text run in C; walking the document does not.
    if text.count("{") + text.count("[") > limit and too_deep(document, limit):
        raise JsonSyntaxError(*too_deep_at(text, limit))
    if _may_hold_surrogate(text) and _has_surrogate(document):
        found = _SURROGATE_ESCAPE.search(text)
        line, column = _positions(text, [found.start()])[0] if found else (1, 1)
        escape = found.group() if found else "a surrogate escape"
        raise JsonSyntaxError(f"{escape} is not a Unicode character", line, column)


_ANY_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _may_hold_surrogate(text: str) -> bool:
    """A parsed string holds a surrogate only if the text has one, raw or escaped (paired
    or not: telling a lone one needs the parsed strings)."""
    return _SURROGATE.search(text) is not None or _ANY_SURROGATE_ESCAPE.search(text) is not None


def _has_surrogate(value: Any) -> bool:
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            if _SURROGATE.search(node):
                return True
        elif isinstance(node, dict):
            stack.extend(node)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False


def too_deep(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether parsed JSON nests objects and arrays more than ``limit`` levels deep."""
    stack = [(value, 1)] if isinstance(value, dict | list) else []
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        children = node.values() if isinstance(node, dict) else node
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def too_deep_at(text: str, limit: int = MAX_DEPTH) -> tuple[str, int, int]:
    """The message and position of the first object or array nested past ``limit``."""
    depth = 0
    for kind, offset, raw in _tokens(text):
        if kind != "punct" or raw not in "{}[]":
            continue
        depth += 1 if raw in "{[" else -1
        if depth > limit:
            line, column = _positions(text, [offset])[0]
            return f"nests deeper than {limit} levels", line, column
    return f"nests deeper than {limit} levels", 1, 1


class _ConstantError(ValueError):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def _reject_constant(name: str) -> Any:
    raise _ConstantError(name)


def _literal_position(text: str, name: str) -> Position:
    for kind, offset, raw in _tokens(text):
        if kind == "literal" and raw == name:
            return _positions(text, [offset])[0]
    return (1, 1)


def _positions(text: str, offsets: list[int]) -> list[Position]:
    """Line and column of each offset; offsets come in text order, so one pass suffices."""
    result: list[Position] = []
    line, line_start, previous = 1, 0, 0
    for offset in offsets:
        breaks = text.count("\n", previous, offset)
        if breaks:
            line += breaks
            line_start = text.rfind("\n", previous, offset) + 1
        result.append((line, offset - line_start + 1))
        previous = offset
    return result


def _tokens(text: str) -> Iterator[tuple[str, int, str]]:
    """(kind, offset, raw text) of each token; stops at the first unreadable character."""
    index = 0
    while (match := _TOKEN.match(text, index)) is not None:
        kind = match.lastgroup or ""
        yield kind, match.start(kind), match.group(kind)
        index = match.end()


class _Walker:
    """Turns tokens into (is_key, pointer, offset) entries, in text order."""

    def __init__(self) -> None:
        self.stack: list[tuple[str, bool]] = []  # (pointer, is_object) of open containers
        self.counts: list[int] = []  # index of the current item of each open container
        self.member: list[str] = []  # escaped current key of each open container
        self.expect_key = False
        self.found: list[tuple[bool, str, int]] = []

    def walk(self, tokens: Iterable[tuple[str, int, str]]) -> list[tuple[bool, str, int]]:
        for kind, offset, raw in tokens:
            if kind == "punct":
                self._punct(raw, offset)
            elif kind == "string" and self.expect_key:
                self._key(raw, offset)
            else:
                self.found.append((False, self._child(), offset))
        return self.found

    def _punct(self, char: str, offset: int) -> None:
        if char in "{[":
            pointer = self._child()
            self.found.append((False, pointer, offset))
            self.stack.append((pointer, char == "{"))
            self.counts.append(0)
            self.member.append("")
            self.expect_key = char == "{"
        elif char in "}]" and self.stack:
            self.stack.pop()
            self.counts.pop()
            self.member.pop()
            self.expect_key = False
        elif char == "," and self.stack:
            self.counts[-1] += 1
            self.expect_key = self.stack[-1][1]

    def _key(self, raw: str, offset: int) -> None:
        try:
            key = json.loads(raw)
        except ValueError:
            key = raw[1:-1]
        self.member[-1] = escape_token(key)
        self.expect_key = False
        self.found.append((True, self._child(), offset))

    def _child(self) -> str:
        if not self.stack:
            return ""
        pointer, is_object = self.stack[-1]
        token = self.member[-1] if is_object else str(self.counts[-1])
        return f"{pointer}/{token}"
