"""schemathesis against /api/openapi.json, through the WSGI application: no server errors
and no response that contradicts the description.

The operations are driven with Hypothesis directly (schemathesis's pytest loader for
fixtures does not work with this pytest), a few examples each."""

from __future__ import annotations

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import negative_data_rejection
from schemathesis.checks import positive_data_acceptance

from tests.test_api_tokens import bearer
from tests.test_api_tokens import token_for
from tests.test_permissions import records  # noqa: F401  (a fixture)

EXAMPLES = settings(
    max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None
)


def operations(app: Flask) -> list:
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    found = [result.ok() for result in schema.get_all_operations()]
    # The /api/v1/ copies are the same views: the unversioned paths stand for both.
    return [op for op in found if not op.path.startswith("/api/v1/")]


@pytest.mark.slow
@pytest.mark.parametrize(
    "mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"]
)
@pytest.mark.parametrize("who", ["anonymous", "staff"])
def test_every_operation_answers_as_described(
    app: Flask,
    make_user,
    records,
    who: str,
    mode: GenerationMode,  # noqa: F811
) -> None:
    headers = bearer(token_for(app, make_user("staff"))) if who == "staff" else {}
    failures = []
    found = operations(app)
    assert len(found) >= 7
    for operation in found:
        # A write's body is checked against the vocabularies (organizations, topics,
        # types, languages) that a schema cannot list: a schema-valid body may be refused
        # with a documented 400, which is no contradiction of the description.
        excluded = [positive_data_acceptance] if operation.method.upper() != "GET" else []
        # Search reads its parameters leniently, as the design's contract says (an empty
        # `page` or `sort` means the default): invalid data must cause no server error
        # and no undocumented response, but need not be refused.
        if mode is GenerationMode.NEGATIVE:
            excluded = [positive_data_acceptance, negative_data_rejection]

        @EXAMPLES
        @given(
            case=operation.as_strategy(generation_mode=mode),
            real=st.booleans(),
            record=st.sampled_from(sorted(records.values())),
        )
        def run(case, real: bool, record: tuple[int, int, str]) -> None:
            # Random ids name no record: half the time, aim at one of the records.
            if real and mode is GenerationMode.POSITIVE:
                document_id, __, ref = record
                known = {"id": document_id, "ref": ref, "lang": "en"}
                for name in case.path_parameters or {}:
                    if name in known:
                        case.path_parameters[name] = known[name]
            case.call_and_validate(headers=headers, excluded_checks=excluded)  # noqa: B023 (run() runs in this iteration)

        try:
            run()
        except Unsatisfiable:
            # Nothing about this operation can be invalid (a string path parameter).
            assert mode is GenerationMode.NEGATIVE, operation.path
        except Exception as e:  # collect every operation's failure, not just the first
            failures.append(f"{operation.method.upper()} {operation.path}: {e}")
    assert failures == [], "\n\n".join(failures)
