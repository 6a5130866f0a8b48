"""A permanent failure reaches the DLQ before the event turns `failed`: a worker stopped
anywhere in between leaves no failed event the DLQ does not show, and its message, back after
the lease, finishes the failure without asking the model again."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from hookwise import wiring
from hookwise.adapters.store.dynamodb import state_key
from hookwise.domain.events import EventStatus
from hookwise.local.event_source import lambda_record
from tests.integration.worker.conftest import Pipeline, run_batch

QUEUE_ARN = "arn:aws:sqs:us-east-1:1:q"


class Crash(Exception):
    """A worker killed mid-step."""


def received(pipeline: Pipeline) -> dict[str, Any]:
    """The event's message as the worker's event source hands it over."""
    message = boto3.client("sqs").receive_message(
        QueueUrl=pipeline.aws.resources.queue_url, AttributeNames=["All"]
    )["Messages"][0]
    return lambda_record(message, QUEUE_ARN, "us-east-1")


def lease_lapses(pipeline: Pipeline, event_id: str) -> None:
    """The crashed worker's lease runs out, as it does once nobody extends it."""
    boto3.client("dynamodb").update_item(
        TableName=pipeline.aws.settings.table,
        Key={"event_id": {"S": state_key(event_id)}},
        UpdateExpression="SET lease_until = :past",
        ExpressionAttributeValues={":past": {"N": "0"}},
    )


def dead_letters(pipeline: Pipeline) -> list[str]:
    return [json.loads(m["Body"])["event_id"] for m in pipeline.dlq()]


def crash_on(monkeypatch: pytest.MonkeyPatch, target: Any, name: str, when: Any) -> None:
    original = getattr(target, name)

    def crashing(*args: Any, **kwargs: Any) -> Any:
        if when(*args, **kwargs):
            raise Crash
        return original(*args, **kwargs)

    monkeypatch.setattr(target, name, crashing)


def test_a_worker_stopped_before_the_dlq_send_leaves_no_failed_event_outside_it(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    pipeline.faults(rules=[{"status": 400}])
    event_id = pipeline.deliver()
    record = received(pipeline)
    with monkeypatch.context() as patch:
        crash_on(patch, wiring.queue(), "send_to_dlq", lambda *_: True)
        run_batch([record], 60)
    assert dead_letters(pipeline) == []
    # Not `failed`: the DLQ does not have it, so nothing may say it failed.
    assert pipeline.record(event_id).status is EventStatus.PROCESSING
    lease_lapses(pipeline, event_id)
    assert run_batch([record], 60) == {"batchItemFailures": []}
    done = pipeline.record(event_id)
    assert done.status is EventStatus.FAILED
    assert done.error is not None
    assert "400" in done.error
    assert done.dead_letter_reason is None
    assert dead_letters(pipeline) == [event_id]
    # The failure was decided once: the returning message did not ask the model again.
    assert pipeline.model.calls == 1


def test_a_worker_stopped_after_the_dlq_send_does_not_work_the_event_again(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    pipeline.faults(rules=[{"status": 400, "times": 1}])
    event_id = pipeline.deliver()
    record = received(pipeline)
    store = wiring.store()
    with monkeypatch.context() as patch:
        crash_on(
            patch,
            store,
            "transition",
            lambda *_, to_status, **__: to_status is EventStatus.FAILED,
        )
        run_batch([record], 60)
    assert dead_letters(pipeline) == [event_id]
    assert pipeline.record(event_id).status is EventStatus.PROCESSING
    lease_lapses(pipeline, event_id)
    # The message comes back: the model would answer now (its fault was for one call), but the
    # failure stands and the event is not worked twice.
    run_batch([record], 60)
    done = pipeline.record(event_id)
    assert done.status is EventStatus.FAILED
    assert pipeline.model.calls == 1
    # At least once in the DLQ: the copy the returning message sent.
    assert dead_letters(pipeline) == [event_id]
    assert pipeline.aws.messages() == []


def test_a_redrive_before_the_failure_is_recorded_neither_loses_nor_repeats_it(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    pipeline.faults(rules=[{"status": 400, "times": 1}])
    event_id = pipeline.deliver()
    record = received(pipeline)
    store = wiring.store()
    with monkeypatch.context() as patch:
        crash_on(
            patch,
            store,
            "transition",
            lambda *_, to_status, **__: to_status is EventStatus.FAILED,
        )
        run_batch([record], 60)
    lease_lapses(pipeline, event_id)
    redrive = wiring.redrive_service()
    # On-call redrives the copy while the event is still `processing`.
    assert redrive.handle({"action": "redrive"})["counts"] == {"redriven": 1}
    while pipeline.poll():
        pass
    # The redriven copy recorded the failure the stopped worker had decided, no model call,
    # and the DLQ shows it again.
    assert pipeline.record(event_id).status is EventStatus.FAILED
    assert pipeline.model.calls == 1
    [letter] = redrive.handle({"action": "list"})["messages"]
    assert (letter["event_id"], letter["status"]) == (event_id, "failed")
    # From now on a redrive works it again, once.
    assert redrive.handle({"action": "redrive"})["counts"] == {"redriven": 1}
    while pipeline.poll():
        pass
    assert pipeline.record(event_id).status is EventStatus.COMPLETED
    assert pipeline.model.calls == 2
    assert dead_letters(pipeline) == []
