"""`make dev`'s promise, over HTTP: a signed PR is reviewed, once, within seconds."""

from __future__ import annotations

import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from hookwise.samples import sample_bytes
from tests.e2e.conftest import LocalStack

pytestmark = pytest.mark.e2e

PR = sample_bytes("github", "pull_request.opened")
PUSH = sample_bytes("github", "push")
TITLE = json.loads(PR)["pull_request"]["title"]


def test_signed_pull_request_completes_with_a_review_of_it(stack: LocalStack) -> None:
    delivery = str(uuid.uuid4())
    answer = stack.post("github", PR, stack.signed("github", PR, "pull_request", delivery))
    assert answer.status_code == 202
    assert answer.json()["status"] == "accepted"
    event = stack.wait_for(answer.json()["event_id"], {"completed", "failed"}, seconds=5)
    assert event["status"] == "completed"
    assert TITLE in event["result"]["summary"]
    assert event["usage"]["input_tokens"] > 0


def test_five_concurrent_copies_of_a_delivery_make_one_event_and_one_call(
    stack: LocalStack,
) -> None:
    body = PR.replace(b'"number": 1', b'"number": 2', 1)
    headers = stack.signed("github", body, "pull_request", str(uuid.uuid4()))
    calls_before = stack.model_calls()
    with ThreadPoolExecutor(5) as pool:
        answers = list(pool.map(lambda _: stack.post("github", body, headers), range(5)))
    assert sorted(a.status_code for a in answers) == [200, 200, 200, 200, 202]
    assert {a.json()["event_id"] for a in answers} == {answers[0].json()["event_id"]}
    assert sorted(a.json()["status"] for a in answers) == ["accepted"] + ["duplicate"] * 4
    event = stack.wait_for(answers[0].json()["event_id"], {"completed"})
    assert event["status"] == "completed"
    assert stack.model_calls() - calls_before == 1


def test_wrong_signature_is_401_and_stores_and_calls_nothing(stack: LocalStack) -> None:
    stored, calls = stack.stored_ids(), stack.model_calls()
    headers = stack.signed("github", PR, "pull_request", str(uuid.uuid4()), secret="not it")
    answer = stack.post("github", PR, headers)
    assert answer.status_code == 401
    assert answer.json() == {"error": "unauthorized"}
    assert stack.stored_ids() == stored
    assert stack.model_calls() == calls


def test_event_without_a_route_is_skipped_without_a_call(stack: LocalStack) -> None:
    calls = stack.model_calls()
    answer = stack.post("github", PUSH, stack.signed("github", PUSH, "push", str(uuid.uuid4())))
    assert answer.status_code == 202
    event = stack.wait_for(answer.json()["event_id"], {"skipped", "completed", "failed"})
    assert event["status"] == "skipped"
    assert stack.model_calls() == calls


def test_duplicate_storm_stores_and_calls_once_per_event(stack: LocalStack) -> None:
    calls = stack.model_calls()
    deliveries = []
    for index in range(100):
        body = PR.replace(b'"number": 418', f'"number": {1000 + index}'.encode(), 1)
        deliveries.append((body, stack.signed("github", body, "pull_request", str(uuid.uuid4()))))
    # Each delivery's five copies go out together; the local front runs one ingest
    # environment, so a storm queues up: give it time rather than fail on a client timeout.
    storm = [d for d in deliveries for _ in range(5)]
    with (
        httpx.Client(base_url=str(stack.api.base_url), timeout=180) as client,
        ThreadPoolExecutor(20) as pool,
    ):
        answers = list(
            pool.map(lambda d: client.post("/webhooks/github", content=d[0], headers=d[1]), storm)
        )
    assert sorted(a.status_code for a in answers).count(202) == 100
    assert all(a.status_code in (200, 202) for a in answers)
    ids = {a.json()["event_id"] for a in answers}
    assert len(ids) == 100
    # One deadline for the lot: the worker takes them in queue order, and 100 PR reviews (a
    # diff fetched and a comment posted each) take a busy 2-core machine about half a minute.
    # Under the sweeper's 120 s: a lost message must fail here, not be sent again.
    deadline = time.monotonic() + 90
    for event_id in ids:
        left = max(0.0, deadline - time.monotonic())
        assert stack.wait_for(event_id, {"completed", "failed"}, seconds=left)["status"] == (
            "completed"
        )
    assert stack.model_calls() - calls == 100
