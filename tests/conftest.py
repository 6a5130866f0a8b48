"""Fixtures shared by the suite: AWS emulated in-process by moto, provisioned like the stack."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSPreparedRequest
from moto import mock_aws
from moto.core.botocore_stubber import BotocoreStubber

from bench.configs import UNLIMITED, config_with
from hookwise import wiring
from hookwise.adapters.provision import Provisioned, provision
from hookwise.config import HookwiseConfig, load_config
from hookwise.local.aws_emulator import DYNAMODB_TARGET
from hookwise.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
CONFIG_PATH = ROOT / "hookwise.yaml"
TEST_SECRET = "it's a secret to everybody"


@pytest.fixture(scope="session")
def unlimited_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return config_with(tmp_path_factory.mktemp("config"), UNLIMITED)


@dataclass
class Aws:
    settings: Settings
    config: HookwiseConfig
    resources: Provisioned

    def client(self, service: str) -> Any:
        return boto3.client(service)

    def messages(self, queue_url: str | None = None) -> list[dict[str, Any]]:
        """Drain a queue (visible messages only) and return what was on it."""
        sqs = self.client("sqs")
        url = queue_url or self.resources.queue_url
        found: list[dict[str, Any]] = []
        while True:
            page = sqs.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=10,
                MessageAttributeNames=["All"],
                AttributeNames=["All"],
            )
            batch = page.get("Messages", [])
            if not batch:
                return found
            found.extend(batch)
            for message in batch:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def one_dynamodb_request_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """DynamoDB applies each request atomically; moto in-process runs a request in its caller's
    thread, so two threads' conditional writes to one item can both pass (eight threads racing
    one conditional put: more than one won in 89 rounds of 200). The worker runs a batch's
    records in threads, and the subject lease and the claims rely on that atomicity: DynamoDB
    requests go one at a time, as the local stack's emulator serialises them."""
    lock = threading.Lock()
    process = BotocoreStubber.process_request
    # botocore has encoded the headers by the time moto sees the request.
    dynamodb_target = DYNAMODB_TARGET.encode()

    def atomic(self: BotocoreStubber, request: AWSPreparedRequest) -> Any:
        if not request.headers.get("X-Amz-Target", b"").startswith(dynamodb_target):
            return process(self, request)
        with lock:
            return process(self, request)

    monkeypatch.setattr(BotocoreStubber, "process_request", atomic)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, unlimited_config: Path) -> Iterator[Aws]:
    """A fresh, provisioned AWS (moto in-process) with HOOKWISE_* settings pointing at it."""
    for name, value in {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_ENDPOINT_URL": "",
        "HOOKWISE_CONFIG": str(unlimited_config),
        "HOOKWISE_TABLE": "hookwise-test",
        "HOOKWISE_BUCKET": "hookwise-test-payloads",
        "HOOKWISE_EVENT_BUS": "hookwise",
        "POWERTOOLS_METRICS_NAMESPACE": "Hookwise",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    one_dynamodb_request_at_a_time(monkeypatch)
    with mock_aws():
        wiring.reset()
        config = load_config(str(unlimited_config))
        settings = Settings.from_environment()
        resources = provision(settings, config, lambda _name: [TEST_SECRET])
        monkeypatch.setenv("HOOKWISE_QUEUE_URL", resources.queue_url)
        monkeypatch.setenv("HOOKWISE_DLQ_URL", resources.dlq_url)
        wiring.reset()
        yield Aws(Settings.from_environment(), config, resources)
        wiring.reset()
