"""The api-versions the emulator accepts, and the ARM answers around them.

Azure serves the API Management provider at many api-versions; clients pick their own
(Microsoft's apiops-cli defaults to ``2025-09-01-preview``, the Python SDK 5.0 to
``2024-05-01``). The emulator accepts each of them and always answers in the 2024-05-01
shape: it emulates one service, not every historical contract.

Sources of :data:`ACCEPTED`: the folders ``stable/<version>`` and ``preview/<version>``
under ``specification/apimanagement/resource-manager/Microsoft.ApiManagement`` of the
public Azure/azure-rest-api-specs repository (each one a version the service answers),
and ``2025-09-01-preview``, the default of apiops-cli that Azure served (issue 11).
"""

from __future__ import annotations

import re

CURRENT = "2024-05-01"
STABLE = (
    "2016-07-07",
    "2016-10-10",
    "2017-03-01",
    "2018-01-01",
    "2019-01-01",
    "2019-12-01",
    "2020-12-01",
    "2021-08-01",
    "2022-08-01",
    CURRENT,
)
PREVIEW = (
    "2018-06-01-preview",
    "2019-12-01-preview",
    "2020-06-01-preview",
    "2021-01-01-preview",
    "2021-04-01-preview",
    "2021-12-01-preview",
    "2022-04-01-preview",
    "2022-09-01-preview",
    "2023-03-01-preview",
    "2023-05-01-preview",
    "2023-09-01-preview",
    "2024-06-01-preview",
    "2025-03-01-preview",
    "2025-09-01-preview",
)
ACCEPTED = frozenset(STABLE + PREVIEW)

# Microsoft.Resources (resource groups) takes versions of its own; clients send the one
# their SDK was built with, so any well-formed version is taken for the group read.
RESOURCES_VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}(-preview)?$")


def supported_list() -> str:
    """The versions as ARM lists them in an ``InvalidApiVersionParameter`` message."""
    return ", ".join(sorted(ACCEPTED, reverse=True))
