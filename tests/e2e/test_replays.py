"""Replays through the local stack: GitHub, Shopify and Twilio sign neither their delivery id
nor a timestamp, so anyone holding one captured delivery can send it again under a fresh id
(and another event type). Each replay is answered `duplicate` and costs nothing: no event
stored, no model call."""

from __future__ import annotations

import json
import time
import uuid
from urllib.parse import urlencode

import pytest

from hookwise.samples import sample_bytes
from hookwise.verifiers import verifier_for
from tests.e2e.conftest import LocalStack

pytestmark = pytest.mark.e2e

# A routed sample of each (a model call when accepted), its event type, and another one.
CAPTURED = [
    ("github", "pull_request.opened", "pull_request", "issues"),
    ("shopify", "orders.create", "orders.create", "orders.cancelled"),
    ("twilio", "message.received", "message.received", "call.completed"),
]


def captured_body(stack: LocalStack, source: str, sample: str) -> bytes:
    """A delivery of the sample no other test sends (its own object id)."""
    verifier = verifier_for(stack.config.sources[source])
    payload = verifier.prepare_sample(
        json.loads(sample_bytes(source, sample)),
        delivery_id=str(uuid.uuid4()),
        timestamp=int(time.time()),
    )
    return json.dumps(payload).encode() if verifier.json_body else urlencode(payload).encode()


@pytest.mark.parametrize(
    ("source", "sample", "event_type", "other_type"), CAPTURED, ids=[c[0] for c in CAPTURED]
)
def test_a_captured_delivery_replayed_under_a_fresh_id_costs_nothing(
    stack: LocalStack, source: str, sample: str, event_type: str, other_type: str
) -> None:
    body = captured_body(stack, source, sample)
    captured = stack.signed(source, body, event_type, str(uuid.uuid4()))
    first = stack.post(source, body, captured)
    assert first.status_code == 202, first.text
    event_id = first.json()["event_id"]
    assert stack.wait_for(event_id, {"completed", "failed"})["status"] == "completed"
    stored, calls = stack.stored_ids(), stack.model_calls()

    replays = [
        # The provider's own redelivery: the same request again.
        captured,
        stack.signed(source, body, event_type, str(uuid.uuid4())),
        stack.signed(source, body, other_type, str(uuid.uuid4())),
    ]
    assert replays[1] != captured
    for headers in replays:
        answer = stack.post(source, body, headers)
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"event_id": event_id, "status": "duplicate"}
    time.sleep(1)  # anything wrongly enqueued would reach the worker within this
    assert stack.stored_ids() == stored
    assert stack.model_calls() == calls
    assert stack.event(event_id)["status"] == "completed"


def test_a_new_event_is_still_accepted(stack: LocalStack) -> None:
    """Another body is another event, whatever delivery id it comes under."""
    delivery = str(uuid.uuid4())
    first = captured_body(stack, "github", "pull_request.opened")
    answer = stack.post("github", first, stack.signed("github", first, "pull_request", delivery))
    assert answer.status_code == 202
    other = captured_body(stack, "github", "pull_request.opened")
    again = stack.post("github", other, stack.signed("github", other, "pull_request", delivery))
    assert again.status_code == 202
    assert again.json()["event_id"] != answer.json()["event_id"]
