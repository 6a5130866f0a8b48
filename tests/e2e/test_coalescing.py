"""Coalescing end to end on `hookwise dev`, over HTTP, with the issue's timings scaled by 1/20:
quiet 60 s -> 3 s, max wait 180 s -> 9 s, a push every 20 s for five minutes -> every 1 s for
15 s, ten pushes within 30 s -> within 1.5 s."""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench.configs import UNLIMITED, config_with
from hookwise.local.stack import free_port
from tests.e2e.conftest import HOOKWISE, LocalStack, start_stack

pytestmark = pytest.mark.e2e

SCALE = 1 / 20
QUIET, MAX_WAIT, PUSH_EVERY, PUSHING = 60 * SCALE, 180 * SCALE, 20 * SCALE, 300 * SCALE
REPO = "harbor-labs/ledger-api"
SAMPLES = files("hookwise") / "samples"
FINAL = {"completed", "superseded", "skipped", "failed"}
# Generous: the machine is shared.
WAIT = 30.0


@dataclass
class Fixture:
    stack: LocalStack
    github: httpx.Client

    def github_calls(self, fragment: str, method: str) -> int:
        calls = self.github.get("/_control/state").json()["calls"]
        return sum(1 for c in calls if c["method"] == method and fragment in c["path"])

    def comments(self, number: int) -> list[dict[str, Any]]:
        state = self.github.get("/_control/state").json()
        return list(state["comments"].get(f"{REPO}#{number}", []))


@pytest.fixture(scope="module")
def stack() -> Iterator[Fixture]:
    github_port = free_port()
    settings = {"quiet_seconds": int(QUIET), "max_wait_seconds": int(MAX_WAIT)}
    config = config_with(Path(tempfile.mkdtemp()), UNLIMITED, coalesce=settings)
    env = {"HOOKWISE_CONFIG": str(config), "HOOKWISE_DEV_GITHUB_PORT": str(github_port)}
    for running in start_stack(env):
        yield Fixture(running, httpx.Client(base_url=f"http://127.0.0.1:{github_port}"))


def pr_event(number: int, second: float, action: str = "synchronize") -> bytes:
    """A PR event the provider stamped `second` seconds into the scenario."""
    payload = json.loads((SAMPLES / "github" / "pull_request.synchronize.json").read_text())
    payload["action"] = action
    payload["number"] = payload["pull_request"]["number"] = number
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(1_796_000_000 + second))
    payload["pull_request"]["updated_at"] = f"{stamp}Z"
    payload["pull_request"]["head"]["sha"] = f"{int(second * 1000):040x}"
    return json.dumps(payload).encode()


def send(stack: LocalStack, body: bytes, delivery: str) -> str:
    answer = stack.post("github", body, stack.signed("github", body, "pull_request", delivery))
    assert answer.status_code in (200, 202), answer.text
    return str(answer.json()["event_id"])


def settled(event: dict[str, Any]) -> bool:
    """Final, and for a review that ran, its comment recorded: an event is `completed` once its
    result is stored, and the comment is posted after that."""
    return event["status"] in FINAL and (
        event["status"] != "completed" or "github.comment" in event.get("actions", {})
    )


def final(stack: LocalStack, ids: list[str]) -> dict[str, dict[str, Any]]:
    deadline = time.monotonic() + WAIT
    events = {event_id: stack.event(event_id) for event_id in ids}
    while time.monotonic() < deadline and not all(settled(e) for e in events.values()):
        time.sleep(0.2)
        events = {event_id: stack.event(event_id) for event_id in ids}
    return events


def test_ten_pushes_within_the_quiet_period_give_one_call_and_one_comment(
    stack: Fixture,
) -> None:
    calls = stack.stack.model_calls()
    started = time.monotonic()
    # At once: they reach the worker in no particular order, the provider's order decides.
    with ThreadPoolExecutor(10) as pool:
        ids = list(
            pool.map(
                lambda push: send(stack.stack, pr_event(810, push), f"burst-{push}"), range(10)
            )
        )
    assert time.monotonic() - started < QUIET / 2
    events = final(stack.stack, ids)
    survivor = ids[-1]
    assert events[survivor]["status"] == "completed"
    superseded = [events[event_id] for event_id in ids[:-1]]
    assert [e["status"] for e in superseded] == ["superseded"] * 9
    assert {e["superseded_by"] for e in superseded} == {survivor}
    assert stack.stack.model_calls() - calls == 1
    assert len(stack.comments(810)) == 1
    assert stack.github_calls("/issues/810/comments", "POST") == 1
    shown = subprocess.run(
        [HOOKWISE, "events", "show", ids[0], "--port", str(stack.stack.port)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert "superseded" in shown
    assert survivor in shown


def test_steady_pushes_past_the_max_wait_are_reviewed_a_bounded_number_of_times(
    stack: Fixture,
) -> None:
    calls = stack.stack.model_calls()
    ids = []
    started = time.monotonic()
    pushes = int(PUSHING / PUSH_EVERY)
    for push in range(pushes + 1):
        time.sleep(max(0.0, started + push * PUSH_EVERY - time.monotonic()))
        ids.append(send(stack.stack, pr_event(811, push * 20), f"steady-{push}"))
    events = final(stack.stack, ids)
    completed = [event_id for event_id in ids if events[event_id]["status"] == "completed"]
    assert all(events[event_id]["status"] in ("completed", "superseded") for event_id in ids)
    # Reviewed while the pushes went on (the max wait), and at the final head.
    assert 2 <= len(completed) <= 3, completed
    assert completed[-1] == ids[-1]
    assert stack.stack.model_calls() - calls == len(completed)
    # One comment, updated in place by the later reviews.
    assert len(stack.comments(811)) == 1
    assert stack.github_calls("/issues/comments/", "PATCH") >= len(completed) - 1


def test_a_close_during_the_quiet_period_ends_the_waiting_review_with_no_call(
    stack: Fixture,
) -> None:
    calls = stack.stack.model_calls()
    waiting = send(stack.stack, pr_event(812, 0), "to-close")
    assert stack.stack.wait_for(waiting, {"deferred", *FINAL})["status"] == "deferred"
    closed = send(stack.stack, pr_event(812, 1, action="closed"), "close")
    events = final(stack.stack, [waiting, closed])
    assert events[waiting]["status"] == "superseded"
    assert events[waiting]["superseded_by"] == closed
    assert events[waiting]["superseded_reason"] == "cancelled by pull_request.closed"
    assert events[closed]["status"] == "skipped"
    assert stack.stack.model_calls() == calls
    assert stack.comments(812) == []


def test_five_concurrent_duplicate_deliveries_still_count_once(stack: Fixture) -> None:
    calls = stack.stack.model_calls()
    body = pr_event(813, 0)
    headers = stack.stack.signed("github", body, "pull_request", "duplicated")
    with ThreadPoolExecutor(5) as pool:
        answers = list(pool.map(lambda _: stack.stack.post("github", body, headers), range(5)))
    assert all(answer.status_code in (200, 202) for answer in answers)
    [event_id] = {answer.json()["event_id"] for answer in answers}
    assert final(stack.stack, [event_id])[event_id]["status"] == "completed"
    assert stack.stack.model_calls() - calls == 1
    assert len(stack.comments(813)) == 1
