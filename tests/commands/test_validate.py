"""``apimsync validate`` end to end: the installed command on real and broken trees."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO

SEED = "seed-openai-v17"
OPENAI_API = "api-management/apis/Open_AI__1[Current]_open-166H7PW/configuration.json"
OPENAI_POLICY = "api-management/policies/apis/Open_AI__1[Current]_open-166H7PW.xml"
QUERY_POLICY = (
    "api-management/policies/apis/Open_AI__1[Current]_open-166H7PW/operations/"
    "POST__{_path}_open-aipost-query.xml"
)
BACKEND = "api-management/backends/_openaione/configuration.json"


def run_validate(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "apimsync", "validate", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def finding_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stdout.splitlines() if ": error " in line]


def assert_clean_failure(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_every_real_export_validates_without_errors(export: Path) -> None:
    result = run_validate(export)

    assert result.returncode == 0, result.stdout
    assert finding_lines(result) == []


def test_the_example_validates_clean_without_warnings() -> None:
    result = run_validate(REPO / "examples" / "openai-usage", "--strict")

    assert result.returncode == 0, result.stdout
    assert result.stdout.strip().startswith("0 errors, 0 warnings")


def edit(root: Path, relative: str, old: str, new: str, marker: str = "") -> int:
    """Replace ``old`` by ``new`` in a file, keeping its line endings.

    Returns the line of ``marker`` (default: the whole of ``new``) in the changed file.
    """
    path = root / relative
    text = path.read_bytes().decode("utf-8")
    assert old in text, f"{old!r} not in {relative}"
    text = text.replace(old, new, 1)
    path.write_bytes(text.encode("utf-8"))
    return text[: text.index(marker or new)].count("\n") + 1


@dataclass(frozen=True)
class Breakage:
    name: str
    path: str
    old: str
    new: str
    code: str
    marker: str = ""


INBOUND_BASE = "<inbound>\r\n\t\t<base />"
BREAKAGES = [
    Breakage(
        "unknown policy",
        QUERY_POLICY,
        INBOUND_BASE,
        '<inbound>\r\n\t\t<base />\r\n\t\t<rate-limiter calls="5" />',
        "unknown-policy",
        "<rate-limiter",
    ),
    Breakage(
        "misspelled attribute",
        QUERY_POLICY,
        'renewal-period="60"',
        'renewal-periode="60"',
        "unknown-attribute",
    ),
    Breakage(
        "missing required attribute",
        QUERY_POLICY,
        'calls="10" renewal-period="60" ',
        'calls="10" ',
        "missing-attribute",
    ),
    Breakage(
        "forward-request in inbound",
        OPENAI_POLICY,
        INBOUND_BASE,
        "<inbound>\r\n\t\t<base />\r\n\t\t<forward-request />",
        "policy-section",
        "<forward-request",
    ),
    Breakage(
        "cache-store in inbound",
        OPENAI_POLICY,
        INBOUND_BASE,
        '<inbound>\r\n\t\t<base />\r\n\t\t<cache-store duration="60" />',
        "policy-section",
        "<cache-store",
    ),
    Breakage(
        "two rate-limit",
        OPENAI_POLICY,
        INBOUND_BASE,
        '<inbound>\r\n\t\t<base />\r\n\t\t<rate-limit calls="5" renewal-period="60" />'
        '\r\n\t\t<rate-limit calls="9" renewal-period="60" />',
        "policy-repeated",
        'calls="9"',
    ),
    Breakage(
        "unbalanced expression",
        QUERY_POLICY,
        'counter-key="@(context.Subscription.Id)"',
        'counter-key="@(context.Subscription.Id"',
        "expression-unbalanced",
    ),
    Breakage("broken xml", OPENAI_POLICY, "</backend>", "</backendx>", "xml-syntax"),
    Breakage(
        "ref to a missing file",
        OPENAI_API,
        '"$ref-policy": "api-management/policies/apis/',
        '"$ref-policy": "api-management/policies/nowhere/',
        "ref-missing",
    ),
    Breakage(
        "backend-id naming no backend",
        QUERY_POLICY,
        INBOUND_BASE,
        '<inbound>\r\n\t\t<base />\r\n\t\t<set-backend-service backend-id="openaifive" />',
        "unknown-backend",
        "<set-backend-service",
    ),
    Breakage("invalid json", BACKEND, '"protocol": "http",', '"protocol": "http",,', "json-syntax"),
    Breakage("wrong enum", OPENAI_API, '"https"', '"ftp"', "invalid-enum"),
    Breakage(
        "template parameter missing",
        OPENAI_API,
        '"urlTemplate": "/retry"',
        '"urlTemplate": "/retry/{attempt}"',
        "template-parameter",
    ),
]


@pytest.mark.parametrize("breakage", BREAKAGES, ids=[b.name for b in BREAKAGES])
def test_a_broken_input_is_reported_at_its_file_line_and_code(
    copy_export,
    breakage: Breakage,  # type: ignore[no-untyped-def]
) -> None:
    root = copy_export(SEED)
    line = edit(root, breakage.path, breakage.old, breakage.new, breakage.marker)

    result = run_validate(root)

    assert_clean_failure(result)
    expected = f"{breakage.path}:{line}:"
    matching = [f for f in finding_lines(result) if f" error {breakage.code} " in f]
    assert any(f.startswith(expected) for f in matching), result.stdout
    assert all(f.count(breakage.path) == 1 for f in matching), "the location is said twice"


def test_two_apis_on_one_path_are_reported(copy_export) -> None:  # type: ignore[no-untyped-def]
    root = copy_export(SEED)
    sweden = "api-management/apis/Sweden_API__1[Current]_appM3L6MW/configuration.json"
    current = json.loads((root / sweden).read_text(encoding="utf-8"))["path"]
    line = edit(root, sweden, f'"path": "{current}"', '"path": "openai"')

    result = run_validate(root)

    assert_clean_failure(result)
    assert any(
        f.startswith(f"{sweden}:{line}:") and "duplicate-api-path" in f
        for f in finding_lines(result)
    ), result.stdout


BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
    ' <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">\n'
    ' <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">\n]>\n'
    "<policies><inbound>&lol3;</inbound></policies>"
)
EXTERNAL_ENTITY = (
    '<?xml version="1.0"?>\n<!DOCTYPE p [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
    "<policies><inbound><set-body>&xxe;</set-body></inbound></policies>"
)


@pytest.mark.parametrize("document", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["laughs", "xxe"])
def test_entity_tricks_in_a_policy_are_refused(copy_export, document: str) -> None:  # type: ignore[no-untyped-def]
    root = copy_export(SEED)
    (root / OPENAI_POLICY).write_text(document, encoding="utf-8")

    result = run_validate(root)

    assert_clean_failure(result)
    assert any(f.startswith(OPENAI_POLICY) and "xml-forbidden" in f for f in finding_lines(result))
    assert "root:" not in result.stdout  # nothing of /etc/passwd


def test_a_reference_outside_the_tree_is_refused(copy_export) -> None:  # type: ignore[no-untyped-def]
    root = copy_export(SEED)
    edit(
        root,
        OPENAI_API,
        '"$ref-policy": "api-management/policies/apis/Open_AI',
        '"$ref-policy": "../../etc/passwd#',
    )

    result = run_validate(root)

    assert_clean_failure(result)
    assert any(f.startswith(OPENAI_API) and "ref-outside-tree" in f for f in finding_lines(result))


def test_a_file_that_is_not_utf8_is_refused(copy_export) -> None:  # type: ignore[no-untyped-def]
    root = copy_export(SEED)
    (root / BACKEND).write_bytes(b'{\n  "id": "/backends/openaione",\n  "title": "caf\xe9"\n}')

    result = run_validate(root)

    assert_clean_failure(result)
    assert any(
        f.startswith(f"{BACKEND}:3:") and "file-encoding" in f for f in finding_lines(result)
    )


def test_a_50_mb_file_is_refused_without_being_read(copy_export) -> None:  # type: ignore[no-untyped-def]
    root = copy_export(SEED)
    with (root / OPENAI_POLICY).open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)

    result = run_validate(root)

    assert_clean_failure(result)
    assert any(f.startswith(OPENAI_POLICY) and "file-too-large" in f for f in finding_lines(result))


def test_json_output_is_one_parsable_document(copy_export) -> None:  # type: ignore[no-untyped-def]
    root = copy_export(SEED)
    edit(root, OPENAI_API, '"https"', '"ftp"')

    result = run_validate(root, "--format", "json")

    document = json.loads(result.stdout)
    assert result.returncode == 1
    assert (
        document["summary"]["errors"]
        == len([f for f in document["findings"] if f["severity"] == "error"])
        >= 1
    )
    assert {"path", "line", "column", "severity", "code", "message"} <= set(document["findings"][0])


def test_strict_turns_warnings_into_failure(export: Path) -> None:
    plain, strict = run_validate(export), run_validate(export, "--strict")

    has_warnings = " warning " in plain.stdout
    assert plain.returncode == 0
    assert strict.returncode == (1 if has_warnings else 0)


def test_a_folder_without_configuration_is_a_usage_error(tmp_path: Path) -> None:
    result = run_validate(tmp_path)

    assert result.returncode == 2
    assert "api-management/" in result.stderr and "Traceback" not in result.stderr


# -- a file cut short --------------------------------------------------------------------


def cut_short(root: Path, relative: str, keep: int) -> None:
    path = root / relative
    path.write_bytes(path.read_bytes()[:keep])


@pytest.mark.parametrize("broken", [OPENAI_API, BACKEND], ids=["api", "backend"])
def test_a_file_cut_short_is_one_clear_error(broken: str, copy_export) -> None:  # type: ignore[no-untyped-def]
    root = copy_export(SEED)
    text = (root / broken).read_text(encoding="utf-8-sig")
    cut_short(root, broken, len(text.encode("utf-8")) // 3)

    result = run_validate(root)

    assert_clean_failure(result)
    [line] = finding_lines(result)  # no echo from the files that name it
    assert line.startswith(f"{broken}:") and "json-syntax" in line
    assert "it looks cut short; complete it, or restore it from git" in line
