"""The local stack as a user runs it: `hookwise dev` in a subprocess, spoken to over HTTP."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench.configs import UNLIMITED, config_with
from hookwise.config import load_config
from hookwise.local.process import dev_process
from hookwise.local.stack import dev_secrets
from hookwise.verifiers import verifier_for
from tests.conftest import CONFIG_PATH, ROOT

HOOKWISE = str(Path(sys.executable).with_name("hookwise"))
# The shipped PR review coalesces a PR's events over a minute; here over a second, so a test
# that waits for a review gets it within its wait, through the coalescing path all the same.
SHORT_COALESCE = {"quiet_seconds": 1, "max_wait_seconds": 5}


class LocalStack:
    def __init__(self, port: int, model_port: int, process: subprocess.Popen[bytes]) -> None:
        self.port = port
        self.process = process
        self.api = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
        self.model = httpx.Client(base_url=f"http://127.0.0.1:{model_port}", timeout=30)
        self.config = load_config(str(CONFIG_PATH))
        # The development secrets `hookwise dev` prints and uses (no override set here).
        self.secrets = dev_secrets(self.config)

    def signed(
        self,
        source: str,
        body: bytes,
        event_type: str,
        delivery_id: str,
        secret: str | None = None,
        timestamp: int | None = None,
    ) -> dict[str, str]:
        """Headers the provider would send, signed with the stack's secret for the source."""
        verifier = verifier_for(self.config.sources[source])
        return verifier.sign(
            body,
            secret or self.secrets[source][0],
            url=f"http://127.0.0.1:{self.port}/webhooks/{source}",
            event_type=event_type,
            delivery_id=delivery_id,
            timestamp=int(time.time()) if timestamp is None else timestamp,
        )

    def post(self, source: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
        return self.api.post(f"/webhooks/{source}", content=body, headers=headers)

    def event(self, event_id: str) -> dict[str, Any]:
        answer = self.api.get(f"/events/{event_id}")
        answer.raise_for_status()
        return dict(answer.json())

    def stored_ids(self) -> set[str]:
        answer = self.api.get("/events", params={"limit": 100})
        return {event["event_id"] for event in answer.json()["events"]}

    def model_calls(self) -> int:
        return int(self.model.get("/_control/stats").json()["calls"])

    def wait_for(self, event_id: str, statuses: set[str], seconds: float = 10) -> dict[str, Any]:
        deadline = time.monotonic() + seconds
        while True:
            event = self.event(event_id)
            if event["status"] in statuses or time.monotonic() > deadline:
                return event
            time.sleep(0.05)


def eventually(check: Callable[[], Any], timeout: float = 60, every: float = 0.25) -> Any:
    """`check()` once it is truthy; an AssertionError naming it past `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not true after {timeout}s: {check.__doc__ or check}")
        time.sleep(every)


def start_stack(extra_env: dict[str, str] | None = None) -> Iterator[LocalStack]:
    env = {
        # The visibility timeout is the worker's lease on an event: it stays at its default
        # here, longer than any record takes, or a slow record would be taken over (and the
        # model asked twice). Tests that need retries shorten it with their own stack.
        "HOOKWISE_MAX_BACKOFF": "1",
        "ANTHROPIC_API_KEY": "",
        # The shipped config, with model limits out of the way unless a test sets its own.
        "HOOKWISE_CONFIG": str(
            config_with(Path(tempfile.mkdtemp()), UNLIMITED, coalesce=SHORT_COALESCE)
        ),
        **(extra_env or {}),
    }
    with dev_process(ROOT, env) as dev:
        yield LocalStack(dev.port, dev.model_port, dev.process)


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    yield from start_stack()
