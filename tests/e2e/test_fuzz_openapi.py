"""Hostile input, generated: every operation of the published OpenAPI document is fuzzed
(schemathesis, a bounded number of cases each, valid and invalid data) against the running
gateway. No case may get a 5xx, every error must be in the one error shape, and responses
must match the document."""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

EXAMPLES = int(os.environ.get("LIFECIRCLE_FUZZ_EXAMPLES", "12"))
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance,
          status_code_conformance]


def check(case, base_url: str, headers: dict) -> None:
    response = case.call(base_url=base_url, headers=headers, timeout=15)
    case.validate_response(response, checks=CHECKS)
    if response.status_code >= 400:
        body = response.json()
        assert set(body) == {"error"}, body
        assert set(body["error"]) == {"code", "message", "details"}, body


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_generated_request_breaks_the_api(system, api, mode):
    schema = schemathesis.openapi.from_url(f"{system.base_url}/api/v1/openapi.json")
    # An admin passes every role check, so generated input reaches the services' own checks.
    headers = {"Authorization": f"Bearer {api.token('fuzz-admin', 'admin')}"}
    failures = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(operation.as_strategy(generation_mode=mode))
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  phases=[Phase.explicit, Phase.generate],
                  suppress_health_check=list(HealthCheck))
        def fuzz(case):
            check(case, system.base_url, headers)

        try:
            fuzz()
        except Unsatisfiable:
            pass  # no input to make invalid (e.g. GET /healthz)
        except Exception as exc:  # collect every broken operation, not just the first
            failures.append(f"{operation.label}: {str(exc)[:600]}")
    assert operations >= 15
    assert not failures, "\n\n".join(failures)
