"""The reliability figures, gathered by :func:`tests.reliability.helpers.figure`, handed
to the test's report, so that ``tests/conftest.py`` prints them in one section at the end
of the run, from pytest-xdist's workers too (whatever the capture mode)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.reliability.helpers import FIGURE_PROPERTY, FIGURES


@pytest.fixture(autouse=True)
def _figures_reported(request: pytest.FixtureRequest) -> Iterator[None]:
    reported = len(FIGURES)
    yield
    for name, text in FIGURES[reported:]:
        request.node.user_properties.append((FIGURE_PROPERTY, f"{name}: {text}"))
