"""Instances shared by the micro-benchmarks, generated once per session."""

from __future__ import annotations

import pytest

from matching.instance import Instance
from scenarios.synthetic import generate


@pytest.fixture(scope="session", params=["S", "M"])
def instance(request: pytest.FixtureRequest) -> Instance:
    return generate(request.param, 1)
