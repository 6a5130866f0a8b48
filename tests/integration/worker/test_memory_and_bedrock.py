"""Memory across triggers of one subject, and the Bedrock provider through AnthropicBedrock."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from hookwise import wiring
from hookwise.domain.events import EventStatus
from hookwise.resources import TABLE_PARTITION_KEY
from hookwise.samples import sample_bytes
from tests.integration.worker.conftest import Configs, Pipeline


def test_a_later_event_of_the_same_pull_request_sees_the_earlier_review(
    pipeline: Pipeline,
) -> None:
    first = pipeline.deliver(delivery="m-1")
    pipeline.poll()
    earlier = pipeline.record(first).result
    assert earlier is not None
    second = pipeline.deliver(delivery="m-2", fixture="pull_request.synchronize")
    pipeline.poll()
    assert pipeline.record(second).status is EventStatus.COMPLETED
    prompts = [request["messages"][0]["content"] for request in pipeline.model.model.requests]
    assert "<earlier_results>" not in prompts[0]
    assert "<earlier_results>" in prompts[1]
    assert earlier["summary"] in prompts[1]


def test_a_different_pull_request_does_not_see_it(pipeline: Pipeline) -> None:
    pipeline.deliver(delivery="m-1")
    pipeline.poll()
    other = json.loads(sample_bytes("github", "pull_request.opened"))
    other["number"] = 99
    pipeline.deliver(delivery="m-3", body=json.dumps(other).encode())
    pipeline.poll()
    assert "<earlier_results>" not in pipeline.model.model.requests[-1]["messages"][0]["content"]


def test_a_batch_reads_its_memory_and_cached_context_once_not_per_event(
    pipeline: Pipeline,
) -> None:
    # Every client built from here on reports its DynamoDB reads.
    reads: list[tuple[str, Any]] = []
    boto3.setup_default_session()
    boto3.DEFAULT_SESSION.events.register(  # type: ignore[attr-defined]
        "provide-client-params.dynamodb",
        lambda params, model, **_: reads.append((model.name, params)),
    )
    wiring.reset()
    pipeline.deliver(delivery="m-1")
    pipeline.poll()
    # A later event of that PR, and two other PRs.
    pipeline.deliver(delivery="m-2", fixture="pull_request.synchronize")
    for number in (7, 8):
        other = json.loads(sample_bytes("github", "pull_request.opened"))
        other["number"] = other["pull_request"]["number"] = number
        pipeline.deliver(delivery=f"m-{number}", body=json.dumps(other).encode())
    reads.clear()
    assert pipeline.poll() == 3
    keys = [params["Key"][TABLE_PARTITION_KEY] for name, params in reads if name == "GetItem"]
    # Per event, only what a claim or a lease asks; no read of memory or cached context.
    assert not [k for k in keys if str(k).startswith(("subject#", "context#"))], keys
    batched = [
        params["RequestItems"][pipeline.aws.settings.table]["Keys"]
        for name, params in reads
        if name == "BatchGetItem"
    ]
    # The events, then their three subjects' memory, then their cached diffs (after them, the
    # later event asks whether the first review's run, which kept the PR's lease, is over).
    assert [len(keys) for keys in batched[:3]] == [3, 3, 3]
    # The memory read ahead reaches the prompt: the PR's later event sees its first review.
    prompts = [r["messages"][0]["content"] for r in list(pipeline.model.model.requests)[-3:]]
    assert sum("<earlier_results>" in prompt for prompt in prompts) == 1


def test_bedrock_provider_calls_the_bedrock_model_id_through_anthropic_bedrock(
    pipeline: Pipeline, configs: Configs, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_BEDROCK_BASE_URL", pipeline.model.url)
    configs.replace("provider: anthropic", "provider: bedrock")
    event_id = pipeline.deliver()
    pipeline.poll()
    record = pipeline.record(event_id)
    assert record.status is EventStatus.COMPLETED
    expected = wiring.config().models["claude-sonnet-4-5"].bedrock_id
    assert record.model == expected
    assert pipeline.model.model.requests[-1]["model"] == expected
    assert "anthropic_version" in pipeline.model.model.requests[-1]
