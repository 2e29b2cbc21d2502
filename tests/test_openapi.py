"""/openapi.json stays true: schemathesis calls every operation of a live gunicorn (issue 7).

Each documented operation gets a bounded number of generated requests (valid and
invalid parameters); every answer must have a documented status code and content type,
match its documented body schema, and never be a 5xx.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from api.openapi import openapi_document
from tests.conftest import LiveServer

pytestmark = pytest.mark.e2e

MAX_EXAMPLES = 25  # per operation and mode: about 450 requests in all
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# The document is plain data, so the operations are known at collection time; the test
# still fetches the live /openapi.json to prove that it is what the server serves.
SCHEMA = schemathesis.openapi.from_dict(openapi_document())
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]
CASES = [
    pytest.param(operation, mode, id=f"{operation.label} {mode.value}")
    for operation in OPERATIONS
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    # Only parameters and bodies can be made invalid; a path alone cannot be empty.
    if mode == GenerationMode.POSITIVE or operation.query or operation.body
]


def test_the_server_serves_this_document(live_server: LiveServer) -> None:
    import requests

    served = requests.get(f"{live_server.url}/openapi.json", timeout=10).json()
    assert served == openapi_document()


@pytest.mark.parametrize(("operation", "mode"), CASES)
def test_every_answer_matches_the_openapi_description(
    live_server: LiveServer, operation, mode: GenerationMode
) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,  # the same requests every run: a failure can be reproduced
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def check(case) -> None:
        case.call_and_validate(base_url=live_server.url, checks=CHECKS, timeout=30)

    check()


def test_a_fresh_worker_answers_a_draft(sample_build) -> None:
    """A worker's first draft once deadlocked (nested memo factories); found by this file."""
    import threading

    from api import create_app

    app = create_app({"TESTING": True, "INDEX_DIR": str(sample_build), "LOG_FORMAT": "off"})
    answers: list[int] = []

    def post() -> None:
        with app.test_client() as client:
            answers.append(client.post("/api/related", json={"title": "sourdough"}).status_code)

    worker = threading.Thread(target=post, daemon=True)
    worker.start()
    worker.join(timeout=10)
    if answers:
        app.extensions["postsearch.searcher"].close()
    assert answers == [200]
