"""On-call against the local stack: events the model fails for reach the DLQ, `hookwise dlq`
groups them by reason, a dry run changes nothing, and a redrive after the model recovers
completes each with exactly one successful model call."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench.configs import UNLIMITED, config_with
from hookwise.config import load_config
from hookwise.local.process import dev_process
from hookwise.redrive.service import GROUP_REASON_CHARS
from hookwise.samples import sample_bytes
from hookwise.verifiers import verifier_for
from tests.conftest import CONFIG_PATH, ROOT
from tests.e2e.conftest import eventually

pytestmark = pytest.mark.e2e

HOOKWISE = str(Path(sys.executable).with_name("hookwise"))
SECRET = "e2e-dlq-secret"
FAILING = 3


class Stack:
    def __init__(self, port: int, model_port: int) -> None:
        self.port = port
        self.api = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
        self.model = httpx.Client(base_url=f"http://127.0.0.1:{model_port}", timeout=30)

    def send_pr(self, title: str) -> str:
        payload = json.loads(sample_bytes("github", "pull_request.opened"))
        payload["number"] = int(uuid.uuid4().int % 100_000)
        payload["pull_request"]["title"] = title
        body = json.dumps(payload).encode()
        signer = verifier_for(load_config(str(CONFIG_PATH)).sources["github"])
        headers = signer.sign(
            body, SECRET, url="", event_type="pull_request.opened",
            delivery_id=str(uuid.uuid4()), timestamp=int(time.time()),
        )  # fmt: skip
        answer = self.api.post("/webhooks/github", content=body, headers=headers)
        assert answer.status_code == 202, answer.text
        return str(answer.json()["event_id"])

    def event(self, event_id: str) -> dict[str, Any]:
        answer = self.api.get(f"/events/{event_id}")
        assert answer.status_code == 200, answer.text
        result: dict[str, Any] = answer.json()
        return result

    def statuses(self, event_ids: list[str]) -> set[str]:
        return {self.event(event_id)["status"] for event_id in event_ids}

    def model_calls(self) -> int:
        return int(self.model.get("/_control/stats").json()["calls"])

    def cli(self, *args: str) -> dict[str, Any]:
        done = subprocess.run(
            [HOOKWISE, *args, "--port", str(self.port), "--json"],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr + done.stdout
        result: dict[str, Any] = json.loads(done.stdout)
        return result


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    env = {
        "HOOKWISE_SECRET_GITHUB": SECRET,
        "HOOKWISE_VISIBILITY_TIMEOUT": "1",
        "HOOKWISE_MAX_RECEIVE_COUNT": "2",
        "HOOKWISE_MAX_BACKOFF": "1",
        "ANTHROPIC_API_KEY": "",
        # Model limits out of the way: this is about failures, not capacity.
        "HOOKWISE_CONFIG": str(config_with(Path(tempfile.mkdtemp()), UNLIMITED)),
    }
    with dev_process(ROOT, env, startup_seconds=60) as dev:
        yield Stack(dev.port, dev.model_port)


def test_failed_events_are_redriven_once_the_model_recovers(stack: Stack) -> None:
    marker = f"DLQ-E2E-{uuid.uuid4().hex[:8]}"
    faults = {"rules": [{"status": 500, "contains": marker, "times": None}]}
    assert stack.model.post("/_control/faults", json=faults).status_code < 300
    failing = [stack.send_pr(f"{marker} change {n}") for n in range(FAILING)]
    healthy = stack.send_pr("An ordinary change")

    # 500 on every attempt: after maxReceiveCount the events are failed and in the DLQ.
    eventually(lambda: stack.statuses(failing) == {"failed"})
    eventually(lambda: stack.cli("dlq", "summary")["total"] == FAILING)
    eventually(lambda: stack.statuses([healthy]) == {"completed"})
    summary = stack.cli("dlq", "summary")
    assert sum(group["count"] for group in summary["groups"]) == FAILING
    reasons = {group["reason"] for group in summary["groups"]}
    assert len(reasons) == 1, reasons  # grouped by reason: one cause, one group
    errors = {stack.event(event_id)["error"][:GROUP_REASON_CHARS] for event_id in failing}
    assert errors == reasons

    calls_before = stack.model_calls()
    dry = stack.cli("dlq", "redrive", "--dry-run")
    assert dry["counts"] == {"would_redrive": FAILING}
    time.sleep(2)  # two visibility timeouts: long enough for a wrongly moved message to run
    assert stack.cli("dlq", "summary")["total"] == FAILING
    assert stack.statuses(failing) == {"failed"}
    assert stack.model_calls() == calls_before

    assert stack.model.delete("/_control/faults").status_code < 300
    redriven = stack.cli("dlq", "redrive", "--yes")
    assert redriven["counts"] == {"redriven": FAILING}

    eventually(lambda: stack.statuses(failing) == {"completed"})
    time.sleep(2)  # a duplicate delivery, were there one, would call the model by now
    assert stack.model_calls() == calls_before + FAILING
    assert all(stack.event(event_id)["redrive_count"] == 1 for event_id in failing)
    assert stack.cli("dlq", "summary")["total"] == 0
