"""JSON pointers (RFC 6901) inside ``properties``: ``/credentials/header/api-key/0``."""

from __future__ import annotations

from collections.abc import Iterable


def escape(part: str | int) -> str:
    return str(part).replace("~", "~0").replace("/", "~1")


def join(parts: Iterable[str | int]) -> str:
    """The pointer of a path of keys and list indexes (``[]`` -> ``""``, the whole)."""
    return "".join(f"/{escape(part)}" for part in parts)


def split(pointer: str) -> list[str]:
    """The unescaped parts of ``pointer`` (``""`` -> ``[]``)."""
    if not pointer:
        return []
    return [part.replace("~1", "/").replace("~0", "~") for part in pointer.split("/")[1:]]


def sort_key(pointer: str) -> tuple[tuple[int, int, str], ...]:
    """Orders pointers as their paths: list indexes by number, keys by text."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in split(pointer))
