"""Ingest overhead: the handler's time per request over the bare PutItem + SendMessage it must
make against the same moto server (the floor)."""

from __future__ import annotations

import time
import uuid
from typing import Any

import boto3

from bench.bodies import pull_request
from bench.stats import median, percentile, ratio
from bench.support import moto_stack, signed_github, timed
from hookwise.local.event_source import LambdaContext
from hookwise.local.gateway import gateway_event
from hookwise.samples import sample_bytes
from hookwise.settings import Settings


def measure(requests: int = 500) -> dict[str, Any]:
    from functions.ingest.handler import handler

    body = sample_bytes("github", "pull_request.opened")
    # GitHub deliveries are keyed by the body they sign: each request is the same change as
    # another pull request, a new event of the sample's size (the same body would be a replay).
    bodies = iter([pull_request(number).raw for number in range(1, requests + 2)])
    with moto_stack() as (config, resources):
        dynamodb, sqs = boto3.client("dynamodb"), boto3.client("sqs")
        table = Settings.from_environment().table

        def floor() -> None:
            dynamodb.put_item(
                TableName=table,
                Item={"event_id": {"S": f"floor_{uuid.uuid4()}"}, "body": {"B": body}},
                ConditionExpression="attribute_not_exists(event_id)",
            )
            sqs.send_message(QueueUrl=resources.queue_url, MessageBody='{"event_id":"x"}')

        def subject() -> None:
            delivered = next(bodies)
            event = gateway_event(
                "POST",
                "/webhooks/github",
                signed_github(config, delivered, "pull_request"),
                delivered,
                "bench",
            )
            answer = handler(event, LambdaContext("ingest", 10, 512))
            assert answer["statusCode"] == 202, answer

        subject()  # warm: the first call builds clients and reads the secret
        floor()
        handler_times: list[float] = []
        handler_cpu: list[float] = []
        floor_times: list[float] = []
        for _ in range(requests):  # interleaved, so both see the same noise
            cpu = time.thread_time()
            handler_times.append(timed(subject))
            handler_cpu.append(time.thread_time() - cpu)
            floor_times.append(timed(floor))
    return {
        "requests": requests,
        "handler_ms": {
            "median": median(handler_times) * 1000,
            "p99": percentile(handler_times, 99) * 1000,
            "cpu_median": median(handler_cpu) * 1000,
        },
        "floor_ms": {
            "median": median(floor_times) * 1000,
            "p99": percentile(floor_times, 99) * 1000,
        },
        "ratio_median": ratio(handler_times, floor_times, 50),
        "ratio_p99": ratio(handler_times, floor_times, 99),
    }
