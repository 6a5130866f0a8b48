"""One event through the model exactly once: success, skip, redelivery, retries, failures."""

from __future__ import annotations

import json
import time

import boto3
import httpx
import pytest

from hookwise.adapters.store.base import EventQuery
from hookwise.domain.events import EventStatus
from hookwise.local.event_source import lambda_record
from hookwise.samples import sample_bytes
from tests.integration.worker.conftest import Configs, Pipeline, run_batch

PR = json.loads(sample_bytes("github", "pull_request.opened"))


def poll_until_settled(pipeline: Pipeline, event_id: str, seconds: float = 5.0) -> EventStatus:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        pipeline.poll()
        status = pipeline.record(event_id).status
        if status in {EventStatus.COMPLETED, EventStatus.FAILED, EventStatus.SKIPPED}:
            return status
        time.sleep(0.1)
    return pipeline.record(event_id).status


def test_pull_request_is_reviewed_once_with_usage_and_cost(pipeline: Pipeline) -> None:
    event_id = pipeline.deliver()
    assert pipeline.poll() == 1
    record = pipeline.record(event_id)
    assert record.status is EventStatus.COMPLETED
    assert record.route == "github-pr-review"
    assert record.result is not None
    assert PR["pull_request"]["title"] in record.result["summary"]
    assert record.result["risk_level"] in {"low", "medium", "high"}
    assert record.usage is not None
    assert record.usage.input_tokens > 0
    assert record.usage.cost_usd > 0
    assert record.latency_ms is not None
    assert record.attempts == 1
    assert pipeline.model.calls == 1
    assert pipeline.aws.messages() == []


def test_a_system_prompt_below_the_cacheable_minimum_is_not_marked(pipeline: Pipeline) -> None:
    pipeline.deliver()
    pipeline.poll()
    system = pipeline.model.model.requests[-1]["system"]
    assert all("cache_control" not in block for block in system)


def test_second_event_of_a_route_reads_the_cached_system_prompt(
    pipeline: Pipeline, configs: Configs
) -> None:
    # A long enough system prompt, as a route with real instructions has.
    configs.replace(
        "    min_cacheable_tokens: 1024\n    bedrock_id: us.anthropic.claude-sonnet",
        "    min_cacheable_tokens: 50\n    bedrock_id: us.anthropic.claude-sonnet",
    )
    # The model's own minimum, lowered the same way.
    httpx.post(
        f"{pipeline.model.url}/_control/cache", json={"min_tokens": {"claude-sonnet-4-5": 50}}
    ).raise_for_status()
    first = pipeline.deliver(delivery="a")
    pipeline.poll()
    second = pipeline.deliver(delivery="b", fixture="pull_request.synchronize")
    pipeline.poll()
    assert pipeline.model.calls == 2
    written, read = pipeline.record(first).usage, pipeline.record(second).usage
    assert written is not None
    assert read is not None
    assert written.cache_creation_input_tokens > 0
    assert read.cache_read_input_tokens == written.cache_creation_input_tokens
    assert read.cache_creation_input_tokens == 0


def test_redelivered_message_for_a_completed_event_makes_no_model_call(
    pipeline: Pipeline,
) -> None:
    event_id = pipeline.deliver()
    sqs = boto3.client("sqs")
    message = sqs.receive_message(
        QueueUrl=pipeline.aws.resources.queue_url,
        AttributeNames=["All"],
        MessageAttributeNames=["All"],
    )
    record = lambda_record(message["Messages"][0], "arn:aws:sqs:us-east-1:1:q", "us-east-1")
    assert run_batch([record], 60) == {"batchItemFailures": []}
    assert run_batch([record], 60) == {"batchItemFailures": []}
    assert pipeline.record(event_id).status is EventStatus.COMPLETED
    assert pipeline.model.calls == 1


def test_event_without_a_route_is_skipped_without_a_model_call(pipeline: Pipeline) -> None:
    event_id = pipeline.deliver(fixture="push")
    pipeline.poll()
    assert pipeline.record(event_id).status is EventStatus.SKIPPED
    assert pipeline.model.calls == 0


def test_server_error_goes_back_to_the_queue_then_completes(pipeline: Pipeline) -> None:
    pipeline.faults(rules=[{"status": 500, "times": 1}])
    event_id = pipeline.deliver()
    pipeline.poll()
    record = pipeline.record(event_id)
    assert record.status is EventStatus.QUEUED
    assert record.error is not None
    assert "500" in record.error
    assert poll_until_settled(pipeline, event_id) is EventStatus.COMPLETED
    assert pipeline.model.model.answered == 1
    assert pipeline.dlq() == []


def test_bad_request_fails_the_event_at_once_with_the_message_in_the_dlq(
    pipeline: Pipeline,
) -> None:
    pipeline.faults(rules=[{"status": 400}])
    event_id = pipeline.deliver()
    pipeline.poll()
    record = pipeline.record(event_id)
    assert record.status is EventStatus.FAILED
    assert record.error is not None
    assert "400" in record.error
    assert pipeline.model.calls == 1
    parked = pipeline.dlq()
    assert [json.loads(m["Body"])["event_id"] for m in parked] == [event_id]
    assert "400" in parked[0]["MessageAttributes"]["reason"]["StringValue"]
    assert pipeline.aws.messages() == []


@pytest.mark.parametrize(
    ("rule", "status"),
    [
        ({"status": 400}, EventStatus.FAILED),
        ({"status": 429, "retry_after": 30}, EventStatus.DEFERRED),
    ],
    ids=["failed", "deferred"],
)
def test_an_event_that_never_completed_is_listed_under_its_route(
    pipeline: Pipeline, rule: dict[str, object], status: EventStatus
) -> None:
    # On-call's "what failed on this route": the route is recorded once the event is routed,
    # not only with a result.
    from hookwise import wiring

    pipeline.faults(rules=[rule])
    event_id = pipeline.deliver()
    pipeline.poll()
    record = pipeline.record(event_id)
    assert record.status is status
    assert record.route == "github-pr-review"
    query = EventQuery(since="2000-01-01", until="2999-01-01", status=status, route=record.route)
    assert [found.event_id for found in wiring.store().find(query, 10).records] == [event_id]


def test_invalid_output_is_repaired_once(pipeline: Pipeline) -> None:
    pipeline.faults(rules=[{"invalid_output": True, "times": 1}])
    event_id = pipeline.deliver()
    pipeline.poll()
    assert pipeline.record(event_id).status is EventStatus.COMPLETED
    assert pipeline.model.calls == 2


def test_output_invalid_after_the_repair_fails_the_event(pipeline: Pipeline) -> None:
    pipeline.faults(rules=[{"invalid_output": True}])
    event_id = pipeline.deliver()
    pipeline.poll()
    record = pipeline.record(event_id)
    assert record.status is EventStatus.FAILED
    assert record.error is not None
    assert record.error.startswith("invalid output")
    assert pipeline.model.calls == 2
    assert len(pipeline.dlq()) == 1


@pytest.mark.parametrize("status", [429, 529], ids=["rate-limited", "overloaded"])
def test_no_capacity_defers_for_retry_after_without_counting_a_failure(
    pipeline: Pipeline, status: int
) -> None:
    pipeline.faults(rules=[{"status": status, "retry_after": 2, "times": 1}])
    event_id = pipeline.deliver()
    pipeline.poll()
    deferred = pipeline.record(event_id)
    assert deferred.status is EventStatus.DEFERRED
    assert deferred.defer_reason == f"model answered {status}, retry-after"
    assert deferred.failures == 0
    assert pipeline.poll() == 0  # hidden for retry-after seconds, not redelivered at once
    time.sleep(2.2)
    assert pipeline.poll() == 1
    done = pipeline.record(event_id)
    assert done.status is EventStatus.COMPLETED
    assert done.defer_reason is None
    assert pipeline.model.calls == 2
    assert pipeline.dlq() == []


def test_retries_exhausted_fail_the_event_before_it_reaches_the_dlq(
    pipeline: Pipeline, monkeypatch
) -> None:
    from hookwise import wiring

    monkeypatch.setenv("HOOKWISE_MAX_FAILURES", "2")
    wiring.reset()
    pipeline.faults(rules=[{"status": 503}])
    event_id = pipeline.deliver()
    assert poll_until_settled(pipeline, event_id, seconds=8) is EventStatus.FAILED
    record = pipeline.record(event_id)
    assert record.error is not None
    assert record.error.startswith("exhausted")
    assert pipeline.model.calls == 2
    assert len(pipeline.dlq()) == 1


def test_a_batch_waits_on_the_model_concurrently(pipeline: Pipeline) -> None:
    pipeline.faults(rules=[{"delay": 1.0}])
    ids = [pipeline.deliver(delivery=f"c-{i}") for i in range(10)]
    started = time.monotonic()
    assert pipeline.poll() == 10
    elapsed = time.monotonic() - started
    assert all(pipeline.record(i).status is EventStatus.COMPLETED for i in ids)
    assert elapsed < 4.0, f"10 records at 1 s each took {elapsed:.1f} s"


def test_records_are_not_started_without_time_to_finish(pipeline: Pipeline) -> None:
    event_id = pipeline.deliver()
    sqs = boto3.client("sqs")
    message = sqs.receive_message(
        QueueUrl=pipeline.aws.resources.queue_url, AttributeNames=["All"]
    )["Messages"][0]
    record = lambda_record(message, "arn:aws:sqs:us-east-1:1:q", "us-east-1")
    answer = run_batch([record], timeout=2)
    assert answer == {"batchItemFailures": [{"itemIdentifier": message["MessageId"]}]}
    assert pipeline.model.calls == 0
    assert pipeline.record(event_id).status is EventStatus.RECEIVED  # never claimed


def test_a_body_in_s3_is_read_back_transparently(pipeline: Pipeline, monkeypatch) -> None:
    from hookwise import wiring

    monkeypatch.setenv("HOOKWISE_INLINE_BODY_BYTES", "1000")
    wiring.reset()
    event_id = pipeline.deliver()
    stored = pipeline.record(event_id)
    assert stored.body is None
    assert stored.body_ref is not None
    pipeline.poll()
    record = pipeline.record(event_id)
    assert record.status is EventStatus.COMPLETED
    assert record.result is not None
    assert PR["pull_request"]["title"] in record.result["summary"]


@pytest.mark.parametrize(
    "fault",
    [{"status": 503}, {"drop": True}, {"delay": 2.5}],
    ids=["unavailable", "dropped-connection", "slow-answer"],
)
def test_transient_faults_recover_without_the_dlq(pipeline: Pipeline, monkeypatch, fault) -> None:
    from hookwise import wiring

    # A slow answer becomes a client timeout, like one that outlives the invocation's budget.
    monkeypatch.setenv("HOOKWISE_MODEL_TIMEOUT_SECONDS", "1")
    wiring.reset()
    pipeline.faults(rules=[{**fault, "times": 1}])
    event_id = pipeline.deliver()
    pipeline.poll()
    first = pipeline.record(event_id)
    assert first.status is EventStatus.QUEUED
    assert first.error is not None
    assert first.error.startswith("transient")
    assert first.failures == 1
    assert poll_until_settled(pipeline, event_id) is EventStatus.COMPLETED
    assert pipeline.dlq() == []
