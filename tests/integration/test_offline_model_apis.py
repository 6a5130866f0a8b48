"""The offline model's prompt cache and Message Batches API, through the real anthropic SDK."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import anthropic
import httpx
import pytest

from hookwise.local.offline_model import OfflineModelServer

TOOL = {
    "name": "answer",
    "description": "Answer.",
    "input_schema": {"type": "object", "properties": {"summary": {"type": "string"}}},
}
# About 1,500 tokens at the offline model's 4 characters a token.
LONG_SYSTEM = "You review pull requests carefully. " * 170


@pytest.fixture
def server() -> Iterator[OfflineModelServer]:
    running = OfflineModelServer().start()
    yield running
    running.stop()


@pytest.fixture
def client(server: OfflineModelServer) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=server.url, api_key="offline", max_retries=0)


def control(server: OfflineModelServer, name: str, spec: dict[str, Any]) -> None:
    httpx.post(f"{server.url}/_control/{name}", json=spec).raise_for_status()


def params(text: str, system: str = LONG_SYSTEM, ttl: str | None = None) -> dict[str, Any]:
    mark: dict[str, Any] = {"type": "ephemeral"} | ({"ttl": ttl} if ttl else {})
    return {
        "model": "claude-sonnet-4-5",
        "max_tokens": 256,
        "system": [{"type": "text", "text": system, "cache_control": mark}],
        "messages": [{"role": "user", "content": text}],
        "tools": [TOOL],
        "tool_choice": {"type": "tool", "name": "answer"},
    }


def test_a_marked_prefix_is_written_then_read(client: anthropic.Anthropic) -> None:
    first = client.messages.create(**params("event one"))
    second = client.messages.create(**params("event two, a different one"))
    assert first.usage.cache_creation_input_tokens > 1024
    assert first.usage.cache_read_input_tokens == 0
    assert second.usage.cache_read_input_tokens == first.usage.cache_creation_input_tokens
    assert second.usage.cache_creation_input_tokens == 0
    # The uncached part is only what follows the mark.
    assert second.usage.input_tokens < 50


def test_a_prefix_below_the_models_minimum_is_never_cached(client: anthropic.Anthropic) -> None:
    for text in ("one", "two"):
        usage = client.messages.create(**params(text, system="Short instructions.")).usage
        assert usage.cache_creation_input_tokens == 0
        assert usage.cache_read_input_tokens == 0


def test_the_minimum_is_per_model_and_configurable(
    server: OfflineModelServer, client: anthropic.Anthropic
) -> None:
    haiku = params("one") | {"model": "claude-haiku-4-5"}
    # Haiku 4.5's minimum is 4,096 tokens: this prefix is too short for it.
    assert client.messages.create(**haiku).usage.cache_creation_input_tokens == 0
    control(server, "cache", {"min_tokens": {"claude-haiku-4-5": 100}})
    assert client.messages.create(**haiku).usage.cache_creation_input_tokens > 0


def test_a_changed_prefix_misses(client: anthropic.Anthropic) -> None:
    client.messages.create(**params("one"))
    changed = client.messages.create(**params("two", system=LONG_SYSTEM + "Be brief."))
    assert changed.usage.cache_read_input_tokens == 0
    assert changed.usage.cache_creation_input_tokens > 0


def test_the_ttl_is_honoured(server: OfflineModelServer, client: anthropic.Anthropic) -> None:
    clock = [1000.0]
    server.model.cache._clock = lambda: clock[0]
    client.messages.create(**params("one", ttl="1h"))
    clock[0] += 600  # past 5 minutes, within the hour
    assert client.messages.create(**params("two", ttl="1h")).usage.cache_read_input_tokens > 0
    short = client.messages.create(**params("three"))  # a 5-minute entry is another entry
    assert short.usage.cache_creation is not None
    assert short.usage.cache_creation.ephemeral_5m_input_tokens > 0
    clock[0] += 301
    assert client.messages.create(**params("four")).usage.cache_read_input_tokens == 0


def entries(count: int) -> list[dict[str, Any]]:
    return [{"custom_id": f"evt-{n}", "params": params(f"event {n}")} for n in range(count)]


def test_a_batch_is_created_processed_and_its_results_streamed(
    server: OfflineModelServer, client: anthropic.Anthropic
) -> None:
    control(server, "batches", {"delay_seconds": 0.3})
    batch = client.messages.batches.create(requests=entries(3))  # type: ignore[arg-type]
    assert batch.processing_status == "in_progress"
    assert batch.request_counts.processing == 3
    assert batch.results_url is None
    time.sleep(0.35)
    ended = client.messages.batches.retrieve(batch.id)
    assert ended.processing_status == "ended"
    assert ended.request_counts.succeeded == 3
    results = {r.custom_id: r.result for r in client.messages.batches.results(batch.id)}
    assert set(results) == {"evt-0", "evt-1", "evt-2"}
    for result in results.values():
        assert result.type == "succeeded"
        assert result.message.content[0].type == "tool_use"
    # The entries share a marked prefix: one writes it, the others read it.
    usages = [r.message.usage for r in results.values() if r.type == "succeeded"]
    assert sum(u.cache_creation_input_tokens or 0 for u in usages) > 0
    assert sum(1 for u in usages if u.cache_read_input_tokens) == 2


def test_entry_failures_are_per_entry(
    server: OfflineModelServer, client: anthropic.Anthropic
) -> None:
    control(
        server,
        "batches",
        {
            "failures": [
                {"contains": "evt-1", "result": "errored", "times": 1},
                {"contains": "evt-2", "result": "expired"},
            ]
        },
    )
    batch = client.messages.batches.create(requests=entries(3))  # type: ignore[arg-type]
    results = {r.custom_id: r.result.type for r in client.messages.batches.results(batch.id)}
    assert results == {"evt-0": "succeeded", "evt-1": "errored", "evt-2": "expired"}
    # The errored entry, resubmitted alone, succeeds: its rule was for one time.
    retry = client.messages.batches.create(requests=entries(2)[1:])  # type: ignore[arg-type]
    assert client.messages.batches.retrieve(retry.id).request_counts.succeeded == 1


def test_batches_are_listed_newest_first_and_paged(client: anthropic.Anthropic) -> None:
    created = [client.messages.batches.create(requests=entries(1)).id for _ in range(3)]  # type: ignore[arg-type]
    first = client.messages.batches.list(limit=2)
    assert [b.id for b in first.data] == created[::-1][:2]
    assert first.has_more
    everything = [b.id for b in client.messages.batches.list(limit=2)]  # auto-paginates
    assert everything == created[::-1]


def test_a_canceled_batch_ends_with_canceled_entries(
    server: OfflineModelServer, client: anthropic.Anthropic
) -> None:
    control(server, "batches", {"delay_seconds": 60})
    batch = client.messages.batches.create(requests=entries(2))  # type: ignore[arg-type]
    canceled = client.messages.batches.cancel(batch.id)
    assert canceled.processing_status == "ended"
    assert canceled.request_counts.canceled == 2
    assert {r.result.type for r in client.messages.batches.results(batch.id)} == {"canceled"}


def test_unavailable_batches_answer_the_injected_status(
    server: OfflineModelServer, client: anthropic.Anthropic
) -> None:
    control(server, "batches", {"unavailable": 529})
    with pytest.raises(anthropic.APIStatusError) as raised:
        client.messages.batches.create(requests=entries(1))  # type: ignore[arg-type]
    assert raised.value.status_code == 529
    assert server.model.stats()["batches"] == 0


def test_each_batch_keeps_the_delay_set_when_it_was_created(
    server: OfflineModelServer, client: anthropic.Anthropic
) -> None:
    control(server, "batches", {"delay_seconds": 60})
    slow = client.messages.batches.create(requests=entries(1))  # type: ignore[arg-type]
    control(server, "batches", {"delay_seconds": 0})
    fast = client.messages.batches.create(requests=entries(1))  # type: ignore[arg-type]
    assert client.messages.batches.retrieve(fast.id).processing_status == "ended"
    assert client.messages.batches.retrieve(slow.id).processing_status == "in_progress"
