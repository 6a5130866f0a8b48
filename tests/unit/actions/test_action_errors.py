"""Whatever an action raises becomes a failure to record: transient or permanent, and never
with an unforeseen exception's own text (which may quote a secret)."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError

from hookwise.actions.runner import as_provider_error
from hookwise.adapters.secrets import SecretUnavailable
from hookwise.providers.errors import permanent


def _client_error(code: str, status: int) -> ClientError:
    answer = {
        "Error": {"Code": code, "Message": "m"},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return ClientError(answer, "PutEvents")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (_client_error("ThrottlingException", 400), True),
        (_client_error("InternalFailure", 500), True),
        (_client_error("SomethingNew", 503), True),
        (_client_error("AccessDeniedException", 400), False),
        (_client_error("ValidationException", 400), False),
        (EndpointConnectionError(endpoint_url="https://events"), True),
        (ReadTimeoutError(endpoint_url="https://events"), True),
        (ConnectionResetError("reset"), True),
        (SecretUnavailable("hookwise/callback-x"), True),
        (IndexError("list index out of range"), False),
        (KeyError("id"), False),
    ],
)
def test_each_failure_is_transient_or_permanent(error: Exception, transient: bool) -> None:
    assert as_provider_error(error).transient is transient


def test_a_provider_error_is_kept_as_it_is() -> None:
    error = permanent("the event names no repository")
    assert as_provider_error(error) is error


def test_an_unforeseen_error_is_named_with_where_it_was_raised_not_its_text() -> None:
    try:
        json.loads('{"private_key": "-----BEGIN PRIVATE KEY-----')
    except ValueError as raised:
        error = as_provider_error(raised)
    assert not error.transient
    assert str(error).startswith("JSONDecodeError: unexpected error at ")
    try:
        int("ghp_secretvalue")
    except ValueError as raised:
        error = as_provider_error(raised)
    assert "ghp_secretvalue" not in str(error)
    assert str(error).startswith("ValueError: unexpected error at test_action_errors.py:")
