"""Property-based: whatever a client sends to any API route, the answer is never a 5xx.

Schemathesis generates requests (valid and malformed) from our own OpenAPI schema
and calls the WSGI app in-process, as an agent with a valid key.
"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

from voltdesk.api.services import issue_token
from voltdesk.core import roles
from voltdesk.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)


@pytest.fixture(autouse=True)
def keep_the_test_connection_open():
    # A WSGI request closes database connections when it ends; inside a test
    # transaction that would close the test's own connection (Django's test
    # client does the same disconnection).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def agent_key(utility, make_customer, make_user):
    make_customer(name="Fuzz Ltd", sites=2)
    agent = make_user(roles.AGENT)
    return issue_token(agent, name="fuzz").key


@schema.parametrize()
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_request_makes_the_api_fail_with_a_server_error(case, agent_key):
    response = case.call(headers={"Authorization": f"Bearer {agent_key}"})
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path} {case.query} -> {response.status_code}: "
        f"{response.text[:300]}"
    )
