"""The worker against moto, the offline model and the local GitHub and Slack fakes, through
the real clients (anthropic, httpx, slack_sdk)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
import yaml
from aws_lambda_powertools.utilities import parameters

from functions.worker.handler import handler as worker_handler
from hookwise import wiring
from hookwise.adapters.store.dynamodb import DynamoDBEventStore
from hookwise.domain.events import EventRecord
from hookwise.local.event_source import EventSourceMapping, LambdaContext
from hookwise.local.offline_model import OfflineModelServer
from hookwise.local.provider_fakes import ProviderFakes, start_provider_fakes
from hookwise.samples import sample_bytes
from hookwise.verifiers import WebhookRequest, verifier_for
from tests.conftest import TEST_SECRET, Aws


@dataclass
class Pipeline:
    aws: Aws
    model: OfflineModelServer
    mapping: EventSourceMapping
    providers: ProviderFakes

    def deliver(
        self, fixture: str = "pull_request.opened", delivery: str = "d-1", body: bytes | None = None
    ) -> str:
        """Sign and ingest a GitHub delivery; return its event id. A sample is made a fresh
        delivery of its own (GitHub's body is the key: its delivery id is not signed)."""
        event = fixture.split(".")[0]
        source = self.aws.config.sources["github"]
        raw = body
        if raw is None:
            sample = json.loads(sample_bytes("github", fixture))
            fresh = verifier_for(source).prepare_sample(sample, delivery_id=delivery, timestamp=0)
            raw = json.dumps(fresh).encode()
        headers = verifier_for(source).sign(
            raw, TEST_SECRET, url="", event_type=event, delivery_id=delivery, timestamp=0
        )
        reply = wiring.ingest_service().receive(
            WebhookRequest(
                source="github",
                method="POST",
                url="https://example/webhooks/github",
                headers={k.lower(): v for k, v in headers.items()},
                body=raw,
            )
        )
        assert reply.status == 202, reply.body
        return str(json.loads(reply.body)["event_id"])

    def poll(self) -> int:
        return self.mapping.poll_once()

    def record(self, event_id: str) -> EventRecord:
        found = DynamoDBEventStore(self.aws.settings.table).get(event_id)
        assert found is not None
        return found

    def faults(self, **spec: Any) -> None:
        httpx.post(f"{self.model.url}/_control/faults", json=spec).raise_for_status()

    def dlq(self) -> list[dict[str, Any]]:
        return self.aws.messages(self.aws.resources.dlq_url)


@pytest.fixture
def pipeline(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> Iterator[Pipeline]:
    model = OfflineModelServer().start()
    monkeypatch.setenv("ANTHROPIC_BASE_URL", model.url)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "offline")
    monkeypatch.setenv("HOOKWISE_MAX_BACKOFF", "1")
    # A run waits this long for another acting on its subject (one PR's comment) before the queue.
    monkeypatch.setenv("HOOKWISE_SUBJECT_WAIT_SECONDS", "1")
    providers = start_provider_fakes(
        github_app_secret_name=aws.settings.github_app_credentials,
        github_pat_secret_name=aws.settings.github_pat_credentials,
        slack_bot_secret_name=aws.settings.slack_bot_credentials,
    )
    for name, value in providers.secrets.items():
        boto3.client("secretsmanager").create_secret(Name=name, SecretString=value)
    for name, value in providers.environment.items():
        monkeypatch.setenv(name, value)
    # Powertools caches secrets per process: each test has its own App key.
    parameters.clear_caches()
    wiring.reset()
    mapping = EventSourceMapping(
        boto3.client("sqs"),
        aws.resources.queue_url,
        worker_handler,
        wait_seconds=0,
    )
    yield Pipeline(aws, model, mapping, providers)
    model.stop()
    providers.stop()


@dataclass
class Configs:
    """The pipeline on an edited copy of its configuration, from the call on: the copy is
    written beside the test, and every wired service is rebuilt from it."""

    shipped: Path
    folder: Path
    monkeypatch: pytest.MonkeyPatch

    def use(self, path: Path) -> Path:
        self.monkeypatch.setenv("HOOKWISE_CONFIG", str(path))
        wiring.reset()
        return path

    def edit(self, change: Callable[[str], str]) -> Path:
        """The configuration's text through `change`, which must change something."""
        text = self.shipped.read_text()
        edited = change(text)
        assert edited != text, "the edit left the configuration as it was"
        path = self.folder / "hookwise.yaml"
        path.write_text(edited)
        return self.use(path)

    def replace(self, old: str, new: str) -> Path:
        """The first `old` in the configuration's text replaced by `new`."""
        return self.edit(lambda text: text.replace(old, new, 1))

    def edit_route(self, name: str, change: Callable[[dict[str, Any]], None]) -> Path:
        """The route called `name`, as parsed YAML, changed in place by `change`."""

        def edited(text: str) -> str:
            document = yaml.safe_load(text)
            change(next(r for r in document["routes"] if r["name"] == name))
            return str(yaml.safe_dump(document))

        return self.edit(edited)


@pytest.fixture
def configs(pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Configs:
    return Configs(Path(pipeline.aws.settings.config), tmp_path, monkeypatch)


def run_batch(records: list[dict[str, Any]], timeout: float) -> dict[str, Any]:
    return worker_handler({"Records": records}, LambdaContext("worker", timeout))


Poll = Callable[[], int]
