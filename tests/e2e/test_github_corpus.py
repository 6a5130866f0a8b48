"""GitHub's community corpus of webhook examples (`@octokit/webhooks-examples`, pinned in
package.json) posted to `hookwise dev` with the shipped configuration: every example of every
event type, as delivered (through the App where it names an installation) and, where it names
one, again without it (a repository or organisation webhook, answered with the token)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from hookwise.local.provider_fakes import BOT_LOGIN, PAT_LOGIN
from hookwise.local.stack import free_port
from tests.conftest import ROOT
from tests.e2e.conftest import LocalStack, start_stack

pytestmark = pytest.mark.e2e

CORPUS = ROOT / "node_modules/@octokit/webhooks-examples/api.github.com/index.json"
TERMINAL = {"completed", "skipped", "failed"}
# Requests in flight at once: the stack's gateway serves each in a thread.
PARALLEL = 8
# The whole run's bound (posts included). Generous: the machine's two cores are shared; it
# takes about a third of this.
SETTLE_SECONDS = 90.0
WITHOUT_INSTALLATION = "without installation"


@dataclass(frozen=True)
class Delivery:
    event: str
    name: str
    body: bytes


def corpus() -> list[dict[str, Any]]:
    assert CORPUS.exists(), f"{CORPUS} is missing: run `npm install` (make test does)"
    return list(json.loads(CORPUS.read_text()))


def deliveries() -> list[Delivery]:
    """Each example as delivered, and again without its `installation` where it has one. Each
    body once: the corpus holds some examples twice, and some without an installation that
    another holds with one; a body posted again would be a replay, not another delivery."""
    found: dict[bytes, Delivery] = {}
    for definition in corpus():
        event = definition["name"]
        for index, example in enumerate(definition["examples"]):
            name = f"{event} example {index}"
            webhook = {key: value for key, value in example.items() if key != "installation"}
            for body, variant in ((example, name), (webhook, f"{name} {WITHOUT_INSTALLATION}")):
                raw = json.dumps(body).encode()
                found.setdefault(raw, Delivery(event, variant, raw))
    return list(found.values())


@pytest.fixture(scope="module")
def stack_and_github() -> Iterator[tuple[LocalStack, httpx.Client]]:
    port = free_port()
    for stack in start_stack({"HOOKWISE_DEV_GITHUB_PORT": str(port)}):
        yield stack, httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10)


def post(stack: LocalStack, delivery: Delivery) -> tuple[int, dict[str, Any]]:
    headers = stack.signed("github", delivery.body, delivery.event, str(uuid.uuid4()))
    answer = stack.post("github", delivery.body, headers)
    return answer.status_code, answer.json()


def settle(
    stack: LocalStack, pool: ThreadPoolExecutor, events: set[str], deadline: float
) -> dict[str, dict[str, Any]]:
    """Each event as it ends (or as it is at the deadline)."""
    found: dict[str, dict[str, Any]] = {}
    while True:
        pending = [
            event_id for event_id in events if found.get(event_id, {}).get("status") not in TERMINAL
        ]
        if not pending:
            return found
        for event in pool.map(stack.event, pending):
            found[event["event_id"]] = event
        if time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def test_every_example_ends_without_a_failure_through_the_app_and_the_token(
    stack_and_github: tuple[LocalStack, httpx.Client],
) -> None:
    stack, github = stack_and_github
    wanted = deliveries()
    assert len({d.event for d in wanted}) == len(corpus())
    started = time.monotonic()
    with ThreadPoolExecutor(PARALLEL) as pool:
        answers = list(pool.map(lambda d: post(stack, d), wanted))
        posted = time.monotonic() - started
        handshakes = [
            d.name for d, (status, _) in zip(wanted, answers, strict=True) if status == 200
        ]
        assert handshakes == [d.name for d in wanted if d.event == "ping"]
        accepted = {
            body["event_id"]: d
            for d, (status, body) in zip(wanted, answers, strict=True)
            if status == 202
        }
        assert len(accepted) + len(handshakes) == len(wanted)
        events = settle(stack, pool, set(accepted), started + SETTLE_SECONDS)
    elapsed = time.monotonic() - started

    ended = {accepted[e].name: event["status"] for e, event in events.items()}
    assert {name: status for name, status in ended.items() if status not in TERMINAL} == {}
    failed = {
        accepted[e].name: event.get("error")
        for e, event in events.items()
        if event["status"] == "failed"
    }
    assert failed == {}
    acted = {
        accepted[e].name: event["actions"] for e, event in events.items() if event.get("actions")
    }
    undone = {
        name: actions
        for name, actions in acted.items()
        if any(o["status"] != "done" for o in actions.values())
    }
    assert undone == {}
    routed = {accepted[e].name for e, event in events.items() if event.get("route")}
    assert routed == set(acted)
    # Every pull request example is Hello-World#2: one review through the App (the examples
    # naming an installation), one by the token's user (the others).
    comments = github.get("/_control/state").json()["comments"]["Codertocat/Hello-World#2"]
    assert sorted(c["user"]["login"] for c in comments) == sorted([BOT_LOGIN, PAT_LOGIN])
    print(
        f"\n{len(wanted)} deliveries ({len(handshakes)} handshakes) posted in {posted:.1f} s; "
        f"{len(routed)} routed; all ended {elapsed:.1f} s after the first post"
    )
