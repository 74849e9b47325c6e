"""Values of secret named values, supplied at deploy time through the environment.

A secret named value never holds its value in the repository. ``deploy`` reads it from
``APIMSYNC_SECRET_<NAME>``, where NAME is the named value's id with every character
that is not a letter or digit replaced by ``_``, in upper case
(``/namedValues/openai-key`` -> ``APIMSYNC_SECRET_OPENAI_KEY``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from apimsync.model import Configuration, Kind

PREFIX = "APIMSYNC_SECRET_"


def variable_for(named_value_id: str) -> str:
    name = named_value_id.rsplit("/", 1)[-1]
    return PREFIX + re.sub(r"[^A-Za-z0-9]", "_", name).upper()


def secrets_from_environment(
    configuration: Configuration, environ: Mapping[str, str]
) -> dict[str, str]:
    """Named value id -> secret value, for every secret without a Key Vault reference."""
    found: dict[str, str] = {}
    for named_value in configuration.of_kind(Kind.NAMED_VALUE):
        if not named_value.properties.get("secret") or named_value.properties.get("keyVault"):
            continue
        value = environ.get(variable_for(named_value.id))
        if value:
            found[named_value.id] = value
    return found
