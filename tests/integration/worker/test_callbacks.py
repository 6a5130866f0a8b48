"""Signed callbacks: delivered after success, signed the Standard Webhooks way, retried on
their own without a second model call, refused for private targets unless allowed."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import standardwebhooks

from hookwise import wiring
from hookwise.deliveries.callback import CallbackFailed, CallbackRefused, check_target
from hookwise.domain.events import EventStatus
from hookwise.local.gateway import LoopbackServer
from tests.integration.worker.conftest import Configs, Pipeline
from tests.loopback import QuietHandler

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


class Receiver:
    """A callback target that answers the statuses it is given, then 200."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.statuses: list[int] = []
        receiver = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                receiver.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.answer(receiver.statuses.pop(0) if receiver.statuses else 200)

        self.server = LoopbackServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/review"


@pytest.fixture
def receiver(configs: Configs, monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    target = Receiver()
    monkeypatch.setenv("HOOKWISE_ALLOW_PRIVATE_CALLBACKS", "true")
    monkeypatch.setenv("HOOKWISE_SECRET_CALLBACK_GITHUB_PR_REVIEW", SECRET)
    configs.edit_route(
        "github-pr-review",
        lambda route: route.setdefault("deliveries", {}).update(callback_url=target.url),
    )
    yield target
    target.server.shutdown()


def test_result_is_posted_signed_after_completion(pipeline: Pipeline, receiver: Receiver) -> None:
    event_id = pipeline.deliver()
    pipeline.poll()
    assert pipeline.record(event_id).status is EventStatus.COMPLETED
    assert len(receiver.requests) == 1
    headers, body = receiver.requests[0]
    standardwebhooks.Webhook(SECRET).verify(body, headers)
    sent = json.loads(body)
    assert sent["event_id"] == event_id
    assert sent["result"] == pipeline.record(event_id).result


def test_failed_callback_is_retried_without_asking_the_model_again(
    pipeline: Pipeline,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    receiver.statuses = [500, 502]
    event_id = pipeline.deliver()
    pipeline.poll()
    assert pipeline.record(event_id).status is EventStatus.COMPLETED
    deadline = time.monotonic() + 8
    while len(receiver.requests) < 3 and time.monotonic() < deadline:
        pipeline.poll()
        time.sleep(0.2)
    assert len(receiver.requests) == 3
    assert pipeline.model.calls == 1
    assert pipeline.dlq() == []


def test_private_targets_are_refused_unless_allowed(
    pipeline: Pipeline, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOOKWISE_ALLOW_PRIVATE_CALLBACKS", "false")
    wiring.reset()
    event_id = pipeline.deliver()
    pipeline.poll()
    assert pipeline.record(event_id).status is EventStatus.COMPLETED
    assert receiver.requests == []


def resolving_to(address: str):
    return lambda host, port, proto=0: [(2, 1, 6, "", (address, port))]


@pytest.mark.parametrize(
    "address", ["127.0.0.1", "10.1.2.3", "169.254.169.254", "::1", "192.168.0.10", "fd00::1"]
)
def test_check_target_refuses_non_public_addresses(address: str) -> None:
    with pytest.raises(CallbackRefused):
        check_target("https://hooks.example.com/x", False, resolve=resolving_to(address))
    check_target("https://hooks.example.com/x", True, resolve=resolving_to(address))


def test_check_target_requires_https_and_accepts_public_hosts() -> None:
    with pytest.raises(CallbackRefused):
        check_target("http://hooks.example.com/x", False, resolve=resolving_to("93.184.216.34"))
    with pytest.raises(CallbackRefused):
        check_target("ftp://hooks.example.com/x", True)
    check_target("https://hooks.example.com/x", False, resolve=resolving_to("93.184.216.34"))

    def unresolvable(*_: Any, **__: Any) -> Any:
        raise OSError("no such host")

    with pytest.raises(CallbackFailed):
        check_target("https://nowhere.example/x", False, resolve=unresolvable)


def _outcome(pipeline: Pipeline, event_id: str) -> dict[str, Any]:
    return dict((pipeline.record(event_id).actions or {})["http"])


def _until_delivered(pipeline: Pipeline, receiver: Receiver, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not receiver.requests and time.monotonic() < deadline:
        pipeline.poll()
        time.sleep(0.2)


def test_an_empty_secret_list_is_recorded_and_retried_until_the_secret_is_set(
    pipeline: Pipeline, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOOKWISE_SECRET_CALLBACK_GITHUB_PR_REVIEW", ",")
    event_id = pipeline.deliver()
    pipeline.poll()
    outcome = _outcome(pipeline, event_id)
    assert outcome["status"] == "retrying"
    assert "holds no signing secret" in outcome["error"]
    monkeypatch.setenv("HOOKWISE_SECRET_CALLBACK_GITHUB_PR_REVIEW", SECRET)
    _until_delivered(pipeline, receiver)
    assert len(receiver.requests) == 1
    assert _outcome(pipeline, event_id)["status"] == "done"
    assert pipeline.dlq() == []


def test_a_missing_secret_is_recorded_and_retried_until_it_is_created(
    pipeline: Pipeline, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HOOKWISE_SECRET_CALLBACK_GITHUB_PR_REVIEW")
    event_id = pipeline.deliver()
    pipeline.poll()
    outcome = _outcome(pipeline, event_id)
    assert outcome["status"] == "retrying"
    assert outcome["error_type"] == "SecretUnavailable"
    assert "hookwise/callback-github-pr-review" in outcome["error"]
    boto3.client("secretsmanager").create_secret(
        Name="hookwise/callback-github-pr-review", SecretString=json.dumps([SECRET])
    )
    _until_delivered(pipeline, receiver)
    assert len(receiver.requests) == 1
    standardwebhooks.Webhook(SECRET).verify(receiver.requests[0][1], receiver.requests[0][0])
    assert _outcome(pipeline, event_id)["status"] == "done"


def test_an_unforeseen_error_fails_the_action_for_good_without_quoting_the_secret(
    pipeline: Pipeline, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A secret that is not the JSON list it claims to be: the parser's own error is raised.
    monkeypatch.delenv("HOOKWISE_SECRET_CALLBACK_GITHUB_PR_REVIEW")
    boto3.client("secretsmanager").create_secret(
        Name="hookwise/callback-github-pr-review", SecretString=f'["{SECRET}" "whsec_next"]'
    )
    event_id = pipeline.deliver()
    pipeline.poll()
    record = pipeline.record(event_id)
    assert record.status is EventStatus.COMPLETED
    outcome = _outcome(pipeline, event_id)
    assert outcome["status"] == "failed"
    assert outcome["error_type"] == "JSONDecodeError"
    assert SECRET not in json.dumps(record.public_view())
    assert "whsec_" not in outcome["error"]
    # Recorded for good: the event's message is acknowledged, nothing comes back or loops.
    assert pipeline.aws.messages() == []
    assert pipeline.dlq() == []
    assert receiver.requests == []
