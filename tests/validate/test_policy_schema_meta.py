"""The shipped policy XSD is valid XSD 1.1 (apimsync compiles it without that check)."""

from __future__ import annotations

import xmlschema

from apimsync.validate.policy_schema import SCHEMA_PATH
from apimsync.validate.policy_schema_build import compile_xsd


def test_the_policy_schema_passes_the_xsd_meta_schema() -> None:
    strict = xmlschema.XMLSchema11(str(SCHEMA_PATH), validation="strict")

    assert strict.validity == "valid"
    assert set(strict.elements) == set(compile_xsd().elements)
