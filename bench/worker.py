"""Worker efficiency: Lambda-seconds per event for a batch of 10 against a model taking 1 s
per call, concurrent against one at a time. (Bursts against a rate-limited model: bench.burst.)"""

from __future__ import annotations

import itertools
import resource
import threading
import time
from typing import TYPE_CHECKING, Any

import boto3
import httpx

from bench.bodies import pull_request
from bench.stats import median
from bench.support import moto_stack, signed_github
from hookwise import wiring
from hookwise.local.event_source import LambdaContext
from hookwise.local.offline_model import OfflineModelServer
from hookwise.verifiers import WebhookRequest

if TYPE_CHECKING:
    from mypy_boto3_sqs.type_defs import MessageTypeDef


# PR numbers never used before in the run: a PR already commented on by an earlier batch would
# have its review updated (the previous run's lease asked about, the comment read back), which
# is a later event's path, not a new PR's.
_PR_NUMBERS = itertools.count(10_000)


def _ingest(config: Any, count: int) -> None:
    """`count` new pull requests (distinct PRs: a batch of one PR's events would wait on its
    lease)."""
    for number in itertools.islice(_PR_NUMBERS, count):
        body = pull_request(number).raw
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


def _worker_cpu_seconds() -> float:
    """CPU seconds so far of the threads a worker invocation runs on: this one (the handler,
    the batch's reads ahead) and the record pool's. The model and provider fakes serve from
    other threads of this process, and are not counted."""
    return sum(
        time.clock_gettime(time.pthread_getcpuclockid(thread.ident))
        for thread in threading.enumerate()
        if thread.ident is not None
        and (thread is threading.main_thread() or thread.name.startswith("record"))
    )


def _batches_seconds(
    concurrency: int, model_delay: float, batches: int
) -> list[tuple[float, float]]:
    """Wall and CPU seconds for each of `batches` batches of 10 in one warm environment (the
    first one also builds the model client: the SDK is imported on the first model call)."""
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
                messages: list[MessageTypeDef] = []
                while len(messages) < 10:
                    messages += sqs.receive_message(
                        QueueUrl=res.queue_url, MaxNumberOfMessages=10, AttributeNames=["All"]
                    ).get("Messages", [])
                event = {
                    "Records": [
                        lambda_record(dict(m), "arn:aws:sqs:us-east-1:0:q", "us-east-1")
                        for m in messages
                    ]
                }
                started, cpu = time.perf_counter(), _worker_cpu_seconds()
                answer = handler(event, LambdaContext("worker", 60))
                seconds.append((time.perf_counter() - started, _worker_cpu_seconds() - cpu))
                assert answer == {"batchItemFailures": []}, answer
            return seconds
    finally:
        model.stop()


def efficiency(model_delay: float = 1.0, warm_batches: int = 3) -> dict[str, Any]:
    """Steady state: the median warm batch (a container serves many); the first batch of a
    fresh environment is reported on its own (its imports are the cold start's)."""
    (first, _), *warm = _batches_seconds(10, model_delay, 1 + warm_batches)
    _, *warm_sequential = _batches_seconds(1, model_delay, 2)
    concurrent = median([wall for wall, _ in warm])
    sequential = median([wall for wall, _ in warm_sequential])
    return {
        "model_seconds_per_call": model_delay,
        "lambda_seconds_per_event_concurrent": concurrent / 10,
        "lambda_seconds_per_event_sequential": sequential / 10,
        "cpu_seconds_per_event_concurrent": median([cpu for _, cpu in warm]) / 10,
        "cpu_seconds_per_event_sequential": median([cpu for _, cpu in warm_sequential]) / 10,
        "first_batch_seconds_per_event": first / 10,
        "ratio": concurrent / sequential,
        # This process's peak, the fakes and the bench included: a bound on the worker's.
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
