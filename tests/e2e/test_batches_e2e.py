"""`mode: batch` on `hookwise dev`: 50 events become one Message Batch at the offline model and
complete once, at batch price; an entry that errors is resubmitted alone."""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from bench.configs import UNLIMITED, config_with
from hookwise.config import load_config
from hookwise.domain.events import body_key, make_event_id
from hookwise.llm.base import ModelUsage
from hookwise.llm.caching import cost_usd
from hookwise.samples import sample_bytes
from tests.e2e.conftest import LocalStack, start_stack

EVENTS = 50
MAX_WAIT = 40


def batch_config() -> Path:
    folder = Path(tempfile.mkdtemp())
    path = config_with(folder, UNLIMITED)
    document = yaml.safe_load(path.read_text())
    route = next(r for r in document["routes"] if r["name"] == "github-pr-review")
    route["mode"] = "batch"
    # The batch path alone, without the diffs (tests/e2e/test_batch_pr_review.py fetches them).
    route.pop("context", None)
    route["batch"] = {"max_wait_seconds": MAX_WAIT, "max_size": EVENTS, "fallback": "realtime"}
    path.write_text(yaml.safe_dump(document))
    return path


@pytest.fixture(scope="module")
def batch_stack() -> Iterator[LocalStack]:
    config = batch_config()
    for stack in start_stack({"HOOKWISE_CONFIG": str(config), "HOOKWISE_BATCH_EVERY": "0.3"}):
        stack.config = load_config(str(config))
        yield stack


def test_fifty_events_become_one_batch_and_complete_once_at_batch_price(
    batch_stack: LocalStack,
) -> None:
    deliveries = [f"batch-e2e-{n}" for n in range(EVENTS)]
    sample = json.loads(sample_bytes("github", "pull_request.opened"))
    bodies = [json.dumps({**sample, "number": 2000 + n}).encode() for n in range(EVENTS)]
    # GitHub's event id comes from its body (the delivery id is not signed).
    erroring = make_event_id("github", body_key(bodies[7]))
    batch_stack.model.post(
        "/_control/batches", json={"failures": [{"contains": erroring, "times": 1}]}
    ).raise_for_status()
    ids = []
    for body, delivery in zip(bodies, deliveries, strict=True):
        answer = batch_stack.post(
            "github", body, batch_stack.signed("github", body, "pull_request", delivery)
        )
        assert answer.status_code == 202, answer.text
        ids.append(answer.json()["event_id"])
    assert erroring in ids
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        events = [batch_stack.event(event_id) for event_id in ids]
        if all(event["status"] == "completed" for event in events):
            break
        time.sleep(0.5)
    stats = batch_stack.model.get("/_control/stats").json()
    # One batch of all 50, then the entry that errored, alone.
    assert stats["entries_per_batch"] == [EVENTS, 1]
    assert stats["answered"] == EVENTS
    assert stats["calls"] == 0  # no real-time call at all
    spec = batch_stack.config.models["claude-sonnet-4-5"]
    batch_ids = set()
    for event in events:
        assert event["status"] == "completed"
        assert event["mode"] == "batch"
        batch_ids.add(event["batch_id"])
        usage = event["usage"]
        tokens = ModelUsage(**{k: v for k, v in usage.items() if k != "cost_usd"})
        assert usage["cost_usd"] == cost_usd(spec, tokens, batch=True)
        assert usage["cost_usd"] < cost_usd(spec, tokens)
    assert len(batch_ids) == 2
    alone = next(e for e in events if e["event_id"] == erroring)["batch_id"]
    assert sum(1 for e in events if e["batch_id"] == alone) == 1
