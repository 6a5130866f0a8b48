"""Cost per million events on AWS, from the durations, sizes and usage measured in this run and
the list prices in `bench/prices.py` and `hookwise.yaml`."""

from __future__ import annotations

import io
import json
import math
from contextlib import redirect_stdout
from typing import Any

from bench import prices
from bench.support import CONFIG_PATH, moto_stack, signed_github
from hookwise import wiring
from hookwise.config import load_config
from hookwise.local.event_source import EventSourceMapping, LambdaContext
from hookwise.local.gateway import gateway_event
from hookwise.local.offline_model import OfflineModelServer
from hookwise.observability import logger
from hookwise.resources import INGEST_FUNCTION, QUEUES, WORKER_FUNCTION
from hookwise.samples import sample_bytes

MILLION = 1_000_000


def one_event_footprint() -> dict[str, Any]:
    """Log bytes, item size and model usage of one PR event through ingest and the worker."""
    import os

    import boto3

    from functions.ingest.handler import handler as ingest
    from functions.worker.handler import handler as worker

    body = sample_bytes("github", "pull_request.opened")
    model = OfflineModelServer().start()
    try:
        with moto_stack() as (config, resources):
            os.environ.update(
                ANTHROPIC_BASE_URL=model.url,
                ANTHROPIC_API_KEY="bench",
                POWERTOOLS_METRICS_DISABLED="false",
            )
            wiring.reset()
            captured = io.StringIO()
            handler = logger.registered_handler
            previous = handler.setStream(captured)  # type: ignore[attr-defined]
            logger.setLevel("INFO")
            try:
                with redirect_stdout(captured):
                    answer = ingest(
                        gateway_event(
                            "POST",
                            "/webhooks/github",
                            signed_github(config, body, "pull_request"),
                            body,
                            "bench",
                        ),
                        LambdaContext("ingest", 10, 512),
                    )
                    EventSourceMapping(
                        boto3.client("sqs"),
                        resources.queue_url,
                        worker,
                        batch_size=10,
                        function_timeout=60,
                        wait_seconds=0,
                    ).poll_once()
            finally:
                handler.setStream(previous)  # type: ignore[attr-defined]
            event_id = json.loads(answer["body"])["event_id"]
            record = wiring.store().get(event_id)
            assert record is not None
            assert record.usage is not None
            item_bytes = len(record.model_dump_json())
            return {
                "log_bytes": len(captured.getvalue().encode()),
                "item_bytes": item_bytes,
                "usage": record.usage.model_dump(),
                "model": record.model,
            }
    finally:
        model.stop()


def per_million(
    ingest_ms: float, worker_seconds_per_event: float, footprint: dict[str, Any]
) -> dict[str, float]:
    config = load_config(str(CONFIG_PATH))
    invocations_per_event = 1 + 1 / QUEUES.batch_size
    lambda_gb_s = (
        ingest_ms / 1000 * INGEST_FUNCTION.memory_mb / 1024
        + worker_seconds_per_event * WORKER_FUNCTION.memory_mb / 1024
    )
    item_kb = math.ceil(footprint["item_bytes"] / 1024)
    # put, -> queued, claim, -> completed: an update is charged for the whole item.
    writes = 4 * item_kb + 1  # + the subject memory item
    reads = 0.5  # the subject memory, eventually consistent
    usage = footprint["usage"]
    model = config.models[config.defaults.model]
    costs = {
        "api_gateway": prices.HTTP_API_REQUEST,
        "lambda": invocations_per_event * prices.LAMBDA_REQUEST
        + lambda_gb_s * prices.LAMBDA_GB_SECOND_ARM,
        # send, receive and delete; the last two in batches.
        "sqs": (1 + 2 / QUEUES.batch_size) * prices.SQS_REQUEST,
        "dynamodb": writes * prices.DYNAMODB_WRITE_UNIT + reads * prices.DYNAMODB_READ_UNIT,
        "logs": footprint["log_bytes"] / 1024**3 * prices.CLOUDWATCH_LOGS_GB,
        "eventbridge": prices.EVENTBRIDGE_EVENT,
        "model_tokens": (
            usage["input_tokens"] * model.input
            + usage["output_tokens"] * model.output
            + usage["cache_creation_input_tokens"] * model.cache_write
            + usage["cache_read_input_tokens"] * model.cache_read
        )
        / MILLION,
    }
    return {name: value * MILLION for name, value in costs.items()}
