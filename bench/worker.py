"""Worker efficiency: Lambda-seconds per event for a batch of 10 against a model taking 1 s
per call, concurrent against one at a time; and goodput against a rate-limited model."""

from __future__ import annotations

import time
from typing import Any

import boto3
import httpx

from bench.stats import median
from bench.support import github_payload, moto_stack, signed_github
from hookwise import wiring
from hookwise.local.event_source import EventSourceMapping, LambdaContext
from hookwise.local.offline_model import OfflineModelServer
from hookwise.settings import Settings
from hookwise.verifiers import WebhookRequest


def _ingest(config: Any, count: int) -> None:
    body = github_payload("pull_request.opened")
    for _ in range(count):
        reply = wiring.ingest_service().receive(
            WebhookRequest(
                source="github",
                method="POST",
                url="https://bench/webhooks/github",
                headers={
                    k.lower(): v for k, v in signed_github(config, body, "pull_request").items()
                },
                body=body,
            )
        )
        assert reply.status == 202, reply.body


def _batches_seconds(concurrency: int, model_delay: float, batches: int) -> list[float]:
    """Seconds for each of `batches` batches of 10 in one warm environment (the first one
    also builds the model client: the SDK is imported on the first model call)."""
    from functions.worker.handler import handler

    model = OfflineModelServer().start()
    try:
        with moto_stack(worker_concurrency=str(concurrency), max_backoff="1") as (config, res):
            import os

            os.environ.update(ANTHROPIC_BASE_URL=model.url, ANTHROPIC_API_KEY="bench")
            wiring.reset()
            httpx.post(
                f"{model.url}/_control/faults", json={"rules": [{"delay": model_delay}]}
            ).raise_for_status()
            sqs = boto3.client("sqs")
            from hookwise.local.event_source import lambda_record

            seconds = []
            for _ in range(batches):
                _ingest(config, 10)
                messages: list[dict[str, Any]] = []
                while len(messages) < 10:
                    messages += sqs.receive_message(
                        QueueUrl=res.queue_url, MaxNumberOfMessages=10, AttributeNames=["All"]
                    ).get("Messages", [])
                event = {
                    "Records": [
                        lambda_record(m, "arn:aws:sqs:us-east-1:0:q", "us-east-1") for m in messages
                    ]
                }
                started = time.perf_counter()
                answer = handler(event, LambdaContext("worker", 60))
                seconds.append(time.perf_counter() - started)
                assert answer == {"batchItemFailures": []}, answer
            return seconds
    finally:
        model.stop()


def efficiency(model_delay: float = 1.0, warm_batches: int = 3) -> dict[str, Any]:
    """Steady state: the median warm batch (a container serves many); the first batch of a
    fresh environment is reported on its own (its imports are the cold start's)."""
    first, *warm = _batches_seconds(10, model_delay, 1 + warm_batches)
    _, *warm_sequential = _batches_seconds(1, model_delay, 2)
    concurrent = median(warm)
    sequential = median(warm_sequential)
    return {
        "model_seconds_per_call": model_delay,
        "lambda_seconds_per_event_concurrent": concurrent / 10,
        "lambda_seconds_per_event_sequential": sequential / 10,
        "first_batch_seconds_per_event": first / 10,
        "ratio": concurrent / sequential,
    }


def goodput(events: int = 60, per_minute: int = 600) -> dict[str, Any]:
    """N events against a model allowing R requests a minute: drain time over N/R."""
    from functions.worker.handler import handler

    model = OfflineModelServer().start()
    try:
        with moto_stack(max_backoff="1", max_receive_count="50", visibility_timeout="30") as (
            config,
            resources,
        ):
            import os

            os.environ.update(ANTHROPIC_BASE_URL=model.url, ANTHROPIC_API_KEY="bench")
            wiring.reset()
            _ingest(config, events)
            httpx.post(
                f"{model.url}/_control/faults",
                json={"rules": [], "rate_limit_per_minute": per_minute},
            ).raise_for_status()
            mapping = EventSourceMapping(
                boto3.client("sqs"),
                resources.queue_url,
                handler,
                batch_size=10,
                function_timeout=60,
                wait_seconds=0,
            )
            store = wiring.store()
            started = time.perf_counter()
            deadline = started + 10 * events * 60 / per_minute
            while time.perf_counter() < deadline:
                mapping.poll_once()
                if (
                    sum(1 for r in store.list_recent(events) if r.status.value == "completed")
                    == events
                ):
                    break
            elapsed = time.perf_counter() - started
            completed = sum(1 for r in store.list_recent(events) if r.status.value == "completed")
            dlq = boto3.client("sqs").get_queue_attributes(
                QueueUrl=resources.dlq_url, AttributeNames=["ApproximateNumberOfMessages"]
            )
            ideal = events * 60 / per_minute
            return {
                "events": events,
                "limit_per_minute": per_minute,
                "completed": completed,
                "dlq": int(dlq["Attributes"]["ApproximateNumberOfMessages"]),
                "drain_seconds": elapsed,
                "ideal_seconds": ideal,
                "drain_over_ideal": elapsed / ideal,
                "goodput_fraction_of_limit": (completed / elapsed) / (per_minute / 60),
                "model_calls": model.calls,
                "settings_visibility": Settings().visibility_timeout,
            }
    finally:
        model.stop()
