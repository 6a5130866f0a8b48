"""What the Event page makes of a record: its timeline, action links, kept headers."""

from __future__ import annotations

from hookwise.console.data import REMOVED, action_link, scrubbed, timeline
from hookwise.domain.events import EventRecord, EventStatus, Usage


def record(**fields: object) -> EventRecord:
    base: dict[str, object] = {
        "event_id": "evt_1",
        "source": "github",
        "event_type": "pull_request.opened",
        "received_at": "2026-12-01T10:00:00.000Z",
        "updated_at": "2026-12-01T10:00:02.000Z",
    }
    return EventRecord(**{**base, **fields})


def test_a_completed_event_tells_each_step_it_went_through() -> None:
    done = record(
        status=EventStatus.COMPLETED,
        attempts=2,
        failures=1,
        route="review",
        model="claude-sonnet-4-5",
        latency_ms=900,
        usage=Usage(input_tokens=1200, output_tokens=80, cache_read_input_tokens=300,
                    cost_usd=0.0048),
        actions={"github.comment": {"status": "done", "at": "2026-12-01T10:00:02.000Z",
                                    "target": "acme/app#7", "id": 55, "did": "created"}},
    )  # fmt: skip
    steps = timeline(done)
    assert [step.title for step in steps] == [
        "received",
        "claimed by a worker",
        "model call",
        "github.comment: done",
        "completed",
    ]
    assert "2 attempt(s), 1 failed" in steps[1].detail
    assert "1200 tokens in, 80 out, cache reads 300" in steps[2].detail
    assert "$0.004800, 900 ms" in steps[2].detail
    assert steps[3].link == "https://github.com/acme/app/pull/7#issuecomment-55"


def test_a_deferred_then_failed_event_says_why() -> None:
    failed = record(
        status=EventStatus.FAILED,
        attempts=5,
        defer_reason="rate limit: requests",
        deferred_until="2026-12-01T10:01:00.000Z",
        error="model error: 500",
    )
    steps = {step.title: step for step in timeline(failed)}
    assert steps["deferred"].detail == "rate limit: requests, until 2026-12-01T10:01:00.000Z"
    assert steps["failure"].failed
    assert steps["failed"].failed


def test_links_to_a_slack_reply_and_none_for_a_dry_run() -> None:
    reply = {"status": "done", "target": "C123/1700000000.000100", "ts": "1700000001.000200"}
    assert action_link("slack.reply", reply) == "https://slack.com/archives/C123/p1700000001000200"
    assert action_link("github.comment", {"status": "dry_run", "target": "acme/app#7"}) is None


def test_headers_that_could_carry_a_signature_lose_their_value() -> None:
    kept = scrubbed(
        {
            "x-hub-signature-256": "sha256=abc",
            "stripe-signature": "t=1,v1=abc",
            "authorization": "Bearer x",
            "x-github-event": "pull_request",
        }
    )
    assert kept == {
        "authorization": REMOVED,
        "stripe-signature": REMOVED,
        "x-github-event": "pull_request",
        "x-hub-signature-256": REMOVED,
    }
