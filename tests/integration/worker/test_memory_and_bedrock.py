"""Memory across triggers of one subject, and the Bedrock provider through AnthropicBedrock."""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
import pytest
import yaml

from hookwise import wiring
from hookwise.domain.events import EventStatus
from hookwise.domain.payload import MISSING
from hookwise.resources import TABLE_PARTITION_KEY
from hookwise.samples import sample_bytes
from hookwise.verifiers import WebhookRequest, verifier_for
from tests.conftest import TEST_SECRET
from tests.integration.worker.conftest import Configs, Pipeline


def _pay(pipeline: Pipeline, stripe_id: str, customer: Any, kind: str = "payment_intent") -> str:
    """Sign and ingest a Stripe event of `kind` (`payment_intent`, `charge`) for `customer`
    (None: a guest's payment, JSON null; MISSING: no field at all); return its event id."""
    payload = json.loads(sample_bytes("stripe", "payment_intent.succeeded"))
    payload["id"] = stripe_id
    payload["type"] = f"{kind}.succeeded"
    if customer is MISSING:
        del payload["data"]["object"]["customer"]
    else:
        payload["data"]["object"]["customer"] = customer
    body = json.dumps(payload).encode()
    headers = verifier_for(pipeline.aws.config.sources["stripe"]).sign(
        body, TEST_SECRET, url="", event_type="", delivery_id="", timestamp=int(time.time())
    )
    reply = wiring.ingest_service().receive(
        WebhookRequest(
            source="stripe",
            method="POST",
            url="https://example/webhooks/stripe",
            headers={k.lower(): v for k, v in headers.items()},
            body=body,
        )
    )
    assert reply.status == 202, reply.body
    return str(json.loads(reply.body)["event_id"])


def _prompts(pipeline: Pipeline) -> list[str]:
    return [str(request["messages"][0]["content"]) for request in pipeline.model.model.requests]


def _memory_items(pipeline: Pipeline) -> list[dict[str, Any]]:
    table = boto3.resource("dynamodb").Table(pipeline.aws.settings.table)
    items = table.scan()["Items"]
    return [item for item in items if str(item[TABLE_PARTITION_KEY]).startswith("subject#")]


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


def test_guests_without_a_customer_share_no_memory(pipeline: Pipeline) -> None:
    # Three guests' payments (no customer: JSON null, or no field at all), then a customer's.
    for index, customer in enumerate([None, None, MISSING]):
        _pay(pipeline, f"evt_guest_{index}", customer)
        pipeline.poll()
    assert [p for p in _prompts(pipeline) if "<earlier_results>" in p] == []
    # No subject, no memory: nothing was written for the guests.
    assert _memory_items(pipeline) == []
    _pay(pipeline, "evt_customer_1", "cus_1")
    pipeline.poll()
    _pay(pipeline, "evt_customer_2", "cus_1")
    pipeline.poll()
    assert "<earlier_results>" in _prompts(pipeline)[-1]
    assert len(_memory_items(pipeline)) == 1


def test_two_routes_with_one_subject_template_keep_apart_memories(
    pipeline: Pipeline, configs: Configs
) -> None:
    def split(text: str) -> str:
        document = yaml.safe_load(text)
        routes = document["routes"]
        payments = next(r for r in routes if r["name"] == "stripe-payments")
        payments["match"] = {"source": "stripe", "event_types": ["payment_intent.*"]}
        charges = {**payments, "name": "stripe-charges"}
        charges["match"] = {"source": "stripe", "event_types": ["charge.*"]}
        routes.insert(routes.index(payments) + 1, charges)
        return str(yaml.safe_dump(document))

    configs.edit(split)
    _pay(pipeline, "evt_payment", "cus_1")
    pipeline.poll()
    charge = _pay(pipeline, "evt_charge", "cus_1", kind="charge")
    pipeline.poll()
    assert pipeline.record(charge).route == "stripe-charges"
    assert "<earlier_results>" not in _prompts(pipeline)[-1]
    assert len(_memory_items(pipeline)) == 2


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
