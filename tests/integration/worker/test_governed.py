"""The worker under the governor: no capacity means a deferral (no call, no failure), a spent
budget makes no call and says why, and a slow call keeps its lease."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import boto3
import pytest

from bench.configs import config_with, shipped_config
from hookwise import wiring
from hookwise.domain.events import EventStatus
from tests.integration.worker.conftest import Configs, Pipeline


def settle_all(pipeline: Pipeline, ids: list[str], seconds: float) -> set[EventStatus]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        pipeline.poll()
        statuses = {pipeline.record(event_id).status for event_id in ids}
        if statuses <= {EventStatus.COMPLETED, EventStatus.FAILED}:
            return statuses
        time.sleep(0.2)
    return {pipeline.record(event_id).status for event_id in ids}


def test_without_capacity_events_are_deferred_not_called_and_all_complete(
    pipeline: Pipeline, configs: Configs, tmp_path: Path
) -> None:
    # One request a second with a second of burst: a batch of six cannot all go at once.
    configs.use(config_with(tmp_path, {"requests_per_minute": 60}))
    ids = [pipeline.deliver(delivery=f"g-{index}") for index in range(6)]
    pipeline.poll()
    records = [pipeline.record(event_id) for event_id in ids]
    deferred = [r for r in records if r.status is EventStatus.DEFERRED]
    assert len(deferred) >= 2
    assert pipeline.model.calls == len(ids) - len(deferred)
    for record in deferred:
        assert record.defer_reason is not None
        assert record.defer_reason.startswith("rate limit: requests")
        assert record.deferred_until is not None
        assert record.failures == 0
    assert settle_all(pipeline, ids, seconds=20) == {EventStatus.COMPLETED}
    assert pipeline.model.calls == len(ids)
    assert pipeline.model.model.stats()["429"] == 0
    assert pipeline.dlq() == []


@pytest.mark.parametrize("policy", ["defer", "fail"])
def test_a_spent_budget_makes_no_call_and_says_why(
    pipeline: Pipeline, configs: Configs, policy: str
) -> None:
    configs.replace(
        "    output: pr_review\n",
        f"    output: pr_review\n    budget: {{daily_tokens: 100, on_exhausted: {policy}}}\n",
    )
    event_id = pipeline.deliver()
    pipeline.poll()
    record = pipeline.record(event_id)
    assert pipeline.model.calls == 0
    reason = "budget: route:github-pr-review daily budget spent"
    if policy == "defer":
        assert record.status is EventStatus.DEFERRED
        assert record.defer_reason == reason
        assert record.deferred_until is not None
        assert record.deferred_until.endswith("T00:00:00.000Z")  # the next UTC day
        assert pipeline.dlq() == []
    else:
        assert record.status is EventStatus.FAILED
        assert record.error == reason
        assert len(pipeline.dlq()) == 1


def test_a_slow_call_keeps_its_message_and_lease(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A lease shorter than the call: without the heartbeat the message shows again at 3 s.
    monkeypatch.setenv("HOOKWISE_VISIBILITY_TIMEOUT", "3")
    wiring.reset()
    pipeline.faults(rules=[{"delay": 5.0}])
    event_id = pipeline.deliver()
    worker = threading.Thread(target=pipeline.poll)
    worker.start()
    # The worker holds the event before another one starts polling beside it.
    deadline = time.monotonic() + 10
    while pipeline.record(event_id).status is not EventStatus.PROCESSING:
        assert time.monotonic() < deadline, "the worker never claimed the event"
        time.sleep(0.05)
    sqs = boto3.client("sqs")
    taken_over = 0
    # Another worker polls all through the call: the message never shows again.
    while worker.is_alive():
        answer = sqs.receive_message(QueueUrl=pipeline.aws.resources.queue_url, WaitTimeSeconds=0)
        taken_over += len(answer.get("Messages", []))
        time.sleep(0.25)
    worker.join()
    assert taken_over == 0
    assert pipeline.record(event_id).status is EventStatus.COMPLETED
    assert pipeline.model.calls == 1


def test_with_the_shipped_defaults_the_governor_runs_at_the_limits_the_api_announces(
    pipeline: Pipeline, configs: Configs, tmp_path: Path
) -> None:
    # The shipped configuration sets no limits for the model: Tier 1 defaults, 8,000 output
    # tokens a minute, at which ten reviews reserving 1,024 each take over a minute.
    # Its PR review's coalescing (each event waits out a quiet minute) is not measured here.
    configs.use(shipped_config(tmp_path))
    pipeline.faults(limits={"requests_per_minute": 300, "enforce_seconds": 1})
    ids = [pipeline.deliver(delivery=f"a-{index}") for index in range(10)]
    started = time.monotonic()
    assert settle_all(pipeline, ids, seconds=30) == {EventStatus.COMPLETED}
    assert time.monotonic() - started < 15
    record = pipeline.record(ids[-1])
    assert record.limits == {"requests_per_minute": {"limit": 300, "source": "announced"}}
    assert pipeline.dlq() == []


def test_a_configured_ceiling_below_the_announced_limits_shows_on_the_event(
    pipeline: Pipeline, configs: Configs
) -> None:
    configs.replace(
        "    min_cacheable_tokens: 1024\n",
        "    min_cacheable_tokens: 1024\n    limits: {anthropic: {requests_per_minute: 120}}\n",
    )
    pipeline.faults(limits={"requests_per_minute": 300, "output_tokens_per_minute": 100_000})
    first = pipeline.deliver(delivery="c-1")
    pipeline.poll()
    assert pipeline.record(first).limits == {
        "requests_per_minute": {"limit": 120, "source": "configured"}
    }
    second = pipeline.deliver(delivery="c-2")
    pipeline.poll()
    # The first answer announced the API's limits: the second event ran under both.
    assert pipeline.record(second).limits == {
        "requests_per_minute": {"limit": 120, "source": "configured"},
        "output_tokens_per_minute": {"limit": 100_000, "source": "announced"},
    }
