"""Schemathesis over the OpenAPI document: generated requests to every operation, as an
admin (who passes every permission check), never get a server error (5xx), and every error
comes in the one error body. Run by ``.ci/run`` (marker ``schemathesis``)."""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from tests.api.conftest import World

pytestmark = pytest.mark.schemathesis

EXAMPLES = int(os.environ.get("HOUSING_SCHEMATHESIS_EXAMPLES", "30"))
SKIP = {"/api/v1/auth/logout"}  # would end the session every other request uses


def test_no_server_error(app: FastAPI, world: World) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    headers = {"Authorization": f"Bearer {world.tokens['root']}"}
    operations = [r.ok() for r in schema.get_all_operations()]
    assert len(operations) > 40
    tried: list[str] = []
    statuses: Counter[int] = Counter()
    for op in operations:
        if op.path in SKIP:
            continue

        @given(case=op.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: Any) -> None:
            response = case.call(headers=headers)
            statuses[response.status_code] += 1
            case.validate_response(response, checks=[not_a_server_error], headers=headers)
            if response.status_code >= 400:
                body = response.json()
                assert set(body) == {"error"}, (case.method, case.path, body)
                assert {"code", "message", "fields"} <= set(body["error"]), body

        check()
        tried.append(f"{op.method.upper()} {op.path}")
    assert len(tried) == len(operations) - len(SKIP)
    assert statuses[200] + statuses[201] > 100, statuses  # not only refusals
    assert not any(code >= 500 for code in statuses), statuses
