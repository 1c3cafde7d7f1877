"""Hostile input, generated: every operation of the published OpenAPI document is fuzzed
(schemathesis, a bounded number of cases each, valid and invalid data) against the running
gateway. No case may get a 5xx, every error must be in the one error shape, and responses
must match the document.

Beyond what schemathesis generates from the document, bodies and queries get hostile values
planted where a text, number or date was (issue 10): lone UTF-16 surrogates, integers past
Python's 4300-digit parsing limit, and dates at the ends of the calendar."""

from __future__ import annotations

import copy
import os
import re
import sys

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
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


HOSTILE_TEXT = st.sampled_from(["\ud800", "名字\udfff", "\udbff\udbff"])
HOSTILE_NUMBER = st.sampled_from([10 ** 5000 - 1, -(10 ** 4400), 7 * (10 ** 4301 - 1) // 9])
HOSTILE_DATE = st.sampled_from(["9999-12-31", "9999-12-25", "0001-01-01"])
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


def leaf_paths(value, path=()):
    """Where a text or number sits in a JSON value."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaf_paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from leaf_paths(item, (*path, index))
    elif isinstance(value, str | int | float) and not isinstance(value, bool):
        yield path


def planted(value, path, hostile):
    if not path:
        return hostile
    value = copy.deepcopy(value)
    parent = value
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = hostile
    return value


def with_hostile_values(body):
    paths = list(leaf_paths(body))
    if not paths:
        return st.just(body)
    return st.one_of(st.just(body), st.builds(planted, st.just(body), st.sampled_from(paths),
                                              st.one_of(HOSTILE_TEXT, HOSTILE_NUMBER)))


def date_parameters(operation) -> list[str]:
    """Names of the operation's query parameters documented as dates."""
    names = []
    for parameter in getattr(operation, "query", None) or []:
        definition = getattr(parameter, "definition", None) or {}
        if (definition.get("schema") or definition).get("format") == "date":
            names.append(parameter.name)
    return names


def with_hostile_dates(context, query):
    query = query or {}
    dates = set(date_parameters(context.operation)) | {
        key for key, value in query.items() if isinstance(value, str) and DATE.match(value)}
    if not dates:
        return st.just(query)
    return st.one_of(st.just(query), st.builds(lambda key, day: {**query, key: day},
                                               st.sampled_from(sorted(dates)), HOSTILE_DATE))


@pytest.fixture
def huge_numbers_serialise():
    """Python refuses to write an int of more than 4300 digits too; the client must send it."""
    limit = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    yield
    sys.set_int_max_str_digits(limit)


def hostile(case) -> bool:
    """Did this case carry one of the planted values?"""
    def bad(value):
        if isinstance(value, str):
            return any(0xD800 <= ord(c) <= 0xDFFF for c in value)
        if isinstance(value, int) and not isinstance(value, bool):
            return abs(value) >= 10 ** 4300
        return False

    body = case.body if isinstance(case.body, dict | list | str | int) else None
    planted_body = any(bad(_get(body, path)) for path in leaf_paths(body))
    planted_date = any(str(v)[:4] in ("9999", "0001") for v in (case.query or {}).values())
    return planted_body or planted_date


def _get(value, path):
    for step in path:
        value = value[step]
    return value


def check(case, base_url: str, headers: dict) -> None:
    response = case.call(base_url=base_url, headers=headers, timeout=15)
    case.validate_response(response, checks=CHECKS)
    if response.status_code >= 400:
        body = response.json()
        assert set(body) == {"error"}, body
        assert set(body["error"]) == {"code", "message", "details"}, body


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_generated_request_breaks_the_api(system, api, mode, huge_numbers_serialise):
    schema = schemathesis.openapi.from_url(f"{system.base_url}/api/v1/openapi.json")
    schema.hook("flatmap_body")(lambda _context, body: with_hostile_values(body))
    schema.hook("flatmap_query")(with_hostile_dates)
    # An admin passes every role check, so generated input reaches the services' own checks.
    headers = {"Authorization": f"Bearer {api.token('fuzz-admin', 'admin')}"}
    failures = []
    operations = 0
    hostile_cases = []
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(operation.as_strategy(generation_mode=mode))
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  phases=[Phase.explicit, Phase.generate],
                  suppress_health_check=list(HealthCheck))
        def fuzz(case):
            hostile_cases.append(hostile(case))
            check(case, system.base_url, headers)

        try:
            fuzz()
        except Unsatisfiable:
            pass  # no input to make invalid (e.g. GET /healthz)
        except Exception as exc:  # collect every broken operation, not just the first
            failures.append(f"{operation.label}: {str(exc)[:600]}")
    assert operations >= 15
    assert sum(hostile_cases) >= 20, "the planted values were hardly ever sent"
    assert not failures, "\n\n".join(failures)
