"""`mode: batch` end to end against moto and the offline model's Batches API: parked by the
worker, gathered by the collector, completed once by the poller, whatever crashes between."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import anthropic
import boto3
import httpx
import pytest

from hookwise import wiring
from hookwise.adapters.context_cache import CONTEXT_PREFIX
from hookwise.batches.collector import SUBMIT_WINDOW_SECONDS, BatchCollector
from hookwise.batches.poller import BatchPoller
from hookwise.batches.ports import Intent
from hookwise.config import load_config
from hookwise.domain.events import EventStatus
from hookwise.llm.base import ModelUsage
from hookwise.llm.caching import cost_usd
from hookwise.resources import (
    BATCH_TABLE_SUFFIX,
    BATCH_TABLE_TTL_ATTRIBUTE,
    TABLE_PARTITION_KEY,
    TABLE_TTL_ATTRIBUTE,
)
from hookwise.samples import sample_bytes
from tests.integration.worker.conftest import Configs, Pipeline

ROUTE = "github-pr-review"
MAX_WAIT = 600


def batched(**settings: Any) -> Callable[[dict[str, Any]], None]:
    """A route edit: `mode: batch`, with these settings."""

    def change(route: dict[str, Any]) -> None:
        route.update(mode="batch", **settings)

    return change


@pytest.fixture
def batch_route(pipeline: Pipeline, configs: Configs) -> Pipeline:
    configs.edit_route(
        ROUTE,
        batched(batch={"max_wait_seconds": MAX_WAIT, "max_size": 5, "fallback": "realtime"}),
    )
    return pipeline


def deliver_prs(pipeline: Pipeline, count: int, first: int = 0) -> list[str]:
    sample = json.loads(sample_bytes("github", "pull_request.opened"))
    ids = []
    for number in range(first, first + count):
        sample["number"] = 1000 + number
        sample["pull_request"]["title"] = f"Change number {number}"
        ids.append(pipeline.deliver(delivery=f"pr-{number}", body=json.dumps(sample).encode()))
    while pipeline.poll():
        pass
    return ids


def collector(after_seconds: float = 0.0) -> BatchCollector:
    return BatchCollector(**wiring.batch_parts(), clock=lambda: time.time() + after_seconds)


def poller() -> BatchPoller:
    return BatchPoller(**wiring.batch_parts())


def model_stats(pipeline: Pipeline) -> dict[str, Any]:
    return httpx.get(f"{pipeline.model.url}/_control/stats").json()


def control_batches(pipeline: Pipeline, **spec: Any) -> None:
    httpx.post(f"{pipeline.model.url}/_control/batches", json=spec).raise_for_status()


def other_application_batch(pipeline: Pipeline, size: int) -> str:
    """A batch another application on the same API key submits: as many requests, its ids."""
    client = anthropic.Anthropic(base_url=pipeline.model.url, api_key="offline", max_retries=0)
    batch = client.messages.batches.create(
        requests=[
            {
                "custom_id": f"other-app-{n}",
                "params": {
                    "model": "claude-sonnet-4-5",
                    "max_tokens": 64,
                    "messages": [{"role": "user", "content": f"Summarise ticket {n}."}],
                },
            }
            for n in range(size)
        ]
    )
    return batch.id


def batch_ended(pipeline: Pipeline, batch_id: str) -> bool:
    client = anthropic.Anthropic(base_url=pipeline.model.url, api_key="offline", max_retries=0)
    return client.messages.batches.retrieve(batch_id).processing_status == "ended"


def test_a_full_batch_is_submitted_once_and_every_event_completes_once_at_batch_price(
    batch_route: Pipeline,
) -> None:
    ids = deliver_prs(batch_route, 5)
    for event_id in ids:
        parked = batch_route.record(event_id)
        assert parked.status is EventStatus.BATCHING
        assert parked.mode == "batch"
    assert batch_route.model.calls == 0
    report = collector().run()
    assert [sorted(events) for events in report.submitted.values()] == [sorted(ids)]
    (batch_id,) = report.submitted
    assert {batch_route.record(e).batch_id for e in ids} == {batch_id}
    assert collector().run().submitted == {}  # nothing parked is left
    assert poller().run().entries == {"completed": 5}
    assert poller().run().entries == {}
    spec = load_config(str(wiring.get_settings().config)).models["claude-sonnet-4-5"]
    for event_id in ids:
        done = batch_route.record(event_id)
        assert done.status is EventStatus.COMPLETED
        assert done.mode == "batch"
        assert done.batch_id == batch_id
        assert done.result is not None
        assert done.usage is not None
        tokens = ModelUsage(**{k: v for k, v in done.usage.as_dict().items() if k != "cost_usd"})
        assert done.usage.cost_usd == cost_usd(spec, tokens, batch=True)
        assert done.usage.cost_usd == pytest.approx(cost_usd(spec, tokens) / 2, rel=1e-3)
    stats = model_stats(batch_route)
    assert stats["batches"] == 1
    assert stats["answered"] == 5


def test_a_small_batch_waits_for_half_the_maximum_wait(batch_route: Pipeline) -> None:
    deliver_prs(batch_route, 2)
    assert collector().run().submitted == {}
    assert collector(MAX_WAIT * 0.5 + 1).run().submitted != {}


def test_an_event_caught_between_its_entry_and_its_transition_is_not_dropped(
    batch_route: Pipeline,
) -> None:
    ids = deliver_prs(batch_route, 5)
    # The collector runs while the worker parks the last one: its entry is written, and the
    # event is still `processing` until the transition that follows.
    store = wiring.store()
    store.transition(ids[4], from_statuses=[EventStatus.BATCHING], to_status=EventStatus.PROCESSING)
    assert collector().run().submitted == {}
    store.transition(ids[4], from_statuses=[EventStatus.PROCESSING], to_status=EventStatus.BATCHING)
    [submitted] = collector().run().submitted.values()
    assert sorted(submitted) == sorted(ids)


def test_an_errored_entry_is_resubmitted_alone(batch_route: Pipeline) -> None:
    ids = deliver_prs(batch_route, 5)
    control_batches(batch_route, failures=[{"contains": ids[2], "times": 1}])
    collector().run()
    assert poller().run().entries == {"completed": 4, "reparked": 1}
    again = batch_route.record(ids[2])
    assert again.status is EventStatus.BATCHING
    assert again.batch_id is None
    assert again.error is not None
    assert "errored" in again.error
    report = collector(MAX_WAIT * 0.5 + 1).run()
    assert list(report.submitted.values()) == [[ids[2]]]
    assert poller().run().entries == {"completed": 1}
    assert batch_route.record(ids[2]).status is EventStatus.COMPLETED
    assert model_stats(batch_route)["entries_per_batch"] == [5, 1]


class Crash(Exception):
    """A poller killed mid-run."""


def test_a_poller_crash_between_reading_results_and_storing_them_repeats_nothing(
    batch_route: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = deliver_prs(batch_route, 5)
    collector().run()
    completions: list[str] = []
    worker = wiring.worker_service()
    complete = worker.complete_batched

    def crash_after_two(record: Any, *args: Any) -> bool:
        if len(completions) == 2:
            raise Crash
        done = complete(record, *args)
        completions.append(record.event_id)
        return done

    monkeypatch.setattr(worker, "complete_batched", crash_after_two)
    with pytest.raises(Crash):
        poller().run()
    monkeypatch.setattr(worker, "complete_batched", complete)
    statuses = [batch_route.record(e).status for e in ids]
    assert statuses.count(EventStatus.COMPLETED) == 2
    # The restarted poller reads the results again and stores only what was not stored.
    assert poller().run().entries == {"skipped": 2, "completed": 3}
    assert all(batch_route.record(e).status is EventStatus.COMPLETED for e in ids)
    assert model_stats(batch_route)["answered"] == 5


def test_a_collector_crash_between_submit_and_record_adopts_the_batch(
    batch_route: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = deliver_prs(batch_route, 5)
    ledger = wiring.batch_parking().ledger
    set_batch = ledger.set_batch

    def crash(*_: Any) -> Any:
        raise Crash

    monkeypatch.setattr(ledger, "set_batch", crash)
    with pytest.raises(Crash):
        collector().run()
    monkeypatch.setattr(ledger, "set_batch", set_batch)
    report = collector().run()
    assert len(report.adopted) == 1
    assert report.submitted == {}
    assert poller().run().entries == {"completed": 5}
    assert all(batch_route.record(e).batch_id == report.adopted[0] for e in ids)
    assert model_stats(batch_route)["batches"] == 1


def crash_between_submit_and_record(monkeypatch: pytest.MonkeyPatch) -> None:
    """A collector run that submits its batch and stops before recording the batch's id."""
    ledger = wiring.batch_parking().ledger

    def crash(*_: Any) -> Any:
        raise Crash

    with monkeypatch.context() as patch:
        patch.setattr(ledger, "set_batch", crash)
        with pytest.raises(Crash):
            collector().run()


def test_an_interrupted_run_adopts_its_own_batch_not_another_applications_as_large(
    batch_route: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = deliver_prs(batch_route, 5)
    crash_between_submit_and_record(monkeypatch)
    # Newer than ours, as many requests: listed first.
    foreign = other_application_batch(batch_route, 5)
    report = collector().run()
    [adopted] = report.adopted
    assert adopted != foreign
    assert poller().run().entries == {"completed": 5}
    for event_id in ids:
        done = batch_route.record(event_id)
        assert (done.status, done.batch_id) == (EventStatus.COMPLETED, adopted)


def test_an_intent_waits_while_a_batch_that_may_be_its_own_is_running(
    batch_route: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = deliver_prs(batch_route, 5)
    control_batches(batch_route, delay_seconds=2)
    crash_between_submit_and_record(monkeypatch)
    control_batches(batch_route, delay_seconds=0)
    # Another application's, as large, newer and ended: not ours, and ours cannot be told yet.
    foreign = other_application_batch(batch_route, 5)
    assert batch_ended(batch_route, foreign)
    report = collector().run()
    assert (report.adopted, report.submitted, report.dropped_intents) == ([], {}, 0)
    assert report.undecided_intents == 1
    for event_id in ids:
        waiting = batch_route.record(event_id)
        assert (waiting.status, waiting.batch_id) == (EventStatus.BATCHING, None)
    deadline = time.monotonic() + 10
    while report.undecided_intents and time.monotonic() < deadline:
        time.sleep(0.2)
        report = collector().run()
    [adopted] = report.adopted
    assert adopted != foreign
    assert report.submitted == {}
    assert poller().run().entries == {"completed": 5}
    assert all(batch_route.record(e).batch_id == adopted for e in ids)


def test_an_undecided_intents_events_still_fall_back_before_their_deadline(
    batch_route: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = deliver_prs(batch_route, 5)
    control_batches(batch_route, delay_seconds=60)
    crash_between_submit_and_record(monkeypatch)
    report = collector(MAX_WAIT * 0.8).run()
    assert report.undecided_intents == 1
    assert (report.fallback, report.submitted) == (5, {})
    for event_id in ids:
        queued = batch_route.record(event_id)
        assert (queued.status, queued.mode) == (EventStatus.QUEUED, "realtime")


def test_a_batch_created_after_the_intents_run_could_submit_is_not_waited_for(
    batch_route: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = deliver_prs(batch_route, 5)
    api = wiring.batch_parts()["api"]

    def crash(*_: Any) -> Any:
        raise Crash

    # The run wrote its intent and stopped before the API took its batch, longer ago than
    # any run lasts.
    with monkeypatch.context() as patch:
        patch.setattr(type(api), "create", crash)
        with pytest.raises(Crash):
            collector(-(SUBMIT_WINDOW_SECONDS + 30)).run()
    control_batches(batch_route, delay_seconds=60)
    # As large and running, but created too late to be that run's.
    other_application_batch(batch_route, 5)
    report = collector().run()
    assert (report.undecided_intents, report.dropped_intents) == (0, 1)
    assert [sorted(e) for e in report.submitted.values()] == [sorted(ids)]


@pytest.mark.parametrize("owner", ["another application", "this route, earlier"])
def test_an_intent_never_submitted_is_dropped_and_its_events_go_in_the_next_batch(
    batch_route: Pipeline, monkeypatch: pytest.MonkeyPatch, owner: str
) -> None:
    # A settled batch as large as the intent's, created just before it.
    if owner == "another application":
        other_application_batch(batch_route, 5)
    else:
        deliver_prs(batch_route, 5, first=100)
        collector().run()
        assert poller().run().entries == {"completed": 5}
    ids = deliver_prs(batch_route, 5)
    api = wiring.batch_parts()["api"]

    def crash(*_: Any) -> Any:
        raise Crash

    with monkeypatch.context() as patch:
        patch.setattr(type(api), "create", crash)
        with pytest.raises(Crash):
            collector().run()
    report = collector().run()
    assert report.adopted == []
    assert report.dropped_intents == 1
    assert [sorted(e) for e in report.submitted.values()] == [sorted(ids)]
    assert poller().run().entries == {"completed": 5}
    assert all(batch_route.record(e).status is EventStatus.COMPLETED for e in ids)


def test_events_a_settled_batch_holds_no_entry_for_are_parked_again(
    batch_route: Pipeline,
) -> None:
    ids = deliver_prs(batch_route, 5)
    foreign = other_application_batch(batch_route, 5)
    # An intent that named a batch not its own (as adoption by size alone could).
    ledger = wiring.batch_parking().ledger
    intent = Intent(
        route=ROUTE,
        intent_id="mistaken",
        event_ids=ids,
        created_at=time.time(),
        expires_at=max(batch_route.record(e).expires_at or 0 for e in ids),
    )
    ledger.put_intent(intent)
    ledger.set_batch(intent, foreign)
    assert collector().run().submitted == {}
    assert {batch_route.record(e).batch_id for e in ids} == {foreign}
    # The other application's entries are not ours; our events are parked again, not lost.
    assert poller().run().entries == {"skipped": 5, "reparked": 5}
    for event_id in ids:
        parked = batch_route.record(event_id)
        assert (parked.status, parked.batch_id) == (EventStatus.BATCHING, None)
    [submitted] = collector().run().submitted.values()
    assert sorted(submitted) == sorted(ids)
    assert poller().run().entries == {"completed": 5}
    assert all(batch_route.record(e).status is EventStatus.COMPLETED for e in ids)


def test_batches_unavailable_fall_back_to_real_time_through_the_worker(
    batch_route: Pipeline,
) -> None:
    ids = deliver_prs(batch_route, 5)
    control_batches(batch_route, unavailable=529)
    report = collector().run()
    assert report.fallback == 5
    while batch_route.poll():
        pass
    for event_id in ids:
        done = batch_route.record(event_id)
        assert done.status is EventStatus.COMPLETED
        assert done.mode == "realtime"
    assert batch_route.model.calls == 5
    assert collector().run().fallback == 0


def test_an_event_that_would_miss_its_deadline_goes_real_time(batch_route: Pipeline) -> None:
    (event_id,) = deliver_prs(batch_route, 1)
    report = collector(MAX_WAIT * 0.8).run()
    assert report.fallback == 1
    assert report.submitted == {}
    assert batch_route.record(event_id).status is EventStatus.QUEUED


def test_batch_answers_spend_the_routes_budget_at_batch_price(
    pipeline: Pipeline, configs: Configs
) -> None:
    from hookwise.governor.dynamodb import DynamoDBBudgetLedger, utc_day

    configs.edit_route(ROUTE, batched(batch={"max_size": 3}, budget={"daily_usd": 100}))
    ids = deliver_prs(pipeline, 3)
    collector().run()
    poller().run()
    wiring.admission().flush()
    (scope,) = wiring.admission().scopes("github", wiring.config().route_named(ROUTE))  # type: ignore[arg-type]
    tokens, usd = DynamoDBBudgetLedger(pipeline.aws.settings.table).spent(
        scope, utc_day(time.time())
    )
    costs = [pipeline.record(e).usage for e in ids]
    # The ledger keeps micro-dollars.
    assert usd == pytest.approx(sum(u.cost_usd for u in costs if u is not None), abs=1e-5)
    assert tokens == sum(u.input_tokens + u.output_tokens for u in costs if u is not None)


def ledger_items() -> list[dict[str, Any]]:
    table = boto3.resource("dynamodb").Table(wiring.get_settings().table + BATCH_TABLE_SUFFIX)
    return list(table.scan(ConsistentRead=True)["Items"])


def test_every_ledger_item_expires_with_its_events(
    batch_route: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    ttl = boto3.client("dynamodb").describe_time_to_live(
        TableName=wiring.get_settings().table + BATCH_TABLE_SUFFIX
    )["TimeToLiveDescription"]
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", BATCH_TABLE_TTL_ATTRIBUTE)
    ids = deliver_prs(batch_route, 5)
    expiry = {e: batch_route.record(e).expires_at for e in ids}
    # The event's own expiry: past its batch's longest path (parked, then a day's batch).
    assert all(e is not None and e > time.time() + MAX_WAIT + 86_400 for e in expiry.values())
    parked = ledger_items()
    assert sorted(str(item["event_id"]) for item in parked) == sorted(ids)
    for item in parked:
        assert item[BATCH_TABLE_TTL_ATTRIBUTE] == expiry[str(item["event_id"])]
    crash_between_submit_and_record(monkeypatch)
    [intent] = [item for item in ledger_items() if str(item["pk"]).startswith("intent#")]
    assert intent[BATCH_TABLE_TTL_ATTRIBUTE] == max(v or 0 for v in expiry.values())
    # Kept through the updates that follow (the batch id, recorded).
    collector().run()
    [intent] = ledger_items()
    assert intent["recorded"] is True
    assert intent[BATCH_TABLE_TTL_ATTRIBUTE] == max(v or 0 for v in expiry.values())


REPO = "harbor-labs/ledger-api"


def pr_with_diff(pipeline: Pipeline, number: int) -> str:
    """Deliver a PR opened event whose changed files, seeded on the GitHub fake, name it: each
    PR's diff can be told apart in a prompt. Returns the event id."""
    httpx.post(
        f"{pipeline.providers.github.url}/_control/pulls",
        json={
            "repo": REPO,
            "number": number,
            "files": [
                {
                    "filename": f"src/change_{number}.py",
                    "status": "modified",
                    "additions": 1,
                    "deletions": 0,
                    "patch": f"@@ -1 +1,2 @@\n def handler():\n+    return {number}",
                }
            ],
        },
    ).raise_for_status()
    sample = json.loads(sample_bytes("github", "pull_request.opened"))
    sample["number"] = number
    sample["pull_request"]["number"] = number
    return pipeline.deliver(delivery=f"pr-{number}", body=json.dumps(sample).encode())


def github_calls(pipeline: Pipeline, fragment: str, method: str = "GET") -> int:
    calls = httpx.get(f"{pipeline.providers.github.url}/_control/state").json()["calls"]
    return sum(1 for c in calls if c["method"] == method and fragment in c["path"])


def model_prompts(pipeline: Pipeline) -> list[str]:
    """The messages of every request the offline model answered, real-time or a batch entry."""
    return [json.dumps(request["messages"]) for request in pipeline.model.model.requests]


def parked_contexts(pipeline: Pipeline) -> dict[str, int]:
    """The parked events' kept context in the events table: key -> its TTL."""
    table = boto3.resource("dynamodb").Table(pipeline.aws.settings.table)
    items = table.scan(ConsistentRead=True)["Items"]
    return {
        str(item[TABLE_PARTITION_KEY]): int(item[TABLE_TTL_ATTRIBUTE])
        for item in items
        if str(item[TABLE_PARTITION_KEY]).startswith(f"{CONTEXT_PREFIX}batch#")
    }


def test_the_batch_request_carries_the_diff_fetched_when_the_event_was_parked(
    batch_route: Pipeline,
) -> None:
    numbers = range(3000, 3005)
    ids = [pr_with_diff(batch_route, number) for number in numbers]
    while batch_route.poll():
        pass
    # Fetched as each event was parked, within the route's budget: once per PR.
    for number in numbers:
        assert github_calls(batch_route, f"/pulls/{number}/files") == 1
    kept = parked_contexts(batch_route)
    assert len(kept) == len(ids)
    for event_id in ids:
        parked = batch_route.record(event_id)
        assert parked.status is EventStatus.BATCHING
        # Kept as long as the event itself: past any wait its batch can have.
        assert parked.expires_at is not None
        assert kept[f"{CONTEXT_PREFIX}batch#{ROUTE}#{event_id}"] == parked.expires_at
        assert parked.expires_at > time.time() + MAX_WAIT
    report = collector().run()
    assert [sorted(events) for events in report.submitted.values()] == [sorted(ids)]
    # The collector builds the requests from what was kept: it fetches nothing itself.
    assert github_calls(batch_route, "/files") == len(ids)
    assert poller().run().entries == {"completed": 5}
    assert batch_route.model.calls == 0
    prompts = model_prompts(batch_route)
    assert len(prompts) == len(ids)
    for number in numbers:
        # Each entry carries its own PR's diff, in the real-time prompt's context section.
        [prompt] = [p for p in prompts if f"src/change_{number}.py" in p]
        assert "<context>" in prompt
        assert "The pull request's changed files" in prompt
        assert f"+    return {number}" in prompt
    comments = httpx.get(f"{batch_route.providers.github.url}/_control/state").json()["comments"]
    for number, event_id in zip(numbers, ids, strict=True):
        assert len(comments[f"{REPO}#{number}"]) == 1
        done = batch_route.record(event_id)
        assert (done.actions or {})["github.comment"]["status"] == "done"


def test_a_rate_limited_diff_fetch_while_parking_puts_the_event_back_with_no_model_call(
    batch_route: Pipeline,
) -> None:
    httpx.post(
        f"{batch_route.providers.github.url}/_control/faults",
        json={"rules": [{"status": 403, "method": "GET", "path": "/files", "retry_after": 1}]},
    ).raise_for_status()
    event_id = pr_with_diff(batch_route, 3100)
    batch_route.poll()
    waiting = batch_route.record(event_id)
    assert waiting.status is EventStatus.DEFERRED
    assert waiting.defer_reason is not None
    assert waiting.defer_reason.startswith("context fetch deferred")
    assert "rate limited" in waiting.defer_reason
    assert waiting.failures == 0
    # Not parked: nothing for the collector, and no model call of any kind.
    assert ledger_items() == []
    assert parked_contexts(batch_route) == {}
    assert collector(MAX_WAIT).run().submitted == {}
    assert batch_route.model.calls == 0
    assert model_stats(batch_route)["batches"] == 0
    # Back from the queue after GitHub's wait: fetched, then parked.
    deadline = time.monotonic() + 10
    while batch_route.record(event_id).status is not EventStatus.BATCHING:
        assert time.monotonic() < deadline, batch_route.record(event_id).status
        batch_route.poll()
        time.sleep(0.2)
    assert github_calls(batch_route, "/pulls/3100/files") == 2
    assert list(collector(MAX_WAIT * 0.5 + 1).run().submitted.values()) == [[event_id]]
    assert poller().run().entries == {"completed": 1}
    [prompt] = model_prompts(batch_route)
    assert "src/change_3100.py" in prompt
    assert batch_route.model.calls == 0
    assert batch_route.dlq() == []


def test_an_event_parked_before_its_route_declared_context_is_answered_in_real_time_with_it(
    pipeline: Pipeline, configs: Configs
) -> None:
    def without_context(route: dict[str, Any]) -> None:
        batched(batch={"max_wait_seconds": MAX_WAIT, "max_size": 1})(route)
        route.pop("context")

    configs.edit_route(ROUTE, without_context)
    event_id = pr_with_diff(pipeline, 3200)
    pipeline.poll()
    assert pipeline.record(event_id).status is EventStatus.BATCHING
    assert github_calls(pipeline, "/files") == 0
    # The route now declares context: the parked event has none kept, and a batch cannot fetch.
    configs.edit_route(ROUTE, batched(batch={"max_wait_seconds": MAX_WAIT, "max_size": 1}))
    report = collector().run()
    assert (report.submitted, report.fallback) == ({}, 1)
    while pipeline.poll():
        pass
    done = pipeline.record(event_id)
    assert (done.status, done.mode) == (EventStatus.COMPLETED, "realtime")
    assert pipeline.model.calls == 1
    assert model_stats(pipeline)["batches"] == 0
    [prompt] = model_prompts(pipeline)
    assert "src/change_3200.py" in prompt
