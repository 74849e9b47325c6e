"""The document kinds of the scm layout (and of the extras folder beside it).

Each *unit* is one main JSON file plus the files it references; it holds one anchor
resource and, for APIs, products and tags, the resources nested in it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from apimsync.formats.files import EXTRAS_ROOT, SCM_ROOT
from apimsync.formats.scm.mapping import Codec, KindSpec
from apimsync.model import Kind

SCM_VERSION_SET_PREFIX = "/api-version-sets/"
ARM_VERSION_SET_PREFIX = "/apiVersionSets/"


def version_set_to_arm(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(SCM_VERSION_SET_PREFIX):
        return ARM_VERSION_SET_PREFIX + value[len(SCM_VERSION_SET_PREFIX) :]
    return value


def version_set_to_scm(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(ARM_VERSION_SET_PREFIX):
        return SCM_VERSION_SET_PREFIX + value[len(ARM_VERSION_SET_PREFIX) :]
    return value


class UnitKind(enum.Enum):
    ROOT = "root"
    API = "api"
    API_RELEASE = "api-release"
    API_VERSION_SET = "api-version-set"
    BACKEND = "backend"
    GROUP = "group"
    PRODUCT = "product"
    TAG = "tag"
    NAMED_VALUE = "named-value"
    POLICY_FRAGMENT = "policy-fragment"
    LOGGER = "logger"
    DIAGNOSTIC = "diagnostic"


@dataclass(frozen=True)
class UnitSpec:
    unit: UnitKind
    kind: Kind | None
    folder: str
    """Repository-relative folder of the units' main files."""
    nested: bool
    """True: ``<folder>/<name>/configuration.json``; False: ``<folder>/<name>.json``."""
    spec: KindSpec


_ID = frozenset({"id"})
_NAME_IS_DISPLAY_NAME = {"name": "displayName"}

UNIT_SPECS: tuple[UnitSpec, ...] = (
    UnitSpec(
        UnitKind.API,
        Kind.API,
        f"{SCM_ROOT}/apis",
        True,
        KindSpec(
            renames=_NAME_IS_DISPLAY_NAME,
            structural=frozenset({"id", "operations", "apiSchemas", "$ref-policy", "backendId"}),
            codecs={"apiVersionSetId": Codec(version_set_to_arm, version_set_to_scm)},
        ),
    ),
    UnitSpec(
        UnitKind.API_RELEASE,
        Kind.API_RELEASE,
        f"{SCM_ROOT}/apiReleases",
        True,
        KindSpec(structural=_ID, file_fields=frozenset()),
    ),
    UnitSpec(
        UnitKind.API_VERSION_SET,
        Kind.API_VERSION_SET,
        f"{SCM_ROOT}/apiVersionSets",
        True,
        KindSpec(renames=_NAME_IS_DISPLAY_NAME, structural=_ID, file_fields=frozenset()),
    ),
    UnitSpec(
        UnitKind.BACKEND,
        Kind.BACKEND,
        f"{SCM_ROOT}/backends",
        True,
        KindSpec(structural=_ID, file_fields=frozenset()),
    ),
    UnitSpec(
        UnitKind.GROUP,
        Kind.GROUP,
        f"{SCM_ROOT}/groups",
        True,
        KindSpec(renames=_NAME_IS_DISPLAY_NAME, structural=_ID),
    ),
    UnitSpec(
        UnitKind.PRODUCT,
        Kind.PRODUCT,
        f"{SCM_ROOT}/products",
        True,
        KindSpec(renames=_NAME_IS_DISPLAY_NAME, structural=frozenset({"id", "$ref-policy"})),
    ),
    UnitSpec(
        UnitKind.TAG,
        Kind.TAG,
        f"{SCM_ROOT}/tags",
        True,
        KindSpec(
            renames=_NAME_IS_DISPLAY_NAME,
            structural=frozenset({"id", "apiIds", "productIds", "operationIds", "descriptions"}),
        ),
    ),
    UnitSpec(
        UnitKind.NAMED_VALUE,
        Kind.NAMED_VALUE,
        f"{EXTRAS_ROOT}/namedValues",
        False,
        KindSpec(structural=_ID, file_fields=frozenset()),
    ),
    UnitSpec(
        UnitKind.POLICY_FRAGMENT,
        Kind.POLICY_FRAGMENT,
        f"{EXTRAS_ROOT}/policyFragments",
        False,
        KindSpec(structural=_ID, file_fields=frozenset({"value"}), fixed={"format": "rawxml"}),
    ),
    UnitSpec(
        UnitKind.LOGGER,
        Kind.LOGGER,
        f"{EXTRAS_ROOT}/loggers",
        False,
        KindSpec(structural=_ID, file_fields=frozenset()),
    ),
    UnitSpec(
        UnitKind.DIAGNOSTIC,
        Kind.DIAGNOSTIC,
        f"{EXTRAS_ROOT}/diagnostics",
        False,
        KindSpec(structural=_ID, file_fields=frozenset()),
    ),
)

OPERATION_SPEC = KindSpec(
    renames=_NAME_IS_DISPLAY_NAME,
    structural=frozenset({"id", "$ref-policy", "policies"}),
    file_fields=frozenset({"description", "value"}),
)

UNIT_BY_KIND = {u.kind: u for u in UNIT_SPECS}
UNIT_BY_UNIT = {u.unit: u for u in UNIT_SPECS}

ROOT_CONFIGURATION = f"{SCM_ROOT}/configuration.json"
DEFAULT_MODULE_VERSION = 17


def main_file(unit: UnitSpec, name: str) -> str:
    if unit.nested:
        return f"{unit.folder}/{name}/configuration.json"
    return f"{unit.folder}/{name}.json"


def unit_name_of(unit: UnitSpec, path: str) -> str | None:
    """The unit name of a main-file path of this unit, or None if it is not one."""
    prefix = unit.folder + "/"
    if not path.startswith(prefix):
        return None
    rest = path[len(prefix) :]
    if unit.nested:
        name, _, tail = rest.partition("/")
        return name if tail == "configuration.json" and name else None
    if "/" in rest or not rest.endswith(".json"):
        return None
    return rest[: -len(".json")] or None
