"""The redrive service against moto: summary, list, redrive (filters, limit, dry run, rate),
replay, and a redrive interrupted between send and delete."""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError

from hookwise.domain.events import EventStatus, QueueMessage
from hookwise.redrive.models import ListAction, RedriveAction, ReplayAction, SummaryAction
from tests.integration.redrive.conftest import Pipeline

EXHAUSTED = "exhausted: model answered 500 five times"
BAD_REQUEST = "model said 400: bad request"


def redrive(pipeline: Pipeline, **filters: Any) -> dict[str, Any]:
    return pipeline.service().handle({"action": "redrive", **filters})


def test_summary_groups_by_source_type_and_reason_with_the_oldest_age(pipeline: Pipeline) -> None:
    with pipeline.sent_ago(600):
        old = pipeline.failed("github", "push", EXHAUSTED, attribute=False)
    pipeline.failed("github", "push", EXHAUSTED, attribute=False)
    pipeline.failed("github", "push", BAD_REQUEST)
    pipeline.failed("stripe", "charge.failed", BAD_REQUEST)

    answer = pipeline.service().summary(SummaryAction(action="summary"))

    assert answer.total == 4
    groups = {(g.source, g.event_type, g.reason): g for g in answer.groups}
    assert {key: g.count for key, g in groups.items()} == {
        ("github", "push", EXHAUSTED): 2,
        ("github", "push", BAD_REQUEST): 1,
        ("stripe", "charge.failed", BAD_REQUEST): 1,
    }
    assert 599 <= groups[("github", "push", EXHAUSTED)].oldest_age_seconds < 620
    assert groups[("github", "push", BAD_REQUEST)].oldest_age_seconds < 10
    assert answer.oldest_age_seconds == groups[("github", "push", EXHAUSTED)].oldest_age_seconds
    # Looking consumes nothing, and everything is visible again at once.
    assert len(pipeline.dlq_ids()) == 4
    assert pipeline.status(old) is EventStatus.FAILED


def test_reason_falls_back_to_the_attribute_then_unknown(pipeline: Pipeline) -> None:
    with_attribute = pipeline.failed(error="permanent: schema")
    pipeline.store.transition(
        with_attribute,
        from_statuses=[EventStatus.FAILED],
        to_status=EventStatus.FAILED,
        updates={"error": None},
    )
    pipeline.sqs.send_message(QueueUrl=pipeline.aws.resources.dlq_url, MessageBody="not json")

    answer = pipeline.service().listing(ListAction(action="list"))

    reasons = {view.event_id: view.reason for view in answer.messages}
    assert reasons == {with_attribute: "permanent: schema", "": "malformed message body"}


def test_list_reports_each_message_without_consuming_it(pipeline: Pipeline) -> None:
    ids = [pipeline.failed() for _ in range(12)]

    first = pipeline.service().listing(ListAction(action="list", limit=5))
    everything = pipeline.service().handle({"action": "list"})

    assert first.count == 5
    view = first.messages[0]
    assert view.status == "failed"
    assert view.attempts == 1
    assert view.reason == BAD_REQUEST
    assert view.source == "github"
    assert view.age_seconds >= 0
    assert everything["count"] == 12
    assert sorted(m["event_id"] for m in everything["messages"]) == sorted(ids)
    assert pipeline.dlq_ids() == sorted(ids)


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"source": "stripe"}, {"stripe-old", "stripe-new"}),
        ({"event_type": "push"}, {"github-old", "github-new"}),
        ({"reason": "BAD REQUEST"}, {"github-old", "stripe-new"}),
        ({"older_than": 300}, {"github-old", "stripe-old"}),
        ({"newer_than": 300}, {"github-new", "stripe-new"}),
        ({"source": "github", "older_than": 300}, {"github-old"}),
        ({"event_ids": ["stripe-old", "github-new"]}, {"stripe-old", "github-new"}),
    ],
)
def test_redrive_moves_only_matching_messages(
    pipeline: Pipeline, filters: dict[str, Any], expected: set[str]
) -> None:
    with pipeline.sent_ago(3600):
        named = {
            "github-old": pipeline.failed("github", "push", BAD_REQUEST),
            "stripe-old": pipeline.failed("stripe", "charge.failed", EXHAUSTED, attribute=False),
        }
    named["github-new"] = pipeline.failed("github", "push", EXHAUSTED, attribute=False)
    named["stripe-new"] = pipeline.failed("stripe", "charge.failed", BAD_REQUEST)
    if "event_ids" in filters:
        filters = {"event_ids": [named[name] for name in filters["event_ids"]]}

    answer = redrive(pipeline, **filters)

    moved = {named[name] for name in expected}
    assert answer["counts"] == {"redriven": len(expected)}
    assert {o["event_id"] for o in answer["outcomes"]} == moved
    assert set(pipeline.main_ids()) == moved
    # Non-matching messages stay in the DLQ, visible now (not after a visibility timeout).
    assert set(pipeline.dlq_ids()) == set(named.values()) - moved
    for event_id in named.values():
        record = pipeline.store.get(event_id)
        assert record is not None
        if event_id in moved:
            assert (record.status, record.redrive_count) == (EventStatus.QUEUED, 1)
        else:
            assert (record.status, record.redrive_count) == (EventStatus.FAILED, 0)


def test_redrive_limit(pipeline: Pipeline) -> None:
    ids = [pipeline.failed() for _ in range(15)]

    answer = redrive(pipeline, limit=4)

    assert answer["counts"] == {"redriven": 4}
    assert len(pipeline.main_ids()) == 4
    assert len(pipeline.dlq_ids()) == 11
    assert sorted(pipeline.main_ids() + pipeline.dlq_ids()) == sorted(ids)


def test_dry_run_changes_nothing(pipeline: Pipeline) -> None:
    ids = sorted(pipeline.failed() for _ in range(3))

    answer = redrive(pipeline, dry_run=True)

    assert answer["dry_run"] is True
    assert answer["counts"] == {"would_redrive": 3}
    assert pipeline.dlq_ids() == ids
    assert pipeline.main_ids() == []
    assert all(pipeline.status(event_id) is EventStatus.FAILED for event_id in ids)
    assert pipeline.clock.sleeps == []


def test_rate_cap_is_observed(pipeline: Pipeline) -> None:
    for _ in range(11):
        pipeline.failed()
    sent_at: list[float] = []
    pipeline.redrive_sqs.meta.events.register(
        "before-call.sqs.SendMessage", lambda **_: sent_at.append(pipeline.clock.now)
    )

    answer = redrive(pipeline, rate_per_second=5)

    assert answer["counts"] == {"redriven": 11}
    gaps = [later - earlier for earlier, later in itertools.pairwise(sent_at)]
    assert min(gaps) == pytest.approx(0.2)
    assert sent_at[-1] - sent_at[0] == pytest.approx(2.0)


def test_the_real_redrive_policy_path_is_redriven_too(pipeline: Pipeline) -> None:
    """A message moved by maxReceiveCount (no attribute) with its item marked exhausted."""
    record = pipeline.event()
    pipeline.queue.send(
        QueueMessage(event_id=record.event_id, source=record.source, event_type=record.event_type)
    )
    url = pipeline.aws.resources.queue_url
    for _ in range(pipeline.aws.settings.max_receive_count):
        assert pipeline.sqs.receive_message(QueueUrl=url, VisibilityTimeout=0)["Messages"]
    pipeline.store.claim(record.event_id, now=time.time(), lease_until=time.time() + 60)
    pipeline.store.transition(
        record.event_id,
        from_statuses=[EventStatus.PROCESSING],
        to_status=EventStatus.FAILED,
        updates={"error": EXHAUSTED},
    )
    assert pipeline.sqs.receive_message(QueueUrl=url).get("Messages") is None

    summary = pipeline.service().handle({"action": "summary"})
    answer = redrive(pipeline, reason="exhausted")

    assert summary["total"] == 1
    assert summary["groups"][0]["reason"] == EXHAUSTED
    assert answer["counts"] == {"redriven": 1}
    pipeline.run_worker()
    assert pipeline.status(record.event_id) is EventStatus.COMPLETED


def test_redrive_interrupted_between_send_and_delete_loses_nothing_and_repeats_nothing(
    pipeline: Pipeline,
) -> None:
    ids = sorted(pipeline.failed() for _ in range(4))
    deletes = {"allowed": 2}

    def crash_after_two(**_: Any) -> None:
        if deletes["allowed"] == 0:
            raise EndpointConnectionError(endpoint_url="https://sqs.injected-fault")
        deletes["allowed"] -= 1

    pipeline.redrive_sqs.meta.events.register("before-call.sqs.DeleteMessage", crash_after_two)

    first = redrive(pipeline)

    assert first["counts"] == {"redriven": 2, "error": 2}
    # Every event is on the main queue; the two undeleted copies are still in the DLQ.
    assert pipeline.main_ids() == ids
    assert len(pipeline.dlq_ids()) == 2
    pipeline.run_worker()
    assert pipeline.model_calls == dict.fromkeys(ids, 1)

    pipeline.redrive_sqs.meta.events.unregister("before-call.sqs.DeleteMessage", crash_after_two)
    second = redrive(pipeline)
    pipeline.run_worker()

    assert second["counts"] == {"discarded": 2}
    assert pipeline.dlq_ids() == []
    assert pipeline.model_calls == dict.fromkeys(ids, 1)
    assert all(pipeline.status(event_id) is EventStatus.COMPLETED for event_id in ids)


def test_a_message_left_behind_after_the_transition_is_still_sent(pipeline: Pipeline) -> None:
    """Crash after failed -> queued but before the send: the next redrive sends it."""
    event_id = pipeline.failed()
    pipeline.store.transition(
        event_id,
        from_statuses=[EventStatus.FAILED],
        to_status=EventStatus.QUEUED,
        increment={"redrive_count": 1},
    )

    answer = redrive(pipeline)
    pipeline.run_worker()

    assert answer["counts"] == {"redriven": 1}
    record = pipeline.store.get(event_id)
    assert record is not None
    assert (record.status, record.redrive_count) == (EventStatus.COMPLETED, 1)
    assert pipeline.model_calls == {event_id: 1}


def test_replay_a_failed_event_whose_message_is_gone(pipeline: Pipeline) -> None:
    event_id = pipeline.failed()
    pipeline.aws.messages(pipeline.aws.resources.dlq_url)  # the message expired, say

    answer = pipeline.service().replay(ReplayAction(action="replay", event_ids=[event_id]))
    pipeline.run_worker()

    assert answer.counts == {"replayed": 1}
    assert pipeline.status(event_id) is EventStatus.COMPLETED
    assert pipeline.model_calls == {event_id: 1}


def test_replay_of_a_completed_event_needs_force(pipeline: Pipeline) -> None:
    event_id = pipeline.failed()
    assert redrive(pipeline)["counts"] == {"redriven": 1}
    pipeline.run_worker()
    service = pipeline.service()

    refused = service.replay(ReplayAction(action="replay", event_ids=[event_id]))
    pipeline.run_worker()
    dry = service.replay(
        ReplayAction(action="replay", event_ids=[event_id], force=True, dry_run=True)
    )
    forced = service.replay(ReplayAction(action="replay", event_ids=[event_id], force=True))
    pipeline.run_worker()

    assert refused.outcomes[0].outcome == "needs_force"
    assert dry.counts == {"would_replay": 1}
    assert forced.counts == {"replayed": 1}
    assert pipeline.model_calls == {event_id: 2}
    record = pipeline.store.get(event_id)
    assert record is not None
    assert (record.status, record.redrive_count) == (EventStatus.COMPLETED, 2)


def test_replay_reports_unknown_and_in_flight_events(pipeline: Pipeline) -> None:
    queued = pipeline.event().event_id

    answer = pipeline.service().handle(
        {"action": "replay", "event_ids": ["evt_nope", queued], "force": True}
    )

    assert answer["counts"] == {"not_found": 1, "in_progress": 1}
    assert pipeline.main_ids() == []


def test_a_failed_replay_send_puts_the_event_back(pipeline: Pipeline) -> None:
    event_id = pipeline.failed()

    def refuse(**_: Any) -> None:
        raise EndpointConnectionError(endpoint_url="https://sqs.injected-fault")

    pipeline.redrive_sqs.meta.events.register("before-call.sqs.SendMessage", refuse)
    answer = pipeline.service().replay(ReplayAction(action="replay", event_ids=[event_id]))

    assert answer.counts == {"error": 1}
    assert pipeline.status(event_id) is EventStatus.FAILED


@pytest.mark.parametrize(
    "payload",
    [
        {"action": "explode"},
        {},
        "redrive",
        {"action": "redrive", "sauce": "github"},
        {"action": "redrive", "limit": 0},
        {"action": "replay"},
        {"action": "redrive", "rate_per_second": -1},
    ],
)
def test_invalid_actions_get_an_error_answer(pipeline: Pipeline, payload: Any) -> None:
    pipeline.failed()

    answer = pipeline.service().handle(payload)

    assert answer["ok"] is False
    assert answer["error"] == "invalid action"
    assert answer["details"]
    assert len(pipeline.dlq_ids()) == 1


def test_the_lambda_handler_answers_in_json(pipeline: Pipeline) -> None:
    from functions.dlq_redrive.handler import handler

    pipeline.failed(error=EXHAUSTED)

    class Context:
        function_name = "dlq_redrive"
        memory_limit_in_mb = 512
        invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:dlq_redrive"
        aws_request_id = "req-1"

    answer = handler({"action": "summary"}, Context())  # type: ignore[arg-type]

    assert json.loads(json.dumps(answer))["total"] == 1
    assert handler({"action": "nope"}, Context())["ok"] is False  # type: ignore[arg-type]


def test_the_limit_counts_moves_not_messages_left_behind(pipeline: Pipeline) -> None:
    """A message without an item stays in the DLQ; it must not use up a chunk's limit."""
    ghost = QueueMessage(event_id="evt_ghost", source="github", event_type="push")
    pipeline.queue.send_to_dlq(ghost, reason="whatever")
    ids = [pipeline.failed() for _ in range(3)]

    answer = redrive(pipeline, limit=2)

    assert answer["counts"]["redriven"] == 2
    assert answer["counts"].get("missing", 0) <= 1
    assert sorted(pipeline.dlq_ids()) == sorted(
        ["evt_ghost", *(set(ids) - set(pipeline.main_ids()))]
    )


def test_a_redrive_short_of_time_stops_cleanly_and_a_rerun_finishes(pipeline: Pipeline) -> None:
    ids = sorted(pipeline.failed() for _ in range(5))
    budget = iter([60.0, 60.0, 5.0])  # two moves, then the function is nearly out of time

    first = pipeline.service().redrive(
        RedriveAction(action="redrive"), time_left=lambda: next(budget, 0.0)
    )

    assert first.stopped_early
    assert first.counts == {"redriven": 2}
    assert len(pipeline.dlq_ids()) == 3  # the rest released at once, not after the hold
    second = redrive(pipeline)
    assert second["counts"] == {"redriven": 3}
    assert not second["stopped_early"]
    assert pipeline.main_ids() == ids
