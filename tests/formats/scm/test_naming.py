from __future__ import annotations

import re

import pytest

from apimsync.formats.scm.naming import NameAllocator, safe_component

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
