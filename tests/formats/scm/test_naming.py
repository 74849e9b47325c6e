from __future__ import annotations

import re

import pytest

from apimsync.formats.scm.naming import NameAllocator, api_revision_folder, safe_component

SAFE = re.compile(r"^[A-Za-z0-9._-]+$")


@pytest.mark.parametrize(
    "name", ["open-ai", "Orders v2", "a/b", "..", "CON", "lpt1.txt", "x" * 300, "é", "a:b*c?"]
)
def test_components_are_safe_on_every_file_system(name: str) -> None:
    component = safe_component(name)

    assert SAFE.match(component)
    assert component not in (".", "..")
    assert component.split(".")[0].lower() not in {"con", "prn", "aux", "nul", "lpt1", "com1"}
    assert len(component) <= 60


def test_a_clean_name_is_kept_and_an_altered_one_stays_distinct() -> None:
    assert safe_component("open-ai") == "open-ai"
    assert safe_component("a b") != safe_component("a_b")


def test_allocation_is_deterministic_and_case_insensitively_unique() -> None:
    def allocate_all() -> list[str]:
        allocator = NameAllocator({"apis/Orders/configuration.json"})
        return [
            allocator.allocate(identity, [base], "apis/{}")
            for identity, base in (("/apis/orders", "orders"), ("/apis/ORDERS", "ORDERS"))
        ]

    first = allocate_all()

    assert first == allocate_all()
    assert len({name.lower() for name in first} | {"orders"}) == 3


@pytest.mark.parametrize(
    ("parts", "current", "expected"),
    [
        (("Echo", "", "2"), False, "Echo__2"),
        (("Echo", "", "1"), True, "Echo__1[Current]"),
        (("Orders", "v2", "3"), False, "Orders_v2_3"),
    ],
)
def test_a_revision_folder_is_named_as_apim_names_it(
    parts: tuple[str, str, str], current: bool, expected: str
) -> None:
    assert api_revision_folder(*parts, current) == expected


def test_an_altered_revision_folder_name_carries_a_hash_after_the_mark() -> None:
    current = api_revision_folder("Echo API", "", "1", True)
    other = api_revision_folder("Echo API", "", "2", False)

    assert re.fullmatch(r"Echo_API__1\[Current\]_[0-9A-F]{8}", current)
    assert re.fullmatch(r"Echo_API__2_[0-9A-F]{8}", other)
    assert api_revision_folder("Echo_API", "", "2", False) == "Echo_API__2" != other
    assert SAFE.match(api_revision_folder("a:b*c?/CON", "v<1>", "2", False))
    assert len(api_revision_folder("x" * 300, "", "2", True)) <= 70
