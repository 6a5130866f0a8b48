"""The structured answer: asked with strict tool use where the model takes it, a schema strict
mode accepts, our validation for what strict drops, and refusals and truncations told apart."""

from __future__ import annotations

import pytest

from hookwise.domain.events import EventStatus
from tests.integration.worker.conftest import Configs, Pipeline


def test_the_request_carries_strict_on_the_forced_tool(pipeline: Pipeline) -> None:
    event_id = pipeline.deliver()
    pipeline.poll()
    assert pipeline.record(event_id).status is EventStatus.COMPLETED
    sent = pipeline.model.model.requests[-1]
    (tool,) = sent["tools"]
    assert tool["strict"] is True
    assert sent["tool_choice"] == {"type": "tool", "name": tool["name"]}
    schema = tool["input_schema"]
    assert schema["additionalProperties"] is False
    # What strict mode does not take is said in the description, and checked by us.
    labels = schema["properties"]["suggested_labels"]
    assert "maxItems" not in labels
    assert "maxItems: 5" in labels["description"]


def test_a_model_without_strict_tool_use_is_asked_without_it(
    pipeline: Pipeline, configs: Configs
) -> None:
    configs.replace(
        "    min_cacheable_tokens: 1024\n",
        "    min_cacheable_tokens: 1024\n    strict_tools: false\n",
    )
    event_id = pipeline.deliver()
    pipeline.poll()
    assert pipeline.record(event_id).status is EventStatus.COMPLETED
    assert "strict" not in pipeline.model.model.requests[-1]["tools"][0]


def test_what_strict_cannot_check_is_repaired_once(pipeline: Pipeline) -> None:
    # Twelve labels where five are allowed: the schema's types, not its item count.
    pipeline.faults(rules=[{"invalid_output": True, "times": 1}])
    event_id = pipeline.deliver()
    pipeline.poll()
    record = pipeline.record(event_id)
    assert record.status is EventStatus.COMPLETED
    assert record.result is not None
    assert len(record.result["suggested_labels"]) <= 5
    assert pipeline.model.calls == 2


@pytest.mark.parametrize(
    ("stop_reason", "error"),
    [
        ("refusal", "refused: the model declined to answer (stop_reason refusal)"),
        (
            "max_tokens",
            "truncated: the answer reached max_tokens (1024) before it was complete; "
            "raise max_tokens for route 'github-pr-review'",
        ),
    ],
)
def test_a_refusal_or_a_truncated_answer_fails_with_its_reason_and_no_repair(
    pipeline: Pipeline, stop_reason: str, error: str
) -> None:
    pipeline.faults(rules=[{"stop_reason": stop_reason}])
    event_id = pipeline.deliver()
    pipeline.poll()
    record = pipeline.record(event_id)
    assert record.status is EventStatus.FAILED
    assert record.error == error
    # Asked again the same way it would stop the same way: one call, parked for on-call.
    assert pipeline.model.calls == 1
    assert len(pipeline.dlq()) == 1
