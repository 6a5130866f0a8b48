"""A completed result goes to the `hookwise` EventBridge bus, detail-type per route."""

from __future__ import annotations

import json

import boto3

from tests.integration.worker.conftest import Pipeline


def test_completed_result_is_put_on_the_bus(pipeline: Pipeline) -> None:
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
