"""The shipped PR review as a `mode: batch` route on `hookwise dev`: five pull requests are
parked with their diffs fetched from the GitHub fake, go to the offline model in one Message
Batch, and each completes once, at batch price, with its comment on the fake."""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from bench.configs import UNLIMITED, config_with
from hookwise.config import load_config
from hookwise.llm.base import ModelUsage
from hookwise.llm.caching import cost_usd
from hookwise.local.stack import free_port
from hookwise.providers.markers import comment_marker
from hookwise.samples import sample_bytes
from tests.e2e.conftest import HOOKWISE, SHORT_COALESCE, LocalStack, start_stack

pytestmark = pytest.mark.e2e

ROUTE = "github-pr-review"
REPO = "harbor-labs/ledger-api"
EVENTS = 5
# Small, and a batch is due as soon as its five events are parked (`max_size`).
MAX_WAIT = 60
# Generous: helpers share two cores.
WAIT = 90.0
# Each PR's diff: files of this many added lines, within the route's token budget and per-file
# cap, and together far larger than the rest of the prompt.
FILES, LINES = 4, 60


def batch_pr_config() -> Path:
    """The shipped configuration, its PR review (coalescing included, over a second) set to
    `mode: batch`, its context left as shipped."""
    path = config_with(Path(tempfile.mkdtemp()), UNLIMITED, coalesce=SHORT_COALESCE)
    document = yaml.safe_load(path.read_text())
    route = next(r for r in document["routes"] if r["name"] == ROUTE)
    assert route["context"]["github_pr_files"]
    route["mode"] = "batch"
    route["batch"] = {"max_wait_seconds": MAX_WAIT, "max_size": EVENTS, "fallback": "realtime"}
    path.write_text(yaml.safe_dump(document))
    return path


@dataclass
class BatchStack:
    stack: LocalStack
    github: httpx.Client
    config: Path

    def github_state(self) -> dict[str, Any]:
        return dict(self.github.get("/_control/state").json())

    def github_calls(self, method: str, path: str) -> int:
        calls = self.github_state()["calls"]
        return sum(1 for call in calls if call["method"] == method and call["path"] == path)


@pytest.fixture(scope="module")
def batch_stack() -> Iterator[BatchStack]:
    config = batch_pr_config()
    github_port = free_port()
    env = {
        "HOOKWISE_CONFIG": str(config),
        "HOOKWISE_BATCH_EVERY": "0.3",
        "HOOKWISE_DEV_GITHUB_PORT": str(github_port),
    }
    for stack in start_stack(env):
        stack.config = load_config(str(config))
        yield BatchStack(
            stack, httpx.Client(base_url=f"http://127.0.0.1:{github_port}", timeout=10), config
        )


def pull_files(number: int) -> list[dict[str, Any]]:
    return [
        {
            "filename": f"src/pr_{number}/part_{part}.py",
            "status": "modified",
            "additions": LINES,
            "deletions": 0,
            "patch": f"@@ -1,1 +1,{LINES + 1} @@\n def handler(order):\n"
            + "\n".join(f"+    value_{i} = compute_{i}(order)  # {number}" for i in range(LINES)),
        }
        for part in range(FILES)
    ]


def pull_request(number: int) -> bytes:
    payload = json.loads(sample_bytes("github", "pull_request.opened"))
    payload["number"] = number
    payload["pull_request"]["number"] = number
    return json.dumps(payload).encode()


def settled(stack: LocalStack, event_id: str) -> dict[str, Any] | None:
    event = stack.event(event_id)
    comment = (event.get("actions") or {}).get("github.comment") or {}
    return event if event["status"] == "completed" and comment.get("status") == "done" else None


def test_hookwise_config_check_accepts_the_pr_review_as_a_batch_route(
    batch_stack: BatchStack,
) -> None:
    checked = subprocess.run(
        [HOOKWISE, "config", "check", "--config", str(batch_stack.config)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "configuration is valid" in checked.stdout


def test_five_prs_are_parked_with_their_diffs_and_reviewed_in_one_batch_at_batch_price(
    batch_stack: BatchStack,
) -> None:
    stack = batch_stack.stack
    numbers = [4000 + n for n in range(EVENTS)]
    diffs = {}
    for number in numbers:
        files = pull_files(number)
        diffs[number] = sum(len(f["patch"]) for f in files)
        batch_stack.github.post(
            "/_control/pulls", json={"repo": REPO, "number": number, "files": files}
        ).raise_for_status()
    ids = {}
    for number in numbers:
        body = pull_request(number)
        answer = stack.post(
            "github", body, stack.signed("github", body, "pull_request", f"b{number}")
        )
        assert answer.status_code == 202, answer.text
        ids[number] = answer.json()["event_id"]
    deadline = time.monotonic() + WAIT
    done: dict[int, dict[str, Any]] = {}
    while len(done) < EVENTS and time.monotonic() < deadline:
        for number, event_id in ids.items():
            if number not in done and (event := settled(stack, event_id)) is not None:
                done[number] = event
        time.sleep(0.5)
    assert sorted(done) == numbers, {n: stack.event(e)["status"] for n, e in ids.items()}

    # Each diff fetched once, when its event was parked; each PR commented on once.
    comments = batch_stack.github_state()["comments"]
    for number in numbers:
        assert batch_stack.github_calls("GET", f"/repos/{REPO}/pulls/{number}/files") == 1
        assert batch_stack.github_calls("POST", f"/repos/{REPO}/issues/{number}/comments") == 1
        [comment] = comments[f"{REPO}#{number}"]
        assert comment["body"].startswith(comment_marker(ROUTE, f"{REPO}#{number}"))

    # One batch of the five, and no real-time call.
    stats = stack.model.get("/_control/stats").json()
    assert stats["entries_per_batch"] == [EVENTS]
    assert stats["answered"] == EVENTS
    assert stats["calls"] == 0

    spec = stack.config.models["claude-sonnet-4-5"]
    assert len({event["batch_id"] for event in done.values()}) == 1
    for number, event in done.items():
        assert event["mode"] == "batch"
        usage = event["usage"]
        tokens = ModelUsage(**{k: v for k, v in usage.items() if k != "cost_usd"})
        assert usage["cost_usd"] == cost_usd(spec, tokens, batch=True)
        assert usage["cost_usd"] == pytest.approx(cost_usd(spec, tokens) / 2, rel=1e-3)
        # The batch entry carried the diff: its input alone is more than the rest of the
        # prompt (the offline model counts about four characters a token).
        assert tokens.input_tokens > diffs[number] // 4
