"""Which writes answer ``202 Accepted`` (the ``--lro-style`` switch).

The real service has answered the same writes differently over time, and the 2024-05-01
description disagrees with the recordings (catalogue §1.3, §3.4, §5, §6, §12):

===================  =======================================  ==========================
write                recorded (newest recording first)          2024-05-01 description
===================  =======================================  ==========================
named value PUT      201/200 + body (2023-09-01-preview log);   200/201 + body
                     202 + Location at 2019-12-01, 2022-08-01
named value PATCH    202 + Location (2022-08-01); 204 before    202 or 200
API import PUT       202 + Location (2019-12-01, 2022-08-01)    200/201 + body
API schema PUT       202 + Location (2019-12-01-preview)        200/201 + body
API DELETE           200 empty, then 204 (2019-12-01-preview)   202 or 204
===================  =======================================  ==========================

A 202 here is the recorded "pattern A": no body, no ETag, no ``Azure-AsyncOperation`` and
no ``Retry-After``; ``Location`` is the resource's own URL plus ``asyncId`` (24 hex) and
``asyncCode`` (201 for a create, 200 for an update, 204 for a delete). A GET on it
answers that status with the resource and its ETag.

Styles: ``recorded`` (the default) answers each write as its newest recording (a named
value PUT with its body, its PATCH with 202);
``async`` answers every one of them with 202, as 2022-08-01 did; ``described`` answers
as the 2024-05-01 description declares (the official Python SDK 5.0 accepts only that).
"""

from __future__ import annotations

from typing import Final

NAMED_VALUE_PUT: Final = "namedValuePut"
NAMED_VALUE_PATCH: Final = "namedValuePatch"
API_IMPORT: Final = "apiImport"
API_SCHEMA_PUT: Final = "apiSchema"
API_DELETE: Final = "apiDelete"

ACCEPTED_WRITES: dict[str, frozenset[str]] = {
    "recorded": frozenset({NAMED_VALUE_PATCH, API_IMPORT, API_SCHEMA_PUT}),
    "async": frozenset(
        {NAMED_VALUE_PUT, NAMED_VALUE_PATCH, API_IMPORT, API_SCHEMA_PUT, API_DELETE}
    ),
    "described": frozenset({API_DELETE}),
}
STYLES = tuple(ACCEPTED_WRITES)
DEFAULT_STYLE = "recorded"
HELP = (
    "How the writes the real service answered with 202 answer: 'recorded' (default) as "
    "each one's newest recording (named value PUT 201/200 with a body, named value PATCH, "
    "API import and schema PUT 202 + Location, API DELETE 200), 'async' all 202 as "
    "2022-08-01 did, 'described' as the 2024-05-01 description declares."
)


def answers_accepted(style: str, write: str) -> bool:
    """Whether ``write`` answers 202 + Location under ``style``."""
    return write in ACCEPTED_WRITES[style]


def check_style(style: str) -> str:
    if style not in ACCEPTED_WRITES:
        raise ValueError(f"lro style {style!r}: expected one of {', '.join(STYLES)}")
    return style
