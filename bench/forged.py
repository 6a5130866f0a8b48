"""What a million forged requests cost: the ingest handler's time and log output for a request
whose signature is wrong (the PR payload, signed with another secret), priced like `cost.py`.
`python -m bench.forged` prints the figures the README quotes."""

from __future__ import annotations

import io
import json
import math
from contextlib import redirect_stdout
from typing import Any

from bench import prices
from bench.stats import median, percentile
from bench.support import dumps, moto_stack, signed_github, timed
from hookwise.local.event_source import LambdaContext
from hookwise.local.gateway import gateway_event
from hookwise.observability import logger
from hookwise.resources import INGEST_FUNCTION
from hookwise.samples import sample_bytes

MILLION = 1_000_000


def measure(requests: int = 500) -> dict[str, Any]:
    from functions.ingest.handler import handler

    body = sample_bytes("github", "pull_request.opened")
    with moto_stack() as (config, _resources):
        headers = signed_github(config, body, "pull_request")
        headers["X-Hub-Signature-256"] = "sha256=" + "00" * 32

        def forged() -> str:
            printed = io.StringIO()
            stream = logger.registered_handler
            previous = stream.setStream(printed)  # type: ignore[attr-defined]
            try:
                with redirect_stdout(printed):
                    answer = handler(
                        gateway_event("POST", "/webhooks/github", headers, body, "bench"),
                        LambdaContext("ingest", 10, INGEST_FUNCTION.memory_mb),
                    )
            finally:
                stream.setStream(previous)  # type: ignore[attr-defined]
            assert answer["statusCode"] == 401, answer
            return printed.getvalue()

        log_bytes = len(forged().encode())  # also warms: clients built, secret cached
        times = [timed(forged) for _ in range(requests)]
    handler_ms = median(times) * 1000
    # Lambda bills whole milliseconds.
    gb_seconds = math.ceil(handler_ms) / 1000 * INGEST_FUNCTION.memory_mb / 1024
    per_million = {
        "api_gateway": prices.HTTP_API_REQUEST,
        "lambda_requests": prices.LAMBDA_REQUEST,
        "lambda_duration": gb_seconds * prices.LAMBDA_GB_SECOND_ARM,
        "logs": log_bytes / 1024**3 * prices.CLOUDWATCH_LOGS_GB,
    }
    return {
        "requests": requests,
        "handler_ms": {"median": handler_ms, "p99": percentile(times, 99) * 1000},
        "log_bytes": log_bytes,
        "usd_per_million": {k: round(v * MILLION, 3) for k, v in per_million.items()}
        | {"total": round(sum(per_million.values()) * MILLION, 3)},
    }


if __name__ == "__main__":
    print(dumps(measure()))
    print(json.dumps({"note": "log bytes exclude Lambda's START/END/REPORT lines"}))
