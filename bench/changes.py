"""The file changes and commits of the benchmark's incremental phases, on W(N)'s tree.

Each change rewrites one file so that the resource it holds really changes (a policy
gains a header, a backend's URL or a named value's value changes): a plan must write it.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

POLICIES = "api-management/policies/apis"
BACKENDS = "api-management/backends"
NAMED_VALUES = "api-management-extras/namedValues"


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.test", *args],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def commit_all(root: Path, message: str) -> str:
    """Commit everything below ``root`` (a repository made on first use); the commit."""
    if not (root / ".git").exists():
        git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "--allow-empty", "-m", message)
    return git(root, "rev-parse", "HEAD").strip()


def operation_policy(root: Path, api: int, operation: int, label: str) -> str:
    """Give an operation policy a header; its path."""
    return _with_header(root, f"{POLICIES}/api-{api:05d}/operations/op-{operation:02d}.xml", label)


def api_policy(root: Path, api: int, label: str) -> str:
    """Give an API policy a header; its path."""
    return _with_header(root, f"{POLICIES}/api-{api:05d}.xml", label)


def _with_header(root: Path, relative: str, label: str) -> str:
    """A ``set-header`` first in the document's ``<inbound>`` (not in a comment before
    ``<policies>``: the seed documents describe the sections in one)."""
    path = root / relative
    text = path.read_text(encoding="utf-8")
    at = text.index("<inbound>", text.index("<policies")) + len("<inbound>")
    header = f'<set-header name="x-{label}" exists-action="override"><value>1</value></set-header>'
    path.write_text(f"{text[:at]}\n\t\t{header}{text[at:]}", encoding="utf-8")
    return relative


def backend_url(root: Path, backend: int, label: str) -> str:
    relative = f"{BACKENDS}/backend-{backend:05d}/configuration.json"
    return _json_field(root, relative, "url", f"https://{label}.backend.example.test/api")


def named_value(root: Path, number: int, label: str) -> str:
    relative = f"{NAMED_VALUES}/nv-{number:05d}.json"
    return _json_field(root, relative, "value", label)


def _json_field(root: Path, relative: str, key: str, value: str) -> str:
    path = root / relative
    document = json.loads(path.read_text(encoding="utf-8-sig"))
    document[key] = value
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")
    return relative


def ten_files_in_three_commits(root: Path) -> list[str]:
    """Four operation policies, an API policy, three backends and two named values,
    changed in three commits; the files changed."""
    changed = [
        operation_policy(root, 3, 0, "ten-1"),
        operation_policy(root, 7, 2, "ten-2"),
        backend_url(root, 1, "ten-3"),
    ]
    commit_all(root, "ten files, 1 of 3")
    changed += [
        operation_policy(root, 11, 4, "ten-4"),
        api_policy(root, 13, "ten-5"),
        named_value(root, 2, "ten-6"),
        backend_url(root, 2, "ten-7"),
    ]
    commit_all(root, "ten files, 2 of 3")
    changed += [
        operation_policy(root, 17, 6, "ten-8"),
        named_value(root, 3, "ten-9"),
        backend_url(root, 3, "ten-10"),
    ]
    commit_all(root, "ten files, 3 of 3")
    return changed
