"""Schemathesis over the served contract: REST with every check schemathesis has, stateful runs along
the document's links, and GraphQL; zero failures.

* REST: one test per operation (a failure names it), through schemathesis' own phases: the
  document's examples, the coverage phase (boundary values, missing required parameters and
  headers, methods the path does not have, other media types) and generated valid and invalid
  requests. Every check of the installed schemathesis runs on every answer (``ALL_CHECKS``, asserted
  against schemathesis' registry, so a check added by an upgrade runs too).
* Stateful: sequences along the OpenAPI links (a 201 leads to the created object's operations),
  where ``use_after_free`` and ``ensure_resource_availability`` apply.
* GraphQL: every query and mutation field at /graphql, valid and invalid.

Each operation is called with the token of the first role that holds the
scopes it declares (``tests.contract.support.role_for``), so valid requests reach the service
instead of stopping at a 403; the
``ignored_auth`` check sends each again without a token and with a broken one.

Bounded and deterministic: a fixed seed, no example database, no shrinking. The fuzzing phase takes
``EXAMPLES`` examples per operation (``FUZZ_BUDGET`` spread over the operations);
``WIJKWERK_FUZZ_EXAMPLES=N`` sets N per operation (and N stateful runs) for the nightly run
(docs/operations.md).
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.graphql.checks import GraphQLClientError, GraphQLServerError
from schemathesis.openapi.checks import RejectedPositiveData

from app.contract import contract_app, openapi_document
from app.graphql import served_sdl
from app.graphql.errors import MASKED_MESSAGE
from tests.contract.conftest import ROLE_ACTORS
from tests.contract.support import role_for

FUZZ_BUDGET = 600
SEED = 20261122

DOCUMENT = openapi_document(contract_app())
OPERATIONS = sorted(f"{m.upper()} {p}" for p, item in DOCUMENT["paths"].items() for m in item)
EXAMPLES = int(os.environ.get("WIJKWERK_FUZZ_EXAMPLES", 0)) or max(3, min(12, FUZZ_BUDGET // len(OPERATIONS)))
DEEP = "WIJKWERK_FUZZ_EXAMPLES" in os.environ

load_all_checks()
ALL_CHECKS = [check for check in CHECKS.get_all() if not isinstance(check, type)]

CONFIG = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        "generation": {"max-examples": EXAMPLES, "no-shrink": True, "database": "none"},
        "phases": {
            "examples": {"enabled": True},
            "coverage": {"enabled": True},
            "fuzzing": {"enabled": True},
            "stateful": {"enabled": True, "max-steps": 10 if DEEP else 4},
        },
        "checks": {
            "enabled": True,
            # A header the operation requires that is missing: If-Match is the one we require, and
            # RFC 6585 names its absence 428 Precondition Required.
            # The object is found (and the caller's access to it checked) before the precondition, so a
            # missing object answers 404 with or without If-Match (a member without a plan, say).
            "missing_required_header": {"expected-statuses": [400, 401, 403, 404, 406, 415, 422, 428]},
            # Valid data the server may still refuse for a reason no schema can state: an If-Match
            # that names another version of the object (412, RFC 9110 §13.1.1).
            "positive_data_acceptance": {"expected-statuses": ["2xx", "3xx", 401, 403, 404, 409, 412, 429]},
        },
    }
)
SCHEMA = schemathesis.openapi.from_dict(DOCUMENT, config=CONFIG)

# The rules a request valid by the contract may still break, each for a reason no schema can state.
# A "valid data rejected" failure is dropped only when every error of the 422 names one of them:
# any other refusal of valid data (a format the contract does not state, say) still fails.
RULES_NO_SCHEMA_STATES = {
    # A cursor is valid only when this service signed it for this very list.
    "cursor_invalid": "signed by the service",
    # Checksums and dates relative to today.
    "bsn_checksum": "the eleven-test",
    "occurred_in_future": "relative to now",
    "birth_date_range": "relative to today",
    "date_in_future": "relative to today",
    # References: the contract says what an id or code looks like, not which exist.
    **dict.fromkeys(
        (
            "unknown_buurt",
            "unknown_area",
            "unknown_municipality",
            "unknown_organisation",
            "unknown_team",
            "unknown_theme",
            "unknown_worker",
            "unknown_life_domain",
            "unknown_organization",
            "unknown_location",
            "unknown_partner",
            "household_unknown",
            "member_unknown",
            "purpose_unknown",
            "domain_unknown",
            "organisation_unknown",
            "not_a_buurt",
            "buurt_not_covered",
            "not_own_team",
            "member_not_in_household",
            "goal_not_in_plan",
            "no_year_plan",
            "address_outside_municipality",
        ),
        "names an object that does not exist, or not here",
    ),
    # A JWK Set's keys (RFC 7517): kinds, sizes and ids of keys, beyond what its schema says.
    **dict.fromkeys(
        (
            "jwks_invalid",
            "jwk_invalid",
            "jwk_private",
            "jwk_kid",
            "jwk_alg",
            "jwk_use",
            "jwk_kty",
            "jwk_curve",
            "jwk_size",
        ),
        "the keys of a JWK Set",
    ),
    # Rules over several fields, or over a field and the stored state.
    **dict.fromkeys(
        (
            "subject_criterion",
            "search_criterion",
            "cbs_code_nesting",
            "parent_not_wijk",
            "buurt_needs_wijk",
            "wijk_has_no_parent",
            "dates_order",
            "period_order",
            "duplicate_domain",
            "redirect_uri_required",
            "redirect_uri_not_allowed",
            "redirect_uri_invalid",
            "organisation_required",
            "organisation_not_allowed",
            "jwks_required",
            "jwks_not_allowed",
            "machine_client_auth",
            "public_client_auth",
            "scope_not_in_role",
            "not_a_machine_role",
            "not_a_person_role",
            "bsn_read_not_eligible",
            "worker_link_not_allowed",
            "user_role_not_allowed",
            "plan_action_done",
            "not_finished",
            "not_applicable",
            "age_range",
            "opening_hours_order",
            "answer_required",
            "reasoning_required",
            "outcome_required",
            "outcome_from_required",
            "team_required",
            "bundle_self",
            "bundle_not_submitted",
            "unknown_signal",
        ),
        "a rule over several fields or the stored state",
    ),
    # A value the contract lists because answers carry it, which the service alone sets (a plan closed
    # with its household's file).
    "reason_not_allowed": "set by the service only",
    # An Idempotency-Key names the first request sent with it; generated requests reuse keys.
    "idempotency_key_reused": "names an earlier request",
    # Free text of a policy signal that holds what looks like personal data (app/domain/signals).
    **dict.fromkeys(
        (
            "personal_data_bsn",
            "personal_data_phone_number",
            "personal_data_email_address",
            "personal_data_postcode_house_number",
            "personal_data_member_name",
        ),
        "no personal data in a policy signal",
    ),
}
# RFC 6749 §4.1.2.1 and §5.2: the OAuth endpoints answer 400 (an error page, or an OAuth error)
# for a request naming a client, redirect URI, code or token that is not registered.
OAUTH_PATHS = ("/oauth/",)


@SCHEMA.hook
def filter_failure(context: Any, failure: Any, case: Any, response: Any) -> bool:
    if not isinstance(failure, RejectedPositiveData):
        return True
    if case.operation.path.startswith(OAUTH_PATHS) and response.status_code == 400:
        return False
    if response.status_code != 422:
        return True
    try:
        errors = response.json().get("errors") or []
    except ValueError:
        return True
    return not (errors and all(error.get("rule") in RULES_NO_SCHEMA_STATES for error in errors))


def _role_for(path: str, method: str) -> str:
    return role_for(DOCUMENT, path, method)


@pytest.fixture(scope="session")
def http() -> requests.Session:
    return requests.Session()


def test_every_check_of_schemathesis_runs() -> None:
    names = {check.__name__ for check in ALL_CHECKS}
    assert {
        "positive_data_acceptance",
        "negative_data_rejection",
        "ignored_auth",
        "unsupported_method",
    } <= names
    assert {"use_after_free", "ensure_resource_availability", "missing_required_header"} <= names
    assert all(CONFIG.projects.default.checks.get_by_name(name=name).enabled for name in names)


def test_the_live_server_serves_the_collected_operations(live_server: str, http: requests.Session) -> None:
    served = http.get(f"{live_server}/openapi.json", timeout=30).json()
    assert sorted(f"{m.upper()} {p}" for p, item in served["paths"].items() for m in item) == OPERATIONS
    assert served == DOCUMENT


def test_every_operation_has_a_caller() -> None:
    for label in OPERATIONS:
        method, path = label.split(" ", 1)
        assert _role_for(path, method) in ROLE_ACTORS


@SCHEMA.parametrize()
@settings(derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
def test_operation_holds_up(
    case: Any, live_server: str, role_headers: dict[str, dict[str, str]], http: requests.Session
) -> None:
    headers = role_headers[_role_for(case.operation.path, case.operation.method)]
    case.call_and_validate(base_url=live_server, session=http, headers=headers, checks=ALL_CHECKS, timeout=30)


def test_stateful_sequences_along_the_links(
    live_server: str, role_headers: dict[str, dict[str, str]], http: requests.Session
) -> None:
    machine = SCHEMA.as_state_machine()

    class Sequences(machine):  # type: ignore[misc,valid-type]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            headers = role_headers[_role_for(case.operation.path, case.operation.method)]
            return {"base_url": live_server, "session": http, "headers": headers, "timeout": 30}

    Sequences.run(
        settings=settings(
            max_examples=EXAMPLES,
            derandomize=True,
            database=None,
            deadline=None,
            phases=(Phase.explicit, Phase.generate),
            suppress_health_check=list(HealthCheck),
            stateful_step_count=10 if DEEP else 4,
        )
    )


# The SDL the app serves (openapi/schema.graphql), read without a server: one test per field.
GRAPHQL = schemathesis.graphql.from_file(served_sdl(contract_app()), config=CONFIG)


@GRAPHQL.hook("filter_failure")
def graphql_failure(context: Any, failure: Any, case: Any, response: Any) -> bool:
    errors = (response.json() or {}).get("errors") or []
    if isinstance(failure, GraphQLServerError):
        # GraphQL answers a refused permission, an unknown id or a broken cursor as an error with
        # the field's path (its value null); schemathesis reads every such error as a server
        # failure. A real one is masked as "Unexpected error." (app/graphql/schema.py): kept.
        return any(error.get("message") == MASKED_MESSAGE for error in errors)
    if isinstance(failure, GraphQLClientError):
        # The service bounds how much one query may return (app/graphql/limits.py, code LIMIT) and
        # holds arguments to rules no SDL can state (page sizes, control characters in text:
        # app/graphql/arguments.py, code BAD_USER_INPUT).
        stated_elsewhere = {"LIMIT", "BAD_USER_INPUT"}
        return not all((error.get("extensions") or {}).get("code") in stated_elsewhere for error in errors)
    return True


@GRAPHQL.parametrize()
@settings(derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
def test_graphql_holds_up(
    case: Any, live_server: str, role_headers: dict[str, dict[str, str]], http: requests.Session
) -> None:
    # Mutations as a network coordinator (who may propose, grant and manage members), queries as
    # a generalist: valid requests reach the resolvers instead of a permission error.
    role = "network_coordinator" if case.operation.label.startswith("Mutation.") else "generalist"
    case.call_and_validate(
        base_url=f"{live_server}/graphql", session=http, headers=role_headers[role], timeout=30
    )
