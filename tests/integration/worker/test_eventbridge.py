"""A completed result goes to the `hookwise` EventBridge bus, detail-type per route, unless the
route says `deliveries: {eventbridge: false}` (the shipped PR review route: its comment is the
delivery, and the bus would cost $1 per million events for nobody)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import boto3
import httpx
import pytest
from botocore.awsrequest import AWSResponse

from hookwise import wiring
from hookwise.domain.events import EventStatus
from tests.integration.test_ingest_api import call, gateway_event
from tests.integration.worker.conftest import Configs, Pipeline


def _tap(pipeline: Pipeline) -> str:
    """A queue that receives everything hookwise puts on its bus."""
    events, sqs = boto3.client("events"), boto3.client("sqs")
    tap = sqs.create_queue(QueueName="bus-tap")["QueueUrl"]
    tap_arn = sqs.get_queue_attributes(QueueUrl=tap, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    bus = pipeline.aws.resources.event_bus
    events.put_rule(
        Name="all-hookwise", EventBusName=bus, EventPattern=json.dumps({"source": ["hookwise"]})
    )
    events.put_targets(
        Rule="all-hookwise", EventBusName=bus, Targets=[{"Id": "tap", "Arn": tap_arn}]
    )
    return tap


def _publish(route: dict[str, Any]) -> None:
    route["deliveries"] = {"eventbridge": True}


def test_completed_result_is_put_on_the_bus(pipeline: Pipeline, configs: Configs) -> None:
    configs.edit_route("github-pr-review", _publish)
    tap = _tap(pipeline)
    event_id = pipeline.deliver()
    pipeline.poll()
    received = pipeline.aws.messages(tap)
    assert len(received) == 1
    envelope = json.loads(received[0]["Body"])
    assert envelope["source"] == "hookwise"
    assert envelope["detail-type"] == "github-pr-review"
    assert envelope["detail"]["event_id"] == event_id
    assert envelope["detail"]["status"] == "completed"
    assert envelope["detail"]["result"] == pipeline.record(event_id).result


def test_a_route_that_does_not_publish_puts_nothing_on_the_bus(pipeline: Pipeline) -> None:
    tap = _tap(pipeline)
    event_id = pipeline.deliver()
    pipeline.poll()
    assert pipeline.record(event_id).status.value == "completed"
    assert pipeline.aws.messages(tap) == []
    assert "eventbridge" not in (pipeline.record(event_id).actions or {})


class BusOutage:
    """PutEvents answered "throttled" while `down`, never reaching the bus, by every client
    built from here on (the worker's is built at its first poll)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.down = True
        self.refused = 0
        # A session of its own, put back after the test.
        session = boto3.session.Session()
        monkeypatch.setattr(boto3, "DEFAULT_SESSION", session)
        session.events.register("before-call.events.PutEvents", self._answer)
        wiring.reset()

    def _answer(self, **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        if not self.down:
            return None
        self.refused += 1
        error = {"Code": "ThrottlingException", "Message": "Rate exceeded"}
        return AWSResponse("", 400, {}, None), {
            "Error": error,
            "ResponseMetadata": {"HTTPStatusCode": 400},
        }


def _until(check: Callable[[], bool], pipeline: Pipeline, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not check() and time.monotonic() < deadline:
        pipeline.poll()
        time.sleep(0.2)


def test_a_failed_publish_is_recorded_and_retried_until_it_is_on_the_bus(
    pipeline: Pipeline, configs: Configs, monkeypatch: pytest.MonkeyPatch
) -> None:
    configs.edit_route("github-pr-review", _publish)
    tap = _tap(pipeline)
    outage = BusOutage(monkeypatch)
    event_id = pipeline.deliver()
    pipeline.poll()
    record = pipeline.record(event_id)
    assert record.status is EventStatus.COMPLETED
    assert outage.refused >= 1
    outcome = (record.actions or {})["eventbridge"]
    assert outcome["status"] == "retrying"
    assert outcome["error_type"] == "ThrottlingException"
    assert "PutEvents" in outcome["error"]
    # The comment was posted once; the bus is retried on its own.
    assert (record.actions or {})["github.comment"]["status"] == "done"
    outage.down = False
    received: list[dict[str, Any]] = []
    _until(lambda: bool(received.extend(pipeline.aws.messages(tap)) or received), pipeline)
    assert len(received) == 1
    assert json.loads(received[0]["Body"])["detail"]["event_id"] == event_id
    record = pipeline.record(event_id)
    outcome = (record.actions or {})["eventbridge"]
    assert outcome["status"] == "done"
    assert outcome["target"] == pipeline.aws.resources.event_bus
    assert outcome["id"]
    assert pipeline.model.calls == 1
    state = httpx.get(f"{pipeline.providers.github.url}/_control/state").json()
    assert len(state["comments"]["harbor-labs/ledger-api#418"]) == 1
    assert pipeline.dlq() == []
    # `GET /events/{id}` (and so `hookwise events show`) lists it with the others.
    status, shown = call(gateway_event("GET", f"/events/{event_id}"))
    assert status == 200
    assert shown["actions"]["eventbridge"]["status"] == "done"


def test_a_bus_that_is_not_there_fails_the_publish_for_good(
    pipeline: Pipeline, configs: Configs
) -> None:
    configs.edit_route("github-pr-review", _publish)
    boto3.client("events").delete_event_bus(Name=pipeline.aws.resources.event_bus)
    event_id = pipeline.deliver()
    pipeline.poll()
    outcome = (pipeline.record(event_id).actions or {})["eventbridge"]
    assert outcome["status"] == "failed"
    assert outcome["error_type"] == "ResourceNotFoundException"
    assert "does not exist" in outcome["error"]
    # Recorded for good: no actions message comes back for it, and nothing loops to the DLQ.
    assert pipeline.aws.messages() == []
    assert pipeline.dlq() == []
