"""Coalescing through the real worker on moto: the provider's order decides, not the queue's;
two workers racing over one PR's pushes still make one model call and one comment; a closed PR
ends its waiting review. The PR review coalesces over 1 s here (3 s at most)."""

from __future__ import annotations

import json
import threading
import time
from importlib.resources import files
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest

from bench.configs import UNLIMITED, config_with
from hookwise.domain.events import FINAL_STATUSES, EventStatus
from hookwise.local.event_source import lambda_record
from tests.integration.worker.conftest import Configs, Pipeline, run_batch

SAMPLES = files("hookwise") / "samples"
REPO = "harbor-labs/ledger-api"
QUIET = {"quiet_seconds": 1, "max_wait_seconds": 3}


@pytest.fixture
def coalescing(pipeline: Pipeline, configs: Configs, tmp_path: Path) -> Pipeline:
    configs.use(config_with(tmp_path, UNLIMITED, coalesce=QUIET))
    return pipeline


def push(number: int, second: int, action: str = "synchronize") -> dict[str, Any]:
    """A PR event the provider stamped at `second` past the minute (its head moved then)."""
    payload = json.loads((SAMPLES / "github" / "pull_request.synchronize.json").read_text())
    payload["action"] = action
    payload["number"] = payload["pull_request"]["number"] = number
    payload["pull_request"]["updated_at"] = f"2026-12-04T10:00:{second:02d}Z"
    payload["pull_request"]["head"]["sha"] = f"{second:040x}"
    return dict(payload)


def deliver(pipeline: Pipeline, payload: dict[str, Any], delivery: str) -> str:
    return pipeline.deliver("pull_request", delivery, body=json.dumps(payload).encode())


def drain(pipeline: Pipeline, ids: list[str], seconds: float = 15.0) -> None:
    """Poll (delayed messages come back) until every event is final."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not pipeline.poll():
            if all(pipeline.record(event_id).status in FINAL_STATUSES for event_id in ids):
                return
            time.sleep(0.2)
    raise AssertionError("events not final in time")


def in_flight(pipeline: Pipeline) -> int:
    attributes = boto3.client("sqs").get_queue_attributes(
        QueueUrl=pipeline.aws.resources.queue_url, AttributeNames=["All"]
    )["Attributes"]
    names = ("", "NotVisible", "Delayed")
    return sum(int(attributes[f"ApproximateNumberOfMessages{name}"]) for name in names)


def comments(pipeline: Pipeline, number: int) -> list[dict[str, Any]]:
    github = pipeline.providers.github
    assert github is not None
    state = httpx.get(f"{github.url}/_control/state").json()
    return list(state["comments"].get(f"{REPO}#{number}", []))


def test_the_providers_order_decides_when_the_queue_brings_the_newer_push_first(
    coalescing: Pipeline,
) -> None:
    # The later push reaches hookwise (and so the worker) first.
    newer = deliver(coalescing, push(700, 20), "late-push")
    older = deliver(coalescing, push(700, 10), "early-push")
    drain(coalescing, [newer, older])
    ran, superseded = coalescing.record(newer), coalescing.record(older)
    assert ran.status is EventStatus.COMPLETED
    assert superseded.status is EventStatus.SUPERSEDED
    assert superseded.superseded_by == newer
    assert superseded.result is None
    assert coalescing.model.calls == 1
    [comment] = comments(coalescing, 700)
    assert comment["body"]


def test_two_workers_racing_over_ten_pushes_make_one_call_and_one_comment(
    coalescing: Pipeline,
) -> None:
    ids = [deliver(coalescing, push(701, second), f"push-{second}") for second in range(10)]
    sqs = boto3.client("sqs")
    queue_url = coalescing.aws.resources.queue_url
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    messages: list[dict[str, Any]] = []
    while len(messages) < len(ids):
        page = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=10,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages.extend(page.get("Messages", []))
    records = [
        lambda_record(m, arn["Attributes"]["QueueArn"], sqs.meta.region_name) for m in messages
    ]
    # Two worker invocations at once, each with every other message (newest and oldest mixed).
    start = threading.Barrier(2)

    def worker(batch: list[dict[str, Any]]) -> None:
        start.wait()
        assert run_batch(batch, 60)["batchItemFailures"] == []

    threads = [threading.Thread(target=worker, args=(records[i::2],)) for i in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for message in messages:
        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    drain(coalescing, ids)
    final = {event_id: coalescing.record(event_id) for event_id in ids}
    completed = [e for e, r in final.items() if r.status is EventStatus.COMPLETED]
    assert completed == [ids[-1]]
    superseded = [r for r in final.values() if r.status is EventStatus.SUPERSEDED]
    assert len(superseded) == 9
    assert {r.superseded_by for r in superseded} == {ids[-1]}
    assert coalescing.model.calls == 1
    assert len(comments(coalescing, 701)) == 1


def test_a_closed_pr_ends_its_waiting_review_with_no_call(coalescing: Pipeline) -> None:
    waiting = deliver(coalescing, push(702, 10), "push")
    assert coalescing.poll() == 1
    assert coalescing.record(waiting).status is EventStatus.DEFERRED
    closed = deliver(coalescing, push(702, 15, action="closed"), "close")
    # The close alone (the waiting event's message is still delayed) ends the waiting review.
    assert coalescing.poll() == 1
    ended = coalescing.record(waiting)
    assert ended.status is EventStatus.SUPERSEDED
    # Its delayed message, back, is acknowledged as a finished event's.
    time.sleep(QUIET["quiet_seconds"] + 0.5)
    assert coalescing.poll() == 1
    assert in_flight(coalescing) == 0
    assert coalescing.dlq() == []
    ended = coalescing.record(waiting)
    assert ended.status is EventStatus.SUPERSEDED
    assert ended.superseded_by == closed
    assert ended.superseded_reason == "cancelled by pull_request.closed"
    # The close has no route of its own.
    assert coalescing.record(closed).status is EventStatus.SKIPPED
    assert coalescing.model.calls == 0
    assert comments(coalescing, 702) == []
