"""Names for the files of new resources.

APIM's own names end in a hash code nobody can reproduce, so apimsync chooses its own:
deterministic (same model, same names), collision-free (also on case-insensitive file
systems), safe on Windows (no reserved characters or device names) and never a path.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_WINDOWS_DEVICES = frozenset(
    {"con", "prn", "aux", "nul"}
    | {f"com{i}" for i in range(1, 10)}
    | {f"lpt{i}" for i in range(1, 10)}
)
MAX_COMPONENT = 48


def digest(text: str, length: int = 8) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:length].upper()


def safe_component(text: str) -> str:
    """A file-name component for ``text``; altered names carry a hash of the original."""
    cleaned = _UNSAFE.sub("_", text).strip("._") or "unnamed"
    if cleaned.split(".")[0].lower() in _WINDOWS_DEVICES:
        cleaned = "_" + cleaned
    if cleaned == text and len(cleaned) <= MAX_COMPONENT:
        return cleaned
    return f"{cleaned[:MAX_COMPONENT]}_{digest(text)}"


CURRENT_MARK = "[Current]"


def api_revision_folder(display_name: str, api_version: str, revision: str, current: bool) -> str:
    """The folder name of an API revision, in APIM's pattern: ``{DisplayName}_{ApiVersion}_
    {Revision}``, with ``[Current]`` after it for the current revision only.

    APIM ends its names in a code nobody can reproduce; where a part had to be altered
    here, a hash of the parts is appended instead, after the mark, as APIM places its code.
    """
    parts = (display_name, api_version, revision)
    cleaned = "_".join(_UNSAFE.sub("_", part) for part in parts).strip("._") or "unnamed"
    mark = CURRENT_MARK if current else ""
    if cleaned == "_".join(parts) and len(cleaned) <= MAX_COMPONENT:
        return cleaned + mark
    return f"{cleaned[:MAX_COMPONENT]}{mark}_{digest(chr(0).join(parts))}"


class NameAllocator:
    """Hands out names that no existing or earlier-allocated path uses (case-insensitively)."""

    def __init__(self, existing_paths: set[str] | frozenset[str]) -> None:
        self._taken: set[str] = set()
        for path in existing_paths:
            self._reserve(path)

    def _reserve(self, path: str) -> None:
        parts = path.split("/")
        for end in range(1, len(parts) + 1):
            self._taken.add("/".join(parts[:end]).lower())

    def is_free(self, *paths: str) -> bool:
        return not any(path.lower() in self._taken for path in paths)

    def allocate(self, identity: str, candidates: list[str], *claims: str) -> str:
        """A name for ``identity``: the first of ``candidates`` whose ``claims`` are free.

        Each claim is a path pattern with ``{}`` for the name, e.g. ``policies/apis/{}.xml``.
        """
        for name in _options(identity, candidates):
            paths = [claim.format(name) for claim in claims]
            if self.is_free(*paths):
                for path in paths:
                    self._reserve(path)
                return name
        raise RuntimeError(f"no free file name for {identity}")


def _options(identity: str, candidates: list[str]) -> Iterator[str]:
    """``candidates``, then the first one with a hash of ``identity``, then numbered."""
    yield from candidates
    hashed = f"{candidates[0]}_{digest(identity)}"
    yield hashed
    for n in range(2, 1000):
        yield f"{hashed}_{n}"
