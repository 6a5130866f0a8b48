"""A completed result goes to the `hookwise` EventBridge bus, detail-type per route, unless the
route says `deliveries: {eventbridge: false}` (the shipped PR review route: its comment is the
delivery, and the bus would cost $1 per million events for nobody)."""

from __future__ import annotations

import json
from typing import Any

import boto3

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
