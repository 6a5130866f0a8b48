"""Event ids and the public view of an event."""

from __future__ import annotations

import re

import pytest

from hookwise.domain.events import (
    EventRecord,
    EventStatus,
    QueueMessage,
    Usage,
    body_key,
    make_event_id,
)


def test_event_id_is_deterministic_url_safe_and_scoped_by_source() -> None:
    first = make_event_id("github", "delivery-1")
    assert first == make_event_id("github", "delivery-1")
    assert first != make_event_id("github", "delivery-2")
    assert first != make_event_id("stripe", "delivery-1")
    assert re.fullmatch(r"evt_[0-9a-f]{32}", first)


def test_body_key_changes_with_any_byte() -> None:
    assert body_key(b'{"a":1}') == body_key(b'{"a":1}')
    assert body_key(b'{"a":1}') != body_key(b'{"a":2}')


def test_public_view_hides_body_and_headers_and_shows_results() -> None:
    record = EventRecord(
        event_id="evt_1",
        source="github",
        event_type="push",
        received_at="t",
        updated_at="t",
        body=b"secret payload",
        headers={"x-hub-signature-256": "sha256=abc"},
        result={"summary": "ok"},
        usage=Usage(input_tokens=3),
    )
    view = record.public_view()
    assert "body" not in view
    assert "headers" not in view
    assert view["result"] == {"summary": "ok"}
    assert view["usage"]["input_tokens"] == 3
    assert "error" not in view


def test_a_record_read_back_types_its_status_and_usage_and_ignores_unknown_attributes() -> None:
    record = EventRecord.from_fields(
        {
            "event_id": "evt_1",
            "source": "github",
            "event_type": "push",
            "received_at": "t",
            "updated_at": "t",
            "status": "completed",
            "usage": {"input_tokens": 3, "cost_usd": 0.5, "retired_field": 1},
            "lease_until": 12,
        }
    )
    assert record.status is EventStatus.COMPLETED
    assert record.usage == Usage(input_tokens=3, cost_usd=0.5)


@pytest.mark.parametrize(
    "body",
    [
        "[]",
        '{"event_id": "evt_1", "source": "github"}',
        '{"event_id": 1, "source": "github", "event_type": "push"}',
        '{"event_id": "evt_1", "source": "github", "event_type": "push", "kind": "model"}',
        "not json",
    ],
)
def test_a_queue_message_that_is_not_ours_is_a_value_error(body: str) -> None:
    with pytest.raises(ValueError, match=r"^queue message: "):
        QueueMessage.from_json(body)


def test_a_queue_message_round_trips() -> None:
    message = QueueMessage(event_id="evt_1", source="github", event_type="push", kind="actions")
    assert QueueMessage.from_json(message.to_json()) == message


def test_superseded_is_final_and_the_public_view_names_the_event_in_its_place() -> None:
    from hookwise.domain.events import FINAL_STATUSES

    assert EventStatus.SUPERSEDED in FINAL_STATUSES
    record = EventRecord.from_fields(
        {
            "event_id": "evt_a",
            "source": "github",
            "event_type": "pull_request.synchronize",
            "status": "superseded",
            "received_at": "2026-12-04T10:00:00.000Z",
            "updated_at": "2026-12-04T10:01:00.000Z",
            "superseded_by": "evt_b",
            "superseded_reason": "a newer event of the subject came within the wait",
        }
    )
    view = record.public_view()
    assert view["status"] == "superseded"
    assert view["superseded_by"] == "evt_b"
    assert view["superseded_reason"].startswith("a newer event")
