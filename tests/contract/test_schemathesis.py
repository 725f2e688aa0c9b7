"""Schemathesis over the whole served OpenAPI document: no 5xx, and every response as documented.

Each operation is one test (so a failure names it), fed by valid and invalid generated requests with
the token of a role drawn per example (every role of app.security.scopes.Role, and anonymous).

Bounded and deterministic: about ``FUZZ_BUDGET`` examples in all, spread over the operations (between
3 and 12 each), derandomized, no example database, no shrinking (the first failing example is reported
as is). ``WIJKWERK_FUZZ_EXAMPLES=50`` sets the examples per operation for a deeper run.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.contract import contract_app
from tests.contract.conftest import ROLE_ACTORS

FUZZ_BUDGET = 600
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def _labels(document: dict[str, Any]) -> list[str]:
    return sorted(f"{method.upper()} {path}" for path, item in document["paths"].items() for method in item)


# Collected from an app built without a database; the test below checks the live server serves the same.
OPERATIONS = _labels(contract_app().openapi())
EXAMPLES = int(os.environ.get("WIJKWERK_FUZZ_EXAMPLES", 0)) or max(3, min(12, FUZZ_BUDGET // len(OPERATIONS)))


@pytest.fixture(scope="session")
def live_schema(live_server: str) -> Any:
    return schemathesis.openapi.from_url(f"{live_server}/openapi.json")


@pytest.fixture(scope="session")
def http() -> requests.Session:
    return requests.Session()


def test_the_live_server_serves_the_collected_operations(live_schema: Any) -> None:
    assert _labels(live_schema.raw_schema) == OPERATIONS


@pytest.mark.parametrize("label", OPERATIONS)
def test_operation_holds_up_under_generated_requests(
    label: str,
    live_schema: Any,
    live_server: str,
    role_headers: dict[str, dict[str, str]],
    http: requests.Session,
) -> None:
    operation = live_schema.find_operation_by_label(label)
    assert operation is not None, label
    cases = st.one_of(
        operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    )

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=(Phase.explicit, Phase.generate),
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )
    @given(case=cases, role=st.sampled_from(sorted(ROLE_ACTORS)))
    def generated(case: Any, role: str) -> None:
        case.call_and_validate(
            base_url=live_server, session=http, headers=role_headers[role], checks=CHECKS, timeout=30
        )

    generated()
